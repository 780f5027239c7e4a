import ArgumentParser
import Foundation
import Pipeline

struct ResponseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "response",
        abstract: "Per-lesion and patient response over follow-up scans: RECIST 1.1, iRECIST, dissociated response, hyperprogression, abscopal response.",
        discussion: """
        Reads the diameters the extraction measured per lesion and time point (/lesions diameter_mm, short_axis_mm),
        writes response/lesions and response/patients into the store and, when asked, as CSV.
        Example: lesionmap response features.h5 --csv lesion_response.csv --patients-csv patient_response.csv
        """)

    @Argument(help: "Feature store extracted from a manifest with time points.") var store: String
    @Option(help: "CSV of per-lesion rows (patient_id, lesion_id, timepoint, diameter_mm, volume_ml, diameter_change_pct, category, ...).")
    var csv: String?
    @Option(help: "CSV of per-patient rows (patient_id, timepoint, sum_diameters_mm, recist, abscopal_any_lesion, abscopal_recist, ...).")
    var patientsCsv: String?

    func run() throws {
        try runReportingErrors {
            let o = try CohortResponse.run(store: fileURL(store), lesionsCSV: csv.map(fileURL),
                                           patientsCSV: patientsCsv.map(fileURL))
            print("assessed \(o.assessed) patient\(o.assessed == 1 ? "" : "s"): \(o.lesions.rowCount) lesion rows, \(o.patients.rowCount) patient follow-up rows")
            if let recist = try? o.patients.texts("recist"), !recist.isEmpty {
                let counts = Dictionary(grouping: recist, by: { $0 }).mapValues(\.count)
                print("RECIST 1.1 at follow-ups: " + counts.keys.sorted().map { "\($0) \(counts[$0]!)" }.joined(separator: ", "))
            }
            print("abscopal response, both definitions evaluable at \(o.abscopalEvaluable) patient follow-ups; they disagree at \(o.abscopalDisagreements) (\(o.patientsDisagreeing.count) patient\(o.patientsDisagreeing.count == 1 ? "" : "s")\(o.patientsDisagreeing.isEmpty ? "" : ": " + o.patientsDisagreeing.prefix(10).joined(separator: ", ")))")
            print("stored: \(CohortResponse.lesionsPath), \(CohortResponse.patientsPath)"
                  + (csv.map { "; CSV: \($0)" } ?? "") + (patientsCsv.map { ", \($0)" } ?? ""))
            if !o.problems.isEmpty {
                var text = "\(o.problems.count) patient\(o.problems.count == 1 ? "" : "s") not assessed; every other patient was done:\n"
                for p in o.problems { text += "  FAILED \(p)\n" }
                FileHandle.standardError.write(Data(text.utf8))
                throw ExitCode.failure
            }
        }
    }
}

import ArgumentParser
import Foundation
import Pipeline

struct DeltaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delta",
        abstract: "Delta-radiomics: per lesion, follow-up time point and feature the change from baseline, and per signature the score change.",
        discussion: """
        For every lesion row at a follow-up time point whose lesion has a baseline row: change = value - baseline \
        and relative_change = (value - baseline) / |baseline| (empty when the baseline is 0), for every feature \
        and for every signature scored in the store (`lesionmap score`). Written into the store as delta/features \
        and delta/scores, and to the CSV files given.

        Example: lesionmap delta features.h5 --csv delta.csv --scores-csv delta-scores.csv
        """)

    @Argument(help: "Feature store (HDF5) extracted from a manifest with follow-up time points.") var store: String
    @Option(help: "CSV of feature changes: patient_id, lesion_id, timepoint, feature, baseline, value, change, relative_change.")
    var csv: String?
    @Option(help: "CSV of score changes: patient_id, lesion_id, timepoint, signature, baseline_score, score, change, relative_change.")
    var scoresCsv: String?

    func run() throws {
        try runReportingErrors {
            let r = try DeltaRadiomics.run(store: fileURL(store), csv: csv.map(fileURL), scoresCSV: scoresCsv.map(fileURL))
            print("compared \(r.pairs) follow-up lesion rows with their baseline; \(r.newLesionRows) rows of new lesions have no baseline")
        }
    }
}

import ArgumentParser
import Foundation
import Pipeline
import Planning
import Reporting

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write tumour-board reports: per patient (HTML, PDF, plan JSON) or for the cohort (HTML).",
        discussion: """
        Per-patient reports show the recommendation, a lesion map (coronal and axial maximum-intensity projections
        with every lesion outlined in its category colour), the lesion table, the scores over the cohort, the
        heterogeneity metrics and one image per lesion; a patient with follow-up scans also gets "Response over
        time" (each lesion's diameter and score over days, RECIST 1.1 / iRECIST / abscopal response per time point,
        per-lesion categories; from `lesionmap response`'s tables, computed on the fly when they are missing or
        out of date). The images (baseline scan) are re-loaded from the cohort folder the store
        was extracted from (--manifest); without it the report has no images. PDFs are printed with headless
        Chromium (chromium or chromium-browser on the PATH, or LESIONMAP_CHROMIUM).
        Examples:
          lesionmap report features.h5 --patient P001 --manifest cohorts/mine --out reports/patients
          lesionmap report features.h5 --all-patients --manifest cohorts/mine
          lesionmap report features.h5 --cohort --out reports/cohort-report.html
          lesionmap report features.h5 --cohort --icc icc.csv
        """)

    @Argument(help: "Feature store with scores, aggregates and plans.") var store: String
    @Option(name: .customLong("patient"), help: "Patient to report (repeat for several).") var patients: [String] = []
    @Flag(help: "Report every patient of the store.") var allPatients = false
    @Flag(help: "Write the cohort report instead.") var cohort = false
    @Option(help: "Cohort manifest folder the store was extracted from (for the images).") var manifest: String?
    @Option(help: "Output: a folder for patient reports (default reports/patients), a file for the cohort report (default reports/cohort-report.html).")
    var out: String?
    @Option(help: "PDF for patient reports: auto (when Chromium is found), always (fail without it) or never.") var pdf = "auto"
    @Option(help: "Signature file used for the scores (default: the shipped reference).") var signature: String?
    @Option(help: "Cohort report title.") var title = "LesionMap cohort report"
    @Option(help: "ICC table from `lesionmap robustness --csv`: the cohort report shows the ICC distribution per feature family.")
    var icc: String?
    @Flag(help: "No progress output.") var quiet = false

    func validate() throws {
        let modes = [!patients.isEmpty, allPatients, cohort].filter { $0 }.count
        guard modes == 1 else { throw ValidationError("give exactly one of --patient ID, --all-patients or --cohort") }
        guard ["auto", "always", "never"].contains(pdf) else { throw ValidationError("--pdf must be auto, always or never") }
        if icc != nil && !cohort { throw ValidationError("--icc belongs to the cohort report (--cohort)") }
    }

    func run() throws {
        try runReportingErrors {
            let (sig, _, _) = try loadSignature(signature)
            if cohort {
                let output = fileURL(out ?? "reports/cohort-report.html")
                try CohortReporting.write(store: fileURL(store), signature: sig, title: title, to: output,
                                          iccTable: icc.map(fileURL))
                print("cohort report: \(output.path)")
                return
            }
            let mode: PatientReporting.PDFMode = pdf == "always" ? .required : (pdf == "never" ? .never : .whenAvailable)
            let batch = try PatientReporting.write(
                store: fileURL(store), signature: sig, patientIDs: allPatients ? nil : patients,
                cohortFolder: manifest.map(fileURL) ?? CohortExtraction.cohortFolder(ofStore: fileURL(store)), to: fileURL(out ?? "reports/patients"), pdf: mode, quiet: quiet)
            for w in batch.written {
                print("\(w.patientID): \(w.html.path)" + (w.pdf.map { ", \($0.path)" } ?? "") + ", \(w.planJSON.path)")
            }
            if mode == .whenAvailable && HeadlessChromium.find() == nil && !batch.written.isEmpty {
                print("no PDF: Chromium was not found (install chromium, or set LESIONMAP_CHROMIUM)")
            }
            try finishBatch(batch.failed, what: "reports")
        }
    }
}

struct ExportTargetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-targets",
        abstract: "Export a patient's recommended RT targets as a DICOM RTSTRUCT (and optionally SEG) referencing the CT.",
        discussion: """
        One ROI per target lesion, named LM_SBRT_<rank>_<lesion> (ablative SBRT) or LM_LDRT_<rank>_<lesion>
        (low-dose RT) and coloured by category. The RTSTRUCT references the DICOM CT series of the manifest image;
        for images that are not DICOM give the series they were made from with --series. No patient name, id,
        birth date or other identifier is copied from the input.
        Example: lesionmap export-targets features.h5 --patient P001 --manifest cohorts/mine --out P001_targets.dcm
        """)

    @Argument(help: "Feature store with plans.") var store: String
    @Option(help: "Patient whose targets to export.") var patient: String
    @Option(help: "Cohort manifest folder the store was extracted from (default: as recorded in the store).") var manifest: String?
    @Option(help: "DICOM CT series folder to reference (when the manifest image is not DICOM).") var series: String?
    @Option(help: "RTSTRUCT file to write (default reports/targets/<patient>_targets_rtstruct.dcm).") var out: String?
    @Option(help: "Also write a DICOM SEG with the same targets to this file.") var seg: String?
    @Option(help: "Categories to export, comma separated: ablative_sbrt, low_dose_rt.") var include = "ablative_sbrt,low_dose_rt"
    @Option(help: "Signature file used for the scores (default: the shipped reference).") var signature: String?

    /// `--manifest`, or the cohort folder recorded in the store.
    func manifestFolder() throws -> URL {
        if let manifest { return fileURL(manifest) }
        guard let folder = CohortExtraction.cohortFolder(ofStore: fileURL(store)) else {
            throw ValidationError("the store records no existing cohort folder: pass --manifest DIR")
        }
        return folder
    }

    func run() throws {
        try runReportingErrors {
            var categories = Set<TargetCategory>()
            for part in include.split(separator: ",") {
                let name = part.trimmingCharacters(in: .whitespaces)
                guard let c = TargetCategory(rawValue: name), c != .noRT else {
                    throw ValidationError("--include: unknown target category '\(name)' (use ablative_sbrt, low_dose_rt)")
                }
                categories.insert(c)
            }
            let (sig, _, _) = try loadSignature(signature)
            let output = fileURL(out ?? "reports/targets/\(PatientFileNames.name(patient))_targets_rtstruct.dcm")
            let r = try TargetExport.run(store: fileURL(store), signature: sig, patientID: patient, cohortFolder: try manifestFolder(),
                                         series: series.map(fileURL), categories: categories, to: output, seg: seg.map(fileURL))
            for t in r.targets { print("\(t.roiName): lesion \(t.lesionID), \(t.category.label), rank \(t.rank)") }
            print("RTSTRUCT: \(r.rtstruct.path) (references series \(r.seriesInstanceUID))")
            if let s = r.seg { print("SEG: \(s.path)") }
        }
    }
}

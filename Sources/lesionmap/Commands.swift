import ArgumentParser
import Foundation
import Pipeline
import Cohort
import LesionMatching
import Radiomics
import Signatures
import Planning
import Synthesis

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Generate the demo cohort if needed and run the whole chain on it.",
        discussion: "Example: lesionmap demo --out reports/")

    @Option(help: "Output folder for the store and the report.") var out = "reports"
    @Option(help: "Demo cohort folder holding cohort.json.") var cohort = "cohorts/demo"
    @Option(help: "Signature file (default: the shipped synthetic reference signature).") var signature: String?
    @Flag(help: "No progress output.") var quiet = false

    func run() throws {
        try runReportingErrors {
            let sig = try loadSignature(signature)
            let s = try Demo.run(cohortDirectory: fileURL(cohort), out: fileURL(out), signature: sig, quiet: quiet)
            print(s.extraction.text)
            print("scored with \(sig.0.id): \(s.sbrtCandidates) ablative SBRT candidates, \(s.lowDoseCandidates) low-dose RT candidates")
            print("store:  \(s.store.path)")
            print("report: \(s.report.path)")
            try finishBatch(s.failures, what: "plans and reports")
            if !s.extraction.succeeded { throw ExitCode.failure }
        }
    }
}

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write a deterministic synthetic cohort (CT-like images, lesion label maps, manifest, truth.csv).",
        discussion: "Example: lesionmap synth --out cohorts/synthetic --patients 40 --seed 7")

    @Option(help: "Output folder.") var out: String
    @Option(help: "Number of patients.") var patients = 20
    @Option(help: "Random seed: the same seed gives the same files.") var seed: UInt64 = 1
    @Option(help: "What drives simulated progression: minimum, mean or maximum lesion infiltration.")
    var driver = "minimum"
    @Option(help: ArgumentHelp("Follow-up scans per patient after the baseline, one every 60 days (0 = baseline only).",
                               discussion: "Lesions grow or shrink by their hidden infiltration and irradiation (with an abscopal effect), some vanish, new ones appear, the patient shifts a little; lesions.csv gains a timepoint column, truth_followup.csv and truth_followup_patients.csv hold the true sizes and responses."))
    var timepoints = 0
    @Flag(help: "Also write a PET per patient (SUV, 4 mm voxels, the CT's frame of reference; lesion uptake falls with infiltration, see README).")
    var pet = false

    func run() throws {
        try runReportingErrors {
            guard let d = SyntheticOutcomeDriver(rawValue: driver) else {
                throw ValidationError("--driver must be one of \(SyntheticOutcomeDriver.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let s = try SyntheticCohort.generate(SynthesisOptions(patients: patients, seed: seed, outcomeDriver: d,
                                                                  timepoints: timepoints, pet: pet),
                                                 into: fileURL(out))
            print(s.skipped ? "\(out): already generated with these options" :
                    "wrote \(s.patients) patients, \(s.lesions) lesions to \(out)")
        }
    }
}

struct ExtractCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Extract IBSI features for every lesion and its peritumoral ring into an HDF5 store.",
        discussion: """
        Re-running the same command resumes: finished patients are not recomputed. A patient that fails is \
        reported and skipped; the command then exits non-zero.

        Each lesion is extracted with the settings of its scan's modality (DICOM Modality, or the manifest's \
        modality column, default CT): --preset NAME for every modality, or one per modality, e.g. \
        --preset ct=default,pt=pet-default. Settings that make no sense for a modality (rounding PET values, \
        a HU range on PET or MR) are refused, naming patient, lesion and setting.

        Follow-up scans (lesions.csv `timepoint`, days from baseline) are checked against the baseline: each time \
        point's lesion centroids are aligned rigidly onto the known lesions; a time point that does not line up \
        (another patient's scan) fails its patient, a lesion id that moved more than --match-gate mm warns. With \
        --match auto, lesions of expanding follow-up rows (empty lesion_id and roi) take the id of the baseline \
        lesion they match (Hungarian assignment within --match-gate mm); the others are new: N1, N2, ...

        Example: lesionmap extract cohorts/mycohort --store features.h5 --preset default --ring-mm 10
        """)

    @Argument(help: "Cohort manifest folder (holding lesions.csv and patients.csv).") var manifest: String
    @Option(help: "Store to write (HDF5).") var store: String
    @OptionGroup var extraction: SettingsOptions
    @Flag(help: "Discard an existing store made with other settings and start afresh.") var force = false
    @Flag(help: "No progress output.") var quiet = false
    @Option(help: ArgumentHelp("Threads, and at most this many patients in memory at once: one patient loads while the lesions of the others are extracted (default: every core, \(CohortExtraction.defaultJobs) here).", valueName: "N"))
    var jobs: Int?
    @Flag(help: "List every warning in the closing summary (by default the first \(ExtractionSummary.listedWarnings) and a count of the rest).")
    var allWarnings = false
    @Option(help: "How follow-up lesions of expanding rows are named: ids (their expansion ids, L<label>, C<n>, ...) or auto (matched to the baseline lesions by position).")
    var match = "ids"
    @Option(help: "Gating distance for matching follow-up lesions to baseline lesions after alignment, mm; also the move beyond which a lesion id warns.")
    var matchGate = MatchingSettings.standard.gateMM
    @Option(help: "Largest shift between a follow-up's and the baseline's patient coordinates the alignment considers, mm.")
    var matchMaxShift = MatchingSettings.standard.maxShiftMM

    func validate() throws {
        guard ["ids", "auto"].contains(match) else { throw ValidationError("--match must be ids or auto, got '\(match)'") }
        guard matchGate > 0, matchGate.isFinite else { throw ValidationError("--match-gate must be a positive number of mm") }
        guard matchMaxShift >= 0, matchMaxShift.isFinite else { throw ValidationError("--match-max-shift must be a number of mm, 0 or more") }
    }

    func run() throws {
        try runReportingErrors {
            let s = try extraction.resolved()
            let memoryLimit = try extraction.memoryLimit()
            if let jobs, jobs < 1 { throw ValidationError("--jobs \(jobs): must be at least 1") }
            let cohort = try CohortManifest.load(fileURL(manifest))
            let bar = ProgressBar(label: "extract", total: cohort.patients.count, quiet: quiet)
            var matching = MatchingSettings.standard
            matching.gateMM = matchGate
            matching.maxShiftMM = matchMaxShift
            let loader = PatientLoader(matchAutomatically: match == "auto", matching: matching)
            let summary = try CohortExtraction.run(cohort: cohort, store: fileURL(store), settings: s, force: force,
                                                   loader: loader, memoryLimit: memoryLimit, jobs: jobs, progress: bar)
            print(summary.text(allWarnings: allWarnings))
            if !summary.succeeded { throw ExitCode.failure }
        }
    }
}

struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Apply a signature to every lesion of a store and aggregate the scores per patient.",
        discussion: "Example: lesionmap score features.h5 --signature my-cd8.json")

    @Argument(help: "Feature store (HDF5).") var store: String
    @Option(help: "Signature file (JSON); default: the shipped synthetic reference signature.") var signature: String?

    func run() throws {
        try runReportingErrors {
            let (sig, hash, source) = try loadSignature(signature)
            let scores = try CohortScoring.run(store: fileURL(store), signature: sig, fileHash: hash, source: source)
            let agg = try CohortAggregation.run(store: fileURL(store), signatureName: sig.name)
            print("scored \(scores.count) lesions with \(sig.id) (\(scores.filter { !$0.isFinite }.count) without a score); aggregated \(agg.patients.count) patients")
        }
    }
}

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Assign every lesion a radiotherapy category (ablative SBRT / low-dose RT / no RT) under a policy.",
        discussion: """
        Writes the plans into the store (plans/<signature>) and, with --json, one <patient>.plan.json per patient.
        Policies may name the signature's cut-offs (e.g. q25) and use the MIL attention stored by `lesionmap compare`.
        Example: lesionmap plan features.h5 --policy policy.json --json plans/
        """)

    @Argument(help: "Feature store with scores.") var store: String
    @Option(help: "Signature file whose scores and cut-offs to use (default: the shipped reference).") var signature: String?
    @Option(help: "Policy file (JSON); default: the shipped quartile policy.") var policy: String?
    @Option(help: "Also write one plan JSON per patient into this folder.") var json: String?

    func run() throws {
        try runReportingErrors {
            let (sig, _, _) = try loadSignature(signature)
            let p = try policy.map { path -> PlanningPolicy in
                try InputFile.requireRegularFile(fileURL(path), what: "policy file")
                return try PlanningPolicy.load(fileURL(path))
            } ?? .standard
            let cutoffs = Dictionary(sig.cutoffs.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
            let outcome = try CohortPlanning.run(store: fileURL(store), signatureName: sig.name, policy: p, cutoffs: cutoffs)
            for c in TargetCategory.allCases {
                print("\(c.label): \(outcome.planned.filter { $0.category == c }.count) lesions")
            }
            var failures = outcome.failed
            if let json {
                let batch = try PlanJSON.write(store: fileURL(store), signatureName: sig.name, to: fileURL(json))
                print("wrote \(batch.files.count) plan files to \(json)")
                failures += batch.failed.filter { f in !failures.contains { $0.patientID == f.patientID } }
            }
            try finishBatch(failures, what: "plans")
        }
    }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a store as CSV: one row per lesion with ids, metadata, scores and every feature.",
        discussion: "Example: lesionmap export features.h5 --csv features.csv")

    @Argument(help: "Feature store.") var store: String
    @Option(help: "CSV file to write.") var csv: String

    func run() throws {
        try runReportingErrors {
            let n = try StoreExport.csv(store: fileURL(store), to: fileURL(csv))
            print("wrote \(n.rows) lesions x \(n.columns) columns to \(csv)")
        }
    }
}

/// A signature from a file, or the shipped reference: (signature, file hash, source description).
func loadSignature(_ path: String?) throws -> (Signature, String, String) {
    if let path {
        try InputFile.requireRegularFile(fileURL(path), what: "signature file")
        let (s, h) = try Signature.load(fileURL(path))
        return (s, h, path)
    }
    let (s, h) = try ReferenceSignature.load()
    return (s, h, "shipped reference signature")
}

struct TrainSignatureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-signature",
        abstract: "Fit an elastic-net lesion signature from a store and a lesion-level target table.",
        discussion: """
        The design mirrors the published CD8 signature: tumour and ring features, location indicators and kVp.
        Example: lesionmap train-signature features.h5 --targets cd8.csv --target-column cd8b --out my-cd8.json
        """)

    @Argument(help: "Feature store.") var store: String
    @Option(help: "CSV with patient_id, lesion_id and the target column.") var targets: String
    @Option(help: "Target column in the CSV.") var targetColumn = "infiltration"
    @Option(help: "Signature file to write.") var out: String
    @Option(help: "Signature name.") var name = "cd8-style"
    @Option(help: "Signature version.") var version = "1.0.0"
    @Option(help: "Elastic-net mixing: 1 = lasso, 0 = ridge.") var alpha = 0.5
    @Option(help: "Cross-validation folds (grouped by patient).") var folds = 5
    @Option(help: "Seed for the fold assignment.") var seed: UInt64 = 1
    @Option(help: "Keep at most this many radiomic features (0 = no limit: lambda-1se).") var maxFeatures = 5
    @Option(help: "Locations with an indicator, comma separated.") var locations = "lung,liver"
    @Option(help: "Validation status written into the file.") var status = "trained by the user; not validated"
    @Option(help: "Provenance text written into the file.") var provenance = "Trained with lesionmap train-signature."
    @Option(parsing: .unconditional, help: "Only features with ICC(1,1) at or above this bound in --icc are candidates (e.g. 0.9).")
    var minIcc: Double?
    @Option(help: "ICC table from `lesionmap robustness --csv` (feature, icc, ...), for --min-icc.") var icc: String?
    @Flag(help: "Train on the lesions that have an image of every modality of the store (the PET/CT lesions of a store mixing PET/CT and CT-only lesions), so that every modality's features are candidates.")
    var allModalities = false

    func run() throws {
        try runReportingErrors {
            let options = SignatureTrainingOptions(
                name: name, version: version, estimates: "lesion infiltration target '\(targetColumn)'", alpha: alpha,
                folds: folds, seed: seed, maxFeatures: maxFeatures > 0 ? maxFeatures : nil,
                locationIndicators: locations.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) },
                useKVP: true, validationStatus: status, provenance: provenance)
            guard (minIcc == nil) == (icc == nil) else {
                throw ValidationError(minIcc == nil ? "--icc needs --min-icc (the ICC bound, e.g. 0.9)"
                                                    : "--min-icc needs --icc (the ICC table from lesionmap robustness --csv)")
            }
            let restriction = try minIcc.map { try ICCRestriction.load(fileURL(icc!), minICC: $0) }
            let trained = try SignatureTraining.run(store: fileURL(store), targets: fileURL(targets),
                                                    targetColumn: targetColumn, options: options, restriction: restriction,
                                                    allModalities: allModalities)
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            try enc.encode(trained.signature).write(to: fileURL(out), options: .atomic)
            let cv = trained.crossValidation
            print("trained \(trained.signature.id) on \(trained.lesionCount) lesions: \(trained.signature.terms.count) radiomic terms, CV MSE \(String(format: "%.4g", cv.meanError[trained.chosenIndex])) at lambda \(String(format: "%.4g", cv.lambdas[trained.chosenIndex]))")
            if let f = trained.signature.featureFilter {
                print("candidates: \(f.candidatesKept) of \(f.candidatesBefore) features with ICC >= \(f.minICC) in \(f.iccTable)")
            }
            for t in trained.signature.terms { print("  \(t.feature): \(String(format: "%+.4f", t.coefficient)) per SD") }
            for w in trained.warnings { print("warning: \(w)") }
            print("wrote \(out)")
        }
    }
}

import Foundation
import Cohort
import Radiomics
import Signatures
import Planning
import Synthesis

/// The definition of a demo cohort (`cohorts/demo/cohort.json`).
public struct DemoCohortDefinition: Codable, Sendable {
    public var description: String?
    public var seed: UInt64
    public var patients: Int
    public var outcomeDriver: SyntheticOutcomeDriver

    enum CodingKeys: String, CodingKey {
        case description, seed, patients
        case outcomeDriver = "outcome_driver"
    }
}

/// What the demo wrote, for the closing summary.
public struct DemoSummary: Sendable {
    public var cohortFolder: URL
    public var store: URL
    public var report: URL
    public var extraction: ExtractionSummary
    public var sbrtCandidates: Int
    public var lowDoseCandidates: Int
    /// Patients whose plan or report failed (each alone; the others were written).
    public var failures: [PatientFailure] = []
}

/// The main job on the built-in demo cohort: generate it if needed, extract, score, aggregate, plan, report.
public enum Demo {
    public static func run(cohortDirectory: URL, out: URL, signature: (Signature, String, String),
                           policy: PlanningPolicy = .standard, settings: ExtractionSettings = .clinicalDefault,
                           quiet: Bool = false) throws -> DemoSummary {
        let definitionURL = cohortDirectory.appendingPathComponent("cohort.json")
        let definition: DemoCohortDefinition
        do {
            definition = try JSONDecoder().decode(DemoCohortDefinition.self, from: Data(contentsOf: definitionURL))
        } catch {
            throw PipelineError("cannot read the demo cohort definition \(definitionURL.path): \(ErrorText.reason(error)). Run the demo from the LesionMap checkout or pass --cohort")
        }
        let generated = cohortDirectory.appendingPathComponent("generated")
        let log = ProgressBar(label: "demo", total: 1, quiet: quiet)
        log.message("demo: cohort \(generated.path) (seed \(definition.seed), \(definition.patients) patients)")
        let synth = try SyntheticCohort.generate(
            SynthesisOptions(patients: definition.patients, seed: definition.seed, outcomeDriver: definition.outcomeDriver),
            into: generated)
        log.message(synth.skipped ? "demo: synthetic cohort already generated" :
                        "demo: generated \(synth.patients) patients with \(synth.lesions) lesions")

        let cohort = try CohortManifest.load(generated)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let store = out.appendingPathComponent("demo.h5")
        let bar = ProgressBar(label: "extract", total: cohort.patients.count, quiet: quiet)
        let extraction = try CohortExtraction.run(cohort: cohort, store: store, settings: settings, progress: bar)

        let (sig, hash, source) = signature
        try CohortScoring.run(store: store, signature: sig, fileHash: hash, source: source)
        try CohortAggregation.run(store: store, signatureName: sig.name)
        // Lesion-level validation against the lesions' recorded responses, and the aggregator comparison for PFS
        // (fixed aggregators and attention MIL out of sample), so the cohort report can show both.
        let validation = try LesionLevelValidation.run(store: store, signatureName: sig.name, label: .lesionResponse)
        if let all = validation.first, let auc = all.auc {
            log.message(String(format: "demo: lesion-level AUC (responding vs not) %.3f (95%% CI %.3f-%.3f), %d lesions",
                               auc.value, auc.interval.lower, auc.interval.upper, all.n))
        }
        do {
            let comparison = try CohortComparison.run(store: store, source: .signature(sig.name), endpoint: .pfs,
                                                      milFeatures: .features(sig.terms.map(\.feature)))
            _ = comparison
            log.message("demo: compared aggregators against PFS (lesionmap compare)")
        } catch {
            log.message("demo: the aggregator comparison could not be made: \(ErrorText.plain(error))")
        }
        let plans = try CohortPlanning.run(store: store, signatureName: sig.name, policy: policy,
                                           cutoffs: Dictionary(sig.cutoffs.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }))
        let report = out.appendingPathComponent("demo-report.html")
        try CohortReporting.write(store: store, signature: sig, title: "LesionMap demo cohort (synthetic)", to: report)
        let reports = try PatientReporting.write(store: store, signature: sig, cohortFolder: generated, to: out.appendingPathComponent("patients"), quiet: quiet)
        for f in plans.failed + reports.failed { log.message("demo: FAILED \(f)") }
        return DemoSummary(cohortFolder: generated, store: store, report: report, extraction: extraction,
                           sbrtCandidates: plans.planned.filter { $0.category == .ablativeSBRT }.count,
                           lowDoseCandidates: plans.planned.filter { $0.category == .lowDoseRT }.count,
                           failures: plans.failed + reports.failed)
    }
}

import Foundation
import ImagingCore
import Cohort
import Radiomics
import Perturbation
import Statistics
import FeatureStore
import WorkPool

/// The outcome of a robustness run, for the closing summary and the exit code.
public struct RobustnessSummary: Sendable {
    /// Patients whose every lesion was measured under every perturbation.
    public var completed: [String] = []
    /// Patients that failed, wholly or in part, with messages naming patient, lesion, file and perturbation.
    public var failed: [(patientID: String, message: String)] = []
    public var lesionCount = 0
    public var perturbationCount = 0
    /// Feature rows of ICC.csv.
    public var featureCount = 0
    public var warnings: [String] = []
    public var seconds: Double = 0

    public var succeeded: Bool { failed.isEmpty }

    public var text: String {
        var s = "measured \(lesionCount) lesion\(lesionCount == 1 ? "" : "s") of \(completed.count) patient\(completed.count == 1 ? "" : "s") under \(perturbationCount) perturbation\(perturbationCount == 1 ? "" : "s") in \(String(format: "%.1f", seconds)) s; ICC of \(featureCount) features; \(failed.count) failed"
        for f in failed { s += "\n  FAILED \(f.patientID): " + f.message.replacingOccurrences(of: "\n", with: "\n    ") }
        for w in warnings { s += "\n  warning: \(w)" }
        return s
    }
}

/// The robustness of one feature under perturbation: ICC(1,1) over lesions, perturbations as measurements.
public struct FeatureRobustness: Sendable, Hashable {
    /// Stable name `<region>.<family>.<feature>`, as in the store and in signatures.
    public var feature: String
    public var icc: IntraclassCorrelation
}

/// Feature robustness of a cohort under image and mask perturbations (`lesionmap robustness`).
///
/// Every lesion's features are computed under each perturbation (`Perturbation`) with the extraction settings
/// of `lesionmap extract`: every region those settings extract (tumour, ring, core, tumour_ring), on every image
/// of the lesion (the contour image, and each `image_<modality>` image with the mask carried onto it), named as
/// the store names them (`ct.tumour.…`, `pt.ring.…`); then, per feature, ICC(1,1) over the lesions with the
/// perturbations as repeated measurements (Zwanenburg et al., Sci Rep 2019). Lesions are independent
/// jobs: the perturbations of a scan's lesions run in parallel on all cores. A patient that cannot be read,
/// or a lesion that cannot be perturbed or extracted, is reported with patient, lesion, file and
/// perturbation, and the cohort goes on; a lesion lacking a value under some perturbation is left out of
/// that feature's ICC (as pingouin's `nan_policy="omit"`).
public enum CohortRobustness {
    /// Margin (mm) around a lesion beyond the ring and the perturbations' reach: the local-intensity sphere
    /// (radius 6.2 mm) plus interpolation.
    static let marginMM = 8.0

    /// Measures every lesion of `cohort` under `perturbations`, writes `values` (long format) and `icc`.
    /// Baseline rows only (manifest `timepoint` 0 or empty): robustness is a feature's stability on one scan of a
    /// lesion, and follow-up scans would count each lesion once per scan under the same lesion id.
    public static func run(cohort: Cohort, settings: ModalitySettings, perturbations: [Perturbation], seed: UInt64 = 1,
                           values: URL, icc: URL, loader: PatientLoader = PatientLoader(),
                           memoryLimit: ExtractionMemoryLimit = .automatic,
                           progress: ProgressBar? = nil) throws -> (summary: RobustnessSummary, features: [FeatureRobustness]) {
        let start = Date()
        var summary = RobustnessSummary()
        summary.perturbationCount = perturbations.count
        var table = RobustnessTable(perturbations: perturbations)
        for var entry in cohort.patients {
            entry.lesions = entry.lesions.filter { $0.timepoint == 0 }
            do {
                let patient = try loader.load(entry, relativeTo: cohort.folder)
                summary.warnings += patient.warnings
                let result = measure(patient, settings: settings, perturbations: perturbations, seed: seed,
                                     budget: memoryLimit.budget())
                for lesion in result.lesions { table.add(lesion) }
                summary.lesionCount += result.lesions.count
                summary.warnings += result.warnings
                if result.failures.isEmpty {
                    summary.completed.append(entry.id)
                    progress?.advance("\(entry.id): \(patient.lesions.count) lesions")
                } else {
                    let message = result.failures.joined(separator: "\n")
                    summary.failed.append((entry.id, message))
                    progress?.message("FAILED \(entry.id): \(message)")
                    progress?.advance("\(entry.id) failed")
                }
            } catch {
                let message = ErrorText.plain(error)
                summary.failed.append((entry.id, message))
                progress?.message("FAILED \(entry.id): \(message)")
                progress?.advance("\(entry.id) failed")
            }
        }
        let features = table.robustness()
        summary.featureCount = features.count
        try write(table.valuesCSV(), to: values)
        try write(iccCSV(features), to: icc)
        summary.warnings = Array(Set(summary.warnings)).sorted()
        summary.seconds = Date().timeIntervalSince(start)
        return (summary, features)
    }

    /// One lesion's features under every perturbation (a nil row where the perturbation failed).
    public struct LesionMeasurements: Sendable {
        public var patientID: String
        public var lesionID: String
        /// Per perturbation (in the run's order): feature name -> value.
        public var rows: [[String: Double]?]
    }

    /// Every lesion of one loaded patient under every perturbation, scan by scan: on its contour scan and on
    /// each further image (its carried mask), one row per perturbation holding the features of every scan.
    public static func measure(_ patient: Patient, settings: ModalitySettings, perturbations: [Perturbation],
                               seed: UInt64, budget: MemoryBudget? = nil)
        -> (lesions: [LesionMeasurements], failures: [String], warnings: [String]) {
        // Per lesion, per perturbation: the features of every scan measured so far (nil until one succeeds).
        var rowsByLesion = [[[String: Double]?]](repeating: Array(repeating: nil, count: perturbations.count),
                                                  count: patient.lesions.count)
        var failures: [String] = [], warnings: [String] = []
        var attempted: Set<Int> = []
        for (si, scan) in patient.scans.enumerated() {
            // The lesions on this scan, with their masks on its grid (drawn on it, or carried onto it).
            var masks: [Int: Mask] = [:]
            for (n, l) in patient.lesions.enumerated() {
                if l.scanIndex == si { masks[n] = l.mask } else if let f = l.furtherImages.first(where: { $0.scanIndex == si }) { masks[n] = f.mask }
            }
            let members = masks.keys.sorted()
            guard !members.isEmpty else { continue }
            let labels = members.map { "patient \(patient.id), lesion \(patient.lesions[$0].id) (\(patient.lesions[$0].source))" }
            // The scan's settings by modality, refused as extraction refuses them.
            let modality = scan.metadata.modality
            guard let settings = settings.settings(for: modality) else {
                let given = settings.all.compactMap(\.modality).joined(separator: ", ")
                failures += labels.map { "\($0): the scan is \(modality.isEmpty ? "of no modality" : modality) and the settings are only for \(given); give settings for \(modality.isEmpty ? "it" : modality) in --preset or --settings" }
                continue
            }
            if let refused = ModalityChecks.refusal(settings, modality: modality, labels: labels) {
                failures.append(ErrorText.plain(refused))
                continue
            }
            let reach = perturbations.map { $0.reachMM(spacing: scan.image.grid.spacing) }.max() ?? 0
            let margin = (settings.ring?.widthMM ?? 0) + reach + marginMM
            let noiseSD = perturbations.contains { if case .noise = $0 { return true } else { return false } }
                ? NoiseEstimate.chang(scan.image) : 0
            var ready: [(index: Int, box: IndexBox, others: Mask?)] = []
            for m in members {
                let l = patient.lesions[m]
                let label = "patient \(patient.id), lesion \(l.id) (\(l.source))"
                guard let lesionBox = masks[m]!.boundingBox else { failures.append("\(label): the lesion mask is empty"); continue }
                if let budget, let e = try? ExtractionMemory.estimate(image: scan.image, lesionBox: lesionBox, settings: settings),
                   e.bytes > budget.bytes {
                    failures.append("\(label): extraction would need about \(ExtractionMemory.format(e.bytes)) of memory, more than the budget of \(ExtractionMemory.format(budget.bytes)) (\(budget.origin))")
                    continue
                }
                var others: Mask? = nil
                for o in members where o != m {
                    others = others.map { $0.union(masks[o]!) } ?? masks[o]!
                }
                ready.append((m, LesionNeighbourhood.box(lesionBox: lesionBox, grid: scan.image.grid, marginMM: margin), others))
            }
            let jobs = ready.count * perturbations.count
            let lesionsReady = ready, scanMasks = masks
            // Every (lesion, perturbation) pair on all cores (`WorkPool.map`: on a pipeline's workers, their threads).
            let results = WorkPool.map(jobs) { n -> Result<([String: Double], [String]), Error> in
                let (r, p) = (lesionsReady[n / perturbations.count], perturbations[n % perturbations.count])
                let l = patient.lesions[r.index]
                return Result {
                    try features(image: scan.image, lesion: scanMasks[r.index]!, others: r.others, box: r.box, perturbation: p,
                                 noiseSD: noiseSD, settings: settings, modality: modality, seed: seed, patientID: patient.id,
                                 lesionID: l.id, label: "patient \(patient.id), lesion \(l.id) (\(l.source))")
                }
            }
            for (q, r) in ready.enumerated() {
                let l = patient.lesions[r.index]
                attempted.insert(r.index)
                // A further image is named: the lesion's source names its contour image only.
                let file = l.scanIndex == si ? "" : " on the \(modality) image \(scan.source.lastPathComponent)"
                for (k, p) in perturbations.enumerated() {
                    switch results[q * perturbations.count + k] {
                    case .success(let (row, w)):
                        rowsByLesion[r.index][k] = (rowsByLesion[r.index][k] ?? [:]).merging(row) { a, _ in a }
                        warnings += w
                    case .failure(let error):
                        failures.append("patient \(patient.id), lesion \(l.id) (\(l.source))\(file), perturbation \(p): \(ErrorText.plain(error))")
                    }
                }
            }
        }
        // Lesions in the patient's order, those measured on some scan (a failed perturbation leaves a nil row).
        let lesions = patient.lesions.indices.filter { attempted.contains($0) }.map {
            LesionMeasurements(patientID: patient.id, lesionID: patient.lesions[$0].id, rows: rowsByLesion[$0])
        }
        return (lesions, failures, warnings)
    }

    /// The features of every region the settings extract, of one lesion under one perturbation, by stable name.
    static func features(image: Volume<Float>, lesion: Mask, others: Mask?, box: IndexBox, perturbation: Perturbation,
                         noiseSD: Double, settings: ExtractionSettings, modality: String?, seed: UInt64, patientID: String,
                         lesionID: String, label: String) throws -> ([String: Double], [String]) {
        var random = PerturbationRandom(seed: seed, keys: [patientID, lesionID, perturbation.description])
        let region = try perturbation.apply(image: image, lesion: lesion, others: others, box: box, noiseSD: noiseSD,
                                            random: &random)
        let context = "\(label), perturbation \(perturbation)"
        let lesionFeatures = try LesionFeatureExtractor.extractOne(image: region.image, lesion: region.lesion, others: region.others,
                                                                   label: context, settings: settings, modality: modality)
        var row: [String: Double] = [:]
        // Names as the store's columns: `<modality>.<region>.…` (FeatureColumnName).
        for r in ExtractionSettings.Region.allCases {
            guard let features = lesionFeatures.features(of: r) else { continue }
            let key = FeatureColumnName.matrixKey(modality: modality ?? "", region: r.rawValue) + "."
            for v in features.features where row[key + CohortExtraction.storeName(v)] == nil {
                row[key + CohortExtraction.storeName(v)] = v.value
            }
        }
        let warnings = lesionFeatures.warnings
        return (row, warnings)
    }

    /// ICC.csv: `feature, icc, icc_low, icc_high`, one row per feature (empty cells where the ICC is undefined).
    public static func iccCSV(_ features: [FeatureRobustness]) -> String {
        CSVTable.render(header: ["feature", "icc", "icc_low", "icc_high"], rows: features.map {
            [$0.feature, number($0.icc.icc), number($0.icc.lower), number($0.icc.upper)]
        })
    }

    static func number(_ x: Double) -> String { x.isFinite ? String(x) : "" }

    static func write(_ text: String, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url, options: .atomic)
    }
}

/// The measurements of a run, lesion by lesion, and the ICC per feature computed from them.
struct RobustnessTable {
    let perturbations: [Perturbation]
    var lesions: [CohortRobustness.LesionMeasurements] = []
    /// Feature names in first-seen order (tumour features, then ring features).
    var featureOrder: [String] = []
    private var known = Set<String>()

    init(perturbations: [Perturbation]) { self.perturbations = perturbations }

    mutating func add(_ lesion: CohortRobustness.LesionMeasurements) {
        lesions.append(lesion)
        for row in lesion.rows.compactMap({ $0 }) {
            for name in row.keys.sorted() where known.insert(name).inserted { featureOrder.append(name) }
        }
    }

    /// ICC(1,1) per feature over the lesions, sorted by name.
    func robustness() -> [FeatureRobustness] {
        featureOrder.sorted().map { name in
            let values = lesions.map { l in l.rows.map { $0?[name] ?? .nan } }
            return FeatureRobustness(feature: name, icc: IntraclassCorrelation(values: values))
        }
    }

    /// VALUES.csv: `patient_id, lesion_id, perturbation, feature, value` (long format; empty value where the
    /// feature is undefined for that lesion and perturbation; no rows for a perturbation that failed).
    func valuesCSV() -> String {
        var rows: [[String]] = []
        let names = featureOrder.sorted()
        for l in lesions {
            for (p, row) in zip(perturbations, l.rows) {
                guard let row else { continue }
                for name in names where row[name] != nil {
                    rows.append([l.patientID, l.lesionID, p.description, name, CohortRobustness.number(row[name]!)])
                }
            }
        }
        return CSVTable.render(header: ["patient_id", "lesion_id", "perturbation", "feature", "value"], rows: rows)
    }
}

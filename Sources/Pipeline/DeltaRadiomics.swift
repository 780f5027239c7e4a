import Foundation
import FeatureStore
import Cohort

/// Delta-radiomics: per lesion, follow-up time point and feature, the change from the lesion's baseline value, and
/// per signature the change of its score.
///
/// For a lesion row at time point t != 0 whose lesion has a baseline row (same patient and lesion id, time point
/// 0) and for every feature f (full name `<region>.<feature>`, the store's feature matrices' keys and names):
/// - `change` = f(t) - f(0) (absolute change, in the feature's unit);
/// - `relative_change` = (f(t) - f(0)) / |f(0)| (fraction; NaN when f(0) is 0 or either value is NaN), the
///   definition of delta-radiomics studies that report percentage change (e.g. Fave et al., Sci Rep 2017).
/// Rows of new lesions (no baseline row) have no change and are left out. Scores: every `scores/<name>` table,
/// aligned with the /lesions rows as `lesionmap score` writes it, gives `change` and `relative_change` of the
/// score in the same way. Written to the store as `delta/features` and `delta/scores` (long format, one row per
/// lesion, time point and feature or signature) and optionally to CSV files with the same columns.
public enum DeltaRadiomics {
    public static let featuresPath = "delta/features"
    public static let scoresPath = "delta/scores"
    public static let featureColumns = ["patient_id", "lesion_id", "timepoint", "feature", "baseline", "value",
                                        "change", "relative_change"]
    public static let scoreColumns = ["patient_id", "lesion_id", "timepoint", "signature", "baseline_score", "score",
                                      "change", "relative_change"]

    /// (follow-up row, baseline row) pairs of `/lesions`, in store order, and the follow-up rows without a baseline.
    static func pairs(_ lesions: Table) throws -> (pairs: [(row: Int, baseline: Int)], timepoints: [Double], newRows: [Int]) {
        guard lesions.rowCount > 0 else { throw PipelineError("the store holds no lesions: run `lesionmap extract` first") }
        guard lesions["timepoint"] != nil else {
            throw PipelineError("the store's /lesions has no timepoint column (a store of one time point): give follow-up scans in the manifest's timepoint column and extract again")
        }
        let patients = try lesions.texts("patient_id"), ids = try lesions.texts("lesion_id")
        let timepoints = try lesions.numbers("timepoint")
        var baseline: [String: Int] = [:]
        for i in 0..<lesions.rowCount where timepoints[i] == 0 { baseline[patients[i] + "\u{1}" + ids[i]] = i }
        var out: [(Int, Int)] = [], new: [Int] = []
        for i in 0..<lesions.rowCount where timepoints[i] != 0 {
            if let b = baseline[patients[i] + "\u{1}" + ids[i]] { out.append((i, b)) } else { new.append(i) }
        }
        guard !out.isEmpty else {
            throw PipelineError("the store holds no follow-up row of a lesion with a baseline row (\(new.count) follow-up rows, all new lesions): nothing to compare")
        }
        return (out, timepoints, new)
    }

    static func relative(_ value: Double, _ base: Double) -> Double {
        guard value.isFinite, base.isFinite, base != 0 else { return .nan }
        return (value - base) / abs(base)
    }

    /// The two delta tables of a store.
    public static func tables(_ contents: StoreContents) throws -> (features: Table, scores: Table) {
        let (pairs, timepoints, _) = try pairs(contents.lesions)
        let patients = try contents.lesions.texts("patient_id"), ids = try contents.lesions.texts("lesion_id")
        var p: [String] = [], l: [String] = [], t: [Double] = [], name: [String] = []
        var base: [Double] = [], value: [Double] = [], change: [Double] = [], rel: [Double] = []
        func add(_ pair: (row: Int, baseline: Int), _ n: String, _ b: Double, _ v: Double) {
            p.append(patients[pair.row]); l.append(ids[pair.row]); t.append(timepoints[pair.row]); name.append(n)
            base.append(b); value.append(v); change.append(v - b); rel.append(relative(v, b))
        }
        for pair in pairs {
            for region in contents.features.keys.sorted() {
                let m = contents.features[region]!
                let row = m.row(pair.row), baseRow = m.row(pair.baseline)
                for (k, feature) in m.names.enumerated() { add(pair, region + "." + feature, baseRow[k], row[k]) }
            }
        }
        let features = try table(featureColumns, p, l, t, name, base, value, change, rel)
        p = []; l = []; t = []; name = []; base = []; value = []; change = []; rel = []
        for path in contents.tables.keys.sorted() where path.hasPrefix("scores/") {
            let stored = contents.tables[path]!
            guard let scores = stored.table["score"]?.numbers, scores.count == contents.lesions.rowCount else { continue }
            let signature = stored.attributes["signature_name"] ?? String(path.dropFirst("scores/".count))
            for pair in pairs { add(pair, signature, scores[pair.baseline], scores[pair.row]) }
        }
        let scores = try table(scoreColumns, p, l, t, name, base, value, change, rel)
        return (features, scores)
    }

    private static func table(_ columns: [String], _ p: [String], _ l: [String], _ t: [Double], _ name: [String],
                              _ base: [Double], _ value: [Double], _ change: [Double], _ rel: [Double]) throws -> Table {
        try Table(columns: [(columns[0], .text(p)), (columns[1], .text(l)), (columns[2], .number(t)),
                            (columns[3], .text(name)), (columns[4], .number(base)), (columns[5], .number(value)),
                            (columns[6], .number(change)), (columns[7], .number(rel))])
    }

    /// Computes the delta tables, writes them into `store` (atomically) and, when given, to CSV files.
    /// Returns the number of (lesion, time point) pairs compared and of follow-up rows of new lesions.
    @discardableResult
    public static func run(store: URL, csv: URL?, scoresCSV: URL?) throws -> (pairs: Int, newLesionRows: Int) {
        var contents = try StoreContents.read(from: store)
        let (pairs, _, new) = try pairs(contents.lesions)
        let (features, scores) = try tables(contents)
        let definition = "change = value - baseline; relative_change = (value - baseline) / |baseline| (NaN when the baseline is 0); baseline = the same patient and lesion id at timepoint 0"
        contents.tables[featuresPath] = StoreTable(table: features, attributes: ["definition": definition])
        contents.tables[scoresPath] = StoreTable(table: scores, attributes: ["definition": definition])
        try contents.write(to: store)
        if let csv { try TableCSV.write(features, to: csv) }
        if let scoresCSV { try TableCSV.write(scores, to: scoresCSV) }
        return (pairs.count, new.count)
    }

}

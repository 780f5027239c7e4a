import Foundation

/// The full name of a feature column across a store: `<modality>.<region>.[<filter>.]<family>.<feature>`,
/// e.g. `ct.tumour.glcm.joint_max_3D_comb`, `pt.ring.intensity.mean`, `ct.tumour.log_s1.5.intensity.mean`.
///
/// The store keeps the features of a modality and region in the matrix `/features/<modality>.<region>`,
/// whose names are the rest, `[<filter>.]<family>.<feature>`. Modality and region contain no dots, so the
/// first two components always name the matrix (a filter token may hold dots: `log_s1.5`).
///
/// Names written before schema 2 (signatures, ICC tables) start with the region: `tumour.glcm.…`. They
/// mean the CT features (`ct.tumour.glcm.…`), or those of the modality a caller names, so signatures made
/// before PET/CT stores existed, the shipped reference signature among them, keep working.
public enum FeatureColumnName {
    /// The regions a lesion's features may be computed over: the lesion (`tumour`), its peritumoral ring,
    /// its intratumoral core (the lesion eroded by a margin) and the tumour and ring together.
    public static let regions: [String] = ["tumour", "ring", "core", "tumour_ring"]

    /// The modality a name without one (written before schema 2) refers to.
    public static let legacyModality = "ct"

    /// The store key of a modality: its code lower-cased (`CT` -> `ct`, `PT` -> `pt`); no code means CT.
    public static func modalityKey(_ modality: String) -> String {
        let m = modality.trimmingCharacters(in: .whitespaces).lowercased()
        return m.isEmpty ? legacyModality : m.replacingOccurrences(of: ".", with: "_")
    }

    /// The feature matrix key `<modality>.<region>`, e.g. `ct.tumour`.
    public static func matrixKey(modality: String, region: String) -> String { modalityKey(modality) + "." + region }

    /// Whether `name` starts with a region rather than a modality (a name written before schema 2).
    public static func isLegacy(_ name: String) -> Bool {
        guard let first = name.split(separator: ".", maxSplits: 1).first else { return false }
        return regions.contains(String(first))
    }

    /// `name` with its modality: names written before schema 2 (`tumour.…`) get `modality` in front.
    public static func qualified(_ name: String, legacyModality modality: String = legacyModality) -> String {
        isLegacy(name) ? modalityKey(modality) + "." + name : name
    }

    /// The matrix key (`ct.tumour`) and the name within it (`glcm.joint_max_3D_comb`) of a full name;
    /// nil when `name` has fewer than three components.
    public static func split(_ name: String) -> (matrix: String, feature: String)? {
        let parts = name.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty else { return nil }
        return (parts[0] + "." + parts[1], String(parts[2]))
    }
}

extension StoreContents {
    /// The time point of every lesion row in days from baseline (0 where the table has no `timepoint`).
    public var lesionTimepoints: [Double] {
        (try? lesions.numbers("timepoint")) ?? [Double](repeating: 0, count: lesions.rowCount)
    }

    /// Whether some lesion row is of a time point other than the baseline.
    public var hasFollowUp: Bool { lesionTimepoints.contains { $0 != 0 && !$0.isNaN } }

    /// The store restricted to its baseline rows (time point 0): the lesions, their feature rows and the
    /// baseline scans. Stages that describe one moment (scoring for aggregation, plans, comparisons,
    /// training) read this view; further tables are kept as they are.
    public func baseline() -> StoreContents {
        guard hasFollowUp else { return self }
        let keep = lesionTimepoints.enumerated().filter { $0.element == 0 || $0.element.isNaN }.map(\.offset)
        var view = self
        view.lesions = lesions.rows(keep)
        view.features = features.mapValues { $0.rows(keep) }
        if let times = try? scans.numbers("timepoint") {
            view.scans = scans.rows(times.enumerated().filter { $0.element == 0 || $0.element.isNaN }.map(\.offset))
        }
        return view
    }

    /// For every lesion row, the value of `feature` (`[<filter>.]<family>.<feature>`) in `region` of the
    /// modality the lesion was contoured on (its `modality` column; CT when absent): e.g. the maximum
    /// diameter of each lesion whatever its modality. NaN where that matrix or feature is missing.
    public func contourModalityFeature(_ feature: String, region: String = "tumour") -> [Double] {
        let modalities = (try? lesions.texts("modality")) ?? [String](repeating: "", count: lesions.rowCount)
        var columns: [String: [Double]] = [:]
        return modalities.enumerated().map { row, modality in
            let key = FeatureColumnName.matrixKey(modality: modality, region: region)
            if columns[key] == nil { columns[key] = features[key]?.column(named: feature) ?? [] }
            let column = columns[key]!
            return row < column.count ? column[row] : .nan
        }
    }

    /// A store of schema 1 in the layout of schema 2: region `R` becomes `<m>.R` for each modality m of the
    /// lesion rows (their `modality`, CT when empty), NaN in the rows of other modalities; /lesions gains
    /// `timepoint` (0: schema 1 held baseline scans only) and `modalities`.
    static func translatingSchema1(lesions: Table, features: [String: FeatureMatrix]) throws
        -> (lesions: Table, features: [String: FeatureMatrix]) {
        let n = lesions.rowCount
        let modalities = (try? lesions.texts("modality")) ?? [String](repeating: "", count: n)
        let keys = modalities.map(FeatureColumnName.modalityKey)
        var translated: [String: FeatureMatrix] = [:]
        for (region, matrix) in features {
            for key in Set(keys).sorted() {
                var values = matrix.values
                for row in 0..<n where keys[row] != key {
                    for c in 0..<matrix.columnCount { values[row * matrix.columnCount + c] = .nan }
                }
                translated[key + "." + region] = try FeatureMatrix(names: matrix.names, rowCount: n, values: values)
            }
        }
        var table = lesions
        if !table.isEmpty {
            if table["timepoint"] == nil { try table.append("timepoint", .number([Double](repeating: 0, count: n))) }
            if table["modalities"] == nil {
                try table.append("modalities", .text(keys.map { $0.uppercased() }))
            }
            table = table.movingToFront(["patient_id", "lesion_id", "timepoint"])
        }
        return (table, translated)
    }
}

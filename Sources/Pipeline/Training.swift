import Foundation
import FeatureStore
import Cohort
import Signatures

/// Trains a signature from a store and a lesion-level target table.
public enum SignatureTraining {
    /// Reads `targets` (CSV with `patient_id`, `lesion_id` and `targetColumn`), matches it to the store's lesions,
    /// and fits an elastic-net signature over every tumour and ring feature.
    ///
    /// With `restriction`, the candidates are only the features whose ICC under perturbation reaches its bound
    /// (`train-signature --min-icc B --icc ICC.csv`); the signature records the restriction in `feature_filter`.
    ///
    /// A candidate must be finite for every lesion trained on, so in a store mixing PET/CT and CT-only lesions the
    /// `pt.*` features are no candidates: `warnings` says how many were left out for each modality some lesions
    /// lack. With `allModalities` (`--all-modalities`) the signature is trained on the lesions that have every
    /// modality of the store (the `modalities` column), whose features of every modality are candidates; the
    /// provenance says so.
    public static func run(store: URL, targets: URL, targetColumn: String, options: SignatureTrainingOptions,
                           restriction: ICCRestriction? = nil, allModalities: Bool = false) throws -> TrainedSignature {
        // A signature is trained on the baseline lesions (one row per lesion; follow-up rows repeat the ids).
        let contents = try StoreContents.read(from: store).baseline()
        let lesions = try StoreLesions(contents)
        let text = try InputFile.utf8Text(targets, what: "target table (CSV)")
        let table = try CSVTable.parse(text, file: targets.lastPathComponent)
        guard let pi = table.header.firstIndex(of: "patient_id"), let li = table.header.firstIndex(of: "lesion_id"),
              let ti = table.header.firstIndex(of: targetColumn) else {
            throw PipelineError("\(targets.path) needs the columns patient_id, lesion_id and \(targetColumn); it has \(table.header.joined(separator: ", "))")
        }
        var target: [String: Double] = [:]
        var problems: [String] = []
        for r in table.rows {
            guard r.fields.count > max(pi, li, ti) else { problems.append("row \(r.number): too few fields"); continue }
            let v = r.fields[ti].trimmingCharacters(in: .whitespaces)
            if v.isEmpty { continue }
            guard let x = Double(v), x.isFinite else { problems.append("row \(r.number): '\(v)' is not a number"); continue }
            target[r.fields[pi] + "\u{1}" + r.fields[li]] = x
        }
        guard problems.isEmpty else {
            throw PipelineError("the target table \(targets.path) has problems:\n" + problems.map { "  - \($0)" }.joined(separator: "\n"))
        }
        var (names, rows) = CohortScoring.featureTable(contents)
        var filter: Signature.FeatureFilter?
        if let restriction {
            let kept = names.indices.filter { restriction.allows(names[$0]) }
            guard !kept.isEmpty else {
                throw PipelineError("no feature of the store has an ICC of at least \(restriction.minICC) in \(restriction.table.path) (\(restriction.icc.count) features listed, \(restriction.icc.values.filter { $0 >= restriction.minICC }.count) at or above the bound); lower --min-icc or check that the ICC table was made with the store's settings")
            }
            filter = Signature.FeatureFilter(minICC: restriction.minICC, iccTable: restriction.table.lastPathComponent,
                                             iccTableHash: restriction.fileHash, candidatesBefore: names.count,
                                             candidatesKept: kept.count)
            names = kept.map { names[$0] }
            rows = rows.map { r in kept.map { r[$0] } }
        }
        let y = lesions.patientIDs.indices.map { target[lesions.patientIDs[$0] + "\u{1}" + lesions.lesionIDs[$0]] ?? .nan }
        guard y.contains(where: \.isFinite) else {
            throw PipelineError("no lesion of the store has a target in \(targets.path): check patient_id and lesion_id")
        }
        // The lesions trained on: all, or (--all-modalities) those with every modality of the store.
        let coverage = try ModalityCoverage(contents)
        var used = Array(y.indices)
        var warnings: [String] = []
        if allModalities {
            used = used.filter { coverage.lesionModalities[$0] == coverage.all }
            guard !used.isEmpty else {
                throw PipelineError("--all-modalities: no lesion of the store has an image of every modality (\(coverage.all.sorted().map { $0.uppercased() }.joined(separator: ", ")))")
            }
        } else {
            for m in coverage.all.sorted() {
                let have = y.indices.filter { coverage.lesionModalities[$0].contains(m) }.count
                let candidates = names.filter { $0.hasPrefix(m + ".") }.count
                guard have < y.count, candidates > 0 else { continue }
                let complete = y.indices.filter { coverage.lesionModalities[$0] == coverage.all }.count
                warnings.append("\(candidates) candidate features of modality \(m.uppercased()) (\(m).*) are left out: only \(have) of \(y.count) lesions have a \(m.uppercased()) image, and a candidate must be finite for every lesion trained on; to use them, give --all-modalities to train on the \(complete) lesions with every modality (\(coverage.all.sorted().map { $0.uppercased() }.joined(separator: ", ")))")
            }
        }
        let data = SignatureTrainingData(
            featureNames: names, featureColumns: names.indices.map { j in used.map { rows[$0][j] } },
            locations: used.map { lesions.locations[$0] }, kvps: used.map { lesions.kvps[$0] }, target: used.map { y[$0] },
            groups: used.map { lesions.patientIDs[$0] })
        let settings = try JSONValue.parse(contents.attributes.settingsJSON)
        var trained: TrainedSignature
        do {
            trained = try SignatureTrainer.train(data, options: options, preprocessing: settings)
        } catch let e as SignatureError where allModalities && used.count < y.count {
            throw PipelineError("--all-modalities: trained on the \(used.count) of \(y.count) lesions with every modality (\(coverage.all.sorted().map { $0.uppercased() }.joined(separator: ", "))): \(e)")
        }
        trained.warnings = warnings
        if allModalities && coverage.all.count > 1 {
            trained.signature.provenance += " Trained on the \(used.count) of \(y.count) lesions with an image of every modality (\(coverage.all.sorted().map { $0.uppercased() }.joined(separator: ", ")))."
        }
        // A signature trained on harmonised features says so: it applies only to stores harmonised the same way.
        trained.signature.harmonisation = CohortHarmonisation.signatureStamp(contents)
        if let filter {
            trained.signature.featureFilter = filter
            trained.signature.provenance += " Candidate features restricted to the \(filter.candidatesKept) of \(filter.candidatesBefore) with ICC(1,1) >= \(filter.minICC) under perturbation (\(filter.iccTable))."
        }
        return trained
    }
}

/// The features robust enough under perturbation to be signature candidates: the rows of an ICC table
/// (`lesionmap robustness --csv`) whose `icc` reaches a bound. A feature the table lacks, or whose ICC is
/// empty (undefined), is not a candidate.
public struct ICCRestriction: Sendable {
    public var minICC: Double
    public var table: URL
    /// ICC by feature name (NaN where the table's cell is empty).
    public var icc: [String: Double]
    /// FNV-1a 64 hash of the table's bytes, recorded in the signature.
    public var fileHash: String

    public func allows(_ feature: String) -> Bool { (icc[feature] ?? .nan) >= minICC }

    /// Reads the table and keeps the features at or above `minICC`.
    public static func load(_ url: URL, minICC: Double) throws -> ICCRestriction {
        guard minICC.isFinite, minICC >= -1, minICC <= 1 else {
            throw PipelineError("--min-icc \(minICC): an ICC bound must be between -1 and 1 (e.g. 0.9)")
        }
        let (icc, hash) = try readTable(url)
        return ICCRestriction(minICC: minICC, table: url, icc: icc, fileHash: hash)
    }

    /// An ICC table's `icc` by feature (NaN where empty) and the FNV-1a 64 hash of its bytes. Every problem
    /// (missing columns, values that are not numbers up to 1, duplicate features) is reported together by row.
    public static func readTable(_ url: URL) throws -> (icc: [String: Double], hash: String) {
        let text = try InputFile.utf8Text(url, what: "ICC table (CSV from lesionmap robustness)")
        let table = try CSVTable.parse(text, file: url.lastPathComponent)
        guard let fi = table.header.firstIndex(of: "feature"), let ii = table.header.firstIndex(of: "icc") else {
            throw PipelineError("\(url.path) is not an ICC table: it needs the columns feature and icc (as lesionmap robustness --csv writes); it has \(table.header.joined(separator: ", "))")
        }
        var icc: [String: Double] = [:]
        var problems: [String] = []
        for r in table.rows {
            guard r.fields.count > max(fi, ii) else { problems.append("row \(r.number): too few fields"); continue }
            // Tables written before stores kept modalities name features `tumour.…`: those are CT features.
            let name = FeatureColumnName.qualified(r.fields[fi].trimmingCharacters(in: .whitespaces))
            let v = r.fields[ii].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { problems.append("row \(r.number): empty feature name"); continue }
            let value: Double
            if v.isEmpty { value = .nan } else {
                guard let x = Double(v), x.isFinite, x <= 1 else { problems.append("row \(r.number): icc '\(v)' is not a number up to 1"); continue }
                value = x
            }
            if icc.updateValue(value, forKey: name) != nil { problems.append("row \(r.number): feature \(name) is listed twice") }
        }
        if icc.isEmpty && problems.isEmpty { problems.append("it lists no feature") }
        guard problems.isEmpty else {
            throw PipelineError("the ICC table \(url.path) has problems:\n" + problems.prefix(20).map { "  - \($0)" }.joined(separator: "\n"))
        }
        return (icc, fnv1a64Hex((try? Data(contentsOf: url)) ?? Data(text.utf8)))
    }
}
/// Which modalities each lesion of a store has (the `/lesions` column `modalities`, e.g. `CT,PT`), as the
/// lower-case keys that prefix feature names (`ct`, `pt`). A store without the column holds one modality per
/// lesion (its `modality`), or none known: every lesion then counts as complete.
struct ModalityCoverage {
    var lesionModalities: [Set<String>]
    /// Every modality of the store.
    var all: Set<String>

    init(_ contents: StoreContents) throws {
        let t = contents.lesions
        if let column = t["modalities"] ?? t["modality"], case .text(let values) = column {
            lesionModalities = values.map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }) }
        } else {
            lesionModalities = Array(repeating: [], count: t.rowCount)
        }
        all = lesionModalities.reduce(into: Set<String>()) { $0.formUnion($1) }
    }
}

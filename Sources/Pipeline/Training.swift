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
    public static func run(store: URL, targets: URL, targetColumn: String, options: SignatureTrainingOptions,
                           restriction: ICCRestriction? = nil) throws -> TrainedSignature {
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
        let data = SignatureTrainingData(
            featureNames: names, featureColumns: names.indices.map { j in rows.map { $0[j] } },
            locations: lesions.locations, kvps: lesions.kvps, target: y, groups: lesions.patientIDs)
        let settings = try JSONValue.parse(contents.attributes.settingsJSON)
        var trained = try SignatureTrainer.train(data, options: options, preprocessing: settings)
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
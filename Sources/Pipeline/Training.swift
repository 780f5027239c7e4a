import Foundation
import FeatureStore
import Cohort
import Signatures

/// Trains a signature from a store and a lesion-level target table.
public enum SignatureTraining {
    /// Reads `targets` (CSV with `patient_id`, `lesion_id` and `targetColumn`), matches it to the store's lesions,
    /// and fits an elastic-net signature over every tumour and ring feature.
    public static func run(store: URL, targets: URL, targetColumn: String, options: SignatureTrainingOptions) throws
        -> TrainedSignature {
        let contents = try StoreContents.read(from: store)
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
        let (names, rows) = CohortScoring.featureTable(contents)
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
        return trained
    }
}

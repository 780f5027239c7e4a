import Foundation
import Cohort
import FeatureStore

/// What `lesionmap merge` wrote.
public struct MergeSummary: Sendable {
    public var stores: Int
    public var patients: Int
    public var lesions: Int
    /// Patients recorded as failed in the shards' stores, with their messages.
    public var failed: [(patientID: String, message: String)]

    public var text: String {
        var s = "merged \(stores) store\(stores == 1 ? "" : "s"): \(patients) patient\(patients == 1 ? "" : "s") "
            + "(\(lesions) lesions); \(failed.count) failed"
        for f in failed { s += "\n  FAILED \(f.patientID): " + f.message.replacingOccurrences(of: "\n", with: "\n    ") }
        return s
    }
}

/// The extraction stores of a cohort's shards (`lesionmap shard`, one `lesionmap extract` per shard) merged
/// into the store one extraction of the whole manifest writes (see `StoreMerge` for what is refused).
///
/// Beyond `StoreMerge`: each patient's `cohort_folder` that is a shard folder (it has a `shard.json`) becomes
/// the original manifest folder the shard was made from, so reports and target export find the images as
/// from a single run, and failure messages that name a file through a shard folder (or one of its sibling
/// shards) name it through the original folder, as a single extraction's messages do; the feature catalogue (`feature_catalog`) of the shards is dropped and written again
/// for the merged store. The store is written atomically, with checksums.
public enum CohortMerge {
    public static func run(stores: [URL], into store: URL, manifest: URL? = nil) throws -> MergeSummary {
        let target = store.standardizedFileURL
        if let same = stores.first(where: { $0.standardizedFileURL.path == target.path }) {
            throw StoreMergeError("the merged store \(target.path) is also one of the stores to merge (\(same.path)); "
                                  + "give the merged store another name")
        }
        let order = try manifest.map { try CohortManifest.load($0).patients.map(\.id) }
        var contents = try StoreMerge.merge(stores, patientOrder: order,
                                            rebuiltTables: [CohortExtraction.catalogPath])
        // Shard folders (and their sibling shards) as recorded in the patients' cohort_folder, with their sources.
        var originals: [String: String] = [:]
        for path in Set(contents.patients["cohort_folder"]?.texts ?? []) where !path.isEmpty {
            let folder = URL(fileURLWithPath: path)
            guard let shard = CohortSharding.description(of: folder) else { continue }
            originals[path] = shard.source
            for k in 1...max(shard.shards, 1) {
                let sibling = CohortSharding.shardFolder(k, in: folder.deletingLastPathComponent())
                if let d = CohortSharding.description(of: sibling) { originals[sibling.standardizedFileURL.path] = d.source }
            }
        }
        if let folders = contents.patients["cohort_folder"]?.texts {
            try contents.patients.set("cohort_folder", .text(folders.map { originals[$0] ?? $0 }))
        }
        // A failure message naming a file through a shard folder names it through the original folder (the
        // shard's links make them the same file), as a single extraction's message does.
        if let messages = contents.failures["message"]?.texts, !originals.isEmpty {
            let prefixes = originals.sorted { $0.key.count > $1.key.count }
            try contents.failures.set("message", .text(messages.map { message in
                prefixes.reduce(message) { $0.replacingOccurrences(of: $1.key + "/", with: $1.value + "/") }
            }))
        }
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try contents.write(to: target)
        try CohortExtraction.writeFeatureCatalog(target)
        let failures = contents.failures
        let failed = zip((try? failures.texts("patient_id")) ?? [], (try? failures.texts("message")) ?? []).map { ($0, $1) }
        return MergeSummary(stores: stores.count, patients: contents.patients.rowCount, lesions: contents.lesions.rowCount,
                            failed: failed)
    }
}

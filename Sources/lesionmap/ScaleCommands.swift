import ArgumentParser
import Foundation
import Cohort
import Pipeline

struct ShardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shard",
        abstract: "Split a cohort manifest into patient shards, each a complete manifest (for cluster jobs).",
        discussion: """
        Writes DIR/shard-1 ... DIR/shard-N, each with lesions.csv, patients.csv and shard.json: every patient's
        rows in one shard, manifest order kept, shards balanced by lesion rows. Relative image and mask paths
        resolve through links to the original folder's entries, so shard stores name files as a whole-cohort
        store does. Extract each shard, then merge the stores with `lesionmap merge`.
        Example: lesionmap shard cohorts/mycohort --shards 8 --out work/shards
        """)

    @Argument(help: "Cohort manifest folder (holding lesions.csv and patients.csv).") var manifest: String
    @Option(help: "Number of shards (at most the number of patients).") var shards: Int
    @Option(help: "Folder to write the shard folders into.") var out: String

    func run() throws {
        try runReportingErrors {
            let written = try CohortSharding.split(fileURL(manifest), shards: shards, into: fileURL(out))
            for d in written {
                print("\(CohortSharding.shardFolder(d.shard, in: fileURL(out)).path): \(d.patients.count) patients, \(d.lesionRows) lesion rows")
            }
        }
    }
}

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the extraction stores of a cohort's shards into one store.",
        discussion: """
        Patients follow the manifest's order with --manifest, otherwise the order of the stores given. Stores
        extracted with different settings, of another schema version, sharing a patient, still being written,
        or holding later tables (scores, plans...) are refused. Failed patients of the shards are kept in
        /failures and listed (the merge itself succeeds: their extraction already exited non-zero).
        Example: lesionmap merge work/stores/shard-*.h5 --manifest cohorts/mycohort --store cohort.h5
        """)

    @Argument(help: "The shards' extraction stores (HDF5).") var shardStores: [String]
    @Option(help: "Merged store to write (HDF5; replaced atomically if it exists).") var store: String
    @Option(help: "The manifest the shards were made from: patients in its order, and every one of them required.")
    var manifest: String?

    func run() throws {
        try runReportingErrors {
            let summary = try CohortMerge.run(stores: shardStores.map(fileURL), into: fileURL(store),
                                              manifest: manifest.map(fileURL))
            print(summary.text)
        }
    }
}

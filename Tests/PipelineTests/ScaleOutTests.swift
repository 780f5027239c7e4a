import XCTest
import Foundation
import Cohort
import FeatureStore
import Synthesis
import TestSupport
@testable import Pipeline

/// `lesionmap shard` + one `extract` per shard + `lesionmap merge` against one `extract` of the whole manifest.
final class ScaleOutTests: XCTestCase {
    /// The contents with the creation time blanked: every dataset, table attribute and root attribute else.
    private func comparable(_ url: URL) throws -> StoreContents {
        var contents = try StoreContents.read(from: url)
        contents.attributes.createdUTC = ""
        return contents
    }

    /// Equality piece by piece, so that a failure names what differs instead of printing two whole stores.
    private func assertSameStore(_ a: StoreContents, _ b: StoreContents, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.attributes, b.attributes, file: file, line: line)
        for (name, x, y) in [("patients", a.patients, b.patients), ("lesions", a.lesions, b.lesions), ("failures", a.failures, b.failures)] {
            XCTAssertEqual(x.columnNames, y.columnNames, "/\(name) columns", file: file, line: line)
            for c in x.columnNames where x[c] != y[c] {
                XCTFail("/\(name)/\(c) differs: \(String(describing: x[c]).prefix(300)) vs \(String(describing: y[c]).prefix(300))", file: file, line: line)
            }
        }
        XCTAssertEqual(a.features.keys.sorted(), b.features.keys.sorted(), file: file, line: line)
        for (region, m) in a.features where b.features[region] != m {
            XCTFail("/features/\(region) differs (names equal: \(m.names == b.features[region]?.names))", file: file, line: line)
        }
        XCTAssertEqual(a.tables.keys.sorted(), b.tables.keys.sorted(), file: file, line: line)
        for (path, t) in a.tables where b.tables[path] != t { XCTFail("/\(path) differs", file: file, line: line) }
        XCTAssertTrue(a == b, "the stores differ", file: file, line: line)
    }

    func testFourShardsMergeToTheStoreOfOneExtraction() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let folder = try smallCohort(dir, patients: 6, seed: 5)
        // One patient fails (a truncated image): its failure, whose message names the image relative to the
        // manifest folder, must merge to the same /failures row.
        let victim = folder.appendingPathComponent(SyntheticCohort.imagePath("SYN004"))
        let bytes = try Data(contentsOf: victim)
        try bytes.prefix(bytes.count / 3).write(to: victim)

        let single = dir.appendingPathComponent("single.h5")
        let whole = try CohortExtraction.run(cohort: try CohortManifest.load(folder), store: single, settings: testSettings)
        XCTAssertEqual(whole.failed.map(\.patientID), ["SYN004"])

        let shards = try CohortSharding.split(folder, shards: 4, into: dir.appendingPathComponent("shards"))
        XCTAssertEqual(shards.flatMap(\.patients), (1...6).map { String(format: "SYN%03d", $0) })
        var stores: [URL] = []
        for d in shards {
            let shardFolder = CohortSharding.shardFolder(d.shard, in: dir.appendingPathComponent("shards"))
            let store = dir.appendingPathComponent("stores/shard-\(d.shard).h5")
            try FileManager.default.createDirectory(at: store.deletingLastPathComponent(), withIntermediateDirectories: true)
            _ = try CohortExtraction.run(cohort: try CohortManifest.load(shardFolder), store: store, settings: testSettings)
            stores.append(store)
        }
        let merged = dir.appendingPathComponent("merged.h5")
        let summary = try CohortMerge.run(stores: stores, into: merged, manifest: folder)
        XCTAssertEqual(summary.failed.map(\.patientID), ["SYN004"])
        XCTAssertEqual(summary.patients, 5)
        let expected = try comparable(single)
        assertSameStore(try comparable(merged), expected)
        XCTAssertEqual(try expected.patients.texts("cohort_folder").first, folder.standardizedFileURL.path)
        XCTAssertNotNil(expected.tables[CohortExtraction.catalogPath])
        XCTAssertTrue(try expected.failures.texts("message")[0].contains("images/SYN004_ct.nii.gz"))

        // In the order of the stores (the shards are consecutive runs of the manifest): the same store;
        // in another order, the same rows reordered.
        let byStores = dir.appendingPathComponent("by-stores.h5")
        _ = try CohortMerge.run(stores: stores, into: byStores)
        assertSameStore(try comparable(byStores), expected)
        let reversed = dir.appendingPathComponent("reversed.h5")
        _ = try CohortMerge.run(stores: stores.reversed(), into: reversed)
        let reversedPatients = try comparable(reversed).patients.texts("patient_id")
        XCTAssertEqual(reversedPatients, shards.reversed().flatMap(\.patients).filter { $0 != "SYN004" })
    }

    // MARK: Refusals, on small stores written directly

    private func store(_ url: URL, patients: [String], settings: String = #"{"a":1}"#, schema: Int64 = 2,
                       tables: [String: StoreTable] = [:]) throws -> URL {
        var attributes = StoreAttributes(settingsJSON: settings)
        attributes.schemaVersion = schema
        let results = try patients.map { id in
            try PatientExtraction(patientID: id, lesions: try Table(["lesion_id": .text(["L1"])]),
                                  features: ["tumour": try FeatureMatrix(names: ["x"], rowCount: 1, values: [1])])
        }
        try StoreContents.assembling(attributes: attributes, results: results, failures: [], tables: tables).write(to: url)
        return url
    }

    func testMergeRefusesMismatchedDuplicateUnfinishedAndScoredStores() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let a = try store(dir.appendingPathComponent("a.h5"), patients: ["P1", "P2"])
        let b = try store(dir.appendingPathComponent("b.h5"), patients: ["P3"])
        let out = dir.appendingPathComponent("out.h5")
        func refusal(_ stores: [URL], order: [String]? = nil) -> String {
            do {
                _ = try StoreMerge.merge(stores, patientOrder: order)
                return "merged"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(try StoreMerge.merge([a, b]).patients.texts("patient_id"), ["P1", "P2", "P3"])

        let otherSettings = try store(dir.appendingPathComponent("c.h5"), patients: ["P4"], settings: #"{"a":2}"#)
        var message = refusal([a, otherSettings])
        XCTAssertTrue(message.contains("different settings") && message.contains(a.path) && message.contains(otherSettings.path), message)

        let overlap = try store(dir.appendingPathComponent("d.h5"), patients: ["P4", "P2"])
        message = refusal([a, b, overlap])
        XCTAssertTrue(message.contains("patient 'P2' is in both \(a.path) and \(overlap.path)"), message)

        // A shard of schema 1 (written before modalities and time points were stored) is refused: merging
        // translated stores could mix layouts; extracting it again is the way.
        let older = try store(dir.appendingPathComponent("e.h5"), patients: ["P5"], schema: 1)
        message = refusal([a, older])
        XCTAssertTrue(message.contains(older.path) && message.contains("schema_version is 1") && message.contains("schema_version 2"), message)

        let scored = try store(dir.appendingPathComponent("f.h5"), patients: ["P6"],
                               tables: ["scores": StoreTable(table: try Table(["score": .number([0.5])]))])
        message = refusal([a, scored])
        XCTAssertTrue(message.contains(scored.path) && message.contains("/scores"), message)
        // The feature catalogue is rebuilt by the caller, so it does not stop a merge.
        XCTAssertNoThrow(try StoreMerge.merge([a, scored], rebuiltTables: ["scores"]))

        try FileManager.default.createDirectory(at: ExtractionStoreWriter.partsDirectory(for: b), withIntermediateDirectories: true)
        message = refusal([a, b])
        XCTAssertTrue(message.contains(b.path) && message.contains("has not finished"), message)
        try FileManager.default.removeItem(at: ExtractionStoreWriter.partsDirectory(for: b))

        message = refusal([a, b], order: ["P1", "P2", "P3", "P7"])
        XCTAssertTrue(message.contains("'P7'") && message.contains("in none of the 2 stores"), message)
        message = refusal([a, b], order: ["P1", "P3"])
        XCTAssertTrue(message.contains("patient 'P2' of \(a.path) is not in the manifest"), message)
        XCTAssertEqual(refusal([a, a]), "\(a.path) is given twice; give each shard's store once")

        XCTAssertThrowsError(try CohortMerge.run(stores: [a, b], into: a)) {
            XCTAssertTrue("\($0)".contains("is also one of the stores to merge"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }
}

import FeatureStore
import Foundation
import HDF5Support
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// What the store's checksums cost (issue 12, item 6): writing and reading a store of the demo
/// cohort's size, and of a 10,000-lesion cohort, with checksums (`StoreContents.write/read`)
/// next to the same contents written and read as before checksums existed (HDF5 writing the
/// file itself, contiguous datasets, no hashes), in the same run. Run with
/// `LESIONMAP_BENCHMARK=1 swift test -c release -Xswiftc -enable-testing --filter StoreBenchmarks`;
/// skipped otherwise (no timed unit tests).
final class StoreBenchmarks: XCTestCase {
    /// A store like the demo's: `lesions` lesions of 24 patients, 215 features in two regions,
    /// an 18-column lesion table, scores and plans.
    private func contents(lesions: Int, patients: Int) throws -> StoreContents {
        var state: UInt64 = 7
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        let patientIDs = (0..<lesions).map { String(format: "DEMO%03d", $0 % patients) }.sorted()
        var lesionTable = try Table([
            "patient_id": .text(patientIDs),
            "lesion_id": .text((0..<lesions).map { "L\($0)" }),
            "location": .text((0..<lesions).map { ["lung", "liver", "bone", "lymph node"][$0 % 4] }),
            "source": .text((0..<lesions).map { "masks/patient_\($0 % patients)/lesion_\($0).nii.gz" }),
            "image": .text((0..<lesions).map { "images/patient_\($0 % patients).nii.gz" }),
        ])
        for name in ["volume_ml", "voxel_count", "components", "centroid_x", "centroid_y", "centroid_z", "kvp",
                     "spacing_x", "spacing_y", "spacing_z", "irradiated", "lesion_response", "modality_code"] {
            try lesionTable.append(name, .number((0..<lesions).map { _ in next() * 100 }))
        }
        let names = (0..<215).map { "family\($0 % 9).feature_\($0)" }
        let features = try ["tumour", "ring"].reduce(into: [String: FeatureMatrix]()) { result, region in
            result[region] = try FeatureMatrix(names: names, rowCount: lesions,
                                               values: (0..<(lesions * names.count)).map { _ in next() })
        }
        let ids = Array(Set(patientIDs)).sorted()
        var patientTable = try Table(["patient_id": .text(ids)])
        for name in ["pfs_months", "pfs_event", "os_months", "os_event", "abscopal_response", "lesion_count"] {
            try patientTable.append(name, .number(ids.map { _ in next() }))
        }
        var contents = StoreContents(attributes: StoreAttributes(settingsJSON: #"{"bin_width":25,"mode":"3d"}"#),
                                     patients: patientTable, lesions: lesionTable, features: features)
        contents.tables["scores/cd8"] = StoreTable(
            table: try Table(["patient_id": .text(patientIDs), "lesion_id": .text(try lesionTable.texts("lesion_id")),
                              "score": .number((0..<lesions).map { _ in next() })]),
            attributes: ["signature_id": "cd8_v1", "direction": "higher"])
        contents.tables["plans/cd8"] = StoreTable(
            table: try Table(["patient_id": .text(patientIDs), "lesion_id": .text(try lesionTable.texts("lesion_id")),
                              "category": .text((0..<lesions).map { ["irradiate", "observe"][$0 % 2] }),
                              "rationale": .text((0..<lesions).map { "lowest predicted infiltration of lesion \($0)" })]),
            attributes: ["policy_json": String(repeating: "{\"rule\":1}", count: 50)])
        return contents
    }

    /// The store as LesionMap wrote it before checksums: HDF5 writing a temporary disk file,
    /// contiguous datasets, variable-length text attributes, no hashes, then fsync and rename
    /// (the old `StoreContents.write`).
    private func writeWithoutChecksums(_ contents: StoreContents, to url: URL) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent("." + url.lastPathComponent + ".tmp")
        try writeWithoutChecksumsInPlace(contents, to: temporary)
        let handle = try FileHandle(forUpdating: temporary)
        try handle.synchronize()
        try handle.close()
        guard rename(temporary.path, url.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    private func writeWithoutChecksumsInPlace(_ contents: StoreContents, to url: URL) throws {
        let file = try HDF5File.create(at: url)
        try file.setAttribute("schema_version", .int64(contents.attributes.schemaVersion))
        try file.setAttribute("software", .text(contents.attributes.software))
        try file.setAttribute("created_utc", .text(contents.attributes.createdUTC))
        try file.setAttribute("settings_json", .text(contents.attributes.settingsJSON))
        try file.setAttribute("settings_hash", .text(contents.attributes.settingsHash))
        func write(_ table: Table, _ group: HDF5Group, _ attributes: [String: String] = [:]) throws {
            for (name, column) in table.columns {
                switch column {
                case .text(let values): try group.createDataset(name, strings: values)
                case .number(let values): try group.createDataset(name, doubles: values)
                }
            }
            try group.setAttribute("columns", .texts(table.columnNames))
            try group.setAttribute("n_rows", .int64(Int64(table.rowCount)))
            for (name, value) in attributes.sorted(by: { $0.key < $1.key }) { try group.setAttribute(name, .text(value)) }
        }
        try write(contents.patients, file.createGroup("patients"))
        try write(contents.lesions, file.createGroup("lesions"))
        for (region, matrix) in contents.features.sorted(by: { $0.key < $1.key }) {
            let group = try file.createGroup("features/\(region)")
            try group.createDataset("values", doubles: matrix.values, shape: [matrix.rowCount, matrix.columnCount])
            try group.createDataset("names", strings: matrix.names)
        }
        try write(contents.failures, file.createGroup("failures"))
        for (path, table) in contents.tables.sorted(by: { $0.key < $1.key }) {
            try write(table.table, file.createGroup(path), table.attributes)
        }
        try file.closeReportingErrors()
    }

    /// Every dataset of a file read back, as the old reader did (no verification).
    private func readWithoutChecksums(_ url: URL) throws -> Int {
        let file = try HDF5File.open(at: url)
        var count = 0
        func visit(_ group: HDF5Group) throws {
            for name in try group.childNames() {
                if try group.kind(of: name) == .group {
                    let child = try group.openGroup(name)
                    _ = try child.attributeNames().map { try child.attribute($0) }
                    try visit(child)
                } else {
                    let dataset = try group.openDataset(name)
                    count += dataset.elementKind == .string ? try dataset.readStrings().count
                        : try dataset.readDoubles().count
                }
            }
        }
        try visit(file)
        return count
    }

    private func median(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = Date()
            try body()
            times.append(Date().timeIntervalSince(start))
        }
        return times.sorted()[repeats / 2]
    }

    func testStoreWriteAndReadWithChecksums() throws {
        guard ProcessInfo.processInfo.environment["LESIONMAP_BENCHMARK"] == "1" else {
            throw XCTSkip("benchmark: set LESIONMAP_BENCHMARK=1")
        }
        let dir = try SharedData.temporaryDirectory(for: self)
        for (label, lesions, patients, repeats) in [("demo size", 132, 24, 21), ("10,000 lesions", 10_000, 1_000, 5)] {
            let contents = try contents(lesions: lesions, patients: patients)
            let old = dir.appendingPathComponent("old-\(lesions).h5")
            let new = dir.appendingPathComponent("new-\(lesions).h5")
            let oldWrite = try median(repeats) { try writeWithoutChecksums(contents, to: old) }
            let newWrite = try median(repeats) { try contents.write(to: new) }
            let oldRead = try median(repeats) { _ = try readWithoutChecksums(old) }
            let newRead = try median(repeats) { _ = try StoreContents.read(from: new) }
            XCTAssertEqual(try StoreContents.read(from: new), contents)
            func size(_ url: URL) throws -> Double {
                Double(try FileManager.default.attributesOfItem(atPath: url.path)[.size] as! Int) / 1_048_576
            }
            let values = contents.features["tumour"]!.values
            let hashing = median(repeats) { _ = StoreIntegrity.digest(numbers: values) }
            print(String(format: "  SHA-256 of one feature matrix (%.1f MB): %.1f ms, %.0f MB/s",
                         Double(values.count * 8) / 1_048_576, hashing * 1000,
                         Double(values.count * 8) / 1_048_576 / hashing))
            print(String(format: "store %@ (%d lesions, 2 x 215 features): write %.1f ms without checksums, %.1f ms "
                         + "with (x%.2f); read %.1f ms without, %.1f ms with verification (x%.2f); "
                         + "file %.2f MB without, %.2f MB with",
                         label, lesions, oldWrite * 1000, newWrite * 1000, newWrite / oldWrite,
                         oldRead * 1000, newRead * 1000, newRead / oldRead, try size(old), try size(new)))
        }
    }
}

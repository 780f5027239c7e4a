import FeatureStore
import Foundation
import HDF5Support
import TestSupport
import XCTest

final class StoreContentsTests: XCTestCase {
    private func sampleContents() throws -> StoreContents {
        let results = try ["P01", "P02", "P03"].map(StoreFixtures.result)
        var contents = StoreContents(
            attributes: StoreAttributes(settingsJSON: StoreFixtures.settingsJSON, createdUTC: "2025-01-31T12:00:00Z"),
            patients: try Table.concatenating(results.map(\.patient)),
            lesions: try Table.concatenating(results.map(\.lesions)),
            features: ["tumour": FeatureMatrix.concatenating(results.map { $0.features["tumour"]! })],
            failures: StoreContents.failureTable([.init(patientID: "P05", stage: "segmentation", message: "no lesion, ü")]))
        contents.tables["scores"] = StoreTable(
            table: try Table(["lesion_id": .text(try contents.lesions.texts("lesion_id")),
                              "cd8": .number([0.5, .nan, 1.5])]),
            attributes: ["signature_id": "cd8_v1", "signature_hash": "0123456789abcdef"])
        contents.tables["aggregates/cd8_v1"] = StoreTable(table: try Table(["patient_id": .text(["P01"])]))
        return contents
    }

    func testRoundTripKeepsEverything() throws {
        let url = try SharedData.temporaryDirectory(for: self).appendingPathComponent("store.h5")
        let contents = try sampleContents()
        try contents.write(to: url)
        let back = try StoreContents.read(from: url)
        XCTAssertEqual(back, contents)
        XCTAssertEqual(back.lesions.columnNames,
                       ["patient_id", "lesion_id", "timepoint", "location", "volume_ml", "irradiated", "kvp"])
        XCTAssertEqual(try back.lesions.texts("patient_id"), ["P01", "P02", "P02"])
        XCTAssertEqual(back.attributes.settingsHash, SHA256.hex(of: StoreFixtures.settingsJSON))
        XCTAssertEqual(back.attributes.schemaVersion, 2)
        XCTAssertEqual(try back.failureList(), [.init(patientID: "P05", stage: "segmentation", message: "no lesion, ü")])

        let reader = try StoreReader(url: url)
        XCTAssertEqual(try reader.regions(), ["tumour"])
        XCTAssertEqual(try reader.tablePaths(), ["aggregates/cd8_v1", "scores"])
        XCTAssertEqual(try reader.table(at: "scores").attributes["signature_id"], "cd8_v1")
        XCTAssertEqual(try reader.features(region: "tumour").rowCount, 3)

        // The raw layout that h5py sees.
        let file = try HDF5File.open(at: url)
        XCTAssertEqual(try file.openDataset("features/tumour/values").shape, [3, 2])
        XCTAssertEqual(try file.openGroup("lesions").attribute("n_rows"), .int64(3))
        XCTAssertEqual(try file.openGroup("lesions").attribute("columns")?.texts?.first, "patient_id")
        XCTAssertEqual(try file.attribute("settings_json"), .text(StoreFixtures.settingsJSON))
    }

    func testWriteRejectsBrokenLayouts() throws {
        let url = try SharedData.temporaryDirectory(for: self).appendingPathComponent("store.h5")
        let good = try sampleContents()
        var badRows = good
        badRows.features["ring"] = try FeatureMatrix(names: ["a"], rows: [[1]])
        var reserved = good
        reserved.tables["lesions/extra"] = StoreTable(table: Table())
        var nested = good
        nested.tables["scores/inner"] = StoreTable(table: Table())
        var noLesionID = good
        noLesionID.lesions = try Table(["patient_id": .text(["P01"])])
        noLesionID.features = [:]
        for broken in [badRows, reserved, nested, noLesionID] {
            XCTAssertThrowsError(try broken.write(to: url)) { error in
                guard case .invalidStore(let file, _) = error as? FeatureStoreError else { return XCTFail("\(error)") }
                XCTAssertEqual(file, url.path)
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
    }

    func testReaderRejectsForeignFiles() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let url = dir.appendingPathComponent("other.h5")
        let file = try HDF5File.create(at: url)
        try file.setAttribute("schema_version", .int64(7))
        file.close()
        XCTAssertThrowsError(try StoreContents.read(from: url)) { error in
            XCTAssertTrue("\(error)".contains("schema_version is 7"), "\(error)")
        }
        let garbage = dir.appendingPathComponent("garbage.h5")
        try Data(repeating: 7, count: 100).write(to: garbage)
        XCTAssertThrowsError(try StoreContents.read(from: garbage)) { error in
            XCTAssertEqual((error as? HDF5Error)?.file, garbage.path)
        }
    }
}

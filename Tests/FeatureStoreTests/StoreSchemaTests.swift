import FeatureStore
import Foundation
import HDF5Support
import TestSupport
import XCTest

/// Store schema 2 (modality and time point) and the reading of stores written in schema 1.
final class StoreSchemaTests: XCTestCase {
    /// A store as LesionMap wrote it before schema 2: regions `tumour` and `ring` holding the features of
    /// CT and PT lesions alike, no `timepoint`, no /scans, schema_version 1.
    private func writeSchema1Store(_ url: URL) throws -> (tumour: FeatureMatrix, ring: FeatureMatrix) {
        let settings = #"{"bin_width":25}"#
        let attributes = StoreAttributes(schemaVersion: 1, software: "LesionMap 0.1.0", createdUTC: "2026-01-01T00:00:00Z",
                                         settingsJSON: settings, settingsHash: SHA256.hex(of: settings))
        let lesions = try Table(["patient_id": .text(["P1", "P1", "P2"]), "lesion_id": .text(["L1", "L2", "L1"]),
                                 "modality": .text(["CT", "PT", ""]), "volume_ml": .number([1, 2, 3])])
        let tumour = try FeatureMatrix(names: ["intensity.mean", "morphology.volume"], rows: [[10, 1000], [5.5, 2000], [12, 3000]])
        let ring = try FeatureMatrix(names: ["intensity.mean"], rows: [[-20], [1.5], [-30]])
        let contents = StoreContents(attributes: attributes, patients: try Table(["patient_id": .text(["P1", "P2"])]),
                                     lesions: lesions, features: ["tumour": tumour, "ring": ring])
        try contents.write(to: url)
        let file = try HDF5File.open(at: url, writable: true)
        try file.removeLink("scans")
        file.close()
        return (tumour, ring)
    }

    func testASchema1StoreReadsAsSchema2ByModality() throws {
        let url = try SharedData.temporaryDirectory(for: self).appendingPathComponent("old.h5")
        let (tumour, ring) = try writeSchema1Store(url)
        let reader = try StoreReader(url: url)
        XCTAssertEqual(reader.storedSchemaVersion, 1)
        XCTAssertEqual(reader.attributes.schemaVersion, 2)
        XCTAssertEqual(try reader.regions(), ["ct.ring", "ct.tumour", "pt.ring", "pt.tumour"])
        let ctTumour = try reader.features(region: "ct.tumour"), ptTumour = try reader.features(region: "pt.tumour")
        XCTAssertEqual(ctTumour.names, tumour.names)
        // Lesion rows of CT (and of no modality, which means CT) keep their values; PT rows are NaN, and back.
        XCTAssertEqual(ctTumour.row(0), tumour.row(0))
        XCTAssertEqual(ctTumour.row(2), tumour.row(2))
        XCTAssertTrue(ctTumour.row(1).allSatisfy(\.isNaN))
        XCTAssertEqual(ptTumour.row(1), tumour.row(1))
        XCTAssertTrue(ptTumour.row(0).allSatisfy(\.isNaN) && ptTumour.row(2).allSatisfy(\.isNaN))
        XCTAssertEqual(try reader.features(region: "pt.ring").row(1), ring.row(1))

        let contents = try StoreContents.read(from: url)
        XCTAssertEqual(contents.lesions.columnNames.prefix(3), ["patient_id", "lesion_id", "timepoint"])
        XCTAssertEqual(try contents.lesions.numbers("timepoint"), [0, 0, 0])
        XCTAssertEqual(try contents.lesions.texts("modalities"), ["CT", "PT", "CT"])
        XCTAssertTrue(contents.scans.isEmpty)
        XCTAssertEqual(contents.contourModalityFeature("intensity.mean"), [10, 5.5, 12])
        XCTAssertEqual(contents.contourModalityFeature("intensity.mean", region: "ring"), [-20, 1.5, -30])

        // Written back (as scoring does), it becomes a schema 2 store with the same content.
        let rewritten = url.deletingLastPathComponent().appendingPathComponent("new.h5")
        try contents.write(to: rewritten)
        XCTAssertEqual(try StoreReader(url: rewritten).storedSchemaVersion, 2)
        XCTAssertEqual(try StoreContents.read(from: rewritten), contents)
    }

    func testAStoreOfAFutureSchemaIsRefusedSayingSo() throws {
        let url = try SharedData.temporaryDirectory(for: self).appendingPathComponent("future.h5")
        let attributes = StoreAttributes(schemaVersion: 3, software: "LesionMap 9", createdUTC: "2030-01-01T00:00:00Z",
                                         settingsJSON: "{}", settingsHash: SHA256.hex(of: "{}"))
        try StoreContents(attributes: attributes).write(to: url)
        XCTAssertThrowsError(try StoreReader(url: url)) {
            XCTAssertTrue("\($0)".contains("schema_version is 3 but this LesionMap reads 1 to 2; it was written by a newer LesionMap"), "\($0)")
        }
    }

    func testTimepointsScansAndTheBaselineView() throws {
        let lesions = try Table(["lesion_id": .text(["L1", "L2", "L1", "N1"]), "timepoint": .number([0, 0, 60, 60]),
                                 "modality": .text(["CT", "CT", "CT", "CT"])])
        let scans = try Table(["timepoint": .number([0, 60]), "modality": .text(["CT", "CT"]), "image": .text(["a.nii", "b.nii"])])
        let tumour = try FeatureMatrix(names: ["intensity.mean"], rows: [[1], [2], [3], [4]])
        let result = try PatientExtraction(patientID: "P1", lesions: lesions, scans: scans, features: ["ct.tumour": tumour])
        XCTAssertEqual(result.scans.columnNames.first, "patient_id")
        let url = try SharedData.temporaryDirectory(for: self).appendingPathComponent("s.h5")
        let contents = try StoreContents.assembling(attributes: StoreAttributes(settingsJSON: "{}"), results: [result], failures: [])
        try contents.write(to: url)
        let back = try StoreContents.read(from: url)
        XCTAssertEqual(back, contents)
        XCTAssertTrue(back.hasFollowUp)
        XCTAssertEqual(try back.scans.texts("image"), ["a.nii", "b.nii"])
        let baseline = back.baseline()
        XCTAssertEqual(try baseline.lesions.texts("lesion_id"), ["L1", "L2"])
        XCTAssertEqual(baseline.features["ct.tumour"]?.values, [1, 2])
        XCTAssertEqual(try baseline.scans.texts("image"), ["a.nii"])

        // A lesion table without time points is all baseline: PatientExtraction adds them.
        let plain = try PatientExtraction(patientID: "P2", lesions: try Table(["lesion_id": .text(["L1"])]))
        XCTAssertEqual(plain.lesions.columnNames, ["patient_id", "lesion_id", "timepoint"])
        XCTAssertThrowsError(try PatientExtraction(patientID: "P3", lesions: try Table(["lesion_id": .text(["L1"]),
                                                                                      "timepoint": .text(["day 3"])])))
    }

    func testFeatureColumnNames() {
        XCTAssertEqual(FeatureColumnName.qualified("tumour.glcm.joint_max_3D_comb"), "ct.tumour.glcm.joint_max_3D_comb")
        XCTAssertEqual(FeatureColumnName.qualified("ring.intensity.mean", legacyModality: "PT"), "pt.ring.intensity.mean")
        XCTAssertEqual(FeatureColumnName.qualified("pt.ring.intensity.mean"), "pt.ring.intensity.mean")
        XCTAssertEqual(FeatureColumnName.matrixKey(modality: "", region: "core"), "ct.core")
        XCTAssertTrue(FeatureColumnName.split("ct.tumour.log_s1.5.intensity.mean")! == ("ct.tumour", "log_s1.5.intensity.mean"))
        XCTAssertNil(FeatureColumnName.split("tumour.mean"))
    }
}

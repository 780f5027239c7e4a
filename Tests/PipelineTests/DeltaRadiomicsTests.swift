import XCTest
import FeatureStore
import TestSupport
@testable import Pipeline

final class DeltaRadiomicsTests: XCTestCase {
    /// P1: lesion a at days 0, 60, 120; lesion b at 0 and 60; a new lesion N1 at 60. P2: baseline only.
    /// Rows deliberately out of time order: pairs are found by (patient, lesion id), not by position.
    private func store() throws -> StoreContents {
        var patients = Table()
        try patients.append("patient_id", .text(["P1", "P2"]))
        let lesions = try Table([
            "patient_id": .text(["P1", "P1", "P1", "P1", "P1", "P1", "P2"]),
            "lesion_id": .text(["a", "b", "a", "b", "N1", "a", "c"]),
            "timepoint": .number([0, 0, 60, 60, 60, 120, 0]),
        ])
        let tumour = try FeatureMatrix(names: ["shape.volume", "intensity.mean"], rows: [
            [10, 40], [4, 0], [8, 50], [6, 5], [1, 1], [2.5, .nan], [7, 7],
        ])
        var scores = Table()
        try scores.append("patient_id", .text(try lesions.texts("patient_id")))
        try scores.append("lesion_id", .text(try lesions.texts("lesion_id")))
        try scores.append("score", .number([0.5, -1, 0.25, -2, 3, 1, 0]))
        return StoreContents(attributes: StoreAttributes(settingsJSON: "{}"), patients: patients, lesions: lesions,
                             features: ["tumour": tumour],
                             tables: ["scores/cd8": StoreTable(table: scores, attributes: ["signature_name": "cd8"])])
    }

    func testChangesFromBaselinePerFeatureAndScore() throws {
        let (features, scores) = try DeltaRadiomics.tables(try store())
        XCTAssertEqual(features.columnNames, DeltaRadiomics.featureColumns)
        // Three follow-up rows with a baseline (a@60, b@60, a@120) x two features; N1 has no baseline.
        XCTAssertEqual(try features.texts("lesion_id"), ["a", "a", "b", "b", "a", "a"])
        XCTAssertEqual(try features.numbers("timepoint"), [60, 60, 60, 60, 120, 120])
        XCTAssertEqual(try features.texts("feature"), ["tumour.shape.volume", "tumour.intensity.mean",
                                                       "tumour.shape.volume", "tumour.intensity.mean",
                                                       "tumour.shape.volume", "tumour.intensity.mean"])
        let change = try features.numbers("change"), rel = try features.numbers("relative_change")
        XCTAssertEqual(Array(change[0..<5]), [-2, 10, 2, 5, -7.5])
        XCTAssertTrue(change[5].isNaN, "NaN value: no change")
        XCTAssertEqual(rel[0], -0.2, accuracy: 1e-15)
        XCTAssertEqual(rel[1], 0.25, accuracy: 1e-15)
        XCTAssertEqual(rel[2], 0.5, accuracy: 1e-15)
        XCTAssertTrue(rel[3].isNaN, "baseline 0: relative change undefined")
        XCTAssertEqual(rel[4], -0.75, accuracy: 1e-15)

        XCTAssertEqual(try scores.texts("signature"), ["cd8", "cd8", "cd8"])
        XCTAssertEqual(try scores.numbers("baseline_score"), [0.5, -1, 0.5])
        XCTAssertEqual(try scores.numbers("change"), [-0.25, -1, 0.5])
        XCTAssertEqual(try scores.numbers("relative_change"), [-0.5, -1, 1])
    }

    func testRunWritesStoreTablesAndCSV() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let url = dir.appendingPathComponent("s.h5"), csv = dir.appendingPathComponent("delta.csv")
        try store().write(to: url)
        let r = try DeltaRadiomics.run(store: url, csv: csv, scoresCSV: dir.appendingPathComponent("scores.csv"))
        XCTAssertEqual(r.pairs, 3)
        XCTAssertEqual(r.newLesionRows, 1)
        let back = try StoreContents.read(from: url)
        XCTAssertEqual(back.tables[DeltaRadiomics.featuresPath]?.table.rowCount, 6)
        XCTAssertEqual(back.tables[DeltaRadiomics.scoresPath]?.table.rowCount, 3)
        let lines = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines[0], "patient_id,lesion_id,timepoint,feature,baseline,value,change,relative_change")
        XCTAssertEqual(lines[1], "P1,a,60,tumour.shape.volume,10,8,-2,-0.2")
        XCTAssertEqual(lines[4], "P1,b,60,tumour.intensity.mean,0,5,5,")
    }

    func testStoreWithoutTimepointsIsRefusedClearly() throws {
        var contents = try store()
        contents.lesions = try Table(["patient_id": .text(["P1"]), "lesion_id": .text(["a"])])
        contents.features = [:]
        XCTAssertThrowsError(try DeltaRadiomics.tables(contents)) { error in
            XCTAssertTrue("\(error)".contains("no timepoint column"), "\(error)")
        }
    }
}

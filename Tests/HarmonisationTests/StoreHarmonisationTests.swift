import XCTest
import FeatureStore
import TestSupport
@testable import Harmonisation

/// `StoreHarmonisation`: batches and covariates from store columns, the model in the store, --apply-model.
final class StoreHarmonisationTests: XCTestCase {
    /// 30 patients with 2 lesions each, 3 kVp batches (by patient), tumour features with a kVp shift, a ring
    /// region with a constant feature, a patient covariate `cov_age` (numbers as text), and a scores table.
    static func store(kvps: [Double]? = nil) throws -> StoreContents {
        var rng = SplitMix(7)
        let patients = (1...30).map { String(format: "P%02d", $0) }
        var pid: [String] = [], lid: [String] = [], kvp: [Double] = [], location: [String] = []
        var tumour: [[Double]] = [], ring: [[Double]] = []
        for (p, id) in patients.enumerated() {
            let kv = [100.0, 120, 140][p % 3]
            for l in 1...2 {
                pid.append(id); lid.append("L\(l)"); kvp.append(kv); location.append(l == 1 ? "lung" : "liver")
                let shift = (120 - kv) / 10
                tumour.append((0..<5).map { 20 * Double($0) + shift * Double($0 + 1) + rng.normal() + (l == 1 ? 2 : 0) })
                ring.append([5 + shift + rng.normal(), -3 + rng.normal(), 1.5, 40 + 2 * shift + rng.normal()])
            }
        }
        var lesions = Table()
        try lesions.append("patient_id", .text(pid))
        try lesions.append("lesion_id", .text(lid))
        try lesions.append("location", .text(location))
        try lesions.append("kvp", .number(kvps ?? kvp))
        var patientTable = Table()
        try patientTable.append("patient_id", .text(patients))
        try patientTable.append("cov_age", .text(patients.indices.map { String(50 + ($0 * 7) % 30) }))
        var scores = Table()
        try scores.append("patient_id", .text(pid))
        try scores.append("score", .number(pid.map { _ in 0.5 }))
        var catalog = Table()
        try catalog.append("name", .text(["a"]))
        return StoreContents(
            attributes: StoreAttributes(settingsJSON: "{}"), patients: patientTable, lesions: lesions,
            features: ["tumour": try FeatureMatrix(names: (1...5).map { "fam.t\($0)" }, rows: tumour),
                       "ring": try FeatureMatrix(names: ["fam.r1", "fam.r2", "fam.constant", "fam.r4"], rows: ring)],
            tables: ["scores/x": StoreTable(table: scores), "feature_catalog": StoreTable(table: catalog)])
    }

    func testHarmonisedStoreRecordsItsModelAndTheModelReproducesIt() throws {
        let original = try Self.store()
        let (out, summary) = try StoreHarmonisation.harmonise(original, batchColumn: "kvp", covariates: ["location", "cov_age"],
                                                              method: .parametric)
        XCTAssertEqual(summary.batches.map(\.label), ["100", "120", "140"])
        XCTAssertEqual(summary.batches.map(\.lesions), [20, 20, 20])
        XCTAssertEqual(summary.unchanged.map { "\($0.region).\($0.feature)" }, ["ring.fam.constant"])
        XCTAssertEqual(summary.droppedTables, ["scores/x"])
        XCTAssertEqual(summary.harmonisedFeatures, 8)
        XCTAssertNotEqual(out.features["tumour"]!.values, original.features["tumour"]!.values)
        XCTAssertEqual(out.features["ring"]!.column(2), original.features["ring"]!.column(2))

        // Written and read back: a full store with checksums, the model intact.
        let dir = try SharedData.temporaryDirectory(for: self)
        let url = dir.appendingPathComponent("harmonised.h5")
        try out.write(to: url)
        let read = try StoreContents.read(from: url)
        XCTAssertEqual(read, out)
        let stamp = try XCTUnwrap(StoreHarmonisation.stamp(read))
        XCTAssertEqual(stamp.batchColumn, "kvp")
        XCTAssertEqual(stamp.covariates, ["location", "cov_age"])
        XCTAssertEqual(stamp.method, "parametric")
        XCTAssertEqual(stamp.modelID.count, 64)
        let models = try StoreHarmonisation.models(read)
        XCTAssertEqual(models["ring"]!.terms, ["location=lung", "cov_age"])
        XCTAssertEqual(StoreHarmonisation.modelID(models), stamp.modelID, "the model read back is the model fitted")

        // --apply-model on the original store gives the harmonised values again, with the same model id.
        let (again, againSummary) = try StoreHarmonisation.apply(modelFrom: read, to: original, modelSource: "harmonised.h5")
        XCTAssertEqual(againSummary.stamp.modelID, stamp.modelID)
        for region in ["tumour", "ring"] {
            let a = again.features[region]!.values, b = out.features[region]!.values
            for i in a.indices { XCTAssertEqual(a[i], b[i], accuracy: 1e-10 * max(1, abs(b[i])), region) }
        }
        // A new store of two lesions from known batches.
        let newPatient = try Self.store().subset(rows: [0, 1, 2])
        let (applied, _) = try StoreHarmonisation.apply(modelFrom: read, to: newPatient, modelSource: "harmonised.h5")
        for i in 0..<15 { XCTAssertEqual(applied.features["tumour"]!.values[i], out.features["tumour"]!.values[i], accuracy: 1e-10 * max(1, abs(out.features["tumour"]!.values[i]))) }

        // Extraction does not add unharmonised patients to a harmonised store.
        XCTAssertThrowsError(try ExtractionStoreWriter(storeURL: url, settingsJSON: "{}", patientOrder: ["P01", "P99"])) {
            XCTAssertTrue("\($0)".contains("it is a harmonised store (written by lesionmap harmonise), which cannot take newly extracted"), "\($0)")
        }
        // Harmonising a harmonised store is refused.
        XCTAssertThrowsError(try StoreHarmonisation.harmonise(read, batchColumn: "kvp", covariates: [], method: .parametric)) {
            XCTAssertTrue("\($0)".contains("already harmonised"), "\($0)")
        }
    }

    /// The report's picture: the feature with the largest batch effect, its values before recovered exactly.
    func testBeforeAndAfterRecoversTheOriginalValues() throws {
        let original = try Self.store()
        XCTAssertNil(try StoreHarmonisation.beforeAndAfter(original))
        let (out, _) = try StoreHarmonisation.harmonise(original, batchColumn: "kvp", covariates: ["location", "cov_age"],
                                                        method: .nonparametric)
        let picture = try XCTUnwrap(StoreHarmonisation.beforeAndAfter(out))
        // The planted kVp shift grows with the feature index: the last tumour feature has the largest batch effect.
        XCTAssertEqual(picture.feature, "tumour.fam.t5")
        XCTAssertEqual(picture.batches, ["100", "120", "140"])
        XCTAssertEqual(picture.harmonisedCount, 8)
        XCTAssertEqual(picture.unchangedCount, 1)
        XCTAssertGreaterThan(picture.batchShare, 0.5)
        let kvp = try original.lesions.numbers("kvp")
        for (i, label) in picture.batches.enumerated() {
            let rows = kvp.indices.filter { StoreHarmonisation.label(kvp[$0]) == label }
            let raw = rows.map { original.features["tumour"]!.values[$0 * 5 + 4] }
            let harmonised = rows.map { out.features["tumour"]!.values[$0 * 5 + 4] }
            for k in rows.indices {
                XCTAssertEqual(picture.before[i][k], raw[k], accuracy: 1e-10 * max(1, abs(raw[k])))
                XCTAssertEqual(picture.after[i][k], harmonised[k])
            }
        }
    }

    func testApplyModelRefusesAnUnknownBatch() throws {
        let (out, _) = try StoreHarmonisation.harmonise(try Self.store(), batchColumn: "kvp", covariates: [], method: .parametric)
        var kvps = [Double](repeating: 120, count: 60)
        kvps[5] = 80
        let other = try Self.store(kvps: kvps)
        XCTAssertThrowsError(try StoreHarmonisation.apply(modelFrom: out, to: other, modelSource: "h.h5")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("batch '80' (patient P03, lesion L2) is not one of the model's batches ('100', '120', '140')"), text)
        }
        XCTAssertThrowsError(try StoreHarmonisation.apply(modelFrom: other, to: other, modelSource: "raw.h5")) { error in
            XCTAssertTrue("\(error)".contains("raw.h5 holds no batch model"), "\(error)")
        }
    }

    func testMissingColumnIsRefusedListingTheColumns() throws {
        XCTAssertThrowsError(try StoreHarmonisation.harmonise(try Self.store(), batchColumn: "manufacturer", covariates: [],
                                                              method: .parametric)) { error in
            XCTAssertEqual("\(error)", "no column 'manufacturer' in the store's /lesions (location, kvp) or /patients (cov_age)")
        }
        XCTAssertThrowsError(try StoreHarmonisation.harmonise(try Self.store(), batchColumn: "kvp", covariates: ["cov_sex"],
                                                              method: .parametric)) { error in
            XCTAssertTrue("\(error)".hasPrefix("no column 'cov_sex'"), "\(error)")
        }
    }

    func testOneLesionBatchAndMissingBatchValuesAreRefusedByName() throws {
        var kvps = (0..<60).map { [100.0, 120, 140][($0 / 2) % 3] }
        kvps[7] = 80
        XCTAssertThrowsError(try StoreHarmonisation.harmonise(try Self.store(kvps: kvps), batchColumn: "kvp", covariates: [],
                                                              method: .parametric)) { error in
            XCTAssertTrue("\(error)".contains("batch '80' has only one lesion"), "\(error)")
        }
        kvps[7] = .nan
        XCTAssertThrowsError(try StoreHarmonisation.harmonise(try Self.store(kvps: kvps), batchColumn: "kvp", covariates: [],
                                                              method: .parametric)) { error in
            XCTAssertTrue("\(error)".contains("batch column 'kvp' has no value for 1 lesion (patient P04, lesion L2)"), "\(error)")
        }
    }
}

extension StoreContents {
    /// The store restricted to some lesion rows (features and lesions; patients kept whole).
    func subset(rows: [Int]) throws -> StoreContents {
        var s = self
        s.lesions = lesions.rows(rows)
        for (region, m) in features {
            s.features[region] = try FeatureMatrix(names: m.names, rows: rows.map { m.row($0) })
        }
        s.tables = [:]
        return s
    }
}

extension FeatureMatrix {
    func column(_ j: Int) -> [Double] { (0..<rowCount).map { values[$0 * names.count + j] } }
}

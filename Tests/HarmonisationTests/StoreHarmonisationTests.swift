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

    /// A store with a follow-up row per lesion (day 60, features grown by a lesion-specific amount) is fitted on
    /// its baseline rows: the model and the baseline rows' values are those of the baseline-only store, and the
    /// follow-up rows are adjusted by that model, as --apply-model adjusts them.
    func testFollowUpRowsDoNotEnterTheFitAndAreAdjustedByTheModel() throws {
        let base = try Self.store()
        var full = base
        let n = base.lesions.rowCount
        var lesions = Table()
        for name in base.lesions.columnNames {
            let c = base.lesions[name]!
            if let t = c.texts { try lesions.append(name, .text(t + t)) } else { try lesions.append(name, .number(c.numbers! + c.numbers!)) }
        }
        try lesions.append("timepoint", .number([Double](repeating: 0, count: n) + [Double](repeating: 60, count: n)))
        full.lesions = lesions
        for (region, m) in base.features {
            let grown = (0..<n).map { row in m.row(row).map { $0 + 3 * Double(row % 5) } }
            full.features[region] = try FeatureMatrix(names: m.names, rows: (0..<n).map { m.row($0) } + grown)
        }
        let (fromBase, _) = try StoreHarmonisation.harmonise(base, batchColumn: "kvp", covariates: ["location"], method: .parametric)
        let (fromFull, summary) = try StoreHarmonisation.harmonise(full, batchColumn: "kvp", covariates: ["location"], method: .parametric)
        XCTAssertEqual(summary.batches.map(\.lesions), [20, 20, 20], "baseline rows only in the fit")
        XCTAssertEqual(StoreHarmonisation.stamp(fromFull)?.modelID, StoreHarmonisation.stamp(fromBase)?.modelID)
        XCTAssertEqual(StoreHarmonisation.stamp(fromFull)?.fittedOn,
                       "this store's 60 baseline lesion rows (its 60 follow-up rows adjusted by the same model)")
        let (applied, _) = try StoreHarmonisation.apply(modelFrom: fromBase, to: full, modelSource: "base")
        for region in ["tumour", "ring"] {
            let a = fromFull.features[region]!.values, b = fromBase.features[region]!.values, c = applied.features[region]!.values
            for i in b.indices { XCTAssertEqual(a[i], b[i], accuracy: 1e-10 * max(1, abs(b[i])), "\(region) baseline") }
            for i in a.indices { XCTAssertEqual(a[i], c[i], accuracy: 1e-10 * max(1, abs(c[i])), "\(region) \(i)") }
            XCTAssertNotEqual(Array(a[b.count...]), Array(full.features[region]!.values[b.count...]), "follow-up rows adjusted")
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
            // Every region has the one-lesion batch: no region can be harmonised, so the run fails.
            XCTAssertTrue("\(error)".hasPrefix("no feature region can be harmonised (ComBat needs at least 2 batches with at least 2 lesions each): ring, tumour: its 60 lesions are in 100 (19), 120 (20), 140 (20), 80 (1) of 'kvp': batch '80' has only one lesion"), "\(error)")
        }
        kvps[7] = .nan
        XCTAssertThrowsError(try StoreHarmonisation.harmonise(try Self.store(kvps: kvps), batchColumn: "kvp", covariates: [],
                                                              method: .parametric)) { error in
            XCTAssertTrue("\(error)".contains("batch column 'kvp' has no value for 1 lesion (patient P04, lesion L2)"), "\(error)")
        }
    }

    /// A store mixing PET/CT and CT-only lesions: `pt.tumour` holds values for the first lesion of the patients of
    /// kVp `petKVPs` only (100 and 120: 20 of 60 lesions) and NaN for every other lesion, as extraction writes it.
    static func mixedStore(petKVPs: Set<Double> = [100, 120]) throws -> (store: StoreContents, petRows: [Int]) {
        var contents = try store()
        var rng = SplitMix(11)
        let kvp = try contents.lesions.numbers("kvp"), lesion = try contents.lesions.texts("lesion_id")
        let petRows = kvp.indices.filter { petKVPs.contains(kvp[$0]) && lesion[$0] == "L1" }
        var rows: [[Double]] = []
        for r in kvp.indices {
            let shift = (120 - kvp[r]) / 20
            var row: [Double] = [.nan, .nan, .nan]
            if petRows.contains(r) {
                for c in 0..<3 {
                    let base: Double = 4 + Double(c) + shift * Double(c + 1)
                    row[c] = base + 0.3 * rng.normal()
                }
            }
            rows.append(row)
        }
        contents.features["pt.tumour"] = try FeatureMatrix(names: ["intensity.mean", "intensity.max", "glcm.contrast"], rows: rows)
        return (contents, petRows)
    }

    /// Each matrix is fitted on the lesions that have it: the PET matrix on its 20 lesions (2 batches), the CT
    /// matrices on all 60 (3 batches), the CT-only lesions' PET values stay NaN, and the model (one design per
    /// region) reproduces the store when read back and applied again.
    func testAMixedStoreFitsEachRegionOnTheLesionsThatHaveIt() throws {
        let (mixed, petRows) = try Self.mixedStore()
        let (out, summary) = try StoreHarmonisation.harmonise(mixed, batchColumn: "kvp", covariates: ["location"], method: .parametric)
        XCTAssertEqual(summary.regionLesions.map(\.region), ["pt.tumour", "ring", "tumour"])
        XCTAssertEqual(summary.regionLesions.map(\.lesions), [20, 60, 60])
        XCTAssertEqual(summary.batches.map(\.lesions), [20, 20, 20], "the batches of the regions every lesion has")
        XCTAssertFalse(summary.unchanged.contains { $0.region == "pt.tumour" }, "no PET feature left unharmonised: \(summary.unchanged)")
        XCTAssertEqual(summary.harmonisedFeatures, 8 + 3)

        // The CT regions are what they are without the PET matrix; the PET rows are ComBat on those rows alone.
        let (ctOnly, _) = try StoreHarmonisation.harmonise(try Self.store(), batchColumn: "kvp", covariates: ["location"], method: .parametric)
        XCTAssertEqual(out.features["tumour"]!.values, ctOnly.features["tumour"]!.values)
        XCTAssertEqual(out.features["ring"]!.values, ctOnly.features["ring"]!.values)
        let pt = mixed.features["pt.tumour"]!
        let location = try mixed.lesions.texts("location"), kvp = try mixed.lesions.numbers("kvp")
        let direct = try ComBat.fit(values: pt.rows(petRows).values, features: pt.names,
                                    batches: petRows.map { String(Int(kvp[$0])) },
                                    covariates: [CovariateColumn(name: "location", values: .categorical(petRows.map { location[$0] }))],
                                    method: .parametric)
        XCTAssertEqual(direct.model.batches, ["100", "120"])
        let harmonised = out.features["pt.tumour"]!
        XCTAssertEqual(harmonised.rows(petRows).values, direct.harmonised)
        XCTAssertNotEqual(harmonised.rows(petRows).values, pt.rows(petRows).values)
        for r in 0..<harmonised.rowCount where !petRows.contains(r) {
            XCTAssertTrue(harmonised.row(r).allSatisfy(\.isNaN), "row \(r) has no PET: stays NaN")
        }

        // Written and read back: each region keeps its own batches; applying the model gives the same store.
        let dir = try SharedData.temporaryDirectory(for: self)
        let url = dir.appendingPathComponent("mixed.h5")
        try out.write(to: url)
        let read = try StoreContents.read(from: url)
        let models = try StoreHarmonisation.models(read)
        XCTAssertEqual(models["pt.tumour"], direct.model)
        XCTAssertEqual(models["tumour"]?.batches, ["100", "120", "140"])
        let (again, againSummary) = try StoreHarmonisation.apply(modelFrom: read, to: mixed, modelSource: "mixed.h5")
        XCTAssertEqual(againSummary.regionLesions.map(\.lesions), [20, 60, 60])
        for region in ["pt.tumour", "ring", "tumour"] {
            let a = again.features[region]!.values, b = out.features[region]!.values
            XCTAssertEqual(a.count, b.count)
            for k in a.indices {
                let same: Bool = a[k].isNaN ? b[k].isNaN : abs(a[k] - b[k]) <= 1e-9 * max(1.0, abs(b[k]))
                XCTAssertTrue(same, "\(region) value \(k): \(a[k]) vs \(b[k])")
            }
        }
        XCTAssertNotNil(try StoreHarmonisation.beforeAndAfter(read))

        // A PET lesion of a batch the PET matrix was not fitted on is refused, naming region and lesion.
        var other = mixed
        var values = other.features["pt.tumour"]!.values
        let r140 = kvp.firstIndex(of: 140)!
        for c in 0..<3 { values[r140 * 3 + c] = 5 }
        other.features["pt.tumour"] = try FeatureMatrix(names: pt.names, rowCount: pt.rowCount, values: values)
        XCTAssertThrowsError(try StoreHarmonisation.apply(modelFrom: read, to: other, modelSource: "mixed.h5")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("region 'pt.tumour'") && text.contains("batch '140'") && text.contains("patient P03, lesion L1"), text)
        }
    }

    /// Every PET of the mixed store in one batch (all from the kVp-100 patients): `pt.tumour` cannot be harmonised
    /// and is copied unchanged with the reason recorded and reported, while the CT regions are harmonised as
    /// without it; `--apply-model` leaves it unharmonised too, even for a PET lesion of another batch.
    func testARegionOfOneBatchIsLeftUnharmonisedAndTheOthersAreHarmonised() throws {
        let (mixed, petRows) = try Self.mixedStore(petKVPs: [100])
        XCTAssertEqual(petRows.count, 10)
        let (out, summary) = try StoreHarmonisation.harmonise(mixed, batchColumn: "kvp", covariates: ["location"], method: .parametric)
        let reason = "its 10 lesions are in 100 (10) of 'kvp': all 10 lesions are in one batch ('100'): there is nothing to harmonise"
        XCTAssertEqual(summary.unharmonisedRegions.map(\.region), ["pt.tumour"])
        XCTAssertEqual(summary.unharmonisedRegions.map(\.reason), [reason])
        XCTAssertFalse(summary.unchanged.contains { $0.region == "pt.tumour" }, "\(summary.unchanged)")
        XCTAssertEqual(summary.harmonisedFeatures, 8)
        XCTAssertEqual(summary.batches.map(\.lesions), [20, 20, 20], "the batches of a harmonised region")

        func same(_ a: FeatureMatrix, _ b: FeatureMatrix) -> Bool {
            a.names == b.names && a.values.map(\.bitPattern) == b.values.map(\.bitPattern)
        }
        let (ctOnly, _) = try StoreHarmonisation.harmonise(try Self.store(), batchColumn: "kvp", covariates: ["location"], method: .parametric)
        XCTAssertTrue(same(out.features["tumour"]!, ctOnly.features["tumour"]!))
        XCTAssertTrue(same(out.features["ring"]!, ctOnly.features["ring"]!))
        XCTAssertTrue(same(out.features["pt.tumour"]!, mixed.features["pt.tumour"]!), "PET values copied unchanged")

        // Recorded in the model: the region's batch and count, every feature's status, the reason.
        let dir = try SharedData.temporaryDirectory(for: self)
        let url = dir.appendingPathComponent("one-pet-batch.h5")
        try out.write(to: url)
        let read = try StoreContents.read(from: url)
        let models = try StoreHarmonisation.models(read)
        let pt = try XCTUnwrap(models["pt.tumour"])
        XCTAssertTrue(pt.isUnharmonisedRegion)
        XCTAssertEqual(pt.batches, ["100"])
        XCTAssertEqual(pt.batchCounts, [10])
        XCTAssertEqual(pt.status, [.regionUnharmonised, .regionUnharmonised, .regionUnharmonised])
        XCTAssertEqual(models["tumour"]?.batches, ["100", "120", "140"])
        let attributes = read.tables[StoreHarmonisation.featuresPath]!.attributes
        XCTAssertEqual(try StoreHarmonisation.unharmonisedReasons(attributes), ["pt.tumour": reason])
        XCTAssertEqual(StoreHarmonisation.stamp(read)?.modelID, summary.stamp.modelID)
        // The before/after picture is of a harmonised region.
        XCTAssertEqual(try StoreHarmonisation.beforeAndAfter(read)?.feature.hasPrefix("tumour."), true)

        // --apply-model: CT as fitted, PET copied unchanged and reported with the recorded reason ...
        let (again, againSummary) = try StoreHarmonisation.apply(modelFrom: read, to: mixed, modelSource: "one-pet-batch.h5")
        XCTAssertEqual(againSummary.unharmonisedRegions.map(\.reason), [reason])
        XCTAssertTrue(same(again.features["pt.tumour"]!, mixed.features["pt.tumour"]!))
        let a = again.features["tumour"]!.values, b = out.features["tumour"]!.values
        XCTAssertTrue(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-9 * max(1.0, abs($1)) })
        // ... even for a PET lesion of a batch the PET region never had.
        var other = mixed
        var values = other.features["pt.tumour"]!.values
        let r140 = try mixed.lesions.numbers("kvp").firstIndex(of: 140)!
        for c in 0..<3 { values[r140 * 3 + c] = 5 }
        other.features["pt.tumour"] = try FeatureMatrix(names: pt.features, rowCount: mixed.lesions.rowCount, values: values)
        let (third, _) = try StoreHarmonisation.apply(modelFrom: read, to: other, modelSource: "one-pet-batch.h5")
        XCTAssertTrue(same(third.features["pt.tumour"]!, other.features["pt.tumour"]!))

        // A batch of one PET lesion is left unharmonised the same way, naming it.
        var oneLesion = try Self.mixedStore(petKVPs: [100]).store
        let kvp = try oneLesion.lesions.numbers("kvp")
        var ptValues = oneLesion.features["pt.tumour"]!.values
        for c in 0..<3 { ptValues[kvp.firstIndex(of: 120)! * 3 + c] = 4 }
        oneLesion.features["pt.tumour"] = try FeatureMatrix(names: pt.features, rowCount: kvp.count, values: ptValues)
        let (_, oneSummary) = try StoreHarmonisation.harmonise(oneLesion, batchColumn: "kvp", covariates: [], method: .parametric)
        XCTAssertEqual(oneSummary.unharmonisedRegions.map(\.reason),
                       ["its 11 lesions are in 100 (10), 120 (1) of 'kvp': batch '120' has only one lesion: its scale (variance) cannot be estimated; merge it with a similar batch or leave its patients out"])
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

import XCTest
import Foundation
import FeatureStore
import Signatures
import Harmonisation
import Synthesis
import TestSupport
@testable import Pipeline

/// `train-signature` on a store mixing PET/CT and CT-only lesions: the PET features cannot be candidates over every
/// lesion (they are NaN for the CT-only ones), which the training says with counts and the way out; with
/// `--all-modalities` it trains on the PET/CT lesions, where the PET features are candidates.
final class MixedModalityTrainingTests: XCTestCase {
    /// 14 patients of 2 lesions; patients 1-9 have PET/CT (18 lesions), 10-14 CT only. The target follows
    /// `pt.tumour.intensity.mean` strongly and `ct.tumour.intensity.mean` weakly.
    static func write(_ dir: URL) throws -> (store: URL, targets: URL) {
        var rng = SynthesisRandom(seed: 3)
        var pid: [String] = [], lid: [String] = [], loc: [String] = [], modalities: [String] = []
        var ct: [[Double]] = [], pt: [[Double]] = []
        var targets = "patient_id,lesion_id,infiltration\n"
        for p in 1...14 {
            for l in 1...2 {
                let id = String(format: "P%02d", p)
                pid.append(id); lid.append("L\(l)"); loc.append(l == 1 ? "lung" : "liver")
                let hasPET = p <= 9
                modalities.append(hasPET ? "CT,PT" : "CT")
                let c = [40 + 10 * rng.normal(), 5 + rng.normal(), 0.7 + 0.05 * rng.normal()]
                let u = [6 + 2 * rng.normal(), 12 + 3 * rng.normal()]
                ct.append(c)
                pt.append(hasPET ? u : [.nan, .nan])
                targets += "\(id),L\(l),\(0.8 * (u[0] - 6) + 0.05 * (c[0] - 40) + 0.1 * rng.normal())\n"
            }
        }
        var lesions = Table()
        try lesions.append("patient_id", .text(pid))
        try lesions.append("lesion_id", .text(lid))
        try lesions.append("location", .text(loc))
        try lesions.append("volume_ml", .number(pid.map { _ in 2.5 }))
        try lesions.append("irradiated", .number(pid.map { _ in 0 }))
        try lesions.append("kvp", .number(pid.indices.map { $0 % 3 == 0 ? 100 : 120 }))
        try lesions.append("modality", .text(pid.map { _ in "CT" }))
        try lesions.append("modalities", .text(modalities))
        var patients = Table()
        try patients.append("patient_id", .text((1...14).map { String(format: "P%02d", $0) }))
        let contents = StoreContents(
            attributes: StoreAttributes(settingsJSON: "{}"), patients: patients, lesions: lesions,
            features: ["ct.tumour": try FeatureMatrix(names: ["intensity.mean", "intensity.var", "morphology.sphericity"], rows: ct),
                       "pt.tumour": try FeatureMatrix(names: ["intensity.mean", "intensity.max"], rows: pt)],
            tables: [:])
        let store = dir.appendingPathComponent("mixed.h5"), targetURL = dir.appendingPathComponent("targets.csv")
        try contents.write(to: store)
        try targets.write(to: targetURL, atomically: true, encoding: .utf8)
        return (store, targetURL)
    }

    func testPETCandidatesDroppedWithAMessageOrTrainedOnThePETCTLesions() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let (store, targets) = try Self.write(dir)
        let options = SignatureTrainingOptions(name: "mixed", version: "1", estimates: "infiltration", folds: 3, maxFeatures: 2,
                                               useKVP: false, validationStatus: "test", provenance: "test.")
        // Every lesion: CT candidates only, and the message says how many PET candidates were left out and why.
        let all = try SignatureTraining.run(store: store, targets: targets, targetColumn: "infiltration", options: options)
        XCTAssertEqual(all.lesionCount, 28)
        XCTAssertFalse(all.signature.terms.isEmpty)
        XCTAssertTrue(all.signature.terms.allSatisfy { $0.feature.hasPrefix("ct.") }, "\(all.signature.terms.map(\.feature))")
        XCTAssertEqual(all.warnings.count, 1, "\(all.warnings)")
        let warning = all.warnings.first ?? ""
        XCTAssertTrue(warning.hasPrefix("2 candidate features of modality PT (pt.*) are left out: only 18 of 28 lesions have a PT image"), warning)
        XCTAssertTrue(warning.contains("give --all-modalities to train on the 18 lesions with every modality (CT, PT)"), warning)

        // --all-modalities: the 18 PET/CT lesions, PET features among the candidates; the provenance says so.
        let petct = try SignatureTraining.run(store: store, targets: targets, targetColumn: "infiltration", options: options,
                                              allModalities: true)
        XCTAssertEqual(petct.lesionCount, 18)
        XCTAssertEqual(petct.warnings, [])
        XCTAssertTrue(petct.signature.terms.contains { $0.feature == "pt.tumour.intensity.mean" }, "\(petct.signature.terms.map(\.feature))")
        XCTAssertTrue(petct.signature.provenance.contains("Trained on the 18 of 28 lesions with an image of every modality (CT, PT)."),
                      petct.signature.provenance)
        // It scores the PET/CT lesions of the store and leaves the CT-only ones without a score.
        let scores = try CohortScoring.run(store: store, signature: petct.signature, fileHash: "x", source: "mixed.json")
        XCTAssertEqual(scores.prefix(18).filter(\.isFinite).count, 18)
        XCTAssertTrue(scores.suffix(10).allSatisfy(\.isNaN))
    }

    /// `lesionmap harmonise` on the same mixed store: the PET matrix is fitted on its 18 lesions, and the summary
    /// says how many lesions each region used.
    func testHarmoniseSaysHowManyLesionsEachRegionUsed() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let (store, _) = try Self.write(dir)
        let out = dir.appendingPathComponent("harmonised.h5")
        let summary = try CohortHarmonisation.run(store: store, out: out, batchColumn: "kvp", covariates: [], method: .parametric)
        let text = CohortHarmonisation.text(summary, out: out.lastPathComponent)
        XCTAssertTrue(text.contains("lesions per region: ct.tumour 28, pt.tumour 18 of 28; the others have no such values"), text)
        XCTAssertFalse(summary.unchanged.contains { $0.region == "pt.tumour" }, text)
        let pt = try XCTUnwrap(StoreContents.read(from: out).features["pt.tumour"])
        XCTAssertTrue(pt.row(27).allSatisfy(\.isNaN), "a CT-only lesion keeps NaN")
        XCTAssertTrue(pt.row(0).allSatisfy(\.isFinite))
    }
    /// Batches by `modalities` (CT,PT or CT): the CT matrix has two batches, every PET is in one, so `pt.tumour` is
    /// left unharmonised with a warning, through the written store and `--apply-model` alike.
    func testARegionOfOneBatchIsLeftUnharmonisedWithAWarning() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let (store, _) = try Self.write(dir)
        let out = dir.appendingPathComponent("harmonised.h5"), again = dir.appendingPathComponent("again.h5")
        let summary = try CohortHarmonisation.run(store: store, out: out, batchColumn: "modalities", covariates: [], method: .parametric)
        let text = CohortHarmonisation.text(summary, out: out.lastPathComponent)
        XCTAssertTrue(text.contains("(regions ct.tumour) across 2 batches of 'modalities': CT (10 lesions), CT,PT (18 lesions)"), text)
        XCTAssertTrue(text.contains("warning: region pt.tumour left unharmonised, its values copied unchanged (ComBat needs at least 2 batches with at least 2 lesions each): its 18 lesions are in CT,PT (18) of 'modalities': all 18 lesions are in one batch ('CT,PT')"), text)
        let raw = try StoreContents.read(from: store), harmonised = try StoreContents.read(from: out)
        XCTAssertEqual(harmonised.features["pt.tumour"]!.values.map(\.bitPattern), raw.features["pt.tumour"]!.values.map(\.bitPattern))
        XCTAssertNotEqual(harmonised.features["ct.tumour"]!.values, raw.features["ct.tumour"]!.values)
        let applied = try CohortHarmonisation.apply(store: store, model: out, out: again)
        XCTAssertEqual(applied.unharmonisedRegions.map(\.region), ["pt.tumour"])
        XCTAssertEqual(try StoreContents.read(from: again).features["pt.tumour"]!.values.map(\.bitPattern),
                       raw.features["pt.tumour"]!.values.map(\.bitPattern))
    }
}

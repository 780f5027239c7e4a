import XCTest
import Foundation
import FeatureStore
import Harmonisation
import Signatures
import TestSupport
@testable import Pipeline

/// `lesionmap harmonise` as a user runs it, and the rule that harmonised and unharmonised features never mix
/// through a signature.
final class HarmoniseCommandTests: XCTestCase {
    /// 36 patients with 2 lesions each in 3 kVp batches; 6 tumour features, the first carrying a target.
    static func rawStore() throws -> (store: StoreContents, target: [Double]) {
        var state: UInt64 = 11
        func normal() -> Double {
            func u() -> Double {
                state &+= 0x9E3779B97F4A7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
                z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
                return max(Double((z ^ (z >> 31)) >> 11) / Double(1 << 53), 1e-300)
            }
            return (-2 * Foundation.log(u())).squareRoot() * Foundation.cos(2 * Double.pi * u())
        }
        let patients = (1...36).map { String(format: "P%02d", $0) }
        var pid: [String] = [], lid: [String] = [], kvp: [Double] = [], location: [String] = [], rows: [[Double]] = []
        var target: [Double] = []
        for (p, id) in patients.enumerated() {
            let kv = [100.0, 120, 140][p % 3]
            for l in 1...2 {
                let t = normal()
                pid.append(id); lid.append("L\(l)"); kvp.append(kv); location.append(l == 1 ? "lung" : "liver")
                target.append(t)
                rows.append((0..<6).map { j in 10 * Double(j) + (120 - kv) / 8 + (j == 0 ? 2 * t : 0) + normal() })
            }
        }
        var lesions = Table()
        try lesions.append("patient_id", .text(pid))
        try lesions.append("lesion_id", .text(lid))
        try lesions.append("location", .text(location))
        try lesions.append("volume_ml", .number(pid.map { _ in 2 }))
        try lesions.append("irradiated", .number(pid.map { _ in 0 }))
        try lesions.append("kvp", .number(kvp))
        var patientTable = Table()
        try patientTable.append("patient_id", .text(patients))
        let store = StoreContents(attributes: StoreAttributes(settingsJSON: "{\"mode\":\"3D\"}"), patients: patientTable,
                                  lesions: lesions,
                                  features: ["tumour": try FeatureMatrix(names: (1...6).map { "fam.f\($0)" }, rows: rows)])
        return (store, target)
    }

    func run(_ arguments: [String]) throws -> (status: Int32, text: String) {
        let p = Process()
        p.executableURL = try lesionmapExecutable()
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func testHarmoniseApplyModelAndTheSignatureRule() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let (raw, target) = try Self.rawStore()
        let rawURL = dir.appendingPathComponent("raw.h5"), harmonised = dir.appendingPathComponent("harmonised.h5")
        try raw.write(to: rawURL)

        let fit = try run(["harmonise", rawURL.path, "--batch", "kvp", "--covariates", "location", "--out", harmonised.path])
        XCTAssertEqual(fit.status, 0, fit.text)
        XCTAssertTrue(fit.text.contains("harmonised 6 features of 72 lesions (regions tumour) across 3 batches of 'kvp': 100 (24 lesions), 120 (24 lesions), 140 (24 lesions); parametric ComBat, keeping location; model "), fit.text)

        // Features left unchanged are listed, at most 12 by name.
        var summary = StoreHarmonisation.Summary(
            lesions: 3, regions: ["ring"], batches: [("a", 2)],
            unchanged: (1...14).map { ("ring", "f\($0)", FeatureStatus.nonFinite) } + [("ring", "c", .constant)],
            harmonisedFeatures: 1, droppedTables: [],
            stamp: HarmonisationStamp(method: "parametric", batchColumn: "kvp", covariates: [], modelID: "0", fittedOn: ""))
        var text = CohortHarmonisation.text(summary, out: "o.h5")
        XCTAssertTrue(text.contains("warning: 15 features left unchanged:\n  constant (1): ring.c\n  missing or non-finite values (14): ring.f1, ring.f2"), text)
        XCTAssertTrue(text.contains("ring.f12, ... (all 14 have status non_finite in /harmonisation/features)"), text)
        summary.unchanged = []
        text = CohortHarmonisation.text(summary, out: "o.h5")
        XCTAssertFalse(text.contains("warning"))
        // A region left unharmonised is warned about with its reason and left out of the harmonised regions.
        summary.regions = ["pt.tumour", "ring"]
        summary.unharmonisedRegions = [("pt.tumour", "its 10 lesions are in 100 (10) of 'kvp': all 10 lesions are in one batch ('100'): there is nothing to harmonise")]
        text = CohortHarmonisation.text(summary, out: "o.h5")
        XCTAssertTrue(text.contains("(regions ring) across 1 batches"), text)
        XCTAssertTrue(text.contains("warning: region pt.tumour left unharmonised, its values copied unchanged (ComBat needs at least 2 batches with at least 2 lesions each): its 10 lesions are in 100 (10) of 'kvp': all 10 lesions"), text)

        let missing = try run(["harmonise", rawURL.path, "--batch", "manufacturer", "--out", dir.appendingPathComponent("x.h5").path])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.text.contains("no column 'manufacturer' in the store's /lesions"), missing.text)
        let same = try run(["harmonise", rawURL.path, "--batch", "kvp", "--out", rawURL.path])
        XCTAssertEqual(same.status, 1)
        XCTAssertTrue(same.text.contains("--out must name a new file"), same.text)

        // The shipped reference signature (unharmonised) refuses the harmonised store.
        let reference = try run(["score", harmonised.path])
        XCTAssertEqual(reference.status, 1)
        XCTAssertTrue(reference.text.contains("the store's features are harmonised (ComBat (parametric) over batch column 'kvp' keeping location"), reference.text)

        // A signature trained on the harmonised store says so ...
        let targets = dir.appendingPathComponent("targets.csv")
        let lesions = raw.lesions
        let csv = "patient_id,lesion_id,t\n" + target.indices.map {
            "\(try! lesions.texts("patient_id")[$0]),\(try! lesions.texts("lesion_id")[$0]),\(target[$0])"
        }.joined(separator: "\n") + "\n"
        try csv.write(to: targets, atomically: true, encoding: .utf8)
        let trained = try SignatureTraining.run(
            store: harmonised, targets: targets, targetColumn: "t",
            options: SignatureTrainingOptions(name: "h-sig", version: "1", estimates: "t", validationStatus: "test", provenance: "test"))
        let stamp = try XCTUnwrap(StoreHarmonisation.stamp(try StoreContents.read(from: harmonised)))
        XCTAssertEqual(trained.signature.harmonisation,
                       Signature.Harmonisation(method: "parametric", batchColumn: "kvp", covariates: ["location"], modelID: stamp.modelID))
        let signatureURL = dir.appendingPathComponent("h-sig.json")
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try enc.encode(trained.signature).write(to: signatureURL)
        XCTAssertTrue(try String(contentsOf: signatureURL, encoding: .utf8).contains("\"batch_column\" : \"kvp\""))

        // ... scores the harmonised store, refuses the raw one, and scores the raw one once the model is applied.
        let ok = try run(["score", harmonised.path, "--signature", signatureURL.path])
        XCTAssertEqual(ok.status, 0, ok.text)
        let refused = try run(["score", rawURL.path, "--signature", signatureURL.path])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.text.contains("the signature was trained on harmonised features (ComBat (parametric) over batch column 'kvp' keeping location, model \(stamp.modelID.prefix(12))) but the store's features are not harmonised"), refused.text)
        let applied = dir.appendingPathComponent("applied.h5")
        let apply = try run(["harmonise", rawURL.path, "--apply-model", harmonised.path, "--out", applied.path])
        XCTAssertEqual(apply.status, 0, apply.text)
        let scored = try run(["score", applied.path, "--signature", signatureURL.path])
        XCTAssertEqual(scored.status, 0, scored.text)

        // The cohort report of a harmonised store shows one feature by batch before and after.
        try CohortPlanning.run(store: harmonised, signatureName: trained.signature.name, policy: .standard)
        let report = try CohortReporting.model(store: harmonised, signature: trained.signature, title: "t")
        let picture = try XCTUnwrap(report.harmonisation)
        XCTAssertEqual(picture.batchColumn, "kvp")
        XCTAssertEqual(picture.batches.map(\.label), ["100", "120", "140"])
        XCTAssertEqual(picture.batches.map(\.before.count), [24, 24, 24])

        // A store harmonised with another model (here: non-parametric) is refused by the signature.
        let other = dir.appendingPathComponent("other.h5")
        XCTAssertEqual(try run(["harmonise", rawURL.path, "--batch", "kvp", "--covariates", "location", "--nonparametric", "--out", other.path]).status, 0)
        let mismatch = try run(["score", other.path, "--signature", signatureURL.path])
        XCTAssertEqual(mismatch.status, 1)
        XCTAssertTrue(mismatch.text.contains("the store was harmonised with another batch model"), mismatch.text)
    }
}

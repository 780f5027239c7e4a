import XCTest
import TestSupport
@testable import Signatures

final class SignatureTests: XCTestCase {
    let settings = try! JSONValue.parse(#"{"discretisation":{"kind":"fixed_bin_size","bin_width":25},"mode":"3d","ring":{"width_mm":10}}"#)

    func makeSignature() -> Signature {
        Signature(name: "test", version: "1", estimates: "x", direction: "higher = more", validationStatus: "test only",
                  intercept: 0.5,
                  terms: [.init(feature: "tumour.intensity.mean", coefficient: 2, mean: 10, sd: 5),
                          .init(feature: "ring.glcm.joint_max", coefficient: -1, mean: 0.2, sd: 0.1)],
                  covariates: [.init(name: "location", levels: ["liver": -0.3, "lymph_node": 0.4]),
                               .init(name: "kvp", levels: ["100": 0.1, "120": 0, "140": -0.1])],
                  cutoffs: [.init(name: "q25", value: -1, source: "training 25th percentile")],
                  preprocessing: try! JSONValue.parse(#"{"discretisation":{"bin_width":25},"mode":"3d"}"#),
                  provenance: "unit test")
    }

    /// Issue 12, item 7 (the same audit in Signatures): a kVp halfway between two listed levels takes the lower
    /// level every time, whatever order the levels Dictionary iterates in (it changes per instance and process).
    func testKVPHalfwayBetweenLevelsIsResolvedTheSameWayEveryTime() throws {
        var seen = Set<Double>()
        for trial in 0..<64 {
            var levels: [String: Double] = [:]
            // Different insertion orders and capacities give different iteration orders.
            let keys = trial % 2 == 0 ? ["100", "110", "140"] : ["140", "110", "100"]
            for k in keys { levels[k] = ["100": 0.1, "110": 0.2, "140": 0.3][k]! }
            if trial % 3 == 0 { levels.reserveCapacity(8 + trial) }
            var sig = makeSignature()
            sig.covariates = [.init(name: "kvp", levels: levels)]
            let scorer = try SignatureScorer(signature: sig, featureNames: ["ring.glcm.joint_max", "tumour.intensity.mean"],
                                             settings: settings, source: "t")
            seen.insert(scorer.score(row: [0.2, 10], location: "lung", kvp: 105))
        }
        XCTAssertEqual(seen, [0.5 + 0.1], "105 kV lies halfway between 100 and 110: the lower level, always")
    }

    func testScoreWorkedByHand() throws {
        let sig = makeSignature()
        let scorer = try SignatureScorer(signature: sig, featureNames: ["ring.glcm.joint_max", "tumour.intensity.mean"],
                                         settings: settings, source: "t")
        // 0.5 + 2*(20-10)/5 - 1*(0.3-0.2)/0.1 + (-0.3) + (-0.1)
        XCTAssertEqual(scorer.score(row: [0.3, 20], location: "liver", kvp: 139.8), 0.5 + 4 - 1 - 0.3 - 0.1, accuracy: 1e-12)
        XCTAssertEqual(scorer.score(row: [0.2, 10], location: "lung", kvp: 120), 0.5, accuracy: 1e-12)
        XCTAssertTrue(scorer.score(row: [0.2, 10], location: "lung", kvp: nil).isNaN, "kVp is needed")
        XCTAssertTrue(scorer.score(row: [0.2, 10], location: "lung", kvp: 80).isNaN, "80 kV is no listed level")
    }

    func testRefusalListsEveryMissingFeatureAndPreprocessingDifference() {
        var sig = makeSignature()
        sig.terms.append(.init(feature: "ring.ngtdm.coarseness", coefficient: 1, mean: 0, sd: 1))
        let other = try! JSONValue.parse(#"{"discretisation":{"kind":"fixed_bin_number","bin_count":32},"mode":"2d"}"#)
        XCTAssertThrowsError(try SignatureScorer(signature: sig, featureNames: ["tumour.intensity.mean"],
                                                 settings: other, source: "sig.json")) { error in
            let e = error as! SignatureError
            XCTAssertEqual(e.problems.count, 4, e.description)
            let text = e.description
            for needle in ["ring.glcm.joint_max", "ring.ngtdm.coarseness", "discretisation.bin_width", "mode"] {
                XCTAssertTrue(text.contains(needle), "\(needle) not in\n\(text)")
            }
        }
    }

    func testFileRoundTripHashAndValidation() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let url = dir.appendingPathComponent("s.json")
        try JSONEncoder().encode(makeSignature()).write(to: url)
        let (loaded, hash) = try Signature.load(url)
        XCTAssertEqual(loaded, makeSignature())
        XCTAssertEqual(hash.count, 16)
        XCTAssertEqual(loaded.id, "test@1")

        var bad = makeSignature()
        bad.terms[0].sd = 0
        bad.covariates.append(.init(name: "location", levels: ["pancreas": 1]))
        bad.covariates.append(.init(name: "age"))
        try JSONEncoder().encode(bad).write(to: url)
        XCTAssertThrowsError(try Signature.load(url)) { error in
            let e = error as! SignatureError
            XCTAssertEqual(e.problems.count, 3, e.description)
        }
        try Data("{\"schema\": 1}".utf8).write(to: url)
        XCTAssertThrowsError(try Signature.load(url)) { XCTAssertTrue("\($0)".contains("not a valid signature JSON")) }
    }

    /// Features of filtered images (`<region>.<filter>.<family>.<feature>`, the token possibly holding a dot)
    /// are terms like any other; names with an empty part are refused.
    func testFilteredImageFeatureNamesAreAccepted() throws {
        var sig = makeSignature()
        sig.terms = [.init(feature: "tumour.log_s1.5.intensity.mean", coefficient: 1, mean: 0, sd: 1),
                     .init(feature: "ring.wavelet_coif1_llh_l1.glcm.joint_max_3D_avg", coefficient: 2, mean: 0, sd: 1)]
        XCTAssertEqual(sig.validate(), [])
        let scorer = try SignatureScorer(signature: sig, featureNames: ["ring.wavelet_coif1_llh_l1.glcm.joint_max_3D_avg",
                                                                        "tumour.log_s1.5.intensity.mean"],
                                         settings: settings, source: "t")
        XCTAssertEqual(scorer.score(row: [1, 3], location: "lung", kvp: 120), 0.5 + 3 + 2, accuracy: 1e-12)
        sig.terms[0].feature = "tumour..intensity.mean"
        XCTAssertEqual(sig.validate().count, 1)
    }

    func testFNVKnownValue() {
        XCTAssertEqual(fnv1a64Hex(Data("a".utf8)), "af63dc4c8601ec8c")
    }
}

/// Issue 13 item 3: signatures over the features of several modalities (`ct.…` and `pt.…` names).
final class MultiModalitySignatureTests: XCTestCase {
    func testTrainingAndScoringUseFeaturesOfSeveralModalities() throws {
        // 60 lesions of 12 patients; the target follows a PET and a CT feature, a third (PET ring) is noise.
        var state: UInt64 = 7
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        let n = 60
        let ct = (0..<n).map { _ in 40 + 20 * uniform() }, pt = (0..<n).map { _ in 2 + 10 * uniform() }
        let ring = (0..<n).map { _ in 1 + uniform() }
        let target = (0..<n).map { 0.8 * pt[$0] - 0.05 * ct[$0] + 0.05 * (uniform() - 0.5) }
        let names = ["ct.tumour.intensity.mean", "pt.tumour.intensity.mean", "pt.ring.intensity.mean"]
        let data = SignatureTrainingData(featureNames: names, featureColumns: [ct, pt, ring],
                                         locations: [String](repeating: "lung", count: n), kvps: [Double](repeating: 120, count: n),
                                         target: target, groups: (0..<n).map { "P\($0 / 5)" })
        let options = SignatureTrainingOptions(name: "petct", version: "1", estimates: "test", folds: 3, maxFeatures: 2,
                                               locationIndicators: [], useKVP: false, validationStatus: "test only",
                                               provenance: "MultiModalitySignatureTests")
        let trained = try SignatureTrainer.train(data, options: options, preprocessing: .object([:]))
        let terms = Dictionary(uniqueKeysWithValues: trained.signature.terms.map { ($0.feature, $0) })
        XCTAssertEqual(Set(terms.keys), ["ct.tumour.intensity.mean", "pt.tumour.intensity.mean"])
        XCTAssertGreaterThan(terms["pt.tumour.intensity.mean"]!.coefficient, 0)
        XCTAssertLessThan(terms["ct.tumour.intensity.mean"]!.coefficient, 0)
        XCTAssertEqual(trained.signature.validate(), [])
        // Scored over the store's columns by name, whatever their order.
        let scorer = try SignatureScorer(signature: trained.signature, featureNames: names.reversed(),
                                         settings: .object([:]), source: "petct.json")
        let score = scorer.score(row: [ring[0], pt[0], ct[0]], location: "lung", kvp: nil)
        var expected = trained.signature.intercept
        for t in trained.signature.terms {
            expected += t.coefficient * ((t.feature.hasPrefix("pt.") ? pt[0] : ct[0]) - t.mean) / t.sd
        }
        XCTAssertEqual(score, expected, accuracy: 1e-9)
    }
}

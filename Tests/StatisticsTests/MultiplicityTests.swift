import XCTest
@testable import Statistics

final class MultiplicityTests: XCTestCase {
    /// Issue 12, item 12: Holm's adjusted p-values against statsmodels 0.15.0
    /// (`multipletests(p, method="holm")[1]`), written in here.
    func testHolmMatchesStatsmodels() {
        let cases: [([Double], [Double])] = [
            ([0.01, 0.04, 0.03, 0.005, 0.5, 0.04], [0.05, 0.12, 0.12, 0.03, 0.5, 0.12]),
            ([0.2, 0.001, 0.0125, 0.9, 0.03, 0.03, 0.049, 0.6, 0.011, 0.3],
             [0.8, 0.01, 0.1, 1.0, 0.21, 0.21, 0.245, 1.0, 0.09899999999999999, 0.8999999999999999]),
        ]
        for (p, expected) in cases {
            let adjusted = MultipleTesting.holm(p)
            for (a, e) in zip(adjusted, expected) { XCTAssertEqual(a, e, accuracy: 1e-15, "\(p)") }
        }
    }

    /// NaN p-values are not tests: they stay NaN and do not count in m.
    func testHolmLeavesNaNOutOfTheFamily() {
        let adjusted = MultipleTesting.holm([0.01, .nan, 0.04, 0.03])
        XCTAssertTrue(adjusted[1].isNaN)
        // m = 3: 0.01*3 = 0.03; 0.03*2 = 0.06; 0.04*1 -> max(0.06, 0.04) = 0.06
        XCTAssertEqual(adjusted[0], 0.03, accuracy: 1e-15)
        XCTAssertEqual(adjusted[3], 0.06, accuracy: 1e-15)
        XCTAssertEqual(adjusted[2], 0.06, accuracy: 1e-15)
        XCTAssertEqual(MultipleTesting.holm([]), [])
    }

    /// The score-sign orientation is the sign of the fitted Cox and logistic coefficients wherever the fit
    /// exists, with ties in time, and frequency weights act as repeated subjects.
    func testScoreSignEqualsFittedSign() throws {
        var rng = SeededGenerator(seed: 11)
        var checked = 0
        for trial in 0..<300 {
            let n = 8 + trial % 30
            let x = (0..<n).map { _ in rng.normal() }
            let effect = 0.4 * rng.normal()
            // Times rounded to whole months: many ties.
            let times = x.map { (3 * Foundation.exp(-effect * $0) * -Foundation.log(1 - rng.uniform() * 0.999)).rounded() }
            let events = (0..<n).map { _ in rng.uniform() < 0.7 }
            let data = try SurvivalData(times: times, events: events)
            if let fit = try? CoxRegression.fit(data, covariate: x) {
                XCTAssertEqual(Orientation.survival(data, values: x), fit.coefficients[0].coefficient < 0 ? -1 : 1, "trial \(trial)")
                checked += 1
            }
            let labels = (0..<n).map { x[$0] * effect + rng.normal() > 0 }
            if let fit = try? LogisticRegression.fit(labels: labels, covariates: [x]) {
                XCTAssertEqual(Orientation.binary(labels: labels, values: x), fit.coefficients[0].coefficient < 0 ? -1 : 1, "trial \(trial)")
            }
            // Weights = repeated subjects.
            let w = (0..<n).map { _ in Double(rng.int(below: 3)) }
            let repeated = w.indices.flatMap { i in [Int](repeating: i, count: Int(w[i])) }
            guard !repeated.isEmpty else { continue }
            let sub = data.subset(repeated)
            let direct = Orientation.survivalScore(sub, values: repeated.map { x[$0] }, weights: nil, order: sub.ascendingOrder)
            let weighted = Orientation.survivalScore(data, values: x, weights: w, order: data.ascendingOrder)
            XCTAssertEqual(weighted, direct, accuracy: 1e-9 * Swift.max(1, abs(direct)), "trial \(trial)")
            XCTAssertEqual(Orientation.binary(labels: labels, values: x, weights: w),
                           Orientation.binary(labels: repeated.map { labels[$0] }, values: repeated.map { x[$0] }), "trial \(trial)")
        }
        XCTAssertGreaterThan(checked, 250)
    }

    /// Issue 12, item 13: the default orientation (the Cox sign) does not make C ≥ 0.5. One early death with an
    /// extreme value pulls the Cox coefficient up while the other ten pairs are discordant: C = 5/15.
    func testCoxSignedConcordanceCanFallBelowHalf() throws {
        let data = try SurvivalData(times: [1, 2, 3, 4, 5, 6], events: [true, true, true, true, true, true])
        let a = try SurvivalAssociation.analyse([100, 0, 1, 2, 3, 4], data)
        XCTAssertGreaterThan(try XCTUnwrap(a.perUnit).coefficient, 0)
        XCTAssertEqual(a.orientation, 1)
        XCTAssertEqual(a.concordance.index, 5.0 / 15.0, accuracy: 1e-12)
    }

    /// Without a Cox fit (monotone likelihood) the direction comes from the score, not a default of +1.
    func testFailedFitIsOrientedByTheScore() throws {
        let s = try SurvivalData(times: [1, 2, 3, 4, 5, 6], events: [true, true, true, true, true, true])
        let a = try SurvivalAssociation.analyse([1, 2, 3, 4, 5, 6], s)
        XCTAssertNil(a.perUnit)
        XCTAssertEqual(a.orientation, -1)
        XCTAssertEqual(a.concordance.index, 1)
    }
}

final class ResampledEvaluatorTests: XCTestCase {
    /// The one-pass weighted AUC equals the AUC of the explicit resample (ties ½), and of relabelled subjects.
    func testAUCEvaluatorMatchesROCOnExplicitResamples() throws {
        var rng = SeededGenerator(seed: 5)
        let n = 40
        let scores = (0..<n).map { _ in (4 * rng.normal()).rounded() / 2 }  // many ties
        let labels = (0..<n).map { scores[$0] + rng.normal() > 0 }
        let evaluator = try AUCEvaluator(scores: scores)
        XCTAssertEqual(evaluator.auc(labels: labels), try ROC.analyse(labels: labels, scores: scores).auc, accuracy: 1e-12)
        let resampler = BootstrapResampler(subjectCount: n, seed: 9)
        for b in 0..<10 {
            let w = resampler.weights(resample: b)
            let explicit = w.indices.flatMap { i in [Int](repeating: i, count: Int(w[i])) }
            let direct = try ROC.analyse(labels: explicit.map { labels[$0] }, scores: explicit.map { scores[$0] }).auc
            XCTAssertEqual(evaluator.auc(labels: labels, weights: w), direct, accuracy: 1e-12, "resample \(b)")
        }
        XCTAssertTrue(evaluator.auc(labels: [Bool](repeating: true, count: n)).isNaN)
    }

    /// Concordance with permuted risks (no re-sorting) equals Harrell's C of the permuted risk vector.
    func testConcordanceWithPermutedRisks() throws {
        var rng = SeededGenerator(seed: 6)
        let n = 35
        let data = try SurvivalData(times: (0..<n).map { _ in (10 * rng.uniform()).rounded() },
                                    events: (0..<n).map { _ in rng.uniform() < 0.6 })
        let risk = (0..<n).map { _ in (3 * rng.normal()).rounded() }
        let evaluator = try ConcordanceEvaluator(data, risk: risk)
        for _ in 0..<10 {
            let sigma = rng.shuffled(Array(0..<n))
            let w = (0..<n).map { _ in Double(rng.int(below: 3)) }
            let explicit = w.indices.flatMap { i in [Int](repeating: i, count: Int(w[i])) }
            let direct = try Concordance.harrell(data.subset(explicit), risk: explicit.map { risk[sigma[$0]] })
            let fast = evaluator.concordance(weights: w, riskOf: sigma)
            XCTAssertEqual(fast.comparable, direct.comparable)
            XCTAssertEqual(fast.index, direct.index, accuracy: 1e-12)
        }
    }

    /// Issue 12, item 8: the difference between two C-indices is computed on the subjects both score, even when
    /// one score lacks some subjects; its n is those common subjects.
    func testDifferenceIsPairedOnCommonSubjects() throws {
        let data = Fixtures.survival(Fixtures.thirty)
        let x = Fixtures.column(Fixtures.thirty, 2)
        var partial = Fixtures.column(Fixtures.thirty, 5)
        for i in stride(from: 0, to: data.count, by: 3) { partial[i] = .nan }
        let boot = try BootstrapConcordance(data, risks: [x, partial], resamples: 200, seed: 3)
        let common = boot.commonSubjects(0, 1)
        XCTAssertEqual(common.count, 20)
        let sub = data.subset(common)
        let cx = try Concordance.harrell(sub, risk: common.map { x[$0] }).index
        let cp = try Concordance.harrell(sub, risk: common.map { partial[$0] }).index
        let d = boot.difference(0, 1)
        XCTAssertEqual(d.value, cx - cp, accuracy: 1e-12)
        // Not the difference of C-indices on different subjects.
        XCTAssertNotEqual(d.value, boot.observed[0].index - boot.observed[1].index, accuracy: 1e-6)
        XCTAssertTrue(d.interval.contains(d.value), "\(d.interval)")
        // Bootstrap draws come from the same resamples: resample 0 by hand.
        let w = BootstrapResampler(subjectCount: data.count, seed: 3).weights(resample: 0)
        let wc = common.map { w[$0] }
        let d0 = try ConcordanceEvaluator(sub, risk: common.map { x[$0] }).concordance(weights: wc).index
            - ConcordanceEvaluator(sub, risk: common.map { partial[$0] }).concordance(weights: wc).index
        XCTAssertTrue(d0.isFinite)
    }
}

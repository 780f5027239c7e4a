import XCTest
@testable import Statistics

final class DistributionTests: XCTestCase {
    func testChiSquareAndNormalMatchSciPy() {
        let chi: [(Double, Double, Double)] = [
            (3.5, 1, 0.0613688291394023), (12.6, 2, 0.0018363047770289067), (30, 7, 9.495972508134177e-05),
            (0.5, 4, 0.9735009788392561), (150, 3, 2.6349139284880416e-32),
        ]
        for (x, k, p) in chi {
            XCTAssertEqual(Distributions.chiSquareSurvival(x, degreesOfFreedom: k), p, accuracy: p * 1e-10, "chi2(\(x), \(k))")
        }
        let normal: [(Double, Double)] = [(0.975, 1.959963984540054), (1e-10, -6.361340902404056),
                                          (0.3, -0.5244005127080409), (0.999999, 4.753424308817087)]
        for (p, z) in normal { XCTAssertEqual(Distributions.normalQuantile(p), z, accuracy: 1e-12, "ppf(\(p))") }
        XCTAssertEqual(Distributions.twoSidedNormalP(1.959963984540054), 0.05, accuracy: 1e-14)
    }
}

final class BootstrapTests: XCTestCase {
    let data = Fixtures.survival(Fixtures.thirty)

    func testWeightedConcordanceEqualsTheExplicitResample() throws {
        let risk = Fixtures.column(Fixtures.thirty, 2)
        let evaluator = try ConcordanceEvaluator(data, risk: risk)
        let resampler = BootstrapResampler(subjectCount: data.count, seed: 42)
        for b in 0..<5 {
            let w = resampler.weights(resample: b)
            XCTAssertEqual(w.reduce(0, +), Double(data.count))
            let explicit = w.indices.flatMap { i in [Int](repeating: i, count: Int(w[i])) }
            let direct = try Concordance.harrell(data.subset(explicit), risk: explicit.map { risk[$0] })
            let weighted = evaluator.concordance(weights: w)
            XCTAssertEqual(weighted.comparable, direct.comparable, "resample \(b)")
            XCTAssertEqual(weighted.index, direct.index, accuracy: 1e-12, "resample \(b)")
        }
    }

    func testPairedBootstrapIsReproducibleAndCentred() throws {
        let x = Fixtures.column(Fixtures.thirty, 2), noise = Fixtures.column(Fixtures.thirty, 5)
        let a = try BootstrapConcordance(data, risks: [x, noise], resamples: 400, seed: 7)
        let b = try BootstrapConcordance(data, risks: [x, noise], resamples: 400, seed: 7)
        XCTAssertEqual(a.draws, b.draws)
        let c = try BootstrapConcordance(data, risks: [x, noise], resamples: 400, seed: 8)
        XCTAssertNotEqual(a.draws, c.draws)
        let e = a.estimate(0)
        XCTAssertEqual(e.value, 0.5878787878787879, accuracy: 1e-12)
        XCTAssertTrue(e.interval.contains(e.value), "\(e.interval)")
        XCTAssertLessThan(e.interval.upper - e.interval.lower, 0.5)
        XCTAssertGreaterThan(e.interval.upper - e.interval.lower, 0.05)
        let d = a.difference(0, 1)
        XCTAssertEqual(d.value, a.observed[0].index - a.observed[1].index, accuracy: 1e-15)
        XCTAssertTrue(d.interval.contains(d.value))
        XCTAssertEqual(a.difference(0, 0).value, 0)
        XCTAssertEqual(a.difference(0, 0).pValue, 1)
    }

    func testMissingRisksAreLeftOutPerScore() throws {
        var x = Fixtures.column(Fixtures.thirty, 2)
        x[0] = .nan
        x[5] = .nan
        let keep = (0..<data.count).filter { $0 != 0 && $0 != 5 }
        let a = try BootstrapConcordance(data, risks: [x], resamples: 50, seed: 1)
        let direct = try Concordance.harrell(data.subset(keep), risk: keep.map { x[$0] })
        XCTAssertEqual(a.observed[0].index, direct.index, accuracy: 1e-12)
        XCTAssertEqual(a.subjectCounts, [28])
    }
}

final class FailureTests: XCTestCase {
    func testCoxRefusesDegenerateInputsWithClearMessages() throws {
        let noEvents = try SurvivalData(times: [1, 2, 3], events: [false, false, false])
        XCTAssertThrowsError(try CoxRegression.fit(noEvents, covariate: [1, 2, 3])) {
            XCTAssertTrue("\($0)".contains("at least one event"), "\($0)")
        }
        let d = try SurvivalData(times: [1, 2, 3, 4], events: [true, true, false, true])
        XCTAssertThrowsError(try CoxRegression.fit(d, covariate: [2, 2, 2, 2], name: "flat")) {
            XCTAssertTrue("\($0)".contains("'flat' is constant"), "\($0)")
        }
        XCTAssertThrowsError(try CoxRegression.fit(d, covariate: [1, .nan, 3, 4], name: "v")) {
            XCTAssertTrue("\($0)".contains("'v' of subject 1"), "\($0)")
        }
        // Perfect ordering: the higher the value, the earlier the event, without exception -> no finite maximum.
        let s = try SurvivalData(times: [1, 2, 3, 4, 5, 6], events: [true, true, true, true, true, true])
        XCTAssertThrowsError(try CoxRegression.fit(s, covariate: [0, 0, 0, 1, 1, 1].reversed()))
        XCTAssertThrowsError(try SurvivalData(times: [1, -2], events: [true, true]))
    }

    func testAssociationRecordsWhyAPartFailed() throws {
        let s = try SurvivalData(times: [1, 2, 3, 4, 5, 6], events: [true, true, true, true, true, true])
        let a = try SurvivalAssociation.analyse([6, 5, 4, 3, 2, 1], s)
        XCTAssertEqual(a.concordance.index, 1)
        XCTAssertEqual(a.orientation, 1)
        XCTAssertNil(a.perUnit)
        XCTAssertFalse(a.problems.isEmpty)
    }

    func testLogisticRefusesSeparationAndOneClass() {
        XCTAssertThrowsError(try LogisticRegression.fit(labels: [false, false, true, true], covariates: [[1, 2, 3, 4]]))
        XCTAssertThrowsError(try LogisticRegression.fit(labels: [true, true], covariates: [[1, 2]]))
        XCTAssertThrowsError(try ROC.analyse(labels: [true, true], scores: [1, 2]))
    }
}

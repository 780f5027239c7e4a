import XCTest
@testable import Statistics

/// Every number here was printed by lifelines 0.30.3 / scikit-learn 1.9.1 (or numpy for DeLong's variance)
/// on the datasets of `Fixtures`. Cox references use `fit_options=dict(precision=1e-12)`: lifelines' default
/// (1e-7) stops about 1e-6 short of the maximum (age coefficient −0.1173605 instead of −0.1173617).
final class ReferenceTests: XCTestCase {
    let rossi = Fixtures.survival(Fixtures.rossi)
    let thirty = Fixtures.survival(Fixtures.thirty)

    func testCoxThreeCovariatesMatchesLifelines() throws {
        let m = try CoxRegression.fit(rossi, covariates: [2, 3, 4].map { Fixtures.column(Fixtures.rossi, $0) },
                                      names: ["fin", "age", "prio"])
        // coef, se(coef), exp(coef) lower 95%, exp(coef) upper 95%, z, p
        let expected: [(Double, Double, Double, Double, Double, Double)] = [
            (-0.85145863671720290, 0.46229258607353491, 0.17246939893233759, 1.05613728577918997, -1.84181763317693581, 0.06550182989004247),
            (-0.11717891681942039, 0.05442910925970873, 0.79942863664038766, 0.98955510775892208, -2.15287221145399732, 0.03132872297120463),
            (0.14930935687012994, 0.05081420944929688, 1.05097188040013978, 1.28261809705061047, 2.93833867511237923, 0.00329976340265729),
        ]
        for (c, e) in zip(m.coefficients, expected) {
            XCTAssertEqual(c.coefficient, e.0, accuracy: 1e-8, c.name)
            XCTAssertEqual(c.standardError, e.1, accuracy: 1e-8, c.name)
            XCTAssertEqual(c.ratioInterval.lower, e.2, accuracy: 1e-8, c.name)
            XCTAssertEqual(c.ratioInterval.upper, e.3, accuracy: 1e-8, c.name)
            XCTAssertEqual(c.z, e.4, accuracy: 1e-8, c.name)
            XCTAssertEqual(c.pValue, e.5, accuracy: 1e-7, c.name)
        }
        XCTAssertEqual(m.logLikelihood, -90.32582725386301, accuracy: 1e-8)
        XCTAssertEqual(m.likelihoodRatioTest.statistic, 16.98379700629539, accuracy: 1e-7)
        XCTAssertEqual(m.likelihoodRatioTest.pValue, 0.0007121859577624245, accuracy: 1e-10)
        XCTAssertEqual(m.likelihoodRatioTest.degreesOfFreedom, 3)
    }

    func testCoxOneCovariateMatchesLifelines() throws {
        let m = try CoxRegression.fit(rossi, covariate: Fixtures.column(Fixtures.rossi, 3), name: "age")
        let c = m.coefficients[0]
        XCTAssertEqual(c.coefficient, -0.11736169469924648, accuracy: 1e-8)
        XCTAssertEqual(c.standardError, 0.05529709016957918, accuracy: 1e-8)
        XCTAssertEqual(c.ratioInterval.lower, 0.7979239395824067, accuracy: 1e-8)
        XCTAssertEqual(c.ratioInterval.upper, 0.9910588226846222, accuracy: 1e-8)
        XCTAssertEqual(c.pValue, 0.03380545116016787, accuracy: 1e-7)
        XCTAssertEqual(m.logLikelihood, -95.52064544272076, accuracy: 1e-8)
        XCTAssertEqual(m.likelihoodRatioTest.statistic, 6.5941606285798855, accuracy: 1e-7)
        XCTAssertEqual(m.likelihoodRatioTest.pValue, 0.010231378156716424, accuracy: 1e-9)

        let t = try CoxRegression.fit(thirty, covariate: Fixtures.column(Fixtures.thirty, 2)).coefficients[0]
        XCTAssertEqual(t.coefficient, 0.5288438744123759, accuracy: 1e-8)
        XCTAssertEqual(t.standardError, 0.3258704934513856, accuracy: 1e-8)
        XCTAssertEqual(t.ratio, 1.6969692644863457, accuracy: 1e-8)
        XCTAssertEqual(t.ratioInterval.lower, 0.8959680219996486, accuracy: 1e-8)
        XCTAssertEqual(t.ratioInterval.upper, 3.214070830546292, accuracy: 1e-8)
        XCTAssertEqual(t.z, 1.6228651720235314, accuracy: 1e-8)
        XCTAssertEqual(t.pValue, 0.10461823016204772, accuracy: 1e-8)
    }

    func testKaplanMeierWithExponentialGreenwoodIntervalsMatchesLifelines() {
        let km = KaplanMeier(rossi)
        // time, S(t), lower, upper
        let expected: [(Double, Double, Double, Double)] = [
            (5, 0.9899999999999994, 0.9311372036625384, 0.9985852879030296),
            (6, 0.98, 0.9223955081788877, 0.9949602119584445),
            (10, 0.9699999999999995, 0.909877763423835, 0.9902247741249408),
            (17, 0.9599999999999994, 0.8969332262771715, 0.9847965759645816),
            (18, 0.9499999999999995, 0.8840465630968043, 0.9788786038228566),
            (20, 0.9299999999999999, 0.8587740079619784, 0.9660001521770705),
            (22, 0.9199999999999997, 0.8463992253253957, 0.9591665241326891),
            (23, 0.9099999999999994, 0.8341843405610065, 0.9521246117319925),
            (24, 0.8899999999999995, 0.8101821824878968, 0.9375221766485309),
            (25, 0.8699999999999996, 0.7866742632941346, 0.9223524330974822),
            (27, 0.8599999999999993, 0.7750820927310166, 0.9145886607896531),
            (28, 0.8499999999999998, 0.7635875578354097, 0.9067191275528408),
            (37, 0.8399999999999994, 0.7521841889179204, 0.8987519942696687),
            (43, 0.83, 0.7408663089866371, 0.8906942319053411),
            (46, 0.8199999999999998, 0.7296289174338113, 0.8825518490216988),
            (49, 0.8099999999999999, 0.7184675919483122, 0.8743300657349435),
            (50, 0.7899999999999997, 0.6963578623655337, 0.857666017899917),
            (52, 0.7799999999999996, 0.685402831614686, 0.849231330468019),
        ]
        XCTAssertEqual(km.steps.map(\.time), expected.map(\.0))
        for (s, e) in zip(km.steps, expected) {
            XCTAssertEqual(s.survival, e.1, accuracy: 1e-12, "t = \(e.0)")
            XCTAssertEqual(s.interval.lower, e.2, accuracy: 1e-10, "t = \(e.0)")
            XCTAssertEqual(s.interval.upper, e.3, accuracy: 1e-10, "t = \(e.0)")
        }
        XCTAssertEqual(km.medianSurvivalTime, .infinity)
        XCTAssertEqual(km.survival(at: 21), 0.93, accuracy: 1e-12)
        XCTAssertEqual(km.survival(at: 1), 1)
    }

    func testLogRankMatchesLifelines() throws {
        let fin = Fixtures.column(Fixtures.rossi, 2).map { Int($0) }
        let two = try LogRankTest.test(rossi, groups: fin)
        XCTAssertEqual(two.test.statistic, 2.4578560473031112, accuracy: 1e-10)
        XCTAssertEqual(two.test.pValue, 0.11693829763177072, accuracy: 1e-10)
        // Three groups of prior convictions: <= 1, 2-3, >= 4 (27, 41, 32 subjects).
        let prio = Fixtures.column(Fixtures.rossi, 4).map { $0 <= 1 ? 0 : ($0 <= 3 ? 1 : 2) }
        let three = try LogRankTest.test(rossi, groups: prio)
        XCTAssertEqual(three.test.degreesOfFreedom, 2)
        XCTAssertEqual(three.test.statistic, 12.621893700271928, accuracy: 1e-9)
        XCTAssertEqual(three.test.pValue, 0.001816312648889675, accuracy: 1e-11)
        XCTAssertEqual(three.observed.reduce(0, +), 22)
        XCTAssertEqual(three.expected.reduce(0, +), 22, accuracy: 1e-9)
    }

    func testHarrellCMatchesLifelinesWithTiedTimesAndTiedRisks() throws {
        // lifelines takes predicted survival (higher = longer); our risk is its negative.
        XCTAssertEqual(try Concordance.harrell(rossi, risk: Fixtures.column(Fixtures.rossi, 4)).index,
                       0.7215645908389089, accuracy: 1e-12)
        XCTAssertEqual(try Concordance.harrell(rossi, risk: Fixtures.column(Fixtures.rossi, 3)).index,
                       0.3358208955223881, accuracy: 1e-12)
        XCTAssertEqual(try Concordance.harrell(thirty, risk: Fixtures.column(Fixtures.thirty, 2)).index,
                       0.5878787878787879, accuracy: 1e-12)
        XCTAssertEqual(try Concordance.harrell(thirty, risk: Fixtures.column(Fixtures.thirty, 3)).index,
                       0.5, accuracy: 1e-12)
        // lifelines' concordance_index_ of the fitted age model (risk = β·age, β < 0).
        let m = try CoxRegression.fit(rossi, covariate: Fixtures.column(Fixtures.rossi, 3))
        XCTAssertEqual(try Concordance.harrell(rossi, risk: Fixtures.column(Fixtures.rossi, 3).map { m.linearPredictor([$0]) }).index,
                       0.664179104477612, accuracy: 1e-12)
    }

    func testHarrellCCountsAgreeWithTheDefinitionPairByPair() throws {
        let data = thirty, risk = Fixtures.column(Fixtures.thirty, 5)
        var concordant = 0.0, tied = 0.0, comparable = 0.0
        for i in 0..<data.count where data.events[i] {
            for j in 0..<data.count where j != i {
                let later = data.times[j] > data.times[i] || (data.times[j] == data.times[i] && !data.events[j])
                guard later else { continue }
                comparable += 1
                if risk[i] > risk[j] { concordant += 1 } else if risk[i] == risk[j] { tied += 1 }
            }
        }
        let c = try Concordance.harrell(data, risk: risk)
        XCTAssertEqual(c.comparable, comparable)
        XCTAssertEqual(c.concordant, concordant)
        XCTAssertEqual(c.tiedRisk, tied)
    }

    func testROCAUCAndDeLongMatchReferences() throws {
        let labels = Fixtures.column(Fixtures.thirty, 4).map { $0 == 1 }
        let score = Fixtures.column(Fixtures.thirty, 3), score2 = Fixtures.column(Fixtures.thirty, 5)
        let a = try ROC.analyse(labels: labels, scores: score)
        XCTAssertEqual(a.auc, 0.6108597285067874, accuracy: 1e-12)  // sklearn roc_auc_score
        XCTAssertEqual(a.standardError, 0.10814168034789602, accuracy: 1e-12)
        XCTAssertEqual(a.interval.lower, 0.39890592979726824, accuracy: 1e-10)
        XCTAssertEqual(a.interval.upper, 0.8228135272163065, accuracy: 1e-10)
        XCTAssertEqual(a.positives, 13)
        let b = try ROC.analyse(labels: labels, scores: score2)
        XCTAssertEqual(b.auc, 0.6606334841628959, accuracy: 1e-12)
        XCTAssertEqual(b.standardError, 0.10456001740638603, accuracy: 1e-12)
        let d = try ROC.compare(labels: labels, scoresA: score, scoresB: score2)
        XCTAssertEqual(d.value, -0.04977375565610853, accuracy: 1e-12)
        XCTAssertEqual(d.standardError!, 0.13543437571068997, accuracy: 1e-12)
        XCTAssertEqual(d.pValue!, 0.7132371569340119, accuracy: 1e-10)
    }

    func testLogisticRegressionMatchesScikitLearn() throws {
        let labels = Fixtures.column(Fixtures.thirty, 4).map { $0 == 1 }
        let m = try LogisticRegression.fit(labels: labels, covariates: [Fixtures.column(Fixtures.thirty, 2)])
        XCTAssertEqual(m.intercept.coefficient, -0.038270064090417194, accuracy: 1e-8)
        XCTAssertEqual(m.coefficients[0].coefficient, 1.2431069999377393, accuracy: 1e-8)
        // Standard errors from numpy: the inverse of XᵀWX at the estimate.
        XCTAssertEqual(m.intercept.standardError, 0.4091607130766428, accuracy: 1e-7)
        XCTAssertEqual(m.coefficients[0].standardError, 0.6359663376400875, accuracy: 1e-7)
        XCTAssertEqual(m.coefficients[0].pValue, 0.05062153575037818, accuracy: 1e-8)
        XCTAssertEqual(m.logLikelihood, -18.072308986675182, accuracy: 1e-9)
        XCTAssertEqual(m.likelihoodRatioTest.pValue, 0.026712651180944093, accuracy: 1e-9)
    }

    func testMedianSplitMatchesLifelines() throws {
        let x = Fixtures.column(Fixtures.thirty, 2)
        let a = try SurvivalAssociation.analyse(x, thirty)
        let split = try XCTUnwrap(a.medianSplit)
        XCTAssertEqual(split.cutoff, -0.18, accuracy: 1e-12)
        XCTAssertEqual(split.highCount, 15)
        XCTAssertEqual(try XCTUnwrap(split.coefficient).coefficient, 0.8941895960856023, accuracy: 1e-8)
        XCTAssertEqual(try XCTUnwrap(split.coefficient).standardError, 0.5089844217168726, accuracy: 1e-8)
        XCTAssertEqual(try XCTUnwrap(split.coefficient).pValue, 0.07894997418160345, accuracy: 1e-8)
        XCTAssertEqual(try XCTUnwrap(split.logRankP), 0.07227575044670592, accuracy: 1e-10)
        XCTAssertEqual(try XCTUnwrap(a.perUnit).coefficient, 0.5288438744123759, accuracy: 1e-8)
        XCTAssertEqual(try XCTUnwrap(a.likelihoodRatioTest).pValue, 0.0947386812353078, accuracy: 1e-9)
        XCTAssertEqual(a.orientation, 1)
        XCTAssertEqual(a.concordance.index, 0.5878787878787879, accuracy: 1e-12)
    }
}

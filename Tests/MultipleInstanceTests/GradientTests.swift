import XCTest
import Statistics
@testable import MultipleInstance

final class GradientTests: XCTestCase {
    /// Five bags of 1-4 instances with three features, drawn once.
    func smallBags() throws -> MILBags {
        var rng = SeededGenerator(seed: 3)
        let sizes = [1, 3, 2, 4, 2]
        return try MILBags(sizes.map { k in (0..<k).map { _ in (0..<3).map { _ in rng.normal() } } })
    }

    func check(_ pooling: AttentionPooling, _ target: MILTarget) throws {
        let bags = try smallBags()
        let layout = ParameterLayout(dimension: 3, hidden: 4)
        var rng = SeededGenerator(seed: 11)
        var theta = AttentionMILTrainer.initialParameters(layout, rng: &rng)
        for i in theta.indices { theta[i] += 0.3 * rng.normal() }  // biases and intercept away from 0 too
        func loss(_ p: [Double]) -> Double {
            let pass = AttentionForward(parameters: p, layout: layout, gated: pooling == .gated, bags: bags)
            return Loss.evaluate(target, risk: pass.risk).loss
        }
        let pass = AttentionForward(parameters: theta, layout: layout, gated: pooling == .gated, bags: bags)
        let analytic = pass.gradient(riskGradient: Loss.evaluate(target, risk: pass.risk).gradient,
                                     parameters: theta, layout: layout, bags: bags)
        for i in theta.indices {
            if pooling == .attention && (layout.u.contains(i) || layout.bu.contains(i)) {
                XCTAssertEqual(analytic[i], 0)
                continue
            }
            var up = theta, down = theta
            up[i] += 1e-6
            down[i] -= 1e-6
            let numeric = (loss(up) - loss(down)) / 2e-6
            XCTAssertEqual(analytic[i], numeric, accuracy: 1e-7 + 1e-5 * abs(numeric), "\(pooling) parameter \(i)")
        }
    }

    func testGradientsMatchFiniteDifferences() throws {
        let survival = try SurvivalData(times: [3, 1, 4, 1, 5], events: [true, true, false, true, true])
        let labels = [true, false, false, true, true]
        for pooling in AttentionPooling.allCases {
            try check(pooling, .survival(survival))
            try check(pooling, .binary(labels))
        }
    }

    func testCoxLossMatchesStatisticsPartialLikelihoodWithoutTies() throws {
        // Without tied times Breslow and Efron agree: the loss is -ℓ(β)/events of the Cox fit's likelihood.
        let data = try SurvivalData(times: [5, 2, 9, 4, 7, 1], events: [true, true, false, true, true, false])
        let x = [0.3, 1.2, -0.5, 0.8, -1.0, 0.1]
        let fit = try CoxRegression.fit(data, covariate: x)
        let b = fit.coefficients[0].coefficient
        let loss = Loss.cox(data, risk: x.map { b * $0 }).loss
        XCTAssertEqual(loss, -fit.logLikelihood / 4, accuracy: 1e-10)
        // The gradient with respect to the risks sums to zero (adding a constant changes nothing).
        XCTAssertEqual(Loss.cox(data, risk: x).gradient.reduce(0, +), 0, accuracy: 1e-12)
    }

    func testAttentionWeightsSumToOnePerBag() throws {
        let bags = try smallBags()
        let survival = try SurvivalData(times: [3, 1, 4, 1, 5], events: [true, true, false, true, true])
        let (model, _) = try AttentionMILTrainer.train(bags, target: .survival(survival),
                                                       options: MILOptions(maxEpochs: 20, validationFraction: 0))
        let p = model.predict(bags)
        XCTAssertEqual(p.attention.map(\.count), [1, 3, 2, 4, 2])
        for a in p.attention { XCTAssertEqual(a.reduce(0, +), 1, accuracy: 1e-12) }
        XCTAssertEqual(p.attention[0], [1])
    }

    func testMalformedBagsAreRefusedNamingTheBag() {
        XCTAssertThrowsError(try MILBags([[[1, 2]], []], names: ["P1", "P2"])) {
            XCTAssertTrue("\($0)".contains("bag 'P2' has no instances"), "\($0)")
        }
        XCTAssertThrowsError(try MILBags([[[1, 2]], [[1, .nan]]], names: ["P1", "P2"])) {
            XCTAssertTrue("\($0)".contains("instance 0 of bag 'P2'"), "\($0)")
        }
    }
}

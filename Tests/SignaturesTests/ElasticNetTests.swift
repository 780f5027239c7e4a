import XCTest
import Foundation
@testable import Signatures

/// The coordinate-descent elastic net against scikit-learn 1.9.1 `ElasticNet(alpha=λ, l1_ratio=0.5,
/// fit_intercept=True, tol=1e-14)` on the same standardised predictors (population SD). The fixture values
/// were computed once in Python and are written here.
final class ElasticNetTests: XCTestCase {
    func fixture() -> (x: [[Double]], y: [Double]) {
        let n = 40, p = 6
        var columns = [[Double]](repeating: [], count: p)
        var y: [Double] = []
        for i in 0..<n {
            var row: [Double] = []
            for j in 0..<p {
                let v = sin(1.3 * Double(i) + 0.7 * Double(j * j)) + 0.1 * cos(Double(i * j))
                columns[j].append(v)
                row.append(v)
            }
            y.append(1.5 * row[0] - 2 * row[2] + 0.5 * row[5] + 0.3 * sin(5 * Double(i)))
        }
        return (columns, y)
    }

    func testCoefficientsMatchScikitLearn() {
        let (x, y) = fixture()
        let z = ElasticNet.Standardisation(columns: x).apply(x)
        let sklearn: [(lambda: Double, intercept: Double, beta: [Double])] = [
            (0.3, 0.13868297509477914, [0.6118717429, 0, -0.8342538744, 0.5494545149, 0.1157430612, 0.2250670138]),
            (0.1, 0.13868297509477914, [0.6677012739, 0, -0.9523566021, 0.5312081748, 0.1278997549, 0.2563402029]),
            (0.02, 0.13868297509477912, [0.7265522922, 0, -1.1755934987, 0.3376226411, 0.0794487012, 0.2581662210]),
        ]
        let fits = ElasticNet(alpha: 0.5).path(columns: z, y: y, penalty: [Double](repeating: 1, count: 6),
                                               lambdas: sklearn.map(\.lambda))
        for (fit, ref) in zip(fits, sklearn) {
            XCTAssertEqual(fit.intercept, ref.intercept, accuracy: 1e-9)
            for (b, r) in zip(fit.beta, ref.beta) {
                XCTAssertEqual(b, r, accuracy: 1e-6, "lambda \(ref.lambda)")
            }
        }
    }

    func testUnpenalisedColumnsStayAndLambdaMaxZeroesTheRest() {
        let (x, y) = fixture()
        let z = ElasticNet.Standardisation(columns: x).apply(x)
        var penalty = [Double](repeating: 1, count: 6)
        penalty[3] = 0
        let net = ElasticNet(alpha: 0.5)
        let lambdas = net.lambdaPath(columns: z, y: y, penalty: penalty, count: 20)
        let first = net.path(columns: z, y: y, penalty: penalty, lambdas: [lambdas[0] * 1.0001])[0]
        // At λ-max every penalised coefficient is 0 (given the unpenalised one fitted).
        for j in [0, 1, 2, 4, 5] { XCTAssertEqual(first.beta[j], 0, accuracy: 1e-12) }
        XCTAssertNotEqual(first.beta[3], 0)
    }

    func testCrossValidationPicksAnInteriorLambdaAndIsDeterministic() {
        let (x, y) = fixture()
        let z = ElasticNet.Standardisation(columns: x).apply(x)
        let groups = (0..<40).map { "P\($0 / 2)" }
        let a = CrossValidatedElasticNet(net: ElasticNet(alpha: 0.5), columns: z, y: y, penalty: [Double](repeating: 1, count: 6),
                                         groups: groups, folds: 5, seed: 7)
        let b = CrossValidatedElasticNet(net: ElasticNet(alpha: 0.5), columns: z, y: y, penalty: [Double](repeating: 1, count: 6),
                                         groups: groups, folds: 5, seed: 7)
        XCTAssertEqual(a.meanError, b.meanError)
        XCTAssertGreaterThan(a.lambdaMinIndex, 0)
        XCTAssertLessThanOrEqual(a.lambda1SEIndex, a.lambdaMinIndex, "λ-1se is at least as large as λ-min")
        XCTAssertLessThan(a.meanError[a.lambdaMinIndex], a.meanError[0])
    }
}

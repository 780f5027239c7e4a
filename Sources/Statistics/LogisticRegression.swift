import Foundation
import LinearAlgebra

/// A fitted logistic regression: intercept and coefficients (with odds ratios), likelihoods and the LR test.
public struct LogisticModel: Sendable {
    public var intercept: RegressionCoefficient
    /// One per covariate; `ratio` is the odds ratio per unit.
    public var coefficients: [RegressionCoefficient]
    public var logLikelihood: Double
    /// Log-likelihood of the intercept-only model.
    public var nullLogLikelihood: Double
    public var likelihoodRatioTest: ChiSquareTest
    public var subjectCount: Int
    public var positiveCount: Int

    /// The linear predictor intercept + β·x.
    public func linearPredictor(_ x: [Double]) -> Double {
        zip(coefficients, x).reduce(intercept.coefficient) { $0 + $1.0.coefficient * $1.1 }
    }
}

/// Unpenalised logistic regression by Newton-Raphson (iteratively reweighted least squares).
public enum LogisticRegression {
    /// Fits P(label) = logistic(b₀ + β·x) for `covariates` (one array per covariate).
    ///
    /// Throws when a value is not finite, a class is empty, or the estimate diverges (complete separation).
    public static func fit(labels: [Bool], covariates: [[Double]], names: [String]? = nil,
                           level: Double = 0.95, maxIterations: Int = 60) throws -> LogisticModel {
        let n = labels.count, p = covariates.count
        let names = names ?? (0..<p).map { "x\($0 + 1)" }
        guard names.count == p else { throw StatisticsError("\(p) covariates but \(names.count) names") }
        for (j, column) in covariates.enumerated() {
            guard column.count == n else {
                throw StatisticsError("covariate '\(names[j])' has \(column.count) values for \(n) subjects")
            }
            if let bad = column.firstIndex(where: { !$0.isFinite }) {
                throw StatisticsError("covariate '\(names[j])' of subject \(bad) is \(column[bad])")
            }
        }
        let positives = labels.filter { $0 }.count
        guard positives > 0, positives < n else {
            throw StatisticsError("logistic regression needs both outcomes; \(positives) of \(n) subjects are positive")
        }
        let q = p + 1
        var design = Matrix(rows: n, cols: q)
        for i in 0..<n {
            design[i, 0] = 1
            for j in 0..<p { design[i, j + 1] = covariates[j][i] }
        }
        let y = labels.map { $0 ? 1.0 : 0.0 }
        func logLikelihood(_ beta: [Double]) -> Double {
            let eta = design * beta
            return zip(eta, y).reduce(0) { acc, e in
                // log(1 + exp(η)) computed stably.
                let soft = e.0 > 0 ? e.0 + Foundation.log1p(Foundation.exp(-e.0)) : Foundation.log1p(Foundation.exp(e.0))
                return acc + e.1 * e.0 - soft
            }
        }
        func information(_ beta: [Double]) -> (gradient: [Double], information: Matrix) {
            let eta = design * beta
            var weighted = design
            var residual = [Double](repeating: 0, count: n)
            for i in 0..<n {
                let mu = 1 / (1 + Foundation.exp(-eta[i]))
                residual[i] = y[i] - mu
                let w = mu * (1 - mu)
                for j in 0..<q { weighted[i, j] *= w }
            }
            return (design.multiplied(by: residual, transposingSelf: true),
                    design.multiplied(by: weighted, transposingSelf: true))
        }
        let rate = Double(positives) / Double(n)
        var beta = [Double](repeating: 0, count: q)
        beta[0] = Foundation.log(rate / (1 - rate))
        let null = logLikelihood(beta)
        var current = null
        var converged = false
        for iteration in 1...maxIterations {
            let (g, info) = information(beta)
            let step: [Double]
            do {
                step = try info.choleskySolve(g)
            } catch {
                throw StatisticsError("the logistic information matrix is not positive definite at iteration \(iteration) (\(error)); covariates may be constant or collinear")
            }
            var scale = 1.0
            var trial = zip(beta, step).map { $0 + $1 }
            var next = logLikelihood(trial)
            var halvings = 0
            while !(next >= current - 1e-12 * abs(current)) && halvings < 40 {
                scale /= 2
                halvings += 1
                trial = zip(beta, step).map { $0 + scale * $1 }
                next = logLikelihood(trial)
            }
            let largestStep = step.reduce(0) { Swift.max($0, abs($1 * scale)) }
            let change = abs(next - current)
            beta = trial
            current = next
            if largestStep < 1e-10 || (change < 1e-13 * Swift.max(1, abs(current)) && largestStep < 1e-7) {
                converged = true
                break
            }
        }
        let largest = beta.reduce(0) { Swift.max($0, abs($1)) }
        guard converged, largest < 1e6 else {
            throw StatisticsError("the logistic fit did not converge (largest |β| \(largest)): a covariate may separate the outcomes completely")
        }
        let covariance: Matrix
        do {
            covariance = try information(beta).information.inverse()
        } catch {
            throw StatisticsError("the logistic information matrix is singular at the estimate (\(error))")
        }
        let coefficient = { (j: Int, name: String) in
            RegressionCoefficient(name: name, coefficient: beta[j], standardError: covariance[j, j].squareRoot(), level: level)
        }
        return LogisticModel(
            intercept: coefficient(0, "intercept"), coefficients: (0..<p).map { coefficient($0 + 1, names[$0]) },
            logLikelihood: current, nullLogLikelihood: null,
            likelihoodRatioTest: ChiSquareTest(statistic: Swift.max(0, 2 * (current - null)), degreesOfFreedom: p),
            subjectCount: n, positiveCount: positives)
    }
}

import Foundation
import LinearAlgebra

/// A fitted Cox proportional hazards model (partial likelihood with Efron's handling of tied event times).
public struct CoxModel: Sendable {
    /// One per covariate; `ratio` is the hazard ratio per unit.
    public var coefficients: [RegressionCoefficient]
    /// Inverse observed information at the estimate (p x p).
    public var covariance: Matrix
    /// Log partial likelihood at the estimate and at β = 0.
    public var logLikelihood: Double
    public var nullLogLikelihood: Double
    /// 2 (ℓ(β̂) − ℓ(0)) against χ² with p degrees of freedom.
    public var likelihoodRatioTest: ChiSquareTest
    public var subjectCount: Int
    public var eventCount: Int
    /// Newton iterations used.
    public var iterations: Int

    /// β·x for one subject's covariates (in the fitted order).
    public func linearPredictor(_ x: [Double]) -> Double {
        zip(coefficients, x).reduce(0) { $0 + $1.0.coefficient * $1.1 }
    }

    public func coefficient(named name: String) -> RegressionCoefficient? { coefficients.first { $0.name == name } }
}

/// Cox proportional hazards regression by Newton-Raphson with step halving.
///
/// Ties: Efron's approximation (as lifelines and R's `coxph` by default). Covariates are centred
/// internally, which leaves the partial likelihood and the coefficients unchanged.
public enum CoxRegression {
    /// Fits the model for `covariates` (one array per covariate, one value per subject).
    ///
    /// Throws when there is no event, a value is not finite, a covariate is constant, or the
    /// likelihood has no finite maximum (a covariate separating events from non-events).
    public static func fit(_ data: SurvivalData, covariates: [[Double]], names: [String]? = nil,
                           level: Double = 0.95, maxIterations: Int = 60) throws -> CoxModel {
        let p = covariates.count
        let n = data.count
        let names = names ?? (0..<p).map { "x\($0 + 1)" }
        guard names.count == p else { throw StatisticsError("\(p) covariates but \(names.count) names") }
        guard p > 0 else { throw StatisticsError("a Cox model needs at least one covariate") }
        for (j, column) in covariates.enumerated() {
            guard column.count == n else {
                throw StatisticsError("covariate '\(names[j])' has \(column.count) values for \(n) subjects")
            }
            if let bad = column.firstIndex(where: { !$0.isFinite }) {
                throw StatisticsError("covariate '\(names[j])' of subject \(bad) is \(column[bad])")
            }
        }
        guard data.eventCount > 0 else { throw StatisticsError("a Cox model needs at least one event; there are none") }

        // Subjects by descending time; centred covariates stored row-major in that order.
        let order = data.ascendingOrder.reversed().map { $0 }
        var x = [Double](repeating: 0, count: n * p)
        for j in 0..<p {
            let mean = covariates[j].reduce(0, +) / Double(n)
            for (r, i) in order.enumerated() { x[r * p + j] = covariates[j][i] - mean }
            let spread = (0..<n).reduce(0.0) { Swift.max($0, abs(x[$1 * p + j])) }
            if spread == 0 { throw StatisticsError("covariate '\(names[j])' is constant: it has no hazard ratio") }
        }
        let times = order.map { data.times[$0] }
        let events = order.map { data.events[$0] }
        let problem = EfronProblem(p: p, x: x, times: times, events: events)

        var beta = [Double](repeating: 0, count: p)
        var current = problem.evaluate(beta)
        let null = current.logLikelihood
        var iterations = 0
        var converged = false
        while iterations < maxIterations {
            iterations += 1
            let step: [Double]
            do {
                step = try Matrix(rows: p, cols: p, values: current.information).choleskySolve(current.gradient)
            } catch {
                throw StatisticsError("the Cox information matrix is not positive definite at iteration \(iterations) (\(error)); covariates may be collinear")
            }
            var scale = 1.0
            var trial = zip(beta, step).map { $0 + $1 }
            var next = problem.evaluate(trial)
            var halvings = 0
            while !(next.logLikelihood >= current.logLikelihood - 1e-12 * abs(current.logLikelihood)) && halvings < 40 {
                scale /= 2
                halvings += 1
                trial = zip(beta, step).map { $0 + scale * $1 }
                next = problem.evaluate(trial)
            }
            let change = abs(next.logLikelihood - current.logLikelihood)
            let largestStep = step.reduce(0) { Swift.max($0, abs($1 * scale)) }
            beta = trial
            current = next
            if largestStep < 1e-10 || (change < 1e-13 * Swift.max(1, abs(current.logLikelihood)) && largestStep < 1e-7) {
                converged = true
                break
            }
        }
        let largest = beta.reduce(0) { Swift.max($0, abs($1)) }
        guard converged, largest.isFinite else {
            throw StatisticsError("the Cox fit did not converge in \(maxIterations) iterations (largest |β| \(largest)): a covariate may separate events from non-events")
        }
        let covariance: Matrix
        do {
            covariance = try Matrix(rows: p, cols: p, values: current.information).inverse()
        } catch {
            throw StatisticsError("the Cox information matrix is singular at the estimate (\(error))")
        }
        let coefficients = (0..<p).map {
            RegressionCoefficient(name: names[$0], coefficient: beta[$0], standardError: covariance[$0, $0].squareRoot(), level: level)
        }
        return CoxModel(
            coefficients: coefficients, covariance: covariance, logLikelihood: current.logLikelihood,
            nullLogLikelihood: null,
            likelihoodRatioTest: ChiSquareTest(statistic: Swift.max(0, 2 * (current.logLikelihood - null)), degreesOfFreedom: p),
            subjectCount: n, eventCount: data.eventCount, iterations: iterations)
    }

    /// The Cox model of a single covariate.
    public static func fit(_ data: SurvivalData, covariate: [Double], name: String = "x", level: Double = 0.95) throws -> CoxModel {
        try fit(data, covariates: [covariate], names: [name], level: level)
    }
}

/// Log partial likelihood (Efron), its gradient and the observed information, over subjects sorted
/// by descending time with centred covariates.
struct EfronProblem {
    let p: Int
    let x: [Double]
    let times: [Double]
    let events: [Bool]
    /// Start of each block of equal times, plus the end.
    let blocks: [Int]

    init(p: Int, x: [Double], times: [Double], events: [Bool]) {
        self.p = p
        self.x = x
        self.times = times
        self.events = events
        var b = [0]
        for i in 1..<Swift.max(1, times.count) where times[i] != times[i - 1] { b.append(i) }
        b.append(times.count)
        blocks = b
    }

    struct Value {
        var logLikelihood: Double
        var gradient: [Double]
        /// Row-major p x p.
        var information: [Double]
    }

    func evaluate(_ beta: [Double]) -> Value {
        let n = times.count
        var eta = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var s = 0.0
            for j in 0..<p { s += beta[j] * x[i * p + j] }
            eta[i] = s
        }
        let shift = eta.max() ?? 0
        var ll = 0.0
        var grad = [Double](repeating: 0, count: p)
        var info = [Double](repeating: 0, count: p * p)
        var s0 = 0.0, s1 = [Double](repeating: 0, count: p), s2 = [Double](repeating: 0, count: p * p)
        var d1 = [Double](repeating: 0, count: p), d2 = [Double](repeating: 0, count: p * p)
        var m1 = [Double](repeating: 0, count: p)
        for b in 0..<(blocks.count - 1) {
            let lo = blocks[b], hi = blocks[b + 1]
            var d0 = 0.0, deaths = 0
            for j in 0..<p { d1[j] = 0 }
            for k in 0..<(p * p) { d2[k] = 0 }
            for i in lo..<hi {
                let w = Foundation.exp(eta[i] - shift)
                s0 += w
                for j in 0..<p {
                    let xj = x[i * p + j]
                    s1[j] += w * xj
                    for k in 0..<p { s2[j * p + k] += w * xj * x[i * p + k] }
                }
                guard events[i] else { continue }
                deaths += 1
                d0 += w
                ll += eta[i] - shift
                for j in 0..<p {
                    let xj = x[i * p + j]
                    grad[j] += xj
                    d1[j] += w * xj
                    for k in 0..<p { d2[j * p + k] += w * xj * x[i * p + k] }
                }
            }
            guard deaths > 0 else { continue }
            for l in 0..<deaths {
                let f = Double(l) / Double(deaths)
                let a0 = s0 - f * d0
                ll -= Foundation.log(a0)
                for j in 0..<p {
                    m1[j] = (s1[j] - f * d1[j]) / a0
                    grad[j] -= m1[j]
                }
                for j in 0..<p {
                    for k in 0..<p { info[j * p + k] += (s2[j * p + k] - f * d2[j * p + k]) / a0 - m1[j] * m1[k] }
                }
            }
        }
        return Value(logLikelihood: ll, gradient: grad, information: info)
    }
}

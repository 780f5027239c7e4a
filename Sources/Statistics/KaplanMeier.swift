import Foundation
import LinearAlgebra

/// The Kaplan-Meier estimate of a survival function with pointwise confidence intervals.
///
/// Intervals use the exponential Greenwood formula (log(−log S), as lifelines does):
/// v(t) = Σ_{tᵢ ≤ t} dᵢ / (nᵢ (nᵢ − dᵢ)) / (log S(t))², bounds exp(−exp(log(−log S) ± z √v)).
public struct KaplanMeier: Sendable {
    /// One distinct time at which at least one event happened.
    public struct Step: Sendable, Hashable {
        public var time: Double
        /// Subjects at risk just before `time`.
        public var atRisk: Int
        public var events: Int
        /// Censorings at `time` (they happen just after the events).
        public var censored: Int
        public var survival: Double
        /// NaN where S is 0 or 1.
        public var interval: ConfidenceInterval
    }

    /// One step per distinct event time, ascending.
    public let steps: [Step]
    public let level: Double

    public init(_ data: SurvivalData, level: Double = 0.95) {
        self.level = level
        let z = Distributions.normalCritical(level: level)
        let order = data.ascendingOrder
        var atRisk = data.count
        var survival = 1.0
        var greenwood = 0.0
        var steps: [Step] = []
        var i = 0
        while i < order.count {
            let t = data.times[order[i]]
            var d = 0, c = 0
            while i < order.count && data.times[order[i]] == t {
                if data.events[order[i]] { d += 1 } else { c += 1 }
                i += 1
            }
            if d > 0 {
                survival *= 1 - Double(d) / Double(atRisk)
                greenwood += Double(d) / (Double(atRisk) * Double(atRisk - d))
                let logS = Foundation.log(survival)
                let centre = Foundation.log(-logS)
                let half = z * (greenwood / (logS * logS)).squareRoot()
                let ok = survival > 0 && survival < 1 && half.isFinite
                steps.append(Step(time: t, atRisk: atRisk, events: d, censored: c, survival: survival,
                                  interval: ConfidenceInterval(
                                      lower: ok ? Foundation.exp(-Foundation.exp(centre + half)) : .nan,
                                      upper: ok ? Foundation.exp(-Foundation.exp(centre - half)) : .nan, level: level)))
            }
            atRisk -= d + c
        }
        self.steps = steps
    }

    /// S(t): the product over event times ≤ t.
    public func survival(at t: Double) -> Double {
        steps.last { $0.time <= t }?.survival ?? 1
    }

    /// The smallest time with S(t) ≤ 0.5; infinity when the curve never gets there (as lifelines).
    public var medianSurvivalTime: Double {
        steps.first { $0.survival <= 0.5 }?.time ?? .infinity
    }
}

/// The log-rank test comparing survival between groups.
public enum LogRankTest {
    /// Observed and expected events per group with the test: χ² with (groups − 1) degrees of freedom,
    /// using the hypergeometric variance (as lifelines' `logrank_test` / `multivariate_logrank_test`).
    public struct Result: Sendable, Hashable {
        /// Group labels in ascending order.
        public var groups: [Int]
        public var observed: [Double]
        public var expected: [Double]
        public var test: ChiSquareTest
    }

    /// Tests equality of the survival functions of the groups given by `groups` (one label per subject).
    public static func test(_ data: SurvivalData, groups: [Int]) throws -> Result {
        guard groups.count == data.count else {
            throw StatisticsError("log-rank test: \(groups.count) group labels for \(data.count) subjects")
        }
        let labels = Array(Set(groups)).sorted()
        guard labels.count >= 2 else { throw StatisticsError("log-rank test needs at least two groups; there is \(labels.count)") }
        let g = labels.count
        let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
        let member = groups.map { index[$0]! }
        var atRisk = [Double](repeating: 0, count: g)
        for m in member { atRisk[m] += 1 }
        var observed = [Double](repeating: 0, count: g), expected = [Double](repeating: 0, count: g)
        var v = [Double](repeating: 0, count: g * g)
        let order = data.ascendingOrder
        var i = 0
        while i < order.count {
            let t = data.times[order[i]]
            var d = [Double](repeating: 0, count: g), leaving = [Double](repeating: 0, count: g)
            while i < order.count && data.times[order[i]] == t {
                let s = order[i]
                if data.events[s] { d[member[s]] += 1 }
                leaving[member[s]] += 1
                i += 1
            }
            let dTotal = d.reduce(0, +)
            let n = atRisk.reduce(0, +)
            if dTotal > 0 {
                for a in 0..<g {
                    observed[a] += d[a]
                    expected[a] += dTotal * atRisk[a] / n
                }
                if n > 1 {
                    let factor = dTotal * (n - dTotal) / (n * n * (n - 1))
                    for a in 0..<g {
                        for b in 0..<g {
                            v[a * g + b] += factor * ((a == b ? n * atRisk[a] : 0) - atRisk[a] * atRisk[b])
                        }
                    }
                }
            }
            for a in 0..<g { atRisk[a] -= leaving[a] }
        }
        // Quadratic form over the first g − 1 groups (the last is implied).
        let k = g - 1
        let diff = (0..<k).map { observed[$0] - expected[$0] }
        let reduced = (0..<(k * k)).map { v[($0 / k) * g + $0 % k] }
        let statistic: Double
        if k == 1 {
            statistic = reduced[0] > 0 ? diff[0] * diff[0] / reduced[0] : .nan
        } else {
            let solved: [Double]
            do {
                solved = try Matrix(rows: k, cols: k, values: reduced).solve(diff)
            } catch {
                throw StatisticsError("log-rank test: the variance matrix of the groups is singular (\(error))")
            }
            statistic = zip(diff, solved).reduce(0) { $0 + $1.0 * $1.1 }
        }
        return Result(groups: labels, observed: observed, expected: expected,
                      test: ChiSquareTest(statistic: statistic, degreesOfFreedom: k))
    }
}

import Foundation

/// The direction of a single variable's association with an outcome, the way `SurvivalAssociation` and
/// `BinaryAssociation` choose it, but cheap enough to redo inside every bootstrap resample or permutation.
///
/// Both log-likelihoods are concave in the coefficient β of one covariate, so the sign of the fitted β is the
/// sign of the score (the derivative of the log-likelihood) at β = 0. Using the score also gives a direction
/// where the fit has no finite maximum (a variable that separates the outcomes), and needs no iteration.
public enum Orientation {
    /// +1 when higher `values` go with higher hazard, −1 otherwise: the sign of the Cox (Efron ties) score at
    /// β = 0; +1 when it is 0 (e.g. a constant variable), as the fitted rule defaults.
    ///
    /// `weights` are frequency weights (a bootstrap resample's draw counts): subject i counts `weights[i]` times,
    /// exactly as if it were repeated. `order` may pass `data`'s ascending time order when it is reused.
    public static func survival(_ data: SurvivalData, values: [Double], weights: [Double]? = nil) -> Double {
        survivalScore(data, values: values, weights: weights, order: data.ascendingOrder) < 0 ? -1 : 1
    }

    /// `survival` for one variable under many weightings (bootstrap resamples): the time order is sorted once.
    public struct SurvivalSign: Sendable {
        let data: SurvivalData
        let values: [Double]
        let order: [Int]

        public init(_ data: SurvivalData, values: [Double]) {
            self.data = data
            self.values = values
            order = data.ascendingOrder
        }

        /// The orientation when subject i counts `weights[i]` times.
        public func orientation(weights: [Double]?) -> Double {
            Orientation.survivalScore(data, values: values, weights: weights, order: order) < 0 ? -1 : 1
        }

        /// The orientation of other `values` for the same subjects (e.g. permuted ones); subjects of weight 0 are
        /// skipped, so their value may be NaN.
        public func orientation(values: [Double], weights: [Double]?) -> Double {
            Orientation.survivalScore(data, values: values, weights: weights, order: order) < 0 ? -1 : 1
        }
    }

    /// The Cox partial-likelihood score at β = 0 with Efron's ties (see `survival`), over subjects in `order`
    /// (ascending time, events before censorings at equal times).
    static func survivalScore(_ data: SurvivalData, values x: [Double], weights: [Double]?, order: [Int]) -> Double {
        // Risk-set sums from the latest time down: N = Σ w, S = Σ w x over subjects with time ≥ t.
        var riskN = 0.0, riskS = 0.0
        var score = 0.0
        var end = order.count
        // Walk blocks of equal time from the end.
        while end > 0 {
            var start = end - 1
            let t = data.times[order[start]]
            while start > 0 && data.times[order[start - 1]] == t { start -= 1 }
            var deathsN = 0.0, deathsS = 0.0
            for k in start..<end {
                let i = order[k], w = weights?[i] ?? 1
                guard w > 0 else { continue }
                riskN += w
                riskS += w * x[i]
                if data.events[i] { deathsN += w; deathsS += w * x[i] }
            }
            if deathsN > 0 {
                // Efron: the d tied deaths leave the risk set in d equal steps (d = the weighted count).
                let d = Int(deathsN.rounded())
                var expected = 0.0
                for l in 0..<Swift.max(d, 1) {
                    let f = Double(l) / Double(Swift.max(d, 1))
                    expected += (riskS - f * deathsS) / (riskN - f * deathsN)
                }
                score += deathsS - expected * (deathsN / Double(Swift.max(d, 1)))
            }
            end = start
        }
        return score
    }

    /// +1 when higher `values` go with the positive outcome, −1 otherwise: the sign of the logistic score at
    /// β = 0 (intercept at its maximum), Σ w (y − ȳ) x, i.e. of the weighted covariance of x and y; +1 when 0.
    public static func binary(labels: [Bool], values: [Double], weights: [Double]? = nil) -> Double {
        var n = 0.0, sy = 0.0
        for i in labels.indices {
            let w = weights?[i] ?? 1
            n += w
            if labels[i] { sy += w }
        }
        guard n > 0 else { return 1 }
        let ybar = sy / n
        var score = 0.0
        for i in labels.indices {
            let w = weights?[i] ?? 1
            if w > 0 { score += w * ((labels[i] ? 1 : 0) - ybar) * values[i] }
        }
        return score < 0 ? -1 : 1
    }
}

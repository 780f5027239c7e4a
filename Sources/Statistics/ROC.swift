import Foundation

/// The area under the ROC curve of a score for a binary outcome, with DeLong's standard error.
public struct ROCAnalysis: Sendable, Hashable {
    /// P(score of a positive > score of a negative) + ½ P(equal): the Mann-Whitney form of the AUC.
    public var auc: Double
    /// DeLong et al. (1988) standard error from the structural components.
    public var standardError: Double
    /// auc ± z SE, clipped to [0, 1] (as pROC does).
    public var interval: ConfidenceInterval
    public var positives: Int
    public var negatives: Int

    public var estimate: Estimate { Estimate(value: auc, interval: interval, standardError: standardError) }
}

/// ROC AUC and DeLong's tests.
public enum ROC {
    /// The AUC of `scores` (higher = more likely positive) for `labels`, with a DeLong interval.
    public static func analyse(labels: [Bool], scores: [Double], level: Double = 0.95) throws -> ROCAnalysis {
        let c = try Components(labels: labels, scores: scores)
        let variance = c.covariance(with: c)
        let se = variance.squareRoot()
        let z = Distributions.normalCritical(level: level)
        return ROCAnalysis(auc: c.auc, standardError: se,
                           interval: ConfidenceInterval(lower: Swift.max(0, c.auc - z * se), upper: Swift.min(1, c.auc + z * se), level: level),
                           positives: c.v10.count, negatives: c.v01.count)
    }

    /// DeLong's test of two correlated AUCs on the same subjects: the difference AUC(a) − AUC(b) with its
    /// interval, standard error and two-sided p-value.
    public static func compare(labels: [Bool], scoresA: [Double], scoresB: [Double], level: Double = 0.95) throws -> Estimate {
        let a = try Components(labels: labels, scores: scoresA)
        let b = try Components(labels: labels, scores: scoresB)
        let variance = a.covariance(with: a) + b.covariance(with: b) - 2 * a.covariance(with: b)
        let se = Swift.max(0, variance).squareRoot()
        let d = a.auc - b.auc
        let z = Distributions.normalCritical(level: level)
        return Estimate(value: d, interval: ConfidenceInterval(lower: d - z * se, upper: d + z * se, level: level),
                        standardError: se, pValue: se > 0 ? Distributions.twoSidedNormalP(d / se) : (d == 0 ? 1 : 0))
    }

    /// DeLong's structural components: V10 per positive, V01 per negative (via midranks, O(n log n)).
    struct Components {
        var auc: Double
        var v10: [Double]
        var v01: [Double]

        init(labels: [Bool], scores: [Double]) throws {
            guard labels.count == scores.count else {
                throw StatisticsError("ROC: \(labels.count) labels for \(scores.count) scores")
            }
            if let bad = scores.firstIndex(where: { !$0.isFinite }) {
                throw StatisticsError("ROC: the score of subject \(bad) is \(scores[bad])")
            }
            let positives = scores.indices.filter { labels[$0] }.map { scores[$0] }
            let negatives = scores.indices.filter { !labels[$0] }.map { scores[$0] }
            guard !positives.isEmpty, !negatives.isEmpty else {
                throw StatisticsError("ROC needs positives and negatives; there are \(positives.count) and \(negatives.count)")
            }
            let all = Components.midranks(positives + negatives)
            let pos = Components.midranks(positives), neg = Components.midranks(negatives)
            let m = Double(positives.count), n = Double(negatives.count)
            v10 = positives.indices.map { (all[$0] - pos[$0]) / n }
            v01 = negatives.indices.map { 1 - (all[positives.count + $0] - neg[$0]) / m }
            auc = v10.reduce(0, +) / m
        }

        /// Cov of the AUC estimates of two component sets on the same subjects: S10/m + S01/n (n − 1 denominators).
        func covariance(with other: Components) -> Double {
            func cov(_ x: [Double], _ y: [Double]) -> Double {
                guard x.count > 1 else { return 0 }
                let mx = x.reduce(0, +) / Double(x.count), my = y.reduce(0, +) / Double(y.count)
                return zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) } / Double(x.count - 1)
            }
            return cov(v10, other.v10) / Double(v10.count) + cov(v01, other.v01) / Double(v01.count)
        }

        /// 1-based ranks with ties given their mean rank.
        static func midranks(_ x: [Double]) -> [Double] {
            let order = x.indices.sorted { x[$0] < x[$1] }
            var ranks = [Double](repeating: 0, count: x.count)
            var i = 0
            while i < order.count {
                var j = i
                while j + 1 < order.count && x[order[j + 1]] == x[order[i]] { j += 1 }
                let mid = Double(i + j) / 2 + 1
                for k in i...j { ranks[order[k]] = mid }
                i = j + 1
            }
            return ranks
        }
    }
}

/// The ROC AUC of fixed scores for many labellings and weightings (bootstrap resamples, permuted outcomes):
/// the scores are sorted once, each evaluation is one pass.
public struct AUCEvaluator: Sendable {
    /// Subject indices by ascending score, and the start of each block of equal scores plus the end.
    let order: [Int]
    let blocks: [Int]

    /// Prepares `scores` (higher = expected positive); they must be finite.
    public init(scores: [Double]) throws {
        if let bad = scores.firstIndex(where: { !$0.isFinite }) {
            throw StatisticsError("AUC: the score of subject \(bad) is \(scores[bad])")
        }
        order = scores.indices.sorted { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        var b = [0]
        for k in 1..<Swift.max(1, order.count) where scores[order[k]] != scores[order[k - 1]] { b.append(k) }
        b.append(order.count)
        blocks = order.isEmpty ? [0] : b
    }

    /// P(score of a positive > score of a negative) + ½ P(equal), when subject i counts `weights[i]` times;
    /// NaN when the (weighted) subjects do not include both outcomes.
    public func auc(labels: [Bool], weights: [Double]? = nil) -> Double {
        var negativesBelow = 0.0, positives = 0.0, sum = 0.0
        for b in 0..<(blocks.count - 1) {
            var pos = 0.0, neg = 0.0
            for k in blocks[b]..<blocks[b + 1] {
                let i = order[k], w = weights?[i] ?? 1
                if labels[i] { pos += w } else { neg += w }
            }
            sum += pos * (negativesBelow + 0.5 * neg)
            negativesBelow += neg
            positives += pos
        }
        let pairs = positives * negativesBelow
        return pairs > 0 ? sum / pairs : .nan
    }
}

import Foundation

/// A correlation coefficient with its Fisher-z confidence interval and two-sided p-value.
public struct CorrelationResult: Sendable, Hashable, Codable {
    /// Pearson's r or Spearman's rho.
    public var coefficient: Double
    public var interval: ConfidenceInterval
    /// Two-sided p for "no correlation", from the normal approximation of Fisher's z.
    public var pValue: Double
    public var n: Int
}

/// Pearson and Spearman correlation, for checking a lesion score against a continuous lesion label
/// (e.g. CD8B expression of biopsied lesions).
///
/// Intervals use Fisher's z = atanh(r) with standard error 1/sqrt(n − 3) for Pearson and
/// sqrt(1.06/(n − 3)) for Spearman (Fieller, Hartley & Pearson 1957); p-values use the same normal
/// approximation, z·sqrt(n − 3) (or /sqrt(1.06)), which for n above ~20 agrees closely with the t-test.
public enum Correlation {
    public static func pearson(_ x: [Double], _ y: [Double], level: Double = 0.95) throws -> CorrelationResult {
        let (a, b) = try finitePairs(x, y)
        let r = pearsonCoefficient(a, b)
        return result(r, n: a.count, seFactor: 1, level: level)
    }

    public static func spearman(_ x: [Double], _ y: [Double], level: Double = 0.95) throws -> CorrelationResult {
        let (a, b) = try finitePairs(x, y)
        let r = pearsonCoefficient(ranks(a), ranks(b))
        return result(r, n: a.count, seFactor: 1.06.squareRoot(), level: level)
    }

    /// Ranks 1...n with ties given their average rank (as scipy's `rankdata`).
    public static func ranks(_ x: [Double]) -> [Double] { ROC.Components.midranks(x) }

    static func pearsonCoefficient(_ a: [Double], _ b: [Double]) -> Double {
        let n = Double(a.count)
        let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for (x, y) in zip(a, b) {
            sab += (x - ma) * (y - mb); saa += (x - ma) * (x - ma); sbb += (y - mb) * (y - mb)
        }
        return saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : .nan
    }

    static func finitePairs(_ x: [Double], _ y: [Double]) throws -> ([Double], [Double]) {
        guard x.count == y.count else {
            throw StatisticsError("correlation needs paired values: \(x.count) and \(y.count) given")
        }
        let keep = x.indices.filter { x[$0].isFinite && y[$0].isFinite }
        guard keep.count >= 4 else {
            throw StatisticsError("correlation needs at least 4 finite pairs, got \(keep.count)")
        }
        return (keep.map { x[$0] }, keep.map { y[$0] })
    }

    static func result(_ r: Double, n: Int, seFactor: Double, level: Double) -> CorrelationResult {
        guard r.isFinite else {
            return CorrelationResult(coefficient: .nan, interval: ConfidenceInterval(lower: .nan, upper: .nan, level: level),
                                     pValue: .nan, n: n)
        }
        let clipped = max(-0.999999999, min(0.999999999, r))
        let z = atanh(clipped), se = seFactor / Double(n - 3).squareRoot()
        let c = Distributions.normalCritical(level: level)
        return CorrelationResult(coefficient: r,
                                 interval: ConfidenceInterval(lower: tanh(z - c * se), upper: tanh(z + c * se), level: level),
                                 pValue: Distributions.twoSidedNormalP(z / se), n: n)
    }
}

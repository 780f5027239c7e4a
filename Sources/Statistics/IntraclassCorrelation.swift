import Foundation

/// ICC(1,1): the one-way random-effects, single-measure intraclass correlation (Shrout & Fleiss 1979, case 1;
/// McGraw & Wong 1996, ICC(1)), with its exact confidence interval from the F distribution.
///
/// For n targets (here: lesions) each measured k times (here: under k image perturbations), with
/// MSB the between-target and MSW the within-target mean square of the one-way ANOVA,
///
///     ICC(1,1) = (MSB − MSW) / (MSB + (k − 1) MSW)
///     F = MSB / MSW on (n − 1, n(k − 1)) degrees of freedom
///     F_L = F / F_{1−α/2}(n − 1, n(k − 1)),  F_U = F · F_{1−α/2}(n(k − 1), n − 1)
///     CI = [(F_L − 1) / (F_L + k − 1), (F_U − 1) / (F_U + k − 1)]
///
/// as pingouin's `intraclass_corr` row `ICC1` computes it. It is the measure Zwanenburg et al. (Sci Rep 2019)
/// use for feature robustness under perturbation: the share of a feature's variance that lies between lesions
/// rather than between perturbations of one lesion. Targets with a missing (non-finite) measurement are left
/// out, as pingouin's `nan_policy='omit'` does.
public struct IntraclassCorrelation: Sendable, Hashable {
    /// ICC(1,1); NaN when it is undefined (fewer than 2 complete targets, k < 2, or no variance at all).
    public var icc: Double
    /// The confidence interval's bounds (default 95 %).
    public var lower: Double
    public var upper: Double
    /// Targets with a finite value for every measurement, and measurements per target.
    public var targets: Int
    public var raters: Int
    public var f: Double
    public var msBetween: Double
    public var msWithin: Double

    /// ICC(1,1) of `values[target][measurement]`, every target with the same number of measurements.
    public init(values: [[Double]], confidence: Double = 0.95) {
        let k = values.first?.count ?? 0
        let complete = values.filter { $0.count == k && $0.allSatisfy(\.isFinite) }
        let n = complete.count
        targets = n
        raters = k
        guard n >= 2, k >= 2 else {
            icc = .nan; lower = .nan; upper = .nan; f = .nan; msBetween = .nan; msWithin = .nan
            return
        }
        // Sums in two passes around the grand mean (stable for features of large magnitude, e.g. volumes in mm³).
        var total = 0.0
        for row in complete { for x in row { total += x } }
        let grand = total / Double(n * k)
        var ssBetween = 0.0, ssWithin = 0.0
        for row in complete {
            var s = 0.0
            for x in row { s += x }
            let mean = s / Double(k)
            ssBetween += Double(k) * (mean - grand) * (mean - grand)
            for x in row { ssWithin += (x - mean) * (x - mean) }
        }
        let df1 = Double(n - 1), df2 = Double(n * (k - 1))
        msBetween = ssBetween / df1
        msWithin = ssWithin / df2
        let kd = Double(k)
        icc = (msBetween - msWithin) / (msBetween + (kd - 1) * msWithin)
        f = msBetween / msWithin
        let q = 1 - (1 - confidence) / 2
        let fl = f / Distributions.fQuantile(q, df1, df2)
        let fu = f * Distributions.fQuantile(q, df2, df1)
        lower = (fl - 1) / (fl + kd - 1)
        upper = (fu - 1) / (fu + kd - 1)
        if f == .infinity { lower = 1; upper = 1 }  // no variation within any target: perfectly repeatable
        if !icc.isFinite { icc = .nan; lower = .nan; upper = .nan }
    }
}

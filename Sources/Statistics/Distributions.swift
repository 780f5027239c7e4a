import Foundation

/// The distribution functions the tests and intervals of this module need.
public enum Distributions {
    /// Φ(x), the standard normal distribution function.
    public static func normalCDF(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    /// 1 − Φ(x), accurate far into the upper tail.
    public static func normalSurvival(_ x: Double) -> Double { 0.5 * erfc(x / 2.0.squareRoot()) }

    /// Two-sided p-value of a standard normal statistic: 2 (1 − Φ(|z|)).
    public static func twoSidedNormalP(_ z: Double) -> Double {
        guard !z.isNaN else { return .nan }
        return Swift.min(1, erfc(abs(z) / 2.0.squareRoot()))
    }

    /// Φ⁻¹(p): Acklam's rational approximation polished by one Halley step (relative error near 1e-15).
    /// The upper half is computed as −Φ⁻¹(1 − p), where the lower tail is accurate (as scipy's `ndtri`).
    public static func normalQuantile(_ p: Double) -> Double {
        guard p > 0, p < 1 else { return p == 0 ? -.infinity : (p == 1 ? .infinity : .nan) }
        if p > 0.5 { return -normalQuantile(1 - p) }
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                 -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        var x: Double
        if p < low {
            let q = (-2 * Foundation.log(p)).squareRoot()
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
                ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p <= 1 - low {
            let q = p - 0.5, r = q * q
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
                (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        } else {
            let q = (-2 * Foundation.log(1 - p)).squareRoot()
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
                ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        let e = normalCDF(x) - p
        let u = e * (2 * Double.pi).squareRoot() * Foundation.exp(x * x / 2)
        x -= u / (1 + x * u / 2)
        return x
    }

    /// The two-sided critical value z with P(|Z| ≤ z) = `level` (1.959963984540054 for 0.95).
    public static func normalCritical(level: Double) -> Double { normalQuantile(0.5 + level / 2) }

    /// P(χ²_df > x), the upper tail of the chi-square distribution.
    public static func chiSquareSurvival(_ x: Double, degreesOfFreedom df: Double) -> Double {
        guard !x.isNaN, df > 0 else { return .nan }
        guard x > 0 else { return 1 }
        return regularizedGammaQ(df / 2, x / 2)
    }

    /// Q(a, x) = Γ(a, x) / Γ(a): a series below a + 1, a continued fraction above (Numerical Recipes 6.2).
    static func regularizedGammaQ(_ a: Double, _ x: Double) -> Double {
        let logPrefix = -x + a * Foundation.log(x) - lgamma(a)
        if x < a + 1 {
            var term = 1 / a, sum = term, ap = a
            for _ in 0..<10_000 {
                ap += 1
                term *= x / ap
                sum += term
                if abs(term) < abs(sum) * 1e-17 { break }
            }
            return Swift.max(0, 1 - sum * Foundation.exp(logPrefix))
        }
        let tiny = 1e-300
        var b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d
        for i in 1...10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return Foundation.exp(logPrefix) * h
    }

    /// I_x(a, b), the regularised incomplete beta function: Lentz's continued fraction on the side where it
    /// converges fast (x < (a + 1) / (a + b + 2)), by symmetry I_x(a, b) = 1 − I_{1−x}(b, a) on the other
    /// (Numerical Recipes 6.4).
    public static func regularizedBeta(_ x: Double, _ a: Double, _ b: Double) -> Double {
        guard !x.isNaN, a > 0, b > 0 else { return .nan }
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logPrefix = lgamma(a + b) - lgamma(a) - lgamma(b) + a * Foundation.log(x) + b * Foundation.log1p(-x)
        if x < (a + 1) / (a + b + 2) {
            return Foundation.exp(logPrefix) * betaContinuedFraction(x, a, b) / a
        }
        return 1 - Foundation.exp(logPrefix) * betaContinuedFraction(1 - x, b, a) / b
    }

    private static func betaContinuedFraction(_ x: Double, _ a: Double, _ b: Double) -> Double {
        let tiny = 1e-300
        let qab = a + b, qap = a + 1, qam = a - 1
        var c = 1.0, d = 1 - qab * x / qap
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...10_000 {
            let m = Double(m), m2 = 2 * m
            var aa = m * (b - m) * x / ((qam + m2) * (a + m2))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return h
    }

    /// x with I_x(a, b) = p: bisection on [0, 1] to bracket, then Newton steps on the bracketed root
    /// (every step kept inside the bracket), to full double precision.
    public static func inverseRegularizedBeta(_ p: Double, _ a: Double, _ b: Double) -> Double {
        guard p >= 0, p <= 1, a > 0, b > 0 else { return .nan }
        if p == 0 { return 0 }
        if p == 1 { return 1 }
        var lo = 0.0, hi = 1.0, x = 0.5
        let logNorm = lgamma(a + b) - lgamma(a) - lgamma(b)
        for iteration in 0..<400 {
            let f = regularizedBeta(x, a, b) - p
            if f == 0 { return x }
            if f < 0 { lo = x } else { hi = x }
            if hi - lo <= 4 * Double.ulpOfOne * Swift.max(x, Double.leastNormalMagnitude) { break }
            // The density is the derivative of I_x; near-flat densities fall back to bisection.
            let density = Foundation.exp(logNorm + (a - 1) * Foundation.log(x) + (b - 1) * Foundation.log1p(-x))
            var next = x - f / density
            if iteration < 8 || !next.isFinite || next <= lo || next >= hi { next = (lo + hi) / 2 }
            if next == x { break }
            x = next
        }
        return x
    }

    /// The p-quantile of the F distribution with (d1, d2) degrees of freedom (scipy's `f.ppf`):
    /// F = d2 x / (d1 (1 − x)) with x the p-quantile of Beta(d1/2, d2/2).
    public static func fQuantile(_ p: Double, _ d1: Double, _ d2: Double) -> Double {
        guard p >= 0, p <= 1, d1 > 0, d2 > 0 else { return .nan }
        let x = inverseRegularizedBeta(p, d1 / 2, d2 / 2)
        if x >= 1 { return .infinity }
        return d2 * x / (d1 * (1 - x))
    }

    /// P(F ≤ f) for the F distribution with (d1, d2) degrees of freedom.
    public static func fCDF(_ f: Double, _ d1: Double, _ d2: Double) -> Double {
        guard !f.isNaN, d1 > 0, d2 > 0 else { return .nan }
        guard f > 0 else { return 0 }
        return regularizedBeta(d1 * f / (d1 * f + d2), d1 / 2, d2 / 2)
    }
}

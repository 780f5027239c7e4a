/// Intensity statistics (IBSI 1, section 3.3): the distribution of ROI intensities, ignoring position.
///
/// Values `X_k`, k = 1...N, are the intensities of the intensity mask; moments are population moments
/// (divide by N); percentiles interpolate linearly between order statistics.
///
/// - `mean` (Q4LE): μ = Σ X_k / N
/// - `var` (ECT3): σ² = Σ (X_k - μ)² / N
/// - `skew` (KE2A): Σ (X_k - μ)³ / N / σ³
/// - `kurt` (IPH6): excess kurtosis Σ (X_k - μ)⁴ / N / σ⁴ - 3
/// - `median` (Y12H), `min` (1GSF), `p10` (QG58), `p90` (8DWT), `max` (84IY)
/// - `iqr` (SALO): P75 - P25; `range` (2OJQ): max - min
/// - `mad` (4FUA): Σ |X_k - μ| / N
/// - `rmad` (1128): mean absolute deviation from their mean of the values within [P10, P90]
/// - `medad` (N72L): Σ |X_k - median| / N
/// - `cov` (7TET): σ / μ; `qcod` (9S40): (P75 - P25) / (P75 + P25)
/// - `energy` (N8CA): Σ X_k²
/// - `rms` (5ZWQ): sqrt(Σ X_k² / N)
public enum IntensityStatistics {
    /// The 18 statistics of `values` (the intensity-mask intensities).
    public static func features(_ values: [Double]) -> [FeatureValue] {
        distributionFeatures(values, family: .intensity, includeEnergy: true)
    }

    /// Statistics shared by `stat_*` and `ih_*`; `includeEnergy` adds energy and RMS (intensity only).
    static func distributionFeatures(_ values: [Double], family: FeatureFamily,
                                     includeEnergy: Bool) -> [FeatureValue] {
        let d = Distribution(values)
        var out = [FeatureValue]()
        func add(_ name: String, _ value: Double, note: String? = nil) {
            out.append(FeatureValue(family: family, name: name, ibsiTag: "\(family.ibsiPrefix)_\(name)",
                                    value: value, note: value.isNaN ? (note ?? "undefined for an empty ROI") : nil))
        }
        let flat = "undefined when every intensity in the ROI is equal"
        add("mean", d.mean)
        add("var", d.variance)
        add("skew", d.variance > 0 ? d.m3 / (d.variance * d.variance.squareRoot()) : .nan, note: flat)
        add("kurt", d.variance > 0 ? d.m4 / (d.variance * d.variance) - 3 : .nan, note: flat)
        add("median", d.percentile(50))
        add("min", d.sorted.first ?? .nan)
        add("p10", d.percentile(10))
        add("p90", d.percentile(90))
        add("max", d.sorted.last ?? .nan)
        if family == .histogram { add("mode", d.mode) }
        let p25 = d.percentile(25), p75 = d.percentile(75)
        add("iqr", p75 - p25)
        add("range", (d.sorted.last ?? .nan) - (d.sorted.first ?? .nan))
        add("mad", d.meanAbsoluteDeviation(from: d.mean))
        let p10 = d.percentile(10), p90 = d.percentile(90)
        let inner = Distribution(d.sorted.filter { $0 >= p10 && $0 <= p90 })
        add("rmad", inner.meanAbsoluteDeviation(from: inner.mean))
        add("medad", d.meanAbsoluteDeviation(from: d.percentile(50)))
        add("cov", d.mean != 0 ? d.variance.squareRoot() / d.mean : .nan, note: "undefined when the mean is 0")
        add("qcod", p75 + p25 != 0 ? (p75 - p25) / (p75 + p25) : .nan, note: "undefined when P75 + P25 = 0")
        if includeEnergy {
            add("energy", d.count > 0 ? d.sumOfSquares : .nan)
            add("rms", d.count > 0 ? (d.sumOfSquares / Double(d.count)).squareRoot() : .nan)
        }
        return out
    }
}

/// Sorted sample with its central moments.
struct Distribution {
    let sorted: [Double]
    let count: Int
    let mean: Double
    let variance: Double
    let m3: Double
    let m4: Double
    let sumOfSquares: Double

    init(_ values: [Double]) {
        sorted = Distribution.ascending(values)
        count = values.count
        guard count > 0 else {
            mean = .nan; variance = .nan; m3 = .nan; m4 = .nan; sumOfSquares = .nan
            return
        }
        let n = Double(count)
        var s = 0.0, s2 = 0.0
        for x in values { s += x; s2 += x * x }
        let mu = s / n
        var c2 = 0.0, c3 = 0.0, c4 = 0.0
        for x in values {
            let d = x - mu, d2 = d * d
            c2 += d2; c3 += d2 * d; c4 += d2 * d2
        }
        mean = mu
        variance = c2 / n
        m3 = c3 / n
        m4 = c4 / n
        sumOfSquares = s2
    }

    /// `values` in ascending order. Whole numbers within a range of a few times their count (CT numbers,
    /// grey levels) are counted rather than compared, which gives the same array.
    static func ascending(_ values: [Double]) -> [Double] {
        guard values.count > 64, let lo = values.min(), let hi = values.max(), hi - lo <= Double(4 * values.count),
              values.allSatisfy({ $0 == $0.rounded() && ($0 != 0 || $0.sign == .plus) }) else {
            return values.sorted()
        }
        var counts = [Int](repeating: 0, count: Int(hi - lo) + 1)
        for x in values { counts[Int(x - lo)] += 1 }
        var out = [Double]()
        out.reserveCapacity(values.count)
        for (offset, c) in counts.enumerated() where c > 0 {
            out.append(contentsOf: repeatElement(lo + Double(offset), count: c))
        }
        return out
    }

    /// Percentile `p` (0...100), linear interpolation between order statistics.
    func percentile(_ p: Double) -> Double {
        guard count > 0 else { return .nan }
        let h = Double(count - 1) * p / 100
        let lo = Int(h.rounded(.down)), hi = min(lo + 1, count - 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }

    func meanAbsoluteDeviation(from centre: Double) -> Double {
        guard count > 0 else { return .nan }
        var s = 0.0
        for x in sorted { s += abs(x - centre) }
        return s / Double(count)
    }

    /// The most frequent value (the lowest one when several tie).
    var mode: Double {
        guard count > 0 else { return .nan }
        var best = sorted[0], bestRun = 0, run = 0
        for t in 0..<count {
            run = (t > 0 && sorted[t] == sorted[t - 1]) ? run + 1 : 1
            if run > bestRun { bestRun = run; best = sorted[t] }
        }
        return best
    }
}

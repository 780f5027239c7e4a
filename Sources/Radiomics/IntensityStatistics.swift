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
        distributionFeatures(Distribution(values), family: family, includeEnergy: includeEnergy)
    }

    /// Statistics shared by `stat_*` and `ih_*` of the values of `d`.
    static func distributionFeatures(_ d: Distribution, family: FeatureFamily,
                                     includeEnergy: Bool) -> [FeatureValue] {
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
        add("mad", d.meanAbsoluteDeviation)
        add("rmad", d.robustMeanAbsoluteDeviation)
        add("medad", d.medianAbsoluteDeviation)
        add("cov", d.mean != 0 ? d.variance.squareRoot() / d.mean : .nan, note: "undefined when the mean is 0")
        add("qcod", p75 + p25 != 0 ? (p75 - p25) / (p75 + p25) : .nan, note: "undefined when P75 + P25 = 0")
        if includeEnergy {
            add("energy", d.count > 0 ? d.sumOfSquares : .nan)
            add("rms", d.count > 0 ? (d.sumOfSquares / Double(d.count)).squareRoot() : .nan)
        }
        return out
    }
}

/// Sorted sample with its central moments and mean absolute deviations.
///
/// Every sum runs in a fixed order (the moments in the order of `values`, the deviations in ascending order),
/// one addition after another, so each waits on the one before: the sums that can run side by side share a
/// loop (five loops of N additions became two), which lets their additions overlap, and the terms of the central
/// moments and deviations are made beforehand in vector lanes, 256 values at a time.
struct Distribution {
    let sorted: [Double]
    let count: Int
    let mean: Double
    let variance: Double
    let m3: Double
    let m4: Double
    let sumOfSquares: Double
    /// `Σ |X_k - μ| / N`, summed in ascending order of `X_k`.
    let meanAbsoluteDeviation: Double
    /// `Σ |X_k - median| / N`, summed in ascending order of `X_k`.
    let medianAbsoluteDeviation: Double
    /// The mean absolute deviation from their mean of the values within [P10, P90], summed in ascending order
    /// (NaN when there is none).
    let robustMeanAbsoluteDeviation: Double

    init(_ values: [Double]) {
        self.init(values, sorted: Distribution.ascending(values))
    }

    /// The distribution of `values` whose ascending order `sorted` is known.
    init(_ values: [Double], sorted: [Double]) {
        precondition(sorted.count == values.count, "the sorted values are the values")
        self.sorted = sorted
        let count = values.count
        self.count = count
        guard count > 0 else {
            mean = .nan; variance = .nan; m3 = .nan; m4 = .nan; sumOfSquares = .nan
            meanAbsoluteDeviation = .nan; medianAbsoluteDeviation = .nan; robustMeanAbsoluteDeviation = .nan
            return
        }
        let n = Double(count)
        // The values within [P10, P90]: in ascending order one stretch, first..<end.
        let lower = Self.percentile(10, sorted), upper = Self.percentile(90, sorted), median = Self.percentile(50, sorted)
        var first = 0
        while first < count && !(sorted[first] >= lower) { first += 1 }
        var end = count
        while end > first && !(sorted[end - 1] <= upper) { end -= 1 }
        (mean, variance, m3, m4, sumOfSquares, meanAbsoluteDeviation, medianAbsoluteDeviation, robustMeanAbsoluteDeviation) =
            values.withUnsafeBufferPointer { v in
                sorted.withUnsafeBufferPointer { q in
                    // Σ X, Σ X² (in the order of the values) and the sum of the inner stretch (ascending).
                    var s = 0.0, s2 = 0.0, si = 0.0
                    for t in 0..<first { let x = v[t]; s += x; s2 += x * x }
                    for t in first..<end { let x = v[t]; s += x; s2 += x * x; si += q[t] }
                    for t in end..<count { let x = v[t]; s += x; s2 += x * x }
                    let mu = s / n, innerMean = si / Double(end - first)
                    // The central moments (in the order of the values) and the absolute deviations (ascending),
                    // 256 values at a time: their terms first, without a dependence between values (vectorised:
                    // the same IEEE operations in each lane), then each sum adds its terms one after another.
                    var c2 = 0.0, c3 = 0.0, c4 = 0.0, sa = 0.0, sb = 0.0, di = 0.0
                    let chunk = 256
                    withUnsafeTemporaryAllocation(of: Double.self, capacity: 6 * chunk) { terms in
                        guard let v = v.baseAddress, let q = q.baseAddress, let p2 = terms.baseAddress else { return }
                        let p3 = p2 + chunk, p4 = p3 + chunk, pa = p4 + chunk, pb = pa + chunk, pi = pb + chunk
                        var t = 0
                        while t < count {
                            let m = min(chunk, count - t)
                            for j in 0..<m {
                                let d = v[t &+ j] - mu, d2 = d * d, x = q[t &+ j]
                                p2[j] = d2; p3[j] = d2 * d; p4[j] = d2 * d2
                                pa[j] = abs(x - mu); pb[j] = abs(x - median); pi[j] = abs(x - innerMean)
                            }
                            // The inner stretch first..<end within this chunk.
                            let a = min(max(first - t, 0), m), b = min(max(end - t, 0), m)
                            for j in 0..<a { c2 += p2[j]; c3 += p3[j]; c4 += p4[j]; sa += pa[j]; sb += pb[j] }
                            for j in a..<b { c2 += p2[j]; c3 += p3[j]; c4 += p4[j]; sa += pa[j]; sb += pb[j]; di += pi[j] }
                            for j in b..<m { c2 += p2[j]; c3 += p3[j]; c4 += p4[j]; sa += pa[j]; sb += pb[j] }
                            t += m
                        }
                    }
                    return (mu, c2 / n, c3 / n, c4 / n, s2, sa / n, sb / n, end > first ? di / Double(end - first) : .nan)
                }
            }
    }

    /// `values` in ascending order. Whole numbers within a range of a few times their count (CT numbers,
    /// grey levels) are counted rather than compared, which gives the same array.
    static func ascending(_ values: [Double]) -> [Double] {
        guard values.count > 64 else { return values.sorted() }
        guard let (lo, hi) = wholeRange(values), hi - lo <= Double(4 * values.count) else {
            return radixSorted(values) ?? values.sorted()
        }
        var counts = [Int32](repeating: 0, count: Int(hi - lo) + 1)
        counts.withUnsafeMutableBufferPointer { counts in
            for x in values { counts[Int(x - lo)] &+= 1 }
        }
        return [Double](unsafeUninitializedCapacity: values.count) { out, count in
            var t = 0
            for (offset, c) in counts.enumerated() where c > 0 {
                let value = lo + Double(offset)
                for _ in 0..<Int(c) { out[t] = value; t += 1 }
            }
            count = t
        }
    }

    /// `values` in ascending order by a stable LSD radix sort on their bit patterns (11 bits a pass, passes where
    /// every value has the same digit skipped), nil when a value is NaN or -0: the same array as `sorted()` for
    /// every other input (finite values and infinities order by their keys as by `<`), in linear time.
    ///
    /// Response maps have non-integer intensities that the counting path above cannot take, and comparison
    /// sorting 10^5 of them per map was the largest single cost of filtered-image features.
    ///
    /// Values that are all single-precision numbers (response maps are computed in single precision) sort on 32-bit
    /// keys (`radixSortedSingles`): half the passes (3 instead of 6), the same order, and the same doubles back.
    static func radixSorted(_ values: [Double]) -> [Double]? {
        if let singles = radixSortedSingles(values) { return singles }
        let n = values.count
        // Order-preserving keys: negative values bit-inverted, non-negative ones with the sign bit set.
        var keys = [UInt64](repeating: 0, count: n)
        let ok = keys.withUnsafeMutableBufferPointer { keys -> Bool in
            for (t, x) in values.enumerated() {
                if x.isNaN { return false }
                let bits = x.bitPattern
                if bits >> 63 == 1 {
                    if x == 0 { return false }  // -0: `sorted()` keeps it among the zeros in input order
                    keys[t] = ~bits
                } else {
                    keys[t] = bits | (1 << 63)
                }
            }
            return true
        }
        guard ok else { return nil }
        radixSort(&keys)
        return keys.mapVoxels { k in Double(bitPattern: k >> 63 == 1 ? k & ~(1 << 63) : ~k) }
    }

    /// `radixSorted` for values that are all exactly single-precision numbers (nil otherwise, or for NaN or -0):
    /// the order-preserving 32-bit keys of their `Float` values sorted in three passes (11, 11 and 10 bits). Two doubles that
    /// are floats compare as their floats do, and converting back gives each double exactly.
    static func radixSortedSingles(_ values: [Double]) -> [Double]? {
        let n = values.count
        // Every key is written below: not zero-filled first.
        var keys = [UInt32](unsafeUninitializedCapacity: n) { $1 = n }
        // Without a branch per value (the loop is vectorised): every key is made, and a value that has none is noted.
        let bad = keys.withUnsafeMutableBufferPointer { keys -> UInt32 in
            values.withUnsafeBufferPointer { values in
                var bad: UInt32 = 0
                for t in 0..<n {
                    let x = values[t], f = Float(x)
                    let bits = f.bitPattern
                    // NaN fails the comparison; a double that is no float differs from its rounding; -0 as in
                    // `radixSorted`.
                    bad |= (Double(f) == x ? 0 : 1) | (bits == 0x8000_0000 ? 1 : 0)
                    keys[t] = bits >> 31 == 1 ? ~bits : bits | (1 << 31)
                }
                return bad
            }
        }
        guard bad == 0 else { return nil }
        radixSort(&keys)
        return keys.mapVoxels { k in Double(Float(bitPattern: k >> 31 == 1 ? k & ~(1 << 31) : ~k)) }
    }

    /// Sorts `keys` in place by a stable LSD radix sort from the lowest digit, skipping the passes where every key
    /// has the same digit (shared by the 64- and 32-bit keys of `radixSorted` and `radixSortedSingles`), 11 bits a
    /// digit (32-bit keys: 11, 11 and 10 bits; 64-bit keys: five of 11 and one of 9). The counts of every digit are
    /// made in one read of the keys. 11-bit digits keep each pass's 2,048 counts, and the places they scatter the
    /// keys to, few enough for the cache; 16-bit digits (before) zeroed, summed and scattered over 65,536 counts
    /// (half a megabyte) a pass, more work than the 10^5 keys of a response map themselves.
    private static func radixSort<Key: FixedWidthInteger & UnsignedInteger>(_ keys: inout [Key]) {
        let n = keys.count
        guard n > 0 else { return }
        let digitBits = 11
        let passes = (Key.bitWidth + digitBits - 1) / digitBits
        let radix = 1 << digitBits, digitMask = Key(radix - 1)
        // Each pass writes every place of its destination before the next reads it: not zero-filled first.
        var scratch = [Key](unsafeUninitializedCapacity: n) { $1 = n }
        var counts = [Int](repeating: 0, count: passes * radix)
        keys.withUnsafeMutableBufferPointer { a in
            scratch.withUnsafeMutableBufferPointer { b in
                counts.withUnsafeMutableBufferPointer { counts in
                    let counts = counts.baseAddress!
                    for t in 0..<n {
                        let key = a[t]
                        for pass in 0..<passes {
                            counts[pass &* radix &+ Int(truncatingIfNeeded: (key >> Key(digitBits * pass)) & digitMask)] &+= 1
                        }
                    }
                    var src = a, dst = b
                    for pass in 0..<passes {
                        let shift = Key(digitBits * pass), digitCounts = counts + pass * radix
                        // One digit: already in order.
                        if digitCounts[Int(truncatingIfNeeded: (src[0] >> shift) & digitMask)] == n { continue }
                        var sum = 0
                        for d in 0..<radix {
                            let c = digitCounts[d]
                            digitCounts[d] = sum
                            sum &+= c
                        }
                        for t in 0..<n {
                            let d = Int(truncatingIfNeeded: (src[t] >> shift) & digitMask)
                            dst[digitCounts[d]] = src[t]
                            digitCounts[d] &+= 1
                        }
                        swap(&src, &dst)
                    }
                    if src.baseAddress != a.baseAddress { a.update(fromContentsOf: src) }
                }
            }
        }
    }

    /// The lowest and highest of `values` when every one is whole and not -0 (which sorts like 0 but
    /// is a different value), nil otherwise; 2^52 and beyond count as not whole. Four at a time.
    private static func wholeRange(_ values: [Double]) -> (lo: Double, hi: Double)? {
        typealias Lanes = LaneExtremes.Lanes
        let limit = Lanes(repeating: 0x1p52), minusZero = SIMD4<UInt64>(repeating: (-0.0).bitPattern)
        var lanes = LaneExtremes()
        var whole = SIMDMask<SIMD4<Int64>>(repeating: true)
        return values.withUnsafeBufferPointer { values in
            var t = 0
            while t + 4 <= values.count {
                let x = UnsafeRawPointer(values.baseAddress! + t).loadUnaligned(as: Lanes.self)
                lanes.add(x)
                let bits = unsafeBitCast(x, to: SIMD4<UInt64>.self)
                whole .&= (x .< limit) .& (x .> -limit) .& (x.rounded(.towardZero) .== x) .& (bits .!= minusZero)
                t += 4
                // A response map's values are fractions: known after a few, not read to the end.
                if t & 63 == 0 && !all(whole) { return nil }
            }
            var low = Double.infinity, high = -Double.infinity, allWhole = all(whole)
            for x in values[t...] {
                low = min(low, x)
                high = max(high, x)
                allWhole = allWhole && abs(x) < 0x1p52 && x.rounded(.towardZero) == x && x.bitPattern != (-0.0).bitPattern
            }
            // All whole: no NaN and no -0, so the lanes' order does not matter.
            return allWhole ? lanes.range(with: low, high) : nil
        }
    }

    /// Percentile `p` (0...100), linear interpolation between order statistics.
    func percentile(_ p: Double) -> Double { Self.percentile(p, sorted) }

    private static func percentile(_ p: Double, _ sorted: [Double]) -> Double {
        let count = sorted.count
        guard count > 0 else { return .nan }
        let h = Double(count - 1) * p / 100
        let lo = Int(h.rounded(.down)), hi = min(lo + 1, count - 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }

    /// The most frequent value (the lowest one when several tie).
    var mode: Double {
        guard count > 0 else { return .nan }
        var best = sorted[0], bestRun = 0, start = 0
        while start < count {
            // The end of the run of equal values starting at `start`, by bisection.
            let value = sorted[start]
            var end = count
            var low = start + 1
            while low < end {
                let middle = (low + end) / 2
                if sorted[middle] == value { low = middle + 1 } else { end = middle }
            }
            if end - start > bestRun { bestRun = end - start; best = value }
            start = end
        }
        return best
    }
}

import Foundation

/// Intensity histogram features (IBSI 1, section 3.4): statistics of the discretised grey levels.
///
/// With grey levels X_d,k of the N intensity-mask voxels, Ng levels and p_i = n_i / N the
/// fraction of voxels at level i:
///
/// - `mean` (X6K6), `var` (CH89), `skew` (88K1), `kurt` (C3I7, excess), `median` (WIFQ), `min` (1PR8),
///   `p10` (GPMT), `p90` (OZ0C), `max` (3NCY), `iqr` (WR0O), `range` (5Z3W), `mad` (D2ZX), `rmad` (WRZB),
///   `medad` (4RNL), `cov` (CWYJ), `qcod` (SLWD): as the intensity statistics, on grey levels
/// - `mode` (AMMC): the most frequent grey level (the lowest when several tie)
/// - `entropy` (TLU2): -Σ p_i log2 p_i
/// - `uniformity` (BJ5W): Σ p_i²
/// - `max_grad` (12CE), `max_grad_g` (8E6O): the largest histogram gradient and its grey level
/// - `min_grad` (VQB3), `min_grad_g` (RHQZ): the smallest histogram gradient and its grey level;
///   the gradient is (n_{i+1} - n_{i-1}) / 2 inside 1...Ng, one-sided at the ends.
public enum IntensityHistogram {
    /// Features of the grey levels `levels` (each in 1...binCount).
    public static func features(levels: [Int32], binCount: Int) -> [FeatureValue] {
        let ng = max(binCount, Int(levels.max() ?? 0))
        // Voxels per grey level, which also give the levels in ascending order.
        var counts = [Double](repeating: 0, count: max(ng, 0) + 1)
        counts.withUnsafeMutableBufferPointer { counts in
            for l in levels { counts[Int(l)] += 1 }
        }
        var sorted = [Double]()
        sorted.reserveCapacity(levels.count)
        for (level, count) in counts.enumerated() where count > 0 {
            sorted.append(contentsOf: repeatElement(Double(level), count: Int(count)))
        }
        var out = IntensityStatistics.distributionFeatures(
            Distribution(levels.mapVoxels(Double.init), sorted: sorted), family: .histogram, includeEnergy: false)
        func add(_ name: String, _ value: Double) {
            out.append(FeatureValue(family: .histogram, name: name, ibsiTag: "ih_\(name)", value: value,
                                    note: value.isNaN ? "undefined for an empty ROI" : nil))
        }
        guard !levels.isEmpty, ng > 0 else {
            for name in ["entropy", "uniformity", "max_grad", "max_grad_g", "min_grad", "min_grad_g"] { add(name, .nan) }
            return out
        }
        let n = Double(levels.count)
        var entropy = 0.0, uniformity = 0.0
        for i in 1...ng where counts[i] > 0 {
            let p = counts[i] / n
            entropy -= p * log2(p)
            uniformity += p * p
        }
        add("entropy", entropy)
        add("uniformity", uniformity)
        var maxGrad = -Double.infinity, maxAt = 1, minGrad = Double.infinity, minAt = 1
        for i in 1...ng {
            let g: Double
            if ng == 1 { g = 0 } else if i == 1 { g = counts[2] - counts[1] } else if i == ng {
                g = counts[ng] - counts[ng - 1]
            } else { g = (counts[i + 1] - counts[i - 1]) / 2 }
            if g > maxGrad { maxGrad = g; maxAt = i }
            if g < minGrad { minGrad = g; minAt = i }
        }
        add("max_grad", maxGrad)
        add("max_grad_g", Double(maxAt))
        add("min_grad", minGrad)
        add("min_grad_g", Double(minAt))
        return out
    }
}

/// Intensity-volume histogram features (IBSI 1, section 3.5).
///
/// The levels i and their total range G follow the manual's three cases:
/// - no discretisation (calibrated, discrete intensities such as HU): the intensities in unit steps,
///   G the re-segmentation range (its open ends, and no range, taken from the ROI);
/// - fixed bin size w (calibrated, continuous intensities such as SUV): bins of width w from the lower
///   re-segmentation bound (or ROI minimum), each voxel at its bin centre, G from the first to the last
///   bin centre over the range;
/// - fixed bin number N (arbitrary units): bins over the ROI's own intensity range,
///   `floor(N (x - min) / (max - min)) + 1` with the maximum in bin N, each voxel at its bin number,
///   G = [1, N]. The re-segmentation range is not used: it cannot be given for arbitrary units (IBSI 1
///   configuration E uses this case on purpose: "the re-segmentation range is not used").
///
/// With γ the intensity fraction (i - min G) / (max G - min G) and ν(i) the fraction of the ROI volume at
/// intensity ≥ i:
///
/// - `v10` (NK6P), `v90` (4279): the volume fraction ν at intensity fraction γ = 0.10, 0.90
///   (the largest ν among levels with γ ≥ 0.10, 0.90)
/// - `i10` (PWN1), `i90` (BOHI): the lowest intensity with ν ≤ 0.10, 0.90 (one step above the
///   maximum when none)
/// - `diff_v10_v90` (WITY): v10 - v90; `diff_i10_i90` (JXJA): i10 - i90
/// - `auc` (9CMM): area under the ν(γ) curve (trapezoidal rule); IBSI gives no reference value.
public enum IntensityVolumeHistogram {
    public static func features(_ values: [Double], discretisation: ExtractionSettings.IVHDiscretisation,
                                range: (lower: Double?, upper: Double?)) -> [FeatureValue] {
        let names = ["v10", "v90", "i10", "i90", "diff_v10_v90", "diff_i10_i90", "auc"]
        guard let (lo, hi) = extremes(values) else {
            return names.map { FeatureValue(family: .intensityVolumeHistogram, name: $0, ibsiTag: "ivh_\($0)",
                                            value: .nan, note: "undefined for an empty ROI") }
        }
        let rMin = range.lower ?? lo, rMax = range.upper ?? hi
        // Levels: position of each voxel on a grid of `count` levels (counted into `hist`, each rule by
        // a loop of its own so that its formula is inlined), and the intensity of each level.
        var count: Int
        var hist: [Double] = []
        // `bin` gives each voxel's level as a whole double (`lanes` four of them). The levels are made in vector
        // lanes (the same IEEE operations), clamped and made integers there (exactly: whole doubles below 2^31,
        // plus 2^52, hold the level in their low 32 bits), and counted in integers, 256 at a time; a count is
        // exact either way, so `hist` holds the same doubles as when every voxel added 1 to its level's. When a
        // level is NaN or beyond ±2^31 (`Int(_:)` could trap), or the number of levels is not within 1 ..< 2^31,
        // each voxel is counted as before.
        func countBins(_ lanes: (SIMD4<Double>) -> SIMD4<Double>, _ bin: (Double) -> Double) {
            if count >= 1 && count < 1 << 31 {
                var counts = [Int32](repeating: 0, count: count)
                let top = Double(count - 1)
                var bad: UInt8 = 0
                var bad4 = SIMDMask<SIMD4<Int64>>(repeating: false)
                let zeros = SIMD4<Double>(repeating: 0), tops = SIMD4<Double>(repeating: top)
                let lowest = SIMD4<Double>(repeating: -0x1p31), highest = SIMD4<Double>(repeating: 0x1p31)
                let magic = SIMD4<Double>(repeating: 0x1p52)
                values.withUnsafeBufferPointer { v in
                    counts.withUnsafeMutableBufferPointer { counts in
                        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 256) { levels in
                            guard let v = v.baseAddress, let counts = counts.baseAddress,
                                  let levels = levels.baseAddress else { return }
                            var start = 0
                            while start < values.count {
                                let m = min(256, values.count - start)
                                var j = 0
                                while j + 4 <= m {
                                    let r = lanes(UnsafeRawPointer(v + (start &+ j)).loadUnaligned(as: SIMD4<Double>.self))
                                    bad4 .|= .!((r .>= lowest) .& (r .< highest))
                                    // `min(count - 1, max(0, r))`: 0 for NaN (which is bad).
                                    let clamped = zeros.replacing(with: tops.replacing(with: r, where: r .< tops), where: r .> zeros)
                                    let whole = SIMD4<Int32>(truncatingIfNeeded: unsafeBitCast(clamped + magic, to: SIMD4<UInt64>.self))
                                    UnsafeMutableRawPointer(levels + j).storeBytes(of: whole, as: SIMD4<Int32>.self)
                                    j += 4
                                }
                                while j < m {
                                    let r = bin(v[start &+ j])
                                    bad |= r >= -0x1p31 && r < 0x1p31 ? 0 : 1
                                    let clamped = r > 0 ? (r < top ? r : top) : 0
                                    levels[j] = Int32(truncatingIfNeeded: (clamped + 0x1p52).bitPattern)
                                    j += 1
                                }
                                for j in 0..<m { counts[Int(levels[j])] &+= 1 }
                                start += m
                            }
                        }
                    }
                }
                if bad == 0 && !any(bad4) {
                    hist = counts.mapVoxels(Double.init)
                    return
                }
            }
            hist = [Double](repeating: 0, count: count)
            hist.withUnsafeMutableBufferPointer { hist in
                for x in values { hist[min(count - 1, max(0, Int(bin(x))))] += 1 }
            }
        }
        var intensityOf: (Int) -> Double
        var step: Double
        switch discretisation {
        case .none:
            count = max(1, Int((rMax - rMin).rounded()) + 1)
            let rMins = SIMD4<Double>(repeating: rMin)
            countBins({ ($0 - rMins).rounded(.toNearestOrAwayFromZero) }, { ($0 - rMin).rounded() })
            intensityOf = { rMin + Double($0) }
            step = 1
        case .fixedBinSize(let w):
            count = Int(((rMax - rMin) / w).rounded(.up)) + 1
            let rMins = SIMD4<Double>(repeating: rMin), ws = SIMD4<Double>(repeating: w)
            countBins({ (($0 - rMins) / ws).rounded(.down) }, { (($0 - rMin) / w).rounded(.down) })
            intensityOf = { rMin + (Double($0) + 0.5) * w }
            step = w
        case .fixedBinNumber(let ng):
            count = max(ng, 1)
            let los = SIMD4<Double>(repeating: lo), ngs = SIMD4<Double>(repeating: Double(ng))
            let spans = SIMD4<Double>(repeating: hi - lo)
            countBins({ hi > lo ? (ngs * ($0 - los) / spans).rounded(.down) : SIMD4(repeating: 0) },
                      { hi > lo ? (Double(ng) * ($0 - lo) / (hi - lo)).rounded(.down) : 0 })
            intensityOf = { Double($0 + 1) }
            step = 1
        }
        let n = Double(values.count)
        let gLo = intensityOf(0), gHi = intensityOf(count - 1)
        // ν(level) = fraction at or above the level; γ(level) = intensity fraction.
        var nu = [Double](repeating: 0, count: count), gamma = [Double](repeating: 0, count: count)
        var below = 0.0
        for t in 0..<count {
            nu[t] = 1 - below / n
            below += hist[t]
            gamma[t] = gHi > gLo ? (intensityOf(t) - gLo) / (gHi - gLo) : 0
        }
        func volumeAt(_ x: Double) -> Double {
            var best = 0.0
            for t in 0..<count where gamma[t] >= x - 1e-12 { best = max(best, nu[t]) }
            return best
        }
        func intensityAt(_ x: Double) -> Double {
            for t in 0..<count where nu[t] <= x { return intensityOf(t) }
            return intensityOf(count - 1) + step
        }
        var auc = 0.0
        for t in 1..<max(count, 1) { auc += (gamma[t] - gamma[t - 1]) * (nu[t] + nu[t - 1]) / 2 }
        let v10 = volumeAt(0.1), v90 = volumeAt(0.9), i10 = intensityAt(0.1), i90 = intensityAt(0.9)
        return zip(names, [v10, v90, i10, i90, v10 - v90, i10 - i90, auc]).map {
            FeatureValue(family: .intensityVolumeHistogram, name: $0.0, ibsiTag: "ivh_\($0.0)", value: $0.1)
        }
    }

    /// `(values.min(), values.max())`, nil for no values. Without NaN, four at a time (`LaneExtremes`: the same
    /// lowest and highest value; of +0 and -0 either may be kept, which changes no feature: each level and intensity
    /// is the same number). With a NaN, `min()` and `max()` themselves (a leading NaN is their result).
    private static func extremes(_ values: [Double]) -> (lo: Double, hi: Double)? {
        guard !values.isEmpty else { return nil }
        var lanes = LaneExtremes()
        var nan = SIMDMask<SIMD4<Int64>>(repeating: false)
        var lo = Double.infinity, hi = -Double.infinity, tailNaN = false
        values.withUnsafeBufferPointer { v in
            guard let base = v.baseAddress else { return }
            var t = 0
            while t + 4 <= v.count {
                let x = UnsafeRawPointer(base + t).loadUnaligned(as: LaneExtremes.Lanes.self)
                lanes.add(x)
                nan .|= x .!= x
                t += 4
            }
            for x in v[t...] {
                lo = min(lo, x)
                hi = max(hi, x)
                tailNaN = tailNaN || x.isNaN
            }
        }
        guard !any(nan) && !tailNaN else { return (values.min()!, values.max()!) }
        return lanes.range(with: lo, hi)
    }
}

import ImagingCore

/// Local intensity features (IBSI 1, section 3.2): means over a 1 cm³ sphere.
///
/// The sphere has radius r = (3 / (4π))^(1/3) cm ≈ 6.2 mm and holds every image voxel whose centre
/// lies within r of the centre voxel's centre, inside the ROI or not.
///
/// - `peak_loc` (VJGA): local intensity peak, the sphere mean around the ROI voxel of highest
///   intensity (the largest such mean when several voxels share the maximum)
/// - `peak_glob` (0F91): global intensity peak, the largest sphere mean around any ROI voxel
public enum LocalIntensity {
    /// Features of `region` (sphere means read the region box, which extends beyond the ROI).
    static func features(_ region: PreparedRegion) -> [FeatureValue] {
        let g = region.grid, n = g.size
        let r = Preprocessor.peakRadiusMM
        // Sphere as rows along x: for each (dj, dk), the half-width in voxels along x.
        var rows = [(dj: Int, dk: Int, half: Int)]()
        let (rj, rk) = reach(spacing: g.spacing)
        for dk in -rk...rk {
            for dj in -rj...rj {
                let rest = r * r * (1 + 1e-12) - sq(Double(dj) * g.spacing.y) - sq(Double(dk) * g.spacing.z)
                guard rest >= 0 else { continue }
                rows.append((dj, dk, Int((rest.squareRoot() / g.spacing.x + 1e-9).rounded(.down))))
            }
        }
        let extents = region.intensityExtents()
        // The largest ROI intensity, four voxels at a time (lane by lane, then over the lanes). Only its value
        // matters (it is compared with intensities), so which of -0 and +0 it is when both occur does not.
        var maxIntensity = -Double.infinity
        region.intensityMask.withUnsafeBufferPointer { mask in
            region.intensities.withUnsafeBufferPointer { x in
                var lanes = SIMD4<Double>(repeating: -.infinity)
                for (row, extent) in extents.enumerated() where extent.lower <= extent.upper {
                    var t = row * n.nx + extent.lower
                    let end = row * n.nx + extent.upper + 1
                    while t + 4 <= end {
                        let v = UnsafeRawPointer(x.baseAddress! + t).loadUnaligned(as: SIMD4<Double>.self)
                        // Four voxels in the ROI (four true Bools) or some outside.
                        if UnsafeRawPointer(mask.baseAddress! + t).loadUnaligned(as: UInt32.self) == 0x0101_0101 {
                            lanes.replace(with: v, where: v .> lanes)
                        } else {
                            let inROI = SIMD4<Int64>(truncatingIfNeeded: UnsafeRawPointer(mask.baseAddress! + t)
                                .loadUnaligned(as: SIMD4<UInt8>.self)) .!= 0
                            lanes.replace(with: v, where: inROI .& (v .> lanes))
                        }
                        t += 4
                    }
                    for t in t..<end where mask[t] { maxIntensity = max(maxIntensity, x[t]) }
                }
                for lane in 0..<4 { maxIntensity = max(maxIntensity, lanes[lane]) }
            }
        }
        guard maxIntensity.isFinite else {
            return ["peak_loc", "peak_glob"].map {
                FeatureValue(family: .localIntensity, name: $0, ibsiTag: "loc_\($0)", value: .nan,
                             note: "undefined for an empty ROI")
            }
        }
        // Whole intensities (CT numbers) have exact sums in any order, so whole-number prefix sums give
        // the same means as those of doubles, twice as many at a time.
        let scan = SphereScan(size: n, rows: rows)
        var peaks = Peaks(maxIntensity: maxIntensity)
        if let whole = WholePrefixSums(region.intensities, size: n, limit: Int(Int32.max) / max(scan.fullCount, 1)) {
            scan.run(whole, region: region, extents: extents, peaks: &peaks)
        } else {
            scan.run(DoublePrefixSums(region.intensities, size: n), region: region, extents: extents, peaks: &peaks)
        }
        let (local, global) = (peaks.local, peaks.global)
        return [FeatureValue(family: .localIntensity, name: "peak_loc", ibsiTag: "loc_peak_loc", value: local),
                FeatureValue(family: .localIntensity, name: "peak_glob", ibsiTag: "loc_peak_glob", value: global)]
    }

    @inline(__always) private static func sq(_ x: Double) -> Double { x * x }

    /// The rows (along y) and slices (along z) the sphere reaches on each side of its centre voxel.
    static func reach(spacing: Vector3) -> (rows: Int, slices: Int) {
        let r = Preprocessor.peakRadiusMM
        return (Int(r / spacing.y), Int(r / spacing.z))
    }
}

/// The largest sphere means: around any ROI voxel, and around the ROI voxels of highest intensity.
private struct Peaks {
    let maxIntensity: Double
    var local = -Double.infinity, global = -Double.infinity

    init(maxIntensity: Double) { self.maxIntensity = maxIntensity }
}

/// Prefix sums along x of every row of a box (each row starting with 0), from which the sums of
/// sphere rows follow as differences.
///
/// Every voxel's sphere sum is the same chain of additions (its sphere rows in order, from 0), whichever of
/// `sums`, `quad` and `sum` computes it, so a voxel gives the same mean through each.
private protocol RowPrefixSums {
    /// Sum of the entries `lower ..< upper` of the prefix sums (one row's voxels), as a double.
    func difference(_ upper: Int, _ lower: Int) -> Double
    /// Sphere sums around the voxels at prefix positions `centre ..< centre + 16`, the sphere rows (prefix
    /// offsets) added in order to a sum starting at 0. Sixteen lanes are several independent chains of vector
    /// additions, so that the additions of one chain do not wait on each other (one chain of four lanes waited on
    /// every addition's latency: the scan's largest cost).
    func sums(_ centre: Int, upper: UnsafeBufferPointer<Int>, lower: UnsafeBufferPointer<Int>) -> SIMD16<Double>
    /// The same for the four voxels at `centre ..< centre + 4`.
    func quad(_ centre: Int, upper: UnsafeBufferPointer<Int>, lower: UnsafeBufferPointer<Int>) -> SIMD4<Double>
    /// The same for one voxel.
    func sum(_ centre: Int, upper: UnsafeBufferPointer<Int>, lower: UnsafeBufferPointer<Int>) -> Double
}

/// Prefix sums along x of every row of a box of `size` (each row starting with `zero`), `add`
/// adding an intensity to a sum; four rows are summed side by side so that their additions overlap.
@inline(__always)
private func rowPrefixSums<Sum>(_ intensities: [Double], size n: Size3, zero: Sum,
                                add: (Sum, Double) -> Sum) -> [Sum] {
    let stride = n.nx + 1, rowCount = n.ny * n.nz
    return [Sum](unsafeUninitializedCapacity: stride * rowCount) { prefix, count in
        intensities.withUnsafeBufferPointer { x in
            let x = x.baseAddress!, prefix = prefix.baseAddress!
            var row = 0
            while row + 4 <= rowCount {
                let (x0, x1, x2, x3) = (x + row * n.nx, x + (row + 1) * n.nx, x + (row + 2) * n.nx, x + (row + 3) * n.nx)
                let (p0, p1, p2, p3) = (prefix + row * stride, prefix + (row + 1) * stride,
                                        prefix + (row + 2) * stride, prefix + (row + 3) * stride)
                var (s0, s1, s2, s3) = (zero, zero, zero, zero)
                p0.initialize(to: zero); p1.initialize(to: zero); p2.initialize(to: zero); p3.initialize(to: zero)
                for i in 0..<n.nx {
                    s0 = add(s0, x0[i]); s1 = add(s1, x1[i]); s2 = add(s2, x2[i]); s3 = add(s3, x3[i])
                    (p0 + i + 1).initialize(to: s0); (p1 + i + 1).initialize(to: s1)
                    (p2 + i + 1).initialize(to: s2); (p3 + i + 1).initialize(to: s3)
                }
                row += 4
            }
            for row in row..<rowCount {
                var s = zero
                (prefix + row * stride).initialize(to: zero)
                for i in 0..<n.nx {
                    s = add(s, x[row * n.nx + i])
                    (prefix + row * stride + i + 1).initialize(to: s)
                }
            }
        }
        count = stride * rowCount
    }
}

/// Sums of the sphere rows (prefix offsets `upper` and `lower` from `centre`) around the voxels of
/// the lanes, each row's difference of prefix sums added in order to a sum starting at `zero` by `add`.
@inline(__always)
private func sphereRowSums<Lanes: SIMD>(_ prefix: [Lanes.Scalar], _ centre: Int, upper: UnsafeBufferPointer<Int>,
                                        lower: UnsafeBufferPointer<Int>, zero: Lanes,
                                        add: (_ sum: Lanes, _ upper: Lanes, _ lower: Lanes) -> Lanes) -> Lanes {
    prefix.withUnsafeBufferPointer { prefix in
        let c = UnsafeRawPointer(prefix.baseAddress! + centre), scalar = MemoryLayout<Lanes.Scalar>.stride
        var sum = zero
        for r in 0..<upper.count {
            sum = add(sum, c.loadUnaligned(fromByteOffset: upper[r] &* scalar, as: Lanes.self),
                      c.loadUnaligned(fromByteOffset: lower[r] &* scalar, as: Lanes.self))
        }
        return sum
    }
}

/// Prefix sums in double precision.
private struct DoublePrefixSums: RowPrefixSums {
    let prefix: [Double]

    init(_ intensities: [Double], size n: Size3) {
        prefix = rowPrefixSums(intensities, size: n, zero: 0.0, add: +)
    }

    @inline(__always)
    func difference(_ upper: Int, _ lower: Int) -> Double { prefix[upper] - prefix[lower] }

    @inline(__always)
    func sums(_ centre: Int, upper: UnsafeBufferPointer<Int>, lower: UnsafeBufferPointer<Int>) -> SIMD16<Double> {
        sphereRowSums(prefix, centre, upper: upper, lower: lower, zero: SIMD16<Double>()) { $0 + ($1 - $2) }
    }

    @inline(__always)
    func quad(_ centre: Int, upper: UnsafeBufferPointer<Int>, lower: UnsafeBufferPointer<Int>) -> SIMD4<Double> {
        sphereRowSums(prefix, centre, upper: upper, lower: lower, zero: SIMD4<Double>()) { $0 + ($1 - $2) }
    }

    @inline(__always)
    func sum(_ centre: Int, upper: UnsafeBufferPointer<Int>, lower: UnsafeBufferPointer<Int>) -> Double {
        prefix.withUnsafeBufferPointer { prefix in
            let c = prefix.baseAddress! + centre
            var sum = 0.0
            for r in 0..<upper.count { sum += c[upper[r]] - c[lower[r]] }
            return sum
        }
    }
}

/// Prefix sums of whole intensities in 32-bit integers, for boxes whose intensities are all whole
/// with magnitude at most `limit` (so that no sphere sum leaves the 32-bit range; prefix sums may
/// wrap, their differences do not). Every sum is then the exact one, as the double sums of whole
/// numbers are, so the means are the same.
private struct WholePrefixSums: RowPrefixSums {
    let prefix: [Int32]

    /// Nil when an intensity is not whole or exceeds `limit`.
    init?(_ intensities: [Double], size n: Size3, limit: Int) {
        guard Self.allWhole(intensities, limit: Double(limit)) else { return nil }
        // A whole double below 2^51 in magnitude plus 1.5 * 2^52 holds the number in the low bits of its
        // significand, so that converting needs no range check.
        prefix = rowPrefixSums(intensities, size: n, zero: Int32(0),
                               add: { $0 &+ Int32(truncatingIfNeeded: ($1 + 0x1.8p52).bitPattern) })
    }

    /// Whether every value is whole with magnitude at most `limit` (false for NaN). Checked 64 values at a time,
    /// stopping at the first block that fails: a response map of fractions fails within its first block instead of
    /// being read whole.
    private static func allWhole(_ values: [Double], limit: Double) -> Bool {
        values.withUnsafeBufferPointer { values in
            typealias Lanes = SIMD4<Double>
            var t = 0
            while t + 64 <= values.count {
                var whole = SIMDMask<SIMD4<Int64>>(repeating: true)
                for u in Swift.stride(from: t, to: t + 64, by: 4) {
                    let v = UnsafeRawPointer(values.baseAddress! + u).loadUnaligned(as: Lanes.self)
                    whole .&= (v.rounded(.towardZero) .== v) .& (v .<= Lanes(repeating: limit)) .& (v .>= Lanes(repeating: -limit))
                }
                guard all(whole) else { return false }
                t += 64
            }
            for v in values[t...] where !(v.rounded(.towardZero) == v && abs(v) <= limit) { return false }
            return true
        }
    }

    @inline(__always)
    func difference(_ upper: Int, _ lower: Int) -> Double { Double(prefix[upper] &- prefix[lower]) }

    @inline(__always)
    func sums(_ centre: Int, upper: UnsafeBufferPointer<Int>, lower: UnsafeBufferPointer<Int>) -> SIMD16<Double> {
        SIMD16<Double>(sphereRowSums(prefix, centre, upper: upper, lower: lower, zero: SIMD16<Int32>()) { $0 &+ ($1 &- $2) })
    }

    @inline(__always)
    func quad(_ centre: Int, upper: UnsafeBufferPointer<Int>, lower: UnsafeBufferPointer<Int>) -> SIMD4<Double> {
        SIMD4<Double>(sphereRowSums(prefix, centre, upper: upper, lower: lower, zero: SIMD4<Int32>()) { $0 &+ ($1 &- $2) })
    }

    @inline(__always)
    func sum(_ centre: Int, upper: UnsafeBufferPointer<Int>, lower: UnsafeBufferPointer<Int>) -> Double {
        prefix.withUnsafeBufferPointer { prefix in
            let c = prefix.baseAddress! + centre
            var sum: Int32 = 0
            for r in 0..<upper.count { sum &+= c[upper[r]] &- c[lower[r]] }
            return Double(sum)
        }
    }
}

/// The sphere of the local intensity features as rows along x, and the scan of its means over the ROI.
private struct SphereScan {
    let size: Size3
    let rows: [(dj: Int, dk: Int, half: Int)]
    /// Each sphere row as the prefix positions, relative to the centre voxel's, of its end and of
    /// the voxel before its start.
    let upperOffsets: [Int], lowerOffsets: [Int]
    /// Voxels of the whole sphere.
    let fullCount: Int
    /// The largest half-width and row offsets of the sphere.
    let maxHalf: Int, maxDJ: Int, maxDK: Int

    init(size n: Size3, rows: [(dj: Int, dk: Int, half: Int)]) {
        size = n
        self.rows = rows
        // Prefix rows are one longer than box rows.
        let rowOffsets = rows.map { ($0.dk * n.ny + $0.dj) * (n.nx + 1) }
        upperOffsets = zip(rowOffsets, rows).map { $0 + $1.half + 1 }
        lowerOffsets = zip(rowOffsets, rows).map { $0 - $1.half }
        fullCount = rows.reduce(0) { $0 + 2 * $1.half + 1 }
        maxHalf = rows.map(\.half).max() ?? 0
        maxDJ = rows.map { abs($0.dj) }.max() ?? 0
        maxDK = rows.map { abs($0.dk) }.max() ?? 0
    }

    /// Records the sphere mean of every ROI voxel in `peaks`, whole rows of the sphere as
    /// differences of `prefix`.
    @inline(__always)
    func run<Prefix: RowPrefixSums>(_ prefix: Prefix, region: PreparedRegion, extents: [(lower: Int, upper: Int)],
                                    peaks: inout Peaks) {
        let n = size, stride = n.nx + 1
        let count = Double(fullCount)
        region.intensityMask.withUnsafeBufferPointer { mask in
            region.intensities.withUnsafeBufferPointer { x in
                upperOffsets.withUnsafeBufferPointer { upper in
                    lowerOffsets.withUnsafeBufferPointer { lower in
                        func record(_ t: Int, _ mean: Double) {
                            guard mask[t] else { return }
                            peaks.global = max(peaks.global, mean)
                            if x[t] == peaks.maxIntensity { peaks.local = max(peaks.local, mean) }
                        }
                        // The peaks of the sixteen-voxel groups four lanes at a time, merged into `peaks` at the end. A
                        // peak is the same whichever order the means are compared in: no mean is -0 (a sum of
                        // differences of prefix sums starting from +0 is never -0) and a NaN mean raises no peak.
                        typealias Lanes = SIMD4<Double>
                        let noPeak = Lanes(repeating: -.infinity), highest = Lanes(repeating: peaks.maxIntensity)
                        var global = noPeak, local = noPeak
                        func record4(_ t: Int, _ mean: Lanes) {
                            let inROI = SIMD4<Int64>(truncatingIfNeeded: UnsafeRawPointer(mask.baseAddress! + t)
                                .loadUnaligned(as: SIMD4<UInt8>.self)) .!= 0
                            global.replace(with: mean, where: inROI .& (mean .> global))
                            let intensity = UnsafeRawPointer(x.baseAddress! + t).loadUnaligned(as: Lanes.self)
                            local.replace(with: mean, where: inROI .& (intensity .== highest) .& (mean .> local))
                        }
                        func record16(_ t: Int, _ mean: SIMD16<Double>) {
                            record4(t, mean.lowHalf.lowHalf)
                            record4(t + 4, mean.lowHalf.highHalf)
                            record4(t + 8, mean.highHalf.lowHalf)
                            record4(t + 12, mean.highHalf.highHalf)
                        }
                        defer {
                            for lane in 0..<4 {
                                peaks.global = max(peaks.global, global[lane])
                                peaks.local = max(peaks.local, local[lane])
                            }
                        }
                        for (row, extent) in extents.enumerated() where extent.lower <= extent.upper {
                            let j = row % n.ny, k = row / n.ny
                            let rowInside = j >= maxDJ && j + maxDJ < n.ny && k >= maxDK && k + maxDK < n.nz
                            // The voxels whose sphere lies in the box.
                            let innerLower = rowInside ? max(extent.lower, maxHalf) : extent.upper + 1
                            let innerUpper = rowInside ? min(extent.upper, n.nx - maxHalf - 1) : extent.upper
                            // Those before `innerLower` and after `innerUpper` (each once when the two cross).
                            let leftEnd = min(innerLower, extent.upper + 1)
                            for i in Swift.stride(from: extent.lower, to: leftEnd, by: 1) where mask[row * n.nx + i] {
                                record(row * n.nx + i, clippedMean(prefix, i, j, k))
                            }
                            for i in Swift.stride(from: max(innerUpper + 1, leftEnd), through: extent.upper, by: 1)
                            where mask[row * n.nx + i] {
                                record(row * n.nx + i, clippedMean(prefix, i, j, k))
                            }
                            guard innerLower <= innerUpper else { continue }
                            // Sixteen voxels at a time, then four; the last few as part of a group that ends at
                            // `innerUpper` and overlaps voxels already recorded (recording a mean again changes
                            // no peak), one at a time only in rows of fewer than four. More than eight left of a
                            // row of sixteen or more go as one such group of sixteen (it costs less than three
                            // of four: its row sums are loaded and added as four independent chains).
                            let end = innerUpper + 1
                            var i = innerLower
                            while i + 16 <= end {
                                record16(row * n.nx + i, prefix.sums(row * stride + i, upper: upper, lower: lower) / count)
                                i += 16
                            }
                            if end - i > 8 && end - innerLower >= 16 {
                                record16(row * n.nx + end - 16,
                                         prefix.sums(row * stride + end - 16, upper: upper, lower: lower) / count)
                                i = end
                            }
                            while i < end && end - innerLower >= 4 {
                                let start = min(i, end - 4)
                                record4(row * n.nx + start, prefix.quad(row * stride + start, upper: upper, lower: lower) / count)
                                i = start + 4
                            }
                            while i < end {
                                record(row * n.nx + i, prefix.sum(row * stride + i, upper: upper, lower: lower) / count)
                                i += 1
                            }
                        }
                    }
                }
            }
        }
    }

    /// The sphere mean around a voxel whose sphere leaves the box (clipped rows).
    private func clippedMean<Prefix: RowPrefixSums>(_ prefix: Prefix, _ i: Int, _ j: Int, _ k: Int) -> Double {
        let n = size, stride = n.nx + 1
        var sum = 0.0, count = 0
        for row in rows {
            let jj = j + row.dj, kk = k + row.dk
            guard jj >= 0, jj < n.ny, kk >= 0, kk < n.nz else { continue }
            let lo = max(0, i - row.half), hi = min(n.nx - 1, i + row.half)
            let base = (kk * n.ny + jj) * stride
            sum += prefix.difference(base + hi + 1, base + lo)
            count += hi - lo + 1
        }
        return sum / Double(count)
    }
}

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
        let rj = Int(r / g.spacing.y), rk = Int(r / g.spacing.z)
        for dk in -rk...rk {
            for dj in -rj...rj {
                let rest = r * r * (1 + 1e-12) - sq(Double(dj) * g.spacing.y) - sq(Double(dk) * g.spacing.z)
                guard rest >= 0 else { continue }
                rows.append((dj, dk, Int((rest.squareRoot() / g.spacing.x + 1e-9).rounded(.down))))
            }
        }
        // Prefix sums along x of every row of the box.
        let stride = n.nx + 1
        var prefix = [Double](repeating: 0, count: stride * n.ny * n.nz)
        for row in 0..<(n.ny * n.nz) {
            var s = 0.0
            for i in 0..<n.nx {
                s += region.intensities[row * n.nx + i]
                prefix[row * stride + i + 1] = s
            }
        }
        // Rows relative to the centre voxel's row in the prefix array.
        let rowOffsets = rows.map { ($0.dk * n.ny + $0.dj) * stride }, halves = rows.map(\.half)
        let fullCount = Double(rows.reduce(0) { $0 + 2 * $1.half + 1 })
        let maxHalf = halves.max() ?? 0
        let maxDJ = rows.map { abs($0.dj) }.max() ?? 0, maxDK = rows.map { abs($0.dk) }.max() ?? 0
        let sums = prefix
        /// Whether the sphere around (i, j, k) lies in the box.
        func inside(_ i: Int, _ j: Int, _ k: Int) -> Bool {
            i >= maxHalf && i + maxHalf < n.nx && j >= maxDJ && j + maxDJ < n.ny && k >= maxDK && k + maxDK < n.nz
        }
        /// The sphere mean around a voxel whose sphere leaves the box (clipped rows).
        func clippedMean(_ i: Int, _ j: Int, _ k: Int, _ prefix: UnsafeBufferPointer<Double>) -> Double {
            var sum = 0.0, count = 0
            for row in rows {
                let jj = j + row.dj, kk = k + row.dk
                guard jj >= 0, jj < n.ny, kk >= 0, kk < n.nz else { continue }
                let lo = max(0, i - row.half), hi = min(n.nx - 1, i + row.half)
                let base = (kk * n.ny + jj) * stride
                sum += prefix[base + hi + 1] - prefix[base + lo]
                count += hi - lo + 1
            }
            return sum / Double(count)
        }
        var maxIntensity = -Double.infinity
        for t in 0..<region.intensityMask.count where region.intensityMask[t] {
            maxIntensity = max(maxIntensity, region.intensities[t])
        }
        guard maxIntensity.isFinite else {
            return ["peak_loc", "peak_glob"].map {
                FeatureValue(family: .localIntensity, name: $0, ibsiTag: "loc_\($0)", value: .nan,
                             note: "undefined for an empty ROI")
            }
        }
        // Sphere sums of the ROI voxels whose sphere lies in the box, one row of the sphere at a time over
        // whole stretches of x (the rows added in the same order as voxel by voxel, so the sums are the same).
        var spans = [(row: Int, lo: Int, hi: Int)]()
        for k in maxDK..<max(maxDK, n.nz - maxDK) {
            for j in maxDJ..<max(maxDJ, n.ny - maxDJ) {
                let row = (k * n.ny + j) * n.nx
                var lo = maxHalf, hi = n.nx - maxHalf - 1
                while lo <= hi && !region.intensityMask[row + lo] { lo += 1 }
                while hi >= lo && !region.intensityMask[row + hi] { hi -= 1 }
                if lo <= hi { spans.append(((k * n.ny + j), lo, hi)) }
            }
        }
        var inner = [Double](repeating: 0, count: n.count)
        sums.withUnsafeBufferPointer { prefix in
            inner.withUnsafeMutableBufferPointer { inner in
                for r in 0..<rows.count {
                    let h = halves[r], offset = rowOffsets[r]
                    for span in spans {
                        let source = prefix.baseAddress! + span.row * stride + offset
                        let upper = source + h + 1, lower = source - h
                        let target = inner.baseAddress! + span.row * n.nx
                        for i in span.lo...span.hi { target[i] += upper[i] - lower[i] }
                    }
                }
            }
        }
        var local = -Double.infinity, global = -Double.infinity
        sums.withUnsafeBufferPointer { prefix in
            for k in 0..<n.nz {
                for j in 0..<n.ny {
                    for i in 0..<n.nx {
                        let t = (k * n.ny + j) * n.nx + i
                        guard region.intensityMask[t] else { continue }
                        let m = inside(i, j, k) ? inner[t] / fullCount : clippedMean(i, j, k, prefix)
                        global = max(global, m)
                        if region.intensities[t] == maxIntensity { local = max(local, m) }
                    }
                }
            }
        }
        return [FeatureValue(family: .localIntensity, name: "peak_loc", ibsiTag: "loc_peak_loc", value: local),
                FeatureValue(family: .localIntensity, name: "peak_glob", ibsiTag: "loc_peak_glob", value: global)]
    }

    @inline(__always) private static func sq(_ x: Double) -> Double { x * x }
}

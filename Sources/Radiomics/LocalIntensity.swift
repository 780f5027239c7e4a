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
        // Prefix sums along x of every row of the box (each row starts with 0), four rows side by side
        // so that their additions overlap.
        let stride = n.nx + 1, rowCount = n.ny * n.nz
        let prefix = [Double](unsafeUninitializedCapacity: stride * rowCount) { prefix, count in
            region.intensities.withUnsafeBufferPointer { x in
                let x = x.baseAddress!, prefix = prefix.baseAddress!
                var row = 0
                while row + 4 <= rowCount {
                    let (x0, x1, x2, x3) = (x + row * n.nx, x + (row + 1) * n.nx, x + (row + 2) * n.nx, x + (row + 3) * n.nx)
                    let (p0, p1, p2, p3) = (prefix + row * stride, prefix + (row + 1) * stride,
                                            prefix + (row + 2) * stride, prefix + (row + 3) * stride)
                    var (s0, s1, s2, s3) = (0.0, 0.0, 0.0, 0.0)
                    p0[0] = 0; p1[0] = 0; p2[0] = 0; p3[0] = 0
                    for i in 0..<n.nx {
                        s0 += x0[i]; s1 += x1[i]; s2 += x2[i]; s3 += x3[i]
                        p0[i + 1] = s0; p1[i + 1] = s1; p2[i + 1] = s2; p3[i + 1] = s3
                    }
                    row += 4
                }
                for row in row..<rowCount {
                    var s = 0.0
                    prefix[row * stride] = 0
                    for i in 0..<n.nx {
                        s += x[row * n.nx + i]
                        prefix[row * stride + i + 1] = s
                    }
                }
            }
            count = stride * rowCount
        }
        // Each sphere row as the prefix positions, relative to the centre voxel's, of its end and of
        // the voxel before its start.
        let rowOffsets = rows.map { ($0.dk * n.ny + $0.dj) * stride }
        let upperOffsets = zip(rowOffsets, rows).map { $0 + $1.half + 1 }
        let lowerOffsets = zip(rowOffsets, rows).map { $0 - $1.half }
        let fullCount = Double(rows.reduce(0) { $0 + 2 * $1.half + 1 })
        let maxHalf = rows.map(\.half).max() ?? 0
        let maxDJ = rows.map { abs($0.dj) }.max() ?? 0, maxDK = rows.map { abs($0.dk) }.max() ?? 0
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
        let extents = Preprocessor.rowExtents(region.intensityMask, size: n)
        var maxIntensity = -Double.infinity
        region.intensityMask.withUnsafeBufferPointer { mask in
            region.intensities.withUnsafeBufferPointer { x in
                for (row, extent) in extents.enumerated() where extent.lower <= extent.upper {
                    for t in (row * n.nx + extent.lower)...(row * n.nx + extent.upper) where mask[t] {
                        maxIntensity = max(maxIntensity, x[t])
                    }
                }
            }
        }
        guard maxIntensity.isFinite else {
            return ["peak_loc", "peak_glob"].map {
                FeatureValue(family: .localIntensity, name: $0, ibsiTag: "loc_\($0)", value: .nan,
                             note: "undefined for an empty ROI")
            }
        }
        // Sphere sums one voxel (or four neighbours along x) at a time, the rows of the sphere added in
        // order to a sum starting at 0, each row as a difference of prefix sums.
        var local = -Double.infinity, global = -Double.infinity
        prefix.withUnsafeBufferPointer { prefix in
            region.intensityMask.withUnsafeBufferPointer { mask in
                region.intensities.withUnsafeBufferPointer { x in
                    upperOffsets.withUnsafeBufferPointer { upperOffsets in
                        lowerOffsets.withUnsafeBufferPointer { lowerOffsets in
                            let sums = prefix.baseAddress!
                            func record(_ t: Int, _ mean: Double) {
                                guard mask[t] else { return }
                                global = max(global, mean)
                                if x[t] == maxIntensity { local = max(local, mean) }
                            }
                            for (row, extent) in extents.enumerated() where extent.lower <= extent.upper {
                                let j = row % n.ny, k = row / n.ny
                                let rowInside = j >= maxDJ && j + maxDJ < n.ny && k >= maxDK && k + maxDK < n.nz
                                // The voxels whose sphere lies in the box.
                                let innerLower = rowInside ? max(extent.lower, maxHalf) : extent.upper + 1
                                let innerUpper = rowInside ? min(extent.upper, n.nx - maxHalf - 1) : extent.upper
                                for i in extent.lower...extent.upper where i < innerLower || i > innerUpper {
                                    if mask[row * n.nx + i] { record(row * n.nx + i, clippedMean(i, j, k, prefix)) }
                                }
                                guard innerLower <= innerUpper else { continue }
                                var i = innerLower
                                while i + 4 <= innerUpper + 1 {
                                    let centre = sums + row * stride + i
                                    var sum = SIMD4<Double>(repeating: 0)
                                    for r in 0..<upperOffsets.count {
                                        sum += load4(centre + upperOffsets[r]) - load4(centre + lowerOffsets[r])
                                    }
                                    let mean = sum / fullCount
                                    for lane in 0..<4 { record(row * n.nx + i + lane, mean[lane]) }
                                    i += 4
                                }
                                while i <= innerUpper {
                                    let centre = sums + row * stride + i
                                    var sum = 0.0
                                    for r in 0..<upperOffsets.count { sum += centre[upperOffsets[r]] - centre[lowerOffsets[r]] }
                                    record(row * n.nx + i, sum / fullCount)
                                    i += 1
                                }
                            }
                        }
                    }
                }
            }
        }
        return [FeatureValue(family: .localIntensity, name: "peak_loc", ibsiTag: "loc_peak_loc", value: local),
                FeatureValue(family: .localIntensity, name: "peak_glob", ibsiTag: "loc_peak_glob", value: global)]
    }

    @inline(__always) private static func sq(_ x: Double) -> Double { x * x }

    @inline(__always) private static func load4(_ p: UnsafePointer<Double>) -> SIMD4<Double> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Double>.self)
    }
}

import Foundation
import ImagingCore

/// Resampling on the IBSI grid: the new grid keeps the centre of the original image.
///
/// Along an axis with `n` voxels of spacing `s`, a target spacing `s'` gives `n' = ceil(n s / s')`
/// voxels whose centre coincides with the original centre (IBSI 1, section 2.4), so new voxel `m`
/// sits at original continuous index `(n - 1)/2 + (m - (n' - 1)/2) s'/s`. Work is done on a box
/// of the new grid only (the lesion and its margin), never the whole image.
enum Resampler {
    /// How one axis maps from the original to the new grid.
    struct AxisMap {
        /// Voxels on the full new grid along this axis.
        let newCount: Int
        let newSpacing: Double
        /// Original continuous index of new index 0, and the step per new index.
        let offset: Double
        let step: Double
        /// Whether the axis is left as it is (no interpolation along it).
        let identity: Bool

        func oldIndex(_ m: Int) -> Double { offset + Double(m) * step }
        /// New continuous index of original continuous index `c`.
        func newIndex(_ c: Double) -> Double { (c - offset) / step }
    }

    /// Per-axis maps of `grid` under `resampling` (identity maps when nil).
    static func axisMaps(for grid: ImageGrid, resampling: ExtractionSettings.Resampling?) throws -> [AxisMap] {
        return try (0..<3).map { axis in
            let n = grid.size[axis], s = grid.spacing[axis]
            guard let r = resampling, !(r.inPlaneOnly && axis == 2) else {
                return AxisMap(newCount: n, newSpacing: s, offset: 0, step: 1, identity: true)
            }
            guard r.spacing.count == 3 || (r.inPlaneOnly && r.spacing.count >= 2) else {
                throw RadiomicsError.invalidSettings("resampling spacing needs 3 values (x, y, z), got \(r.spacing)")
            }
            let target = r.spacing[axis]
            guard target > 0, target.isFinite else {
                throw RadiomicsError.invalidSettings("resampling spacing \(r.spacing) must be positive")
            }
            // A count beyond what an index can hold is refused before it is converted (settings made in
            // code skip the bounds; the memory estimate reads these maps before anything is allocated).
            let exact = (Double(n) * s / target - 1e-9).rounded(.up)
            guard exact <= Double(Int32.max) else {
                throw RadiomicsError.invalidSettings("resampling spacing \(target) mm (--spacing, resampling.spacing) gives \(exact) voxels along \(["x", "y", "z"][axis]) for an image \(Double(n) * s) mm long, more than \(Int32.max)")
            }
            let nNew = Int(exact)
            let step = target / s
            let offset = Double(n - 1) / 2 - Double(nNew - 1) / 2 * step
            return AxisMap(newCount: max(nNew, 1), newSpacing: target, offset: offset, step: step, identity: false)
        }
    }

    /// The full resampled grid (same direction; origin moved so that the centres coincide).
    static func newGrid(of grid: ImageGrid, maps: [AxisMap]) -> ImageGrid {
        let origin = grid.world(atContinuousIndex: Vector3(maps[0].offset, maps[1].offset, maps[2].offset))
        return ImageGrid(size: Size3(maps[0].newCount, maps[1].newCount, maps[2].newCount),
                         spacing: Vector3(maps[0].newSpacing, maps[1].newSpacing, maps[2].newSpacing),
                         origin: origin, direction: grid.direction)
    }

    /// Interpolation taps along one axis: for each output sample, source indices and weights.
    struct Taps {
        var width: Int
        var index: [Int]
        var weight: [Double]
    }

    /// Taps along an axis for new indices `range`, sampling a source whose index 0 is original index
    /// `sourceLower` and which has `sourceCount` samples (indices are clamped at its ends).
    static func taps(map: AxisMap, range: ClosedRange<Int>, sourceLower: Int, sourceCount: Int,
                     interpolation: ExtractionSettings.Interpolation) -> Taps {
        let width: Int
        if map.identity { width = 1 } else {
            switch interpolation {
            case .nearest: width = 1
            case .linear: width = 2
            case .cubic, .bspline: width = 4
            }
        }
        var index = [Int](), weight = [Double]()
        index.reserveCapacity(range.count * width)
        weight.reserveCapacity(range.count * width)
        func clamp(_ i: Int) -> Int { min(max(i, 0), sourceCount - 1) }
        for m in range {
            let c = map.oldIndex(m) - Double(sourceLower)
            if map.identity {
                index.append(clamp(Int(c.rounded()))); weight.append(1)
                continue
            }
            switch interpolation {
            case .nearest:
                // Half-way points go up, as IBSI's rounding of index coordinates.
                index.append(clamp(Int((c + 0.5).rounded(.down))))
                weight.append(1)
            case .linear:
                let f = c.rounded(.down), t = c - f
                index.append(clamp(Int(f))); weight.append(1 - t)
                index.append(clamp(Int(f) + 1)); weight.append(t)
            case .cubic, .bspline:
                let f = c.rounded(.down), t = c - f
                let w = interpolation == .cubic ? keysWeights(t) : bSplineWeights(t)
                for q in 0..<4 {
                    index.append(clamp(Int(f) - 1 + q)); weight.append(w[q])
                }
            }
        }
        return Taps(width: width, index: index, weight: weight)
    }

    /// Cubic B-spline weights β³(t + 1), β³(t), β³(1 - t), β³(2 - t) of the four coefficients around
    /// fraction `t` (at -1, 0, 1, 2), where β³(x) = 2/3 - x² + |x|³/2 for |x| < 1 and (2 - |x|)³/6
    /// for 1 <= |x| < 2.
    static func bSplineWeights(_ t: Double) -> [Double] {
        let u = 1 - t
        return [u * u * u / 6, (3 * t * t * t - 6 * t * t + 4) / 6, (-3 * t * t * t + 3 * t * t + 3 * t + 1) / 6,
                t * t * t / 6]
    }

    /// Keys' cubic convolution weights (a = -0.5) of the four samples around fraction `t` (at -1, 0,
    /// 1, 2): W(x) = (a + 2)|x|³ - (a + 3)|x|² + 1 for |x| <= 1, a|x|³ - 5a|x|² + 8a|x| - 4a for
    /// 1 < |x| < 2. They sum to 1 and reproduce polynomials up to degree 2.
    static func keysWeights(_ t: Double) -> [Double] {
        let a = -0.5
        func near(_ x: Double) -> Double { ((a + 2) * x - (a + 3)) * x * x + 1 }
        func far(_ x: Double) -> Double { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
        return [far(1 + t), near(t), near(1 - t), far(2 - t)]
    }

    /// The pole of the cubic B-spline prefilter, √3 - 2.
    static let bSplinePole = 3.0.squareRoot() - 2

    /// Edge samples added beyond an image end before the B-spline prefilter, as scipy's
    /// `map_coordinates(mode="nearest")` pads (its `_prepad_for_spline_filter`: 12 samples).
    static let bSplineEdgePadding = 12

    /// Original samples read beyond the new box on each side (where the image has them) for the
    /// B-spline prefilter: a box edge this far away changes the coefficients inside by at most
    /// |pole|^24 ≈ 2e-14 of the intensity range, so cropping to the lesion box gives the whole-image result.
    static let bSplineMargin = 24

    /// Turns samples into cubic B-spline coefficients along one axis, so that Σ_k c_k β³(x - k) passes
    /// through every sample (Unser, Aldroubi & Eden 1993: gain (1 - z)(1 - 1/z), a causal then an
    /// anti-causal first-order recursion with pole z = √3 - 2), the signal mirrored at both ends
    /// (whole-sample symmetry, as scipy's `spline_filter1d(mode="mirror")`).
    static func bSplinePrefilter(_ data: inout [Double], size: Size3, axis: Int) {
        let pole = bSplinePole
        let gain = (1 - pole) * (1 - 1 / pole)
        let n = size[axis]
        guard n > 1 else { return }
        let gap = axis == 0 ? 1 : (axis == 1 ? size.nx : size.nx * size.ny)
        var line = [Double](repeating: 0, count: n)
        let outer = size.count / n
        // Causal initialisation over the mirrored signal of period 2n - 2: the terms beyond 40 are
        // below 1e-22 of the sum and left out.
        let period = 2 * n - 2
        let terms = min(period, 40)
        let norm = 1 / (1 - Foundation.pow(pole, Double(period)))
        for o in 0..<outer {
            let start: Int
            switch axis {
            case 0: start = o * size.nx
            case 1: start = (o / size.nx) * size.nx * size.ny + o % size.nx
            default: start = o
            }
            for t in 0..<n { line[t] = data[start + t * gap] * gain }
            var sum = 0.0, zn = 1.0
            for k in 0..<terms {
                sum += zn * line[k < n ? k : period - k]
                zn *= pole
            }
            line[0] = sum * norm
            for t in 1..<n { line[t] += pole * line[t - 1] }
            line[n - 1] = pole / (pole * pole - 1) * (line[n - 1] + pole * line[n - 2])
            for t in stride(from: n - 2, through: 0, by: -1) { line[t] = pole * (line[t + 1] - line[t]) }
            for t in 0..<n { data[start + t * gap] = line[t] }
        }
    }

    /// Applies per-axis taps separably: `source` (size `size`) becomes an array of the taps' sizes.
    static func apply(_ source: [Double], size: Size3, taps: [Taps]) -> (values: [Double], size: Size3) {
        var data = source
        var cur = size
        for axis in 0..<3 {
            let tp = taps[axis]
            let outCount = tp.index.count / tp.width
            var next = cur
            switch axis {
            case 0: next.nx = outCount
            case 1: next.ny = outCount
            default: next.nz = outCount
            }
            var out = [Double](repeating: 0, count: next.count)
            let w = tp.width
            tp.index.withUnsafeBufferPointer { idx in
                tp.weight.withUnsafeBufferPointer { wt in
                    data.withUnsafeBufferPointer { src in
                        out.withUnsafeMutableBufferPointer { dst in
                            switch axis {
                            case 0:
                                for row in 0..<(cur.ny * cur.nz) {
                                    let sBase = row * cur.nx, dBase = row * next.nx
                                    for m in 0..<outCount {
                                        var acc = 0.0
                                        for q in 0..<w { acc += wt[m * w + q] * src[sBase + idx[m * w + q]] }
                                        dst[dBase + m] = acc
                                    }
                                }
                            case 1:
                                for k in 0..<cur.nz {
                                    for m in 0..<outCount {
                                        let dBase = (k * next.ny + m) * next.nx
                                        for q in 0..<w {
                                            let sBase = (k * cur.ny + idx[m * w + q]) * cur.nx
                                            let f = wt[m * w + q]
                                            for i in 0..<cur.nx { dst[dBase + i] += f * src[sBase + i] }
                                        }
                                    }
                                }
                            default:
                                let plane = cur.nx * cur.ny
                                for m in 0..<outCount {
                                    let dBase = m * plane
                                    for q in 0..<w {
                                        let sBase = idx[m * w + q] * plane
                                        let f = wt[m * w + q]
                                        for p in 0..<plane { dst[dBase + p] += f * src[sBase + p] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            data = out
            cur = next
        }
        return (data, cur)
    }
}

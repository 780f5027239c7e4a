import Foundation
import ImagingCore

/// Morphological features (IBSI 1, section 3.1): the shape of the region.
///
/// V and A are the volume and area of the marching-cubes mesh of the morphological mask
/// (`SurfaceMesh`); N_v voxels of the morphological mask with centres r_k; λ1 ≥ λ2 ≥ λ3 the
/// eigenvalues of the sample (N_v - 1) covariance of those centres; X_k the intensities of the intensity mask.
///
/// - `volume` (RNU0): V, mesh volume
/// - `vol_approx` (YEKZ): N_v times the voxel volume
/// - `area_mesh` (C0JK): A
/// - `av` (2PR5): A / V
/// - `comp_1` (SKGS): V / (π^(1/2) A^(3/2)); `comp_2` (BQWJ): 36 π V² / A³
/// - `sph_dispr` (KRCK): A / (36 π V²)^(1/3); `sphericity` (QCFX): (36 π V²)^(1/3) / A;
///   `asphericity` (25C7): (A³ / (36 π V²))^(1/3) - 1
/// - `com` (KLMA): distance between the geometric centre of the morphological mask and the
///   intensity-weighted centre Σ X_k r_k / Σ X_k of the intensity mask
/// - `diam` (L0JK): largest distance between two mesh vertices (among convex-hull vertices)
/// - `pca_maj_axis` (TDIC), `pca_min_axis` (P9VJ), `pca_least_axis` (7J51): 4 sqrt(λ1), 4 sqrt(λ2), 4 sqrt(λ3)
/// - `pca_elongation` (Q3CK): sqrt(λ2 / λ1); `pca_flatness` (N17B): sqrt(λ3 / λ1)
/// - `vol_dens_aabb` (PBX1), `area_dens_aabb` (R59B): V and A over the volume and area of the
///   axis-aligned bounding box of the mesh vertices
/// - `vol_dens_ombb` (ZH1A), `area_dens_ombb` (IQYR): the same for an oriented bounding box; as IBSI
///   allows, approximated by the box aligned with the principal axes (no consensus reference)
/// - `vol_dens_aee` (6BDE), `area_dens_aee` (RDD2): V and A over the approximate enclosing ellipsoid
///   with semi-axes 2 sqrt(λ1), 2 sqrt(λ2), 2 sqrt(λ3); its area by IBSI's Legendre series (20 terms)
/// - `vol_dens_mvee` (SWZ1), `area_dens_mvee` (BRI8): the same for the minimum-volume enclosing
///   ellipsoid of the hull vertices (Khachiyan's algorithm with Todd-Yildirim away steps, tolerance 1e-4,
///   at most 2000 steps; no consensus reference)
/// - `vol_dens_conv_hull` (R3ER), `area_dens_conv_hull` (7T7F): V / V_hull and A / A_hull
/// - `integ_int` (99N0): V times the mean intensity of the intensity mask
/// - `moran_i` (N365): N Σ_{i≠j} w_ij (X_i - μ)(X_j - μ) / (Σ_{i≠j} w_ij Σ (X_i - μ)²)
/// - `geary_c` (NPT7): (N - 1) Σ_{i≠j} w_ij (X_i - X_j)² / (2 Σ_{i≠j} w_ij Σ (X_i - μ)²);
///   both with w_ij = 1 / |r_i - r_j| over all pairs of intensity-mask voxels (every pair, no sampling;
///   see `SpatialAutocorrelation` for the FFT evaluation, which is single-precision with double sums:
///   within 1e-6 relative of the direct double-precision sums)
public enum MorphologicalFeatures {
    static func features(_ region: PreparedRegion) -> [FeatureValue] {
        var out = shapeFeatures(region)
        let (moran, geary) = SpatialAutocorrelation.moranAndGeary(region)
        let few = "undefined for fewer than two voxels or constant intensities"
        out.append(feature("moran_i", moran, note: few))
        out.append(feature("geary_c", geary, note: few))
        return out
    }

    /// A morphological feature value; a ratio with a zero denominator (a one-voxel region has no
    /// principal extent) is undefined.
    static func feature(_ name: String, _ value: Double, note: String? = nil) -> FeatureValue {
        let v = value.isFinite ? value : .nan
        return FeatureValue(family: .morphology, name: name, ibsiTag: "morph_\(name)", value: v,
                            note: v.isNaN ? (note ?? "undefined for this region") : nil)
    }

    /// Every morphological feature but Moran's I and Geary's C.
    static func shapeFeatures(_ region: PreparedRegion) -> [FeatureValue] {
        var out = [FeatureValue]()
        func add(_ name: String, _ value: Double, note: String? = nil) { out.append(feature(name, value, note: note)) }
        let g = region.grid, n = g.size, sp = g.spacing
        let morph = PackedMask(region.morphMask, size: n)
        let mesh = SurfaceMesh(morph, spacing: sp)
        let v = mesh.volume, a = mesh.area
        let moments = IndexMoments(morph)
        let nv = Int(moments.count)
        add("volume", v)
        add("vol_approx", Double(nv) * g.voxelVolume)
        add("area_mesh", a)
        add("av", a / v)
        add("comp_1", v / (Double.pi.squareRoot() * pow(a, 1.5)))
        add("comp_2", 36 * Double.pi * v * v / (a * a * a))
        let sphereArea = pow(36 * Double.pi * v * v, 1.0 / 3.0)
        add("sph_dispr", a / sphereArea)
        add("sphericity", sphereArea / a)
        add("asphericity", a / sphereArea - 1)

        // Centres of mass and principal axes of the morphological mask; the intensity-weighted centre
        // and the mean intensity of the intensity mask (sums in voxel order).
        let geo = moments.mean(spacing: sp)
        let cov = moments.covariance(spacing: sp)
        var weighted = SIMD3<Double>(0, 0, 0), weight = 0.0, roiCount = 0
        let intensityMask = region.intensityMask == region.morphMask ? morph : PackedMask(region.intensityMask, size: n)
        region.intensities.withUnsafeBufferPointer { x in
            intensityMask.forEachRun { i0, i1, j, k in
                let row = (k * n.ny + j) * n.nx
                // Local running sums (captured variables are slower to update).
                var (runWeighted, runWeight) = (weighted, weight)
                for i in i0...i1 {
                    let r = SIMD3<Double>(Double(i) * sp.x, Double(j) * sp.y, Double(k) * sp.z)
                    runWeighted += x[row + i] * r
                    runWeight += x[row + i]
                }
                (weighted, weight) = (runWeighted, runWeight)
                roiCount += i1 - i0 + 1
            }
        }
        let com = weight != 0 ? ((weighted / weight) - geo) : SIMD3<Double>(.nan, .nan, .nan)
        add("com", (com * com).sum().squareRoot(), note: "undefined when the ROI intensities sum to 0")

        let hull = ConvexHull(points: mesh.vertexKeys)
        let hullPoints = hull.vertices.map {
            SIMD3<Double>(Double($0.x) * sp.x / 2, Double($0.y) * sp.y / 2, Double($0.z) * sp.z / 2)
        }
        var diam2 = 0.0
        for p in 0..<hullPoints.count {
            for q in (p + 1)..<max(p + 1, hullPoints.count) {
                let d = hullPoints[p] - hullPoints[q]
                diam2 = max(diam2, (d * d).sum())
            }
        }
        add("diam", diam2.squareRoot())

        let eig = SymmetricEigen(cov)
        let lambda = eig.values.map { max($0, 0) }
        let flat = "undefined when the region has no extent along a principal axis"
        add("pca_maj_axis", 4 * lambda[0].squareRoot())
        add("pca_min_axis", 4 * lambda[1].squareRoot())
        add("pca_least_axis", 4 * lambda[2].squareRoot())
        add("pca_elongation", lambda[0] > 0 ? (lambda[1] / lambda[0]).squareRoot() : .nan, note: flat)
        add("pca_flatness", lambda[0] > 0 ? (lambda[2] / lambda[0]).squareRoot() : .nan, note: flat)

        // Axis-aligned and principal-axis-aligned boxes of the mesh vertices.
        let aabb = boxExtent(hullPoints, axes: [SIMD3(1, 0, 0), SIMD3(0, 1, 0), SIMD3(0, 0, 1)])
        add("vol_dens_aabb", v / (aabb.x * aabb.y * aabb.z))
        add("area_dens_aabb", a / (2 * (aabb.x * aabb.y + aabb.y * aabb.z + aabb.x * aabb.z)))
        let ombb = boxExtent(hullPoints, axes: eig.vectors.map { SIMD3($0[0], $0[1], $0[2]) })
        add("vol_dens_ombb", v / (ombb.x * ombb.y * ombb.z))
        add("area_dens_ombb", a / (2 * (ombb.x * ombb.y + ombb.y * ombb.z + ombb.x * ombb.z)))

        let semi = lambda.map { 2 * $0.squareRoot() }
        add("vol_dens_aee", v / (4 * Double.pi / 3 * semi[0] * semi[1] * semi[2]), note: flat)
        add("area_dens_aee", a / ellipsoidArea(semi[0], semi[1], semi[2]), note: flat)
        if let mvee = minimumVolumeEllipsoidAxes(hullPoints) {
            add("vol_dens_mvee", v / (4 * Double.pi / 3 * mvee[0] * mvee[1] * mvee[2]))
            add("area_dens_mvee", a / ellipsoidArea(mvee[0], mvee[1], mvee[2]))
        } else {
            add("vol_dens_mvee", .nan, note: "no enclosing ellipsoid for a flat set of vertices")
            add("area_dens_mvee", .nan, note: "no enclosing ellipsoid for a flat set of vertices")
        }
        let hullSize = hull.measure(spacing: SIMD3(sp.x, sp.y, sp.z))
        add("vol_dens_conv_hull", v / hullSize.volume)
        add("area_dens_conv_hull", a / hullSize.area)

        let mean = roiCount == 0 ? Double.nan : weight / Double(roiCount)
        add("integ_int", v * mean, note: "undefined for an empty intensity mask")
        return out
    }

    /// Exact sums of the voxel indices of a mask and of their squares and products.
    struct IndexMoments {
        var count: Int64 = 0
        var sum = SIMD3<Int64>.zero
        /// Σ i², Σ j², Σ k².
        var squares = SIMD3<Int64>.zero
        /// Σ ij, Σ ik, Σ jk.
        var products = SIMD3<Int64>.zero

        init(_ mask: PackedMask) {
            // Σ_{i ≤ x} i².
            func squareSum(_ x: Int64) -> Int64 { x * (x + 1) * (2 * x + 1) / 6 }
            mask.forEachRun { i0, i1, j, k in
                let (a, b, y, z) = (Int64(i0), Int64(i1), Int64(j), Int64(k))
                let c = b - a + 1, si = (a + b) * c / 2
                count += c
                sum &+= SIMD3(si, y * c, z * c)
                squares &+= SIMD3(squareSum(b) - squareSum(a - 1), y * y * c, z * z * c)
                products &+= SIMD3(y * si, z * si, y * z * c)
            }
        }

        /// The mean voxel centre (mm).
        func mean(spacing: Vector3) -> SIMD3<Double> {
            let n = Double(max(count, 1))
            return SIMD3(Double(sum.x) / n * spacing.x, Double(sum.y) / n * spacing.y, Double(sum.z) / n * spacing.z)
        }

        /// The sample covariance of the voxel centres (mm², rows of the upper triangle), rounded once
        /// from its exact value.
        func covariance(spacing: Vector3) -> [[Double]] {
            let s = [spacing.x, spacing.y, spacing.z]
            let second = [[squares.x, products.x, products.y], [products.x, squares.y, products.z],
                          [products.y, products.z, squares.z]]
            let n = Int128(count), scale = Double(max(count, 1)) * Double(max(count - 1, 1))
            return (0..<3).map { r in
                (0..<3).map { c in
                    let centred = n * Int128(second[r][c]) - Int128(sum[r]) * Int128(sum[c])
                    return Double(centred) / scale * s[r] * s[c]
                }
            }
        }
    }

    @inline(__always)
    static func cross(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
    }

    /// Extent of `points` along three orthonormal `axes`.
    static func boxExtent(_ points: [SIMD3<Double>], axes: [SIMD3<Double>]) -> SIMD3<Double> {
        var lo = SIMD3<Double>(repeating: .infinity), hi = SIMD3<Double>(repeating: -.infinity)
        for p in points {
            let q = SIMD3((p * axes[0]).sum(), (p * axes[1]).sum(), (p * axes[2]).sum())
            lo = pointwiseMin(lo, q); hi = pointwiseMax(hi, q)
        }
        return hi - lo
    }

    /// Surface area of an ellipsoid with semi-axes a ≥ b ≥ c (IBSI's Legendre series, 20 terms).
    static func ellipsoidArea(_ a: Double, _ b: Double, _ c: Double) -> Double {
        guard a > 0 else { return .nan }
        let alpha = max(0, 1 - b * b / (a * a)).squareRoot(), beta = max(0, 1 - c * c / (a * a)).squareRoot()
        // Q_ν = (αβ)^ν P_ν((α² + β²) / (2αβ)) by the Legendre recurrence, without dividing by αβ.
        let s = (alpha * alpha + beta * beta) / 2, p2 = alpha * alpha * beta * beta
        var qPrev = 1.0, q = s
        var sum = qPrev / 1 + q / (1 - 4)
        for nu in 1..<20 {
            let next = (Double(2 * nu + 1) * s * q - Double(nu) * p2 * qPrev) / Double(nu + 1)
            qPrev = q; q = next
            sum += q / (1 - 4 * Double((nu + 1) * (nu + 1)))
        }
        return 4 * Double.pi * a * b * sum
    }

    /// Semi-axes (decreasing) of the minimum-volume enclosing ellipsoid, nil when flat.
    ///
    /// Khachiyan's iteration on weights u_t of the lifted points q_t = (p_t - mean, 1), with the away
    /// steps of Todd and Yildirim: with M = Σ u_t q_t q_tᵀ and g_t = q_tᵀ M⁻¹ q_t, each step moves
    /// weight towards the point of largest g_t, or away from the weighted point of smallest g_t when
    /// that one is further from 4 (such a point can leave the support). The weights start equal on the
    /// few points of `initialCoreSet` (equal on all points if those are flat). It stops, as Khachiyan's
    /// method does, when the step towards the largest g_t, (g_max - 4) / (4 (g_max - 1)), is below
    /// `tolerance` (all points then lie in the ellipsoid grown by that little), or after 2000 steps.
    /// A step changes M by a rank-one term, so M⁻¹ and every g_t follow by the Sherman-Morrison
    /// formula; they are recomputed from the weights every 64 steps against rounding drift.
    static func minimumVolumeEllipsoidAxes(_ points: [SIMD3<Double>], tolerance: Double = 1e-4) -> [Double]? {
        let m = points.count
        guard m >= 4 else { return nil }
        // Centre the points for conditioning.
        var centre = SIMD3<Double>(0, 0, 0)
        for p in points { centre += p }
        centre /= Double(m)
        let q = points.map { p -> SIMD4<Double> in let d = p - centre; return SIMD4(d.x, d.y, d.z, 1) }
        let xs = q.map(\.x), ys = q.map(\.y), zs = q.map(\.z)
        // Weights, nonzero on `support` only.
        var u = [Double](repeating: 0, count: m)
        var support = initialCoreSet(points)
        for t in support { u[t] = 1 / Double(support.count) }
        var g = [Double](repeating: 0, count: m)
        var inv = (SIMD4<Double>(), SIMD4<Double>(), SIMD4<Double>(), SIMD4<Double>())
        var work = [Double](repeating: 0, count: 32)
        var largest = 0
        func refresh() -> Bool {
            var rows = (SIMD4<Double>(), SIMD4<Double>(), SIMD4<Double>(), SIMD4<Double>())
            for t in support {
                let w = u[t] * q[t]
                rows.0 += w * q[t].x; rows.1 += w * q[t].y; rows.2 += w * q[t].z; rows.3 += w * q[t].w
            }
            guard let i = invert4(rows, work: &work) else { return false }
            inv = i
            largest = 0
            for t in 0..<m {
                g[t] = (q[t] * times(inv, q[t])).sum()
                if g[t] > g[largest] { largest = t }
            }
            return true
        }
        if !refresh() {
            // The core set is flat although the points are not: start from uniform weights.
            u = [Double](repeating: 1 / Double(m), count: m)
            support = Array(0..<m)
            guard refresh() else { return nil }
        }
        for step in 1...2000 {
            let toward = (g[largest] - 4) / (4 * (g[largest] - 1))
            if toward < tolerance { break }
            let smallest = support.min { g[$0] < g[$1] }!
            // u ← (1 - τ) u + τ e_at; a negative τ is an away step, dropping the point at its bound.
            let at: Int, tau: Double
            if g[largest] / 4 - 1 >= 1 - g[smallest] / 4 {
                at = largest; tau = toward
                if u[at] == 0 { support.append(at) }
            } else {
                at = smallest
                let bound = u[at] / (1 - u[at])
                tau = -min((4 - g[at]) / (4 * (g[at] - 1)), bound)
            }
            let dropped = tau == -u[at] / (1 - u[at])
            u[at] += tau / (1 - tau)
            for t in support { u[t] *= 1 - tau }
            if dropped {
                u[at] = 0
                support.removeAll { $0 == at }
            }
            let w = times(inv, q[at])
            let scaled = tau / (1 - tau), keep = 1 / (1 - tau)
            let sigma = scaled / (1 + scaled * g[at])
            inv = (keep * (inv.0 - sigma * w.x * w), keep * (inv.1 - sigma * w.y * w),
                   keep * (inv.2 - sigma * w.z * w), keep * (inv.3 - sigma * w.w * w))
            largest = updateQuadraticForms(&g, xs, ys, zs, w: w, sigma: sigma, keep: keep)
            if step % 64 == 0 { guard refresh() else { return nil } }
        }
        var c = SIMD3<Double>(0, 0, 0)
        for t in support { c += u[t] * SIMD3(q[t].x, q[t].y, q[t].z) }
        var s = [[Double]](repeating: [0, 0, 0], count: 3)
        for t in support {
            let d = SIMD3(q[t].x, q[t].y, q[t].z) - c
            for r in 0..<3 { for cc in 0..<3 { s[r][cc] += u[t] * d[r] * d[cc] } }
        }
        let eig = SymmetricEigen(s)
        guard eig.values[2] > 0 else { return nil }
        return eig.values.map { (3 * $0).squareRoot() }
    }

    /// g_t ← keep (g_t - sigma ((x_t, y_t, z_t, 1) · w)²) for every point; returns the index of the largest.
    static func updateQuadraticForms(_ g: inout [Double], _ xs: [Double], _ ys: [Double], _ zs: [Double],
                                     w: SIMD4<Double>, sigma: Double, keep: Double) -> Int {
        var largest = 0
        g.withUnsafeMutableBufferPointer { g in
            xs.withUnsafeBufferPointer { x in
            ys.withUnsafeBufferPointer { y in
            zs.withUnsafeBufferPointer { z in
                for t in 0..<g.count {
                    let d = x[t] * w.x + y[t] * w.y + z[t] * w.z + w.w
                    g[t] = keep * (g[t] - sigma * d * d)
                }
                var best = -Double.infinity
                for t in 0..<g.count where g[t] > best { best = g[t]; largest = t }
            }
            }
            }
        }
        return largest
    }

    /// Indices of up to six points whose enclosing ellipsoid is already a good start (Kumar and Yildirim):
    /// the two extremes along a direction, then along a direction orthogonal to the spans found so far.
    static func initialCoreSet(_ points: [SIMD3<Double>]) -> [Int] {
        var core = [Int]()
        var basis = [SIMD3<Double>]()
        func residual(_ v: SIMD3<Double>) -> SIMD3<Double> {
            basis.reduce(v) { r, b in r - (r * b).sum() * b }
        }
        for _ in 0..<3 {
            // The coordinate axis furthest from the spans found so far.
            let axes = [SIMD3<Double>(1, 0, 0), SIMD3(0, 1, 0), SIMD3(0, 0, 1)].map(residual)
            let direction = axes.max { ($0 * $0).sum() < ($1 * $1).sum() }!
            var lo = 0, hi = 0
            for t in points.indices {
                if (points[t] * direction).sum() < (points[lo] * direction).sum() { lo = t }
                if (points[t] * direction).sum() > (points[hi] * direction).sum() { hi = t }
            }
            for t in [lo, hi] where !core.contains(t) { core.append(t) }
            let span = residual(points[hi] - points[lo])
            let length = (span * span).sum().squareRoot()
            guard length > 0 else { break }
            basis.append(span / length)
        }
        return core
    }

    /// The product of the 4x4 matrix with rows `m` and the vector `v`.
    @inline(__always)
    static func times(_ m: (SIMD4<Double>, SIMD4<Double>, SIMD4<Double>, SIMD4<Double>), _ v: SIMD4<Double>)
        -> SIMD4<Double> {
        SIMD4((m.0 * v).sum(), (m.1 * v).sum(), (m.2 * v).sum(), (m.3 * v).sum())
    }

    /// Inverse of the 4x4 matrix with rows `m` (Gauss-Jordan with partial pivoting), nil when singular;
    /// `work` (32 values) holds the augmented matrix.
    static func invert4(_ m: (SIMD4<Double>, SIMD4<Double>, SIMD4<Double>, SIMD4<Double>), work a: inout [Double])
        -> (SIMD4<Double>, SIMD4<Double>, SIMD4<Double>, SIMD4<Double>)? {
        let rows = [m.0, m.1, m.2, m.3]
        for r in 0..<4 {
            for c in 0..<4 { a[r * 8 + c] = rows[r][c]; a[r * 8 + 4 + c] = r == c ? 1 : 0 }
        }
        for col in 0..<4 {
            var piv = col
            for r in col..<4 where abs(a[r * 8 + col]) > abs(a[piv * 8 + col]) { piv = r }
            guard abs(a[piv * 8 + col]) > 1e-300 else { return nil }
            if piv != col { for c in 0..<8 { a.swapAt(col * 8 + c, piv * 8 + c) } }
            let d = a[col * 8 + col]
            for c in 0..<8 { a[col * 8 + c] /= d }
            for r in 0..<4 where r != col {
                let f = a[r * 8 + col]
                if f != 0 { for c in 0..<8 { a[r * 8 + c] -= f * a[col * 8 + c] } }
            }
        }
        func row(_ r: Int) -> SIMD4<Double> { SIMD4(a[r * 8 + 4], a[r * 8 + 5], a[r * 8 + 6], a[r * 8 + 7]) }
        return (row(0), row(1), row(2), row(3))
    }
}

import Foundation
import ImagingCore

/// A rendered synthetic CT and its lesion label map (same grid).
public struct SyntheticScan: Sendable {
    /// CT numbers (HU), clamped to -1024...3071.
    public var ct: Volume<Int16>
    /// Lesion labels 1...n (lesion order), 0 elsewhere.
    public var labels: LabelMap
    /// Number of voxels of each lesion, in lesion order.
    public var lesionVoxelCounts: [Int]
}

/// How a synthetic patient becomes a CT image, and how immune infiltration shows in it.
///
/// Background: each voxel takes the CT number of its `SyntheticTissue` at the scan's kVp;
/// pulmonary vessels (80 HU at 120 kVp, +15 HU per 20 kV lower) are drawn with partial volume inside the lungs.
///
/// Lesion interior (ρ ≤ 1, ρ the normalised radius of `LesionShape`), with u the lesion's infiltration,
/// F and C unit-variance Gaussian random fields of correlation length 1 mm (fine) and 5 mm (coarse):
///
///     I = B_site + 5 (120 − kVp)/20 + δ + K(kVp) [ 8u + (1 − 0.7w)(σ_c c C + σ_f m F) ] − 40 w
///     σ_f = 5 + 20u          (fine-grained heterogeneity grows with infiltration)
///     σ_c = 12 − 6u          (coarse structure fades with infiltration)
///     w   = necrosis weight = logistic((ρ_n − ρ + 0.06 C) / 0.04) · min(1, ρ_n / 0.1)
///     ρ_n = 0.8 (1 − u)² · clamp((R − 6 mm) / 12 mm, 0, 1)   (low-HU core in poorly infiltrated, larger lesions)
///     K(kVp) = 1 + 0.1 (120 − kVp)/20                        (texture contrast is higher at low kVp)
///
/// with site bases B (HU at 120 kVp) lung 35, liver 45, lymph_node 40, soft_tissue 45, bone 150,
/// adrenal 30, and lesion nuisances δ ~ N(0, 6²) HU, m, c ~ logNormal(0, 0.25²).
///
/// Peritumoral ring (0 < d ≤ 6 mm outside the surface, d along the ray from the centre, not in air),
/// immune cells at the margin:
///
///     ΔI = K(kVp) · A · u · exp(−d / 2.5 mm) · (1 + 0.6 F),   A = 150 HU in lung (ground-glass halo), 30 HU elsewhere
///
/// Scan noise: Gaussian, correlated in-plane (σ 0.6 voxel), SD 16 / 12 / 10 HU at 100 / 120 / 140 kVp.
public enum SyntheticScanModel {
    public static let ringWidthMM = 6.0
    public static let ringDecayMM = 2.5
    public static let fineCorrelationMM = 1.0
    public static let coarseCorrelationMM = 5.0

    /// Lesion CT number at 120 kVp before texture, by site.
    public static func baseHU(_ location: SyntheticLocation) -> Double {
        switch location {
        case .lung: return 35
        case .liver: return 45
        case .lymphNode: return 40
        case .softTissue: return 45
        case .bone: return 150
        case .adrenal: return 30
        }
    }

    /// Texture contrast gain K of a tube voltage.
    public static func contrastGain(kvp: Int) -> Double { 1 + 0.1 * Double(120 - kvp) / 20 }

    /// Scan noise SD (HU) of a tube voltage.
    public static func noiseSD(kvp: Int) -> Double { kvp <= 100 ? 16 : (kvp >= 140 ? 10 : 12) }

    /// Renders the patient on the options' grid.
    public static func render(_ patient: SyntheticPatient, options: SynthesisOptions) -> SyntheticScan {
        render(patient, grid: options.grid, noiseSeed: SplitMix64.derive(patient.seed, 5))
    }

    /// Renders the patient on `grid` (patient coordinates) with scan noise drawn from `noiseSeed`.
    /// Follow-up scans use a grid displaced by the patient's shift and their own noise (`SyntheticFollowUp`).
    static func render(_ patient: SyntheticPatient, grid: ImageGrid, noiseSeed: UInt64) -> SyntheticScan {
        let n = grid.size
        let axes = WorldAxes(grid)
        var hu = [Float](repeating: 0, count: n.count)
        var tissue = [SyntheticTissue](repeating: .air, count: n.count)
        let table = SyntheticTissue.allCases.map { Float($0.hu(kvp: patient.kvp)) }
        var idx = 0
        for k in 0..<n.nz {
            for j in 0..<n.ny {
                for i in 0..<n.nx {
                    let t = patient.anatomy.tissue(at: axes.world(i, j, k))
                    tissue[idx] = t
                    hu[idx] = table[Int(t.rawValue)]
                    idx += 1
                }
            }
        }
        drawVessels(patient, grid: grid, axes: axes, tissue: tissue, hu: &hu)
        var labels = [Int32](repeating: 0, count: n.count)
        var counts = [Int]()
        for lesion in patient.lesions {
            counts.append(drawLesion(lesion, kvp: patient.kvp, grid: grid, axes: axes, tissue: tissue, hu: &hu,
                                     labels: &labels))
        }
        var nrng = SynthesisRandom(seed: noiseSeed)
        let noise = GaussianField.sample(size: n, sigma: Vector3(0.6, 0.6, 0), rng: &nrng)
        let sd = Float(noiseSD(kvp: patient.kvp))
        let ct = (0..<n.count).map { v -> Int16 in
            Int16(max(-1024, min(3071, (hu[v] + sd * noise[v]).rounded())))
        }
        return SyntheticScan(ct: Volume(grid: grid, voxels: ct), labels: LabelMap(grid: grid, voxels: labels),
                             lesionVoxelCounts: counts)
    }

    /// Voxel index range covering world points within `reach` mm of `c` (axis-aligned grid).
    static func box(around c: Vector3, reach: Double, grid: ImageGrid) -> IndexBox? {
        let lo = grid.continuousIndex(ofWorld: c - Vector3(reach, reach, reach))
        let hi = grid.continuousIndex(ofWorld: c + Vector3(reach, reach, reach))
        let lower = Index3(max(0, Int(lo.x.rounded(.down))), max(0, Int(lo.y.rounded(.down))), max(0, Int(lo.z.rounded(.down))))
        let upper = Index3(min(grid.size.nx - 1, Int(hi.x.rounded(.up))), min(grid.size.ny - 1, Int(hi.y.rounded(.up))),
                           min(grid.size.nz - 1, Int(hi.z.rounded(.up))))
        guard lower.i <= upper.i, lower.j <= upper.j, lower.k <= upper.k else { return nil }
        return IndexBox(lower: lower, upper: upper)
    }

    static func drawVessels(_ patient: SyntheticPatient, grid: ImageGrid, axes: WorldAxes, tissue: [SyntheticTissue], hu: inout [Float]) {
        let lungHU = SyntheticTissue.lung.hu(kvp: patient.kvp)
        let vesselHU = 80 + 15 * Double(120 - patient.kvp) / 20
        let h = min(grid.spacing.x, grid.spacing.y)
        for seg in patient.anatomy.vessels {
            let mid = 0.5 * (seg.a + seg.b)
            let reach = 0.5 * (seg.b - seg.a).length + seg.radius + h
            guard let b = box(around: mid, reach: reach, grid: grid) else { continue }
            for k in b.lower.k...b.upper.k {
                for j in b.lower.j...b.upper.j {
                    for i in b.lower.i...b.upper.i {
                        let v = grid.linearIndex(i, j, k)
                        guard tissue[v] == .lung else { continue }
                        let d = seg.axisDistance(axes.world(i, j, k))
                        let w = max(0, min(1, (seg.radius - d) / h + 0.5))
                        guard w > 0 else { continue }
                        hu[v] = max(hu[v], Float(lungHU + (vesselHU - lungHU) * w))
                    }
                }
            }
        }
    }

    /// Draws one lesion and its ring; returns its voxel count.
    static func drawLesion(_ lesion: SyntheticLesion, kvp: Int, grid: ImageGrid, axes: WorldAxes, tissue: [SyntheticTissue],
                           hu: inout [Float], labels: inout [Int32]) -> Int {
        let shape = lesion.shape
        let maxSpacing = max(grid.spacing.x, grid.spacing.y, grid.spacing.z)
        guard let b = box(around: shape.center, reach: shape.boundingRadius + ringWidthMM + maxSpacing, grid: grid) else {
            return 0
        }
        var rng = SynthesisRandom(seed: lesion.textureSeed)
        let sp = grid.spacing
        let fine = GaussianField.sample(size: b.size, sigma: Vector3(fineCorrelationMM / sp.x, fineCorrelationMM / sp.y,
                                                                     fineCorrelationMM / sp.z), rng: &rng)
        let coarse = GaussianField.sample(size: b.size, sigma: Vector3(coarseCorrelationMM / sp.x, coarseCorrelationMM / sp.y,
                                                                       coarseCorrelationMM / sp.z), rng: &rng)
        let u = lesion.infiltration
        let gain = contrastGain(kvp: kvp)
        let base = baseHU(lesion.location) + 5 * Double(120 - kvp) / 20 + lesion.intensityOffset
        let sigmaFine = (5 + 20 * u) * lesion.fineScale
        let sigmaCoarse = (12 - 6 * u) * lesion.coarseScale
        let necrosisRadius = 0.8 * (1 - u) * (1 - u) * max(0, min(1, (shape.radius - 6) / 12))
        /// Lesion CT number at normalised radius `rho` with field values `fv` (fine) and `cv` (coarse).
        func interior(rho: Double, fv: Double, cv: Double) -> Float {
            var w = 0.0
            if necrosisRadius > 0 {
                w = min(1, necrosisRadius / 0.1) / (1 + Foundation.exp(-(necrosisRadius - rho + 0.06 * cv) / 0.04))
            }
            let texture = (1 - 0.7 * w) * (sigmaCoarse * cv + sigmaFine * fv)
            return Float(base + gain * (8 * u + texture) - 40 * w)
        }
        var count = 0
        var f = 0
        for k in b.lower.k...b.upper.k {
            for j in b.lower.j...b.upper.j {
                for i in b.lower.i...b.upper.i {
                    defer { f += 1 }
                    let v = grid.linearIndex(i, j, k)
                    let p = axes.world(i, j, k)
                    let rho = shape.normalizedRadius(p)
                    let fv = Double(fine[f]), cv = Double(coarse[f])
                    if rho <= 1 {
                        hu[v] = interior(rho: rho, fv: fv, cv: cv)
                        labels[v] = lesion.label
                        count += 1
                    } else if labels[v] == 0 {
                        let t = tissue[v]
                        guard t != .air && t != .airway else { continue }
                        let d = shape.surfaceDistance(p, normalizedRadius: rho)
                        guard d <= ringWidthMM else { continue }
                        let amplitude = t == .lung ? 150.0 : 30.0
                        hu[v] += Float(gain * amplitude * u * Foundation.exp(-d / ringDecayMM) * (1 + 0.6 * fv))
                    }
                }
            }
        }
        if count == 0 {
            // A lesion smaller than the sampling still gets the voxel holding its centre, so every lesion
            // of the manifest is present in the label map.
            let c = grid.continuousIndex(ofWorld: shape.center)
            let i = Int(c.x.rounded()), j = Int(c.y.rounded()), k = Int(c.z.rounded())
            if grid.contains(i, j, k) {
                let v = grid.linearIndex(i, j, k)
                let f = ((k - b.lower.k) * b.size.ny + (j - b.lower.j)) * b.size.nx + (i - b.lower.i)
                hu[v] = interior(rho: 0, fv: Double(fine[f]), cv: Double(coarse[f]))
                labels[v] = lesion.label
                count = 1
            }
        }
        return count
    }
}

/// World coordinates of the voxel centres of an axis-aligned grid, per axis.
struct WorldAxes {
    var x: [Double], y: [Double], z: [Double]

    init(_ grid: ImageGrid) {
        precondition(grid.direction == .identity, "synthetic scans use axis-aligned grids")
        x = (0..<grid.size.nx).map { grid.origin.x + Double($0) * grid.spacing.x }
        y = (0..<grid.size.ny).map { grid.origin.y + Double($0) * grid.spacing.y }
        z = (0..<grid.size.nz).map { grid.origin.z + Double($0) * grid.spacing.z }
    }

    @inline(__always)
    func world(_ i: Int, _ j: Int, _ k: Int) -> Vector3 { Vector3(x[i], y[j], z[k]) }
}

import Foundation
import ImagingCore

/// A rendered synthetic FDG PET of one patient, in body-weight SUV, and the lesions' true uptake.
public struct SyntheticPET: Sendable {
    /// SUV on `SyntheticPETModel.grid(_:)` (the CT's frame of reference, 4 mm voxels), never rounded.
    public var suv: Volume<Float>
    /// Each lesion's viable-tissue SUV S_v (the hidden uptake parameter), in lesion order.
    public var viableSUV: [Double]
    /// Each lesion's true mean SUV: the noiseless uptake before the scanner's blur, averaged over the
    /// lesion's volume (necrosis and heterogeneity included), in lesion order.
    public var trueMeanSUV: [Double]
}

/// How a synthetic patient becomes an FDG PET in SUV, and how the hidden variables show in it.
///
/// Grid: the CT's field of view (`SyntheticAnatomy.fieldOfView`) on 4 mm isotropic voxels (66 x 54 x 48),
/// same origin convention and axes as the CT, so both share one frame of reference whatever the CT's
/// sampling. Each PET voxel averages 2 x 2 x 2 sub-samples of the continuous patient (partial volume).
///
/// Background uptake by tissue (SUV; round values in the ranges reported for FDG at 60 min, e.g. the
/// PERCIST references liver ~2 and blood pool ~1.5): air 0, airway 0, fat 0.4, soft tissue (muscle)
/// 0.8, lung 0.5, heart 2.5, aorta (blood pool) 1.5, liver 2.0, spleen 1.8, kidney 3.0 (excretion),
/// adrenal 1.3, cancellous bone (marrow) 1.6, cortical bone 0.5, spinal canal 0.8.
///
/// Lesion (ρ ≤ 1, ρ the normalised radius of `LesionShape`), with u the lesion's infiltration:
///
///     S_v = (3 + 7 (1 − u)) · e^(0.15 z)           viable-tissue SUV, z ~ N(0, 1) per lesion
///     S(ρ) = S_v · (1 − 0.8 w(ρ)) · (1 + h H)      h = 0.10 + 0.15 (1 − u)
///
/// so uptake falls as infiltration rises (poorly infiltrated, "cold" lesions are the most glycolytic
/// in this model — a modelling choice that makes PET informative about u, not a clinical claim), falls
/// in the necrotic core, whose weight w is the CT model's (`SyntheticScanModel`: ρ_n = 0.8 (1 − u)²
/// clamp((R − 6 mm)/12 mm, 0, 1), w = min(1, ρ_n/0.1) · logistic((ρ_n − ρ)/0.04)), so large poorly
/// infiltrated lesions have a photopenic centre, and is heterogeneous through H, a unit-variance
/// Gaussian field of 5 mm correlation length; S is clamped at 0.
///
/// Peritumoral ring (0 < d ≤ 6 mm outside the surface, not in air): activated immune cells take up FDG,
///
///     ΔS = 0.8 · u · exp(−d / 2.5 mm)
///
/// Scanner: Gaussian point-spread function of 6 mm FWHM, then Gaussian noise of SD 0.14 √S (about
/// 10% in the liver), values clamped at 0. All PET random draws come from streams derived from the
/// patient's seed with keys of their own, so the CT and every other file stay as without PET.
public enum SyntheticPETModel {
    public static let voxelMM = 4.0
    public static let psfFWHMMM = 6.0
    public static let ringWidthMM = 6.0
    public static let ringDecayMM = 2.5
    public static let ringAmplitudeSUV = 0.8
    public static let heterogeneityCorrelationMM = 5.0
    public static let noiseFactor = 0.14
    /// Sub-samples per axis of each PET voxel.
    static let subsamples = 2

    /// Background SUV of a tissue.
    public static func backgroundSUV(_ t: SyntheticTissue) -> Double {
        switch t {
        case .air, .airway: return 0
        case .fat: return 0.4
        case .softTissue: return 0.8
        case .lung: return 0.5
        case .heart: return 2.5
        case .aorta: return 1.5
        case .liver: return 2.0
        case .spleen: return 1.8
        case .kidney: return 3.0
        case .adrenal: return 1.3
        case .cancellousBone: return 1.6
        case .corticalBone: return 0.5
        case .spinalCanal: return 0.8
        }
    }

    /// The PET grid of `options`: the CT's field of view on 4 mm voxels, the same frame of reference.
    public static func grid(_ options: SynthesisOptions) -> ImageGrid {
        let fov = SyntheticAnatomy.fieldOfView
        let size = Size3(Int((fov.x / voxelMM).rounded()), Int((fov.y / voxelMM).rounded()), Int((fov.z / voxelMM).rounded()))
        let spacing = Vector3(fov.x / Double(size.nx), fov.y / Double(size.ny), fov.z / Double(size.nz))
        let origin = Vector3(-fov.x / 2 + spacing.x / 2, -fov.y / 2 + spacing.y / 2, spacing.z / 2)
        return ImageGrid(size: size, spacing: spacing, origin: origin)
    }

    /// The lesion's viable-tissue SUV S_v = (3 + 7 (1 − u)) e^(0.15 z), z from the lesion's own PET stream.
    public static func viableSUV(_ lesion: SyntheticLesion, patientSeed: UInt64) -> Double {
        var rng = SynthesisRandom(seed: SplitMix64.derive(patientSeed, 7, UInt64(lesion.label)))
        return (3 + 7 * (1 - lesion.infiltration)) * Foundation.exp(0.15 * rng.normal())
    }

    /// The necrosis weight w(ρ) of the CT model (without its texture term).
    static func necrosisWeight(_ lesion: SyntheticLesion, rho: Double) -> Double {
        let u = lesion.infiltration
        let rn = 0.8 * (1 - u) * (1 - u) * max(0, min(1, (lesion.shape.radius - 6) / 12))
        guard rn > 0 else { return 0 }
        return min(1, rn / 0.1) / (1 + Foundation.exp(-(rn - rho) / 0.04))
    }

    /// Renders the patient's PET; `blurAndNoise` false gives the noiseless uptake before the scanner (tests).
    public static func render(_ patient: SyntheticPatient, options: SynthesisOptions, blurAndNoise: Bool = true) -> SyntheticPET {
        let grid = grid(options)
        let n = grid.size
        let sp = grid.spacing
        var rng = SynthesisRandom(seed: SplitMix64.derive(patient.seed, 6))
        let field = GaussianField.sample(size: n, sigma: Vector3(heterogeneityCorrelationMM / sp.x, heterogeneityCorrelationMM / sp.y,
                                                                 heterogeneityCorrelationMM / sp.z), rng: &rng)
        let viable = patient.lesions.map { viableSUV($0, patientSeed: patient.seed) }
        let reach = patient.lesions.map { $0.shape.boundingRadius + ringWidthMM }
        var sums = [Double](repeating: 0, count: patient.lesions.count)
        var counts = [Int](repeating: 0, count: patient.lesions.count)
        var suv = [Float](repeating: 0, count: n.count)
        let s = subsamples
        let offsets = (0..<s).map { (Double($0) + 0.5) / Double(s) - 0.5 }
        for k in 0..<n.nz {
            for j in 0..<n.ny {
                for i in 0..<n.nx {
                    let v = grid.linearIndex(i, j, k)
                    let centre = grid.world(at: Index3(i, j, k))
                    // Lesions that can reach this voxel (centre within their bounding radius, ring and a voxel).
                    let near = patient.lesions.indices.filter {
                        (centre - patient.lesions[$0].shape.center).length <= reach[$0] + sp.length
                    }
                    var total = 0.0
                    for dz in offsets { for dy in offsets { for dx in offsets {
                        let p = centre + Vector3(dx * sp.x, dy * sp.y, dz * sp.z)
                        let tissue = patient.anatomy.tissue(at: p)
                        var value = backgroundSUV(tissue)
                        var inside = false
                        var ring = 0.0
                        for m in near {
                            let lesion = patient.lesions[m]
                            let rho = lesion.shape.normalizedRadius(p)
                            if rho <= 1 {
                                let h = 0.10 + 0.15 * (1 - lesion.infiltration)
                                value = max(0, viable[m] * (1 - 0.8 * necrosisWeight(lesion, rho: rho)) * (1 + h * Double(field[v])))
                                sums[m] += value
                                counts[m] += 1
                                inside = true
                                break
                            } else if tissue != .air && tissue != .airway {
                                let d = lesion.shape.surfaceDistance(p, normalizedRadius: rho)
                                if d <= ringWidthMM {
                                    ring += ringAmplitudeSUV * lesion.infiltration * Foundation.exp(-d / ringDecayMM)
                                }
                            }
                        }
                        total += inside ? value : value + ring
                    } } }
                    suv[v] = Float(total / Double(s * s * s))
                }
            }
        }
        let trueMean = zip(sums, counts).map { $1 > 0 ? $0 / Double($1) : .nan }
        if blurAndNoise {
            let sigma = psfFWHMMM / (2 * (2 * Foundation.log(2)).squareRoot())
            suv = blur(suv, size: n, sigma: Vector3(sigma / sp.x, sigma / sp.y, sigma / sp.z))
            var nrng = SynthesisRandom(seed: SplitMix64.derive(patient.seed, 8))
            var noise = [Float](repeating: 0, count: n.count)
            nrng.fillNormal(&noise)
            for t in suv.indices {
                let x = Double(suv[t])
                suv[t] = Float(max(0, x + noiseFactor * max(0, x).squareRoot() * Double(noise[t])))
            }
        }
        return SyntheticPET(suv: Volume(grid: grid, voxels: suv), viableSUV: viable, trueMeanSUV: trueMean)
    }

    /// Separable Gaussian blur of standard deviation `sigma` voxels per axis, edges extended (nearest value).
    static func blur(_ input: [Float], size n: Size3, sigma: Vector3) -> [Float] {
        var data = input
        let dims = [n.nx, n.ny, n.nz]
        for axis in 0..<3 {
            let w = GaussianField.kernel(sigma: sigma[axis])
            guard w.count > 1 else { continue }
            let r = (w.count - 1) / 2
            let stride = axis == 0 ? 1 : (axis == 1 ? n.nx : n.nx * n.ny)
            var out = [Float](repeating: 0, count: data.count)
            for k in 0..<n.nz { for j in 0..<n.ny { for i in 0..<n.nx {
                let pos = [i, j, k][axis]
                let base = linear(i, j, k, n) - pos * stride
                var acc: Float = 0
                for t in 0..<w.count {
                    let q = min(dims[axis] - 1, max(0, pos + t - r))
                    acc += w[t] * data[base + q * stride]
                }
                out[linear(i, j, k, n)] = acc
            } } }
            data = out
        }
        return data
    }

    @inline(__always)
    private static func linear(_ i: Int, _ j: Int, _ k: Int, _ n: Size3) -> Int { (k * n.ny + j) * n.nx + i }
}

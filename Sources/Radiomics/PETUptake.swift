import Foundation
import ImagingCore

/// The standard PET uptake measures of a lesion, on the scan's ORIGINAL grid in SUVbw: no resampling,
/// no re-segmentation, no discretisation and no rounding, whatever the radiomics settings (which apply to the
/// radiomic features only). Every sum is taken in double precision over the image's own 32-bit values.
///
/// - `suvMax` (store column `suv_max`): the highest SUV of a voxel in the contour.
/// - `suvMean` (`suv_mean`): the mean SUV of the voxels in the contour.
/// - `suvPeak` (`suv_peak`): the highest mean SUV of a 1 cm³ sphere, as PERCIST 1.0 (Wahl et al., J Nucl Med
///   2009; 50:122S) and the QIBA FDG-PET/CT profile define SUVpeak, and IBSI 1 its "global intensity peak"
///   (0F91). The rule, exactly:
///   - sphere radius r = (3 / (4π))^(1/3) cm = 6.2035 mm (a volume of exactly 1 cm³; "6.2 mm");
///   - the sphere is centred on the centre of a voxel of the contour; every contour voxel is tried as centre
///     (the search is exhaustive on the voxel grid, no sub-voxel positions);
///   - it holds every image voxel whose centre lies within r of its centre (distance in mm from the spacing;
///     the grid's axes are orthonormal), INSIDE OR OUTSIDE the contour: the sphere is not restricted to the
///     lesion, as PERCIST places it on the image at the hottest part of the tumour;
///   - voxels count whole or not at all (no partial-volume weights); voxels beyond the image edge are not
///     part of the image and are left out of that sphere's mean;
///   - SUVpeak is the largest of these means (on a coarse grid, e.g. 4 mm PET voxels, the sphere holds the
///     few voxels whose centres fall inside it: 19 at 4 x 4 x 4 mm, 21 at 4 x 4 x 3 mm).
/// - `mtvML` (`mtv_ml`): metabolic tumour volume, the contour's volume (voxel count x voxel volume) in ml.
/// - `tlg` (`tlg`): total lesion glycolysis, `suvMean` x `mtvML` (SUV x ml).
public struct PETUptake: Hashable, Sendable {
    public var suvMax: Double
    public var suvMean: Double
    public var suvPeak: Double
    public var mtvML: Double
    public var tlg: Double

    /// Column names in the store's /lesions table and the CSV export, in this order.
    public static let columns = ["suv_max", "suv_mean", "suv_peak", "mtv_ml", "tlg"]

    /// The values in `columns` order.
    public var values: [Double] { [suvMax, suvMean, suvPeak, mtvML, tlg] }

    /// All NaN: the measures of a lesion that is not on a PET scan.
    public static let missing = PETUptake(suvMax: .nan, suvMean: .nan, suvPeak: .nan, mtvML: .nan, tlg: .nan)

    public init(suvMax: Double, suvMean: Double, suvPeak: Double, mtvML: Double, tlg: Double) {
        self.suvMax = suvMax
        self.suvMean = suvMean
        self.suvPeak = suvPeak
        self.mtvML = mtvML
        self.tlg = tlg
    }

    /// Radius of the 1 cm³ SUVpeak sphere, mm.
    public static let peakRadiusMM = 10 * pow(3 / (4 * Double.pi), 1.0 / 3.0)

    /// The measures of `mask` on `image` (same grid; an empty mask gives `missing`).
    public init(image: Volume<Float>, mask: Mask) throws {
        try image.grid.requireMatch(mask.grid, context: "PET measures: mask vs image")
        guard let box = mask.boundingBox else { self = .missing; return }
        let g = image.grid
        var maxValue = -Double.infinity, sum = 0.0, n = 0
        for k in box.lower.k...box.upper.k {
            for j in box.lower.j...box.upper.j {
                for i in box.lower.i...box.upper.i {
                    let at = g.linearIndex(i, j, k)
                    guard mask.voxels[at] else { continue }
                    let v = Double(image.voxels[at])
                    maxValue = max(maxValue, v)
                    sum += v
                    n += 1
                }
            }
        }
        let mean = sum / Double(n)
        let mtv = Double(n) * g.voxelVolume / 1000
        self.init(suvMax: maxValue, suvMean: mean, suvPeak: Self.peak(image: image, mask: mask, box: box),
                  mtvML: mtv, tlg: mean * mtv)
    }

    /// SUVpeak by the rule above. Sphere sums come from prefix sums along z: the sphere is a set of z-runs,
    /// one per (di, dj) column offset, each summed in O(1).
    static func peak(image: Volume<Float>, mask: Mask, box: IndexBox) -> Double {
        let g = image.grid
        let r = peakRadiusMM
        let sx = g.spacing.x, sy = g.spacing.y, sz = g.spacing.z
        let ri = Int((r / sx).rounded(.down)), rj = Int((r / sy).rounded(.down)), rk = Int((r / sz).rounded(.down))
        // Column offsets of the sphere and the half-height (in slices) of each column.
        var columns: [(di: Int, dj: Int, h: Int)] = []
        for dj in -rj...rj {
            for di in -ri...ri {
                let rest = r * r - Double(di * di) * sx * sx - Double(dj * dj) * sy * sy
                guard rest >= 0 else { continue }
                columns.append((di, dj, Int((rest.squareRoot() / sz).rounded(.down))))
            }
        }
        // Prefix sums along z over the lesion's box grown by the radius (clipped to the image).
        let big = box.expanded(by: Index3(ri, rj, rk), within: g.size)
        let bx = big.size.nx, by = big.size.ny, bz = big.size.nz
        var prefix = [Double](repeating: 0, count: bx * by * (bz + 1))
        for j in 0..<by {
            for i in 0..<bx {
                let base = (j * bx + i) * (bz + 1)
                var running = 0.0
                for k in 0..<bz {
                    running += Double(image[big.lower.i + i, big.lower.j + j, big.lower.k + k])
                    prefix[base + k + 1] = running
                }
            }
        }
        var best = -Double.infinity
        for k in box.lower.k...box.upper.k {
            for j in box.lower.j...box.upper.j {
                for i in box.lower.i...box.upper.i where mask[i, j, k] {
                    var sum = 0.0, count = 0
                    for c in columns {
                        let ci = i + c.di - big.lower.i, cj = j + c.dj - big.lower.j
                        guard ci >= 0, ci < bx, cj >= 0, cj < by else { continue }
                        let lo = max(0, k - c.h - big.lower.k), hi = min(bz - 1, k + c.h - big.lower.k)
                        guard lo <= hi else { continue }
                        let base = (cj * bx + ci) * (bz + 1)
                        sum += prefix[base + hi + 1] - prefix[base + lo]
                        count += hi - lo + 1
                    }
                    best = max(best, sum / Double(count))
                }
            }
        }
        return best
    }
}

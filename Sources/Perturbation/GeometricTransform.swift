import Foundation
import ImagingCore

/// Resampling of a lesion's neighbourhood through a spatial transform, for the translation and rotation
/// perturbations: every voxel of the box takes the trilinear interpolation of the scan at its source position
/// (continuous voxel index); the masks are interpolated the same way (as 0/1) and kept where >= 0.5, as
/// Zwanenburg et al. and IBSI 1 (section 2.4) resample masks.
enum GeometricTransform {
    static func resample(image: Volume<Float>, lesion: Mask, others: Mask?, box: IndexBox,
                         source: (Vector3) -> Vector3) -> LesionNeighbourhood {
        let sub = image.grid.subgrid(box)
        let n = box.size
        var img = [Float](repeating: 0, count: n.count)
        var les = [Bool](repeating: false, count: n.count)
        var oth = [Bool](repeating: false, count: n.count)
        var t = 0
        for k in 0..<n.nz {
            for j in 0..<n.ny {
                for i in 0..<n.nx {
                    let p = source(Vector3(Double(box.lower.i + i), Double(box.lower.j + j), Double(box.lower.k + k)))
                    let w = Weights(p, size: image.grid.size)
                    img[t] = Float(w.value(image.voxels))
                    les[t] = w.fraction(lesion.voxels) >= 0.5
                    if let others { oth[t] = w.fraction(others.voxels) >= 0.5 }
                    t += 1
                }
            }
        }
        return LesionNeighbourhood(image: Volume(grid: sub, voxels: img), lesion: Mask(grid: sub, voxels: les),
                                   others: Mask(grid: sub, voxels: oth))
    }

    /// The eight corner voxels and weights of a trilinear interpolation at a continuous index, positions
    /// beyond the scan clamped to its edge.
    struct Weights {
        var x0 = 0, x1 = 0, y0 = 0, y1 = 0, z0 = 0, z1 = 0
        var fx = 0.0, fy = 0.0, fz = 0.0
        let nx: Int, nxy: Int

        init(_ p: Vector3, size: Size3) {
            nx = size.nx; nxy = size.nx * size.ny
            (x0, x1, fx) = Self.axis(p.x, size.nx)
            (y0, y1, fy) = Self.axis(p.y, size.ny)
            (z0, z1, fz) = Self.axis(p.z, size.nz)
        }

        private static func axis(_ x: Double, _ count: Int) -> (Int, Int, Double) {
            let c = min(max(x, 0), Double(count - 1))
            let lo = min(Int(c.rounded(.down)), count - 1)
            return (lo, min(lo + 1, count - 1), c - Double(lo))
        }

        @inline(__always)
        private func blend(_ f: (Int) -> Double) -> Double {
            let r00 = y0 * nx + z0 * nxy, r10 = y1 * nx + z0 * nxy, r01 = y0 * nx + z1 * nxy, r11 = y1 * nx + z1 * nxy
            let a = (1 - fx) * f(r00 + x0) + fx * f(r00 + x1)
            let b = (1 - fx) * f(r10 + x0) + fx * f(r10 + x1)
            let c = (1 - fx) * f(r01 + x0) + fx * f(r01 + x1)
            let d = (1 - fx) * f(r11 + x0) + fx * f(r11 + x1)
            return (1 - fz) * ((1 - fy) * a + fy * b) + fz * ((1 - fy) * c + fy * d)
        }

        func value(_ voxels: [Float]) -> Double { blend { Double(voxels[$0]) } }

        func fraction(_ voxels: [Bool]) -> Double { blend { voxels[$0] ? 1 : 0 } }
    }
}

import Foundation
import ImagingCore

/// Contour randomisation (Zwanenburg et al., Sci Rep 2019): the lesion's neighbourhood is cut into supervoxels;
/// a supervoxel wholly inside the lesion is kept, one wholly outside is left out, and one that the contour
/// crosses is included whole with probability equal to the fraction of its voxels inside the lesion, so the
/// expected volume is the original one while the contour moves by up to a supervoxel.
///
/// The paper's supervoxels come from SLIC on the image, so that the random contours follow intensity edges.
/// Here they are the Voronoi cells of a jittered grid of seeds (one seed placed uniformly at random in every
/// `cellMM`-sided cube, distances in millimetres): cells of even, known size that do not depend on the
/// intensities, so that the contour's variation is the same for every lesion whatever its contrast, and the
/// size of the perturbation is one parameter. That keeps the noise and contour perturbations apart (an
/// intensity-driven partition would move with the noise); the cost is contours that may cut through an edge
/// the SLIC cells would have followed.
public enum ContourRandomisation {
    /// One random contour of `mask` (on its own grid). Never empty: when every crossing cell is dropped
    /// and none lies wholly inside, the cell most inside is kept.
    public static func randomise(_ mask: Mask, cellMM: Double, random: inout PerturbationRandom) -> Mask {
        let n = mask.grid.size
        let sp = mask.grid.spacing
        // Seed grid over the box, one seed per cube.
        let cx = Int((Double(n.nx) * sp.x / cellMM).rounded(.up)) + 1
        let cy = Int((Double(n.ny) * sp.y / cellMM).rounded(.up)) + 1
        let cz = Int((Double(n.nz) * sp.z / cellMM).rounded(.up)) + 1
        var seeds = [Vector3]()
        seeds.reserveCapacity(cx * cy * cz)
        for c in 0..<cz { for b in 0..<cy { for a in 0..<cx {
            seeds.append(Vector3((Double(a) + random.uniform()) * cellMM, (Double(b) + random.uniform()) * cellMM,
                                 (Double(c) + random.uniform()) * cellMM))
        } } }
        // Every voxel to the nearest seed among the cubes around its own.
        var cell = [Int](repeating: 0, count: n.count)
        var t = 0
        for k in 0..<n.nz { for j in 0..<n.ny { for i in 0..<n.nx {
            let p = Vector3(Double(i) * sp.x, Double(j) * sp.y, Double(k) * sp.z)
            let a0 = Int(p.x / cellMM), b0 = Int(p.y / cellMM), c0 = Int(p.z / cellMM)
            var best = -1, bestD = Double.infinity
            for c in max(0, c0 - 1)...min(cz - 1, c0 + 1) {
                for b in max(0, b0 - 1)...min(cy - 1, b0 + 1) {
                    for a in max(0, a0 - 1)...min(cx - 1, a0 + 1) {
                        let s = (c * cy + b) * cx + a
                        let d = (seeds[s] - p).length
                        if d < bestD { bestD = d; best = s }
                    }
                }
            }
            cell[t] = best
            t += 1
        } } }
        var total = [Int](repeating: 0, count: seeds.count), inside = [Int](repeating: 0, count: seeds.count)
        for (t, s) in cell.enumerated() {
            total[s] += 1
            if mask.voxels[t] { inside[s] += 1 }
        }
        // One draw per cell in cell order, whether or not the contour crosses it, so every cell's draw is fixed
        // by the seed alone.
        var keep = [Bool](repeating: false, count: seeds.count)
        for s in seeds.indices {
            let u = random.uniform()
            guard total[s] > 0 else { continue }
            keep[s] = Double(inside[s]) / Double(total[s]) > u
        }
        if !keep.contains(true), let most = seeds.indices.max(by: {
            Double(inside[$0]) / Double(max(total[$0], 1)) < Double(inside[$1]) / Double(max(total[$1], 1))
        }) {
            keep[most] = true
        }
        return Mask(grid: mask.grid, voxels: cell.map { keep[$0] })
    }
}

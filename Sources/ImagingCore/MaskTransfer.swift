import Foundation

/// Carrying a mask drawn on one image grid onto another grid of the same frame of reference (a lesion
/// contoured on CT, extracted on the PET of the same study).
extension Volume where Element == Bool {
    /// Sub-points per axis with which `transferred(onto:)` estimates the fraction of a target voxel that
    /// lies inside the mask: 6 x 6 x 6 = 216 points per voxel. An even number that 2 and 3 divide, so that an
    /// aligned grid 2x or 3x coarser gives every source voxel under a target voxel equally many sub-points
    /// (the rule is then the exact volume-fraction majority), and no sub-point falls on a rounding tie.
    public static let transferSubdivisions = 6

    /// This mask carried onto `target` through world coordinates (spacing, origin and direction may all differ).
    ///
    /// Partial-volume rule: a target voxel belongs to the carried mask when at least half of its volume lies
    /// inside this mask. The fraction is estimated by sampling the target voxel at `n x n x n` sub-points
    /// (centres of its `n³` equal sub-cells, `n` = `transferSubdivisions` unless given), mapping each to world
    /// coordinates and then to the nearest voxel of this mask's grid; the voxel belongs when
    /// `2 · inside ≥ n³`. Only the target voxels that overlap the mask's bounding box (taken with its voxels'
    /// full extent) are sampled; every other target voxel is outside.
    ///
    /// The rule keeps volume to within the partial-volume error of the coarser grid: on identical grids the
    /// mask is returned unchanged, on an aligned grid 2x coarser a voxel is inside when at least 4 of the 8
    /// voxels it covers are, and on shifted or rotated grids a compact lesion keeps its volume within
    /// `transferVolumeTolerance(targetVoxels:)` of the carried voxel count. A convex lesion comes out smaller on
    /// average (the majority rule trims its curved surface), and by how much depends on where the surface falls
    /// on the coarse voxels, so small lesions vary: `MaskTransferTests.testPartialVolumeErrorOverRandomPositions`
    /// measures spheres at 60 random positions each, 0.98 x 0.98 x 2.5 mm CT onto 4.07 x 4.07 x 3.27 mm PET
    /// (README, "Several modalities per lesion", gives the table).
    ///
    /// Throws `ImagingError.invalidGeometry` when the mask is empty, or when the centres of its bounding box's
    /// corner voxels do not all lie inside the target image's extent (the outer faces of its edge voxels,
    /// with 10⁻⁶ voxel of slack): part of the lesion would lie outside the image it is carried onto (a
    /// different frame of reference, or a field of view that does not cover the lesion). The message gives
    /// both extents in world millimetres.
    public func transferred(onto target: ImageGrid, subdivisions n: Int = transferSubdivisions) throws -> Mask {
        precondition(n > 0, "subdivisions must be positive")
        guard let box = boundingBox else {
            throw ImagingError.invalidGeometry("the mask is empty: there is nothing to carry onto another grid")
        }
        try target.validate()
        if grid.matches(target, tolerance: 1e-9) { return Mask(grid: target, voxels: voxels) }

        // The mask's box corners, as continuous indices of the target grid.
        func corners(_ lo: Vector3, _ hi: Vector3) -> [Vector3] {
            var out: [Vector3] = []
            for c in 0..<8 {
                let p = Vector3(c & 1 == 0 ? lo.x : hi.x, c & 2 == 0 ? lo.y : hi.y, c & 4 == 0 ? lo.z : hi.z)
                out.append(target.continuousIndex(ofWorld: grid.world(atContinuousIndex: p)))
            }
            return out
        }
        let lower = Vector3(Double(box.lower.i), Double(box.lower.j), Double(box.lower.k))
        let upper = Vector3(Double(box.upper.i), Double(box.upper.j), Double(box.upper.k))
        let slack = 1e-6
        let centres = corners(lower, upper)
        let inside = centres.allSatisfy { p in
            (0..<3).allSatisfy { a in p[a] >= -0.5 - slack && p[a] <= Double(target.size[a]) - 0.5 + slack }
        }
        guard inside else {
            throw ImagingError.invalidGeometry("the mask's bounding box (\(Self.worldRange(grid, lower, upper))) does not lie inside the extent of the image it is carried onto (\(Self.worldRange(target, Vector3(-0.5, -0.5, -0.5), Vector3(Double(target.size.nx) - 0.5, Double(target.size.ny) - 0.5, Double(target.size.nz) - 0.5)))): the images do not share a frame of reference, or the image does not cover the lesion")
        }

        // Target voxels overlapping the mask's box (voxel faces included), clipped to the target grid.
        let faces = corners(lower - Vector3(0.5, 0.5, 0.5), upper + Vector3(0.5, 0.5, 0.5))
        var lo = [0, 0, 0], hi = [0, 0, 0]
        for a in 0..<3 {
            let values = faces.map { $0[a] }
            lo[a] = Swift.max(0, Int((values.min()! + 0.5).rounded(.down)))
            hi[a] = Swift.min(target.size[a] - 1, Int((values.max()! - 0.5).rounded(.up)))
        }

        // Target continuous index -> source continuous index is affine: s = A t + b.
        let toSource = (grid.direction.inverse ?? .identity) * target.direction
        var a = Matrix3.identity
        for r in 0..<3 {
            for c in 0..<3 { a[r, c] = toSource[r, c] * target.spacing[c] / grid.spacing[r] }
        }
        let shift = (grid.direction.inverse ?? .identity) * (target.origin - grid.origin)
        let b = Vector3(shift.x / grid.spacing.x, shift.y / grid.spacing.y, shift.z / grid.spacing.z)
        let offsets = (0..<n).map { (Double($0) + 0.5) / Double(n) - 0.5 }
        // Source displacement of each sub-point offset along each target axis.
        let steps = (0..<3).map { c in offsets.map { o in o * a.column(c) } }
        let nx = grid.size.nx, ny = grid.size.ny, nz = grid.size.nz
        let needed = n * n * n

        var out = Mask(grid: target, repeating: false)
        guard lo[0] <= hi[0], lo[1] <= hi[1], lo[2] <= hi[2] else { return out }
        for k in lo[2]...hi[2] {
            for j in lo[1]...hi[1] {
                for i in lo[0]...hi[0] {
                    let centre = a * Vector3(Double(i), Double(j), Double(k)) + b
                    var count = 0
                    for sz in steps[2] {
                        for sy in steps[1] {
                            let row = centre + sz + sy
                            for sx in steps[0] {
                                let p = row + sx
                                let si = Int((p.x + 0.5).rounded(.down)), sj = Int((p.y + 0.5).rounded(.down))
                                let sk = Int((p.z + 0.5).rounded(.down))
                                if si >= 0, sj >= 0, sk >= 0, si < nx, sj < ny, sk < nz,
                                   voxels[(sk * ny + sj) * nx + si] {
                                    count += 1
                                }
                            }
                        }
                    }
                    if 2 * count >= needed { out[i, j, k] = true }
                }
            }
        }
        return out
    }

    /// The documented partial-volume error of `transferred(onto:)` for a compact lesion that covers `n` voxels
    /// of the target grid, as a fraction of the source mask's volume: 5% from 300 voxels, 10% from 120, 20% from
    /// 35, 30% below. Bounds on the worst case measured for spheres at random positions on CT and PET grids
    /// (`MaskTransferTests.testPartialVolumeErrorOverRandomPositions`; the mean error is about a third of them, and
    /// negative).
    public static func transferVolumeTolerance(targetVoxels n: Int) -> Double {
        switch n {
        case 300...: return 0.05
        case 120...: return 0.10
        case 35...: return 0.20
        default: return 0.30
        }
    }

    /// "x a..b, y c..d, z e..f mm": the world range spanned by a box of continuous indices of `grid`.
    static func worldRange(_ grid: ImageGrid, _ lo: Vector3, _ hi: Vector3) -> String {
        var mins = [Double.infinity, .infinity, .infinity], maxs = [-Double.infinity, -.infinity, -.infinity]
        for c in 0..<8 {
            let p = grid.world(atContinuousIndex: Vector3(c & 1 == 0 ? lo.x : hi.x, c & 2 == 0 ? lo.y : hi.y,
                                                          c & 4 == 0 ? lo.z : hi.z))
            for a in 0..<3 { mins[a] = Swift.min(mins[a], p[a]); maxs[a] = Swift.max(maxs[a], p[a]) }
        }
        func f(_ v: Double) -> String {
            let r = (v * 10).rounded() / 10
            return String(format: "%.1f", r == 0 ? 0 : r)
        }
        return "x \(f(mins[0]))..\(f(maxs[0])), y \(f(mins[1]))..\(f(maxs[1])), z \(f(mins[2]))..\(f(maxs[2])) mm"
    }
}

/// What one pass over a label map tells about one of its labels: how many voxels carry it, the
/// tightest box around them and their centre of mass. Equal to what `mask(label:)` followed by
/// `count`, `boundingBox` and `centroid` gives, without building the mask or reading the grid
/// once per label.
public struct LabelRegion: Hashable, Sendable {
    /// The label value (never 0, the background).
    public var label: Int32
    /// Number of voxels carrying the label.
    public var voxelCount: Int
    /// The tightest box holding every voxel of the label.
    public var boundingBox: IndexBox
    /// World position (LPS, mm) of the voxels' centre of mass, exactly as `Mask.centroid` reports it.
    public var centroid: Vector3
}

extension Volume where Element == Int32 {
    /// Every non-zero label with its voxel count, bounding box and centroid, in ascending label order,
    /// found in one pass over the voxels (labels are discovered by counting, not by hashing every voxel).
    public var labelRegions: [LabelRegion] {
        let nx = grid.size.nx, ny = grid.size.ny, nz = grid.size.nz
        // Running totals per label (`LabelTally`); runs of one label along x are folded in at once.
        var slot = [Int32: Int]()
        var labelsSeen = [Int32]()
        var tallies = [LabelTally]()
        voxels.withUnsafeBufferPointer { v in
            var lastLabel: Int32 = 0, lastSlot = -1
            for k in 0..<nz {
                for j in 0..<ny {
                    let row = (k * ny + j) * nx
                    var i = 0
                    while i < nx {
                        let value = v[row + i]
                        if value == 0 { i += 1; continue }
                        var end = i + 1
                        while end < nx && v[row + end] == value { end += 1 }
                        if value != lastLabel || lastSlot < 0 {
                            if let s = slot[value] {
                                lastSlot = s
                            } else {
                                lastSlot = tallies.count
                                slot[value] = lastSlot
                                labelsSeen.append(value)
                                tallies.append(LabelTally())
                            }
                            lastLabel = value
                        }
                        let n = end - i
                        // Sum of i ..< end is n * (i + end - 1) / 2.
                        tallies[lastSlot].count += n
                        tallies[lastSlot].si += n * (i + end - 1) / 2
                        tallies[lastSlot].sj += n * j
                        tallies[lastSlot].sk += n * k
                        let t = tallies[lastSlot]
                        tallies[lastSlot].lo = Index3(min(t.lo.i, i), min(t.lo.j, j), min(t.lo.k, k))
                        tallies[lastSlot].hi = Index3(max(t.hi.i, end - 1), max(t.hi.j, j), max(t.hi.k, k))
                        i = end
                    }
                }
            }
        }
        return zip(labelsSeen, tallies).sorted { $0.0 < $1.0 }.map { label, t in
            // The same arithmetic as `Mask.centroid`: index sums are whole numbers (exact in a Double).
            let sum = Vector3(Double(t.si), Double(t.sj), Double(t.sk))
            return LabelRegion(label: label, voxelCount: t.count, boundingBox: IndexBox(lower: t.lo, upper: t.hi),
                               centroid: grid.world(atContinuousIndex: (1.0 / Double(t.count)) * sum))
        }
    }

    /// The mask of the voxels carrying `region.label`, reading only the region's bounding box.
    public func mask(of region: LabelRegion) -> Mask {
        var out = [Bool](repeating: false, count: voxels.count)
        let box = region.boundingBox, nx = grid.size.nx, ny = grid.size.ny
        voxels.withUnsafeBufferPointer { v in
            out.withUnsafeMutableBufferPointer { m in
                for k in box.lower.k...box.upper.k {
                    for j in box.lower.j...box.upper.j {
                        let row = (k * ny + j) * nx
                        for i in box.lower.i...box.upper.i where v[row + i] == region.label { m[row + i] = true }
                    }
                }
            }
        }
        return Mask(grid: grid, voxels: out)
    }
}

/// Running totals of one label during `labelRegions`' pass.
private struct LabelTally {
    var count = 0
    var lo = Index3(Int.max, Int.max, Int.max), hi = Index3(-1, -1, -1)
    var si = 0, sj = 0, sk = 0
}

// Zones of linked equal-level voxels (GLSZM, GLDZM), distances to the ROI border (GLDZM),
// and the 2D / 2.5D / 3D aggregation of families with one matrix per slice or volume.

/// Grey level zones: groups of ROI voxels with one grey level, linked through 8-connected
/// in-plane neighbours (`planar`) or 26-connected neighbours.
///
/// Zones are numbered in the order in which their first voxel is met (x fastest, then y,
/// then z), so the zones of one slice are consecutive when `planar`.
struct GreyLevelZones {
    var level: [Int32] = []
    var size: [Int32] = []
    /// The smallest border distance of the zone's voxels (when a distance map was given).
    var minimumDistance: [Int32] = []
    /// Zones of slice `z` are `sliceStart[z]..<sliceStart[z + 1]` (when `planar`).
    var sliceStart: [Int] = []

    var count: Int { level.count }

    init(_ grid: TextureGrid, planar: Bool, distance: [Int32]? = nil) {
        let n = grid.levels.count
        let backward = planar
            ? [Offset3(-1, 0, 0), Offset3(-1, -1, 0), Offset3(0, -1, 0), Offset3(1, -1, 0)]
            : Offset3.halfNeighbourhood(radius: 1, planar: false).map { Offset3(-$0.dx, -$0.dy, -$0.dz) }
        let shifts = backward.map { $0.linear(grid) }
        var parent = [Int32](repeating: -1, count: n)
        var zoneOf = [Int32](repeating: -1, count: n)
        sliceStart = [Int](repeating: 0, count: grid.nz + 1)
        grid.levels.withUnsafeBufferPointer { levels in
            parent.withUnsafeMutableBufferPointer { parent in
                // Roots are the first voxel of their set: union hangs the later root under the earlier.
                func root(_ v: Int32) -> Int32 {
                    var v = v
                    while parent[Int(v)] != v {
                        parent[Int(v)] = parent[Int(parent[Int(v)])]
                        v = parent[Int(v)]
                    }
                    return v
                }
                var index = 0
                for z in 0..<grid.nz {
                    for y in 0..<grid.ny {
                        for x in 0..<grid.nx {
                            defer { index += 1 }
                            let level = levels[index]
                            guard level > 0 else { continue }
                            parent[index] = Int32(index)
                            for (o, offset) in backward.enumerated() {
                                let u = index + shifts[o]
                                guard grid.contains(x + offset.dx, y + offset.dy, z + offset.dz),
                                      levels[u] == level else { continue }
                                let a = root(Int32(u)), b = root(Int32(index))
                                if a < b { parent[Int(b)] = a } else if b < a { parent[Int(a)] = b }
                            }
                        }
                    }
                }
                index = 0
                for z in 0..<grid.nz {
                    sliceStart[z] = level.count
                    for _ in 0..<grid.sliceSize {
                        defer { index += 1 }
                        guard levels[index] > 0 else { continue }
                        let r = Int(root(Int32(index)))
                        let zone: Int
                        if r == index {
                            zone = level.count
                            level.append(levels[index])
                            size.append(0)
                            minimumDistance.append(Int32.max)
                        } else {
                            zone = Int(zoneOf[r])
                        }
                        zoneOf[index] = Int32(zone)
                        size[zone] += 1
                        if let distance, distance[index] < minimumDistance[zone] {
                            minimumDistance[zone] = distance[index]
                        }
                    }
                }
                sliceStart[grid.nz] = level.count
            }
        }
    }
}

enum BorderDistance {
    /// Per voxel, the Manhattan distance to the nearest voxel outside `inside` (IBSI 1: 6-connected
    /// in 3D, 4-connected in-plane when `planar`): 1 for a voxel on the border, 0 outside.
    /// Beyond the grid counts as outside.
    static func map(_ grid: TextureGrid, inside: (Int) -> Bool, planar: Bool) -> [Int32] {
        let (nx, ny, nz) = (grid.nx, grid.ny, grid.nz)
        let plane = nx * ny
        var d = [Int32](repeating: 0, count: grid.levels.count)
        // Two raster passes with face neighbours give the exact city-block distance.
        var index = 0
        for z in 0..<nz {
            for y in 0..<ny {
                for x in 0..<nx {
                    defer { index += 1 }
                    guard inside(index) else { continue }
                    var m = min(x > 0 ? d[index - 1] : 0, y > 0 ? d[index - nx] : 0)
                    if !planar { m = min(m, z > 0 ? d[index - plane] : 0) }
                    d[index] = m + 1
                }
            }
        }
        for z in stride(from: nz - 1, through: 0, by: -1) {
            for y in stride(from: ny - 1, through: 0, by: -1) {
                for x in stride(from: nx - 1, through: 0, by: -1) {
                    let index = (z * ny + y) * nx + x
                    guard d[index] > 1 else { continue }
                    var m = min(x < nx - 1 ? d[index + 1] : 0, y < ny - 1 ? d[index + nx] : 0)
                    if !planar { m = min(m, z < nz - 1 ? d[index + plane] : 0) }
                    d[index] = min(d[index], m + 1)
                }
            }
        }
        return d
    }
}

/// The three IBSI aggregations of families with one matrix per slice or volume
/// (GLSZM, GLDZM, NGTDM, NGLDM): 2D averages the feature over slices, 2.5D computes it on
/// the slices' merged matrix, 3D on the volume's matrix.
enum SingleMatrixAggregation {
    /// Feature vectors for each of `wanted` (nil where there was no matrix); the closures are
    /// called only for the aggregations asked for.
    static func compute<Matrix>(
        _ wanted: [TextureAggregation], grid: TextureGrid, featureCount: Int,
        slice: (Int) -> Matrix?, mergedSlices: () -> Matrix?, volume: () -> Matrix?,
        values: (Matrix) -> [Double]?
    ) -> [[Double]?] {
        wanted.map { aggregation in
            switch aggregation {
            case .slice2DAverage, .slice2DMerged:
                var mean = FeatureMean(count: featureCount)
                for z in 0..<grid.nz { mean.add(slice(z).flatMap(values)) }
                return mean.mean
            case .volume2_5DAverage, .volume2_5DMerged:
                return mergedSlices().flatMap(values)
            case .volume3DAverage, .volume3DMerged:
                return volume().flatMap(values)
            }
        }
    }

    /// Features of a family whose matrix counts items (zones, or voxels for the NGLDM) by grey
    /// level `i` and a second quantity `j`; `items` lists them for the in-plane (`planar`) or
    /// the volume neighbourhood.
    static func levelMatrixFeatures<Name: LevelMatrixFeature>(
        _ names: Name.Type, family: FeatureFamily, roi: DiscretisedROI, aggregations: [TextureAggregation],
        items: (TextureGrid, _ planar: Bool) -> LevelItems
    ) -> [FeatureValue] {
        let wanted = TextureOutput.distinct(aggregations, singleMatrix: true)
        guard !wanted.isEmpty else { return [] }
        let grid = TextureGrid(roi)
        let planar = wanted.contains { $0.singleMatrixSuffix != "3D" } ? items(grid, true) : nil
        func matrix(_ items: LevelItems, _ range: Range<Int>, voxels: Int) -> LevelMatrix? {
            range.isEmpty ? nil : LevelMatrix(greyLevels: grid.greyLevels, levels: items.levels, values: items.values,
                                              range: range, voxelCount: voxels)
        }
        let computed = compute(
            wanted, grid: grid, featureCount: Name.allCases.count,
            slice: { z in
                planar.flatMap { matrix($0, $0.sliceStart[z]..<$0.sliceStart[z + 1], voxels: grid.voxelCount(slice: z)) }
            },
            mergedSlices: { planar.flatMap { matrix($0, 0..<$0.levels.count, voxels: grid.voxelCount) } },
            volume: {
                let volume = items(grid, false)
                return matrix(volume, 0..<volume.levels.count, voxels: grid.voxelCount)
            },
            values: { Name.values($0) })
        var result: [FeatureValue] = []
        for (aggregation, values) in zip(wanted, computed) {
            result += TextureOutput.values(
                Name.self, family: family, suffix: aggregation.singleMatrixSuffix, values: values,
                emptyReason: "the ROI is empty")
        }
        return result
    }
}

/// Items counted by a single-matrix family: their grey levels and second quantities, in
/// slice order; the items of slice `z` are `sliceStart[z]..<sliceStart[z + 1]`.
struct LevelItems {
    var levels: [Int32]
    var values: [Int32]
    var sliceStart: [Int]
}

extension GreyLevelZones {
    /// The zones as items with the second quantity `values` (sizes or distances).
    func items(_ values: [Int32]) -> LevelItems {
        LevelItems(levels: level, values: values, sliceStart: sliceStart)
    }
}

// Zones of linked equal-level voxels (GLSZM, GLDZM), distances to the ROI border (GLDZM),
// and the 2D / 2.5D / 3D aggregation of families with one matrix per slice or volume.

/// Grey level zones: groups of ROI voxels with one grey level, linked through 8-connected
/// in-plane neighbours (`planar`) or 26-connected neighbours.
///
/// Zones are numbered in the order in which their first voxel is met (x fastest, then y,
/// then z), so the zones of one slice are consecutive when `planar`.
struct GreyLevelZones {
    let level: [Int32]
    let size: [Int32]
    /// The smallest border distance of the zone's voxels (empty when no distance map was given).
    let minimumDistance: [Int32]
    /// Zones of slice `z` are `sliceStart[z]..<sliceStart[z + 1]` (when `planar`).
    let sliceStart: [Int]

    var count: Int { level.count }

    /// The zones of one neighbourhood (8-connected in-plane when `planar`, else 26-connected).
    init(_ grid: TextureGrid, planar: Bool, distance: [Int32]? = nil) {
        let both = Self.label(grid, planar: planar, volume: !planar, distance: { _ in distance })
        self = (planar ? both.planar : both.volume)!
    }

    /// In-plane and/or volume zones, sharing one scan of the grid. `distance(planar)` gives the
    /// border distances for each (nil: none).
    static func label(_ grid: TextureGrid, planar: Bool, volume: Bool,
                      distance: (_ planar: Bool) -> [Int32]?) -> (planar: GreyLevelZones?, volume: GreyLevelZones?) {
        let inPlane = [Offset3(-1, 0, 0), Offset3(-1, -1, 0), Offset3(0, -1, 0), Offset3(1, -1, 0)]
        let backward = volume ? inPlane + Offset3.throughPlaneDirections.map { Offset3(-$0.dx, -$0.dy, -$0.dz) } : inPlane
        let shifts = backward.map { $0.linear(grid) }
        let planarMask: Int32 = (1 << Int32(inPlane.count)) - 1
        let n = grid.levels.count
        // Union-find forests (parent per voxel, -1 outside the ROI); roots are the first voxel of
        // their set and a join hangs the later root under the earlier, so parents precede children.
        var planarForest = [Int32](repeating: -1, count: planar ? n : 0)
        var volumeForest = [Int32](repeating: -1, count: volume ? n : 0)
        var planarUnions = 0, volumeUnions = 0
        // Bit o of flags[x] is set when voxel x of the current row has the grey level of its
        // neighbour at backward[o].
        var flags = [Int32](repeating: 0, count: grid.nx)
        grid.levels.withUnsafeBufferPointer { levels in
            planarForest.withUnsafeMutableBufferPointer { planarForest in
                volumeForest.withUnsafeMutableBufferPointer { volumeForest in
                    flags.withUnsafeMutableBufferPointer { flags in
                        for z in 0..<grid.nz {
                            for y in 0..<grid.ny {
                                let rowStart = (z * grid.ny + y) * grid.nx
                                for x in 0..<grid.nx { flags[x] = 0 }
                                for (o, offset) in backward.enumerated() {
                                    let xs = TextureGrid.overlap(grid.nx, offset.dx)
                                    guard grid.contains(0, y + offset.dy, z + offset.dz), !xs.isEmpty else { continue }
                                    RowKernels.markEqual(levels.baseAddress! + rowStart + xs.lowerBound,
                                                         flags.baseAddress! + xs.lowerBound,
                                                         count: xs.count, shift: shifts[o], bit: 1 << Int32(o))
                                }
                                for x in 0..<grid.nx {
                                    let index = rowStart &+ x
                                    guard levels[index] > 0 else { continue }
                                    if planar {
                                        planarForest[index] = Int32(index)
                                        planarUnions &+= join(planarForest, index, flags[x] & planarMask, shifts)
                                    }
                                    if volume {
                                        volumeForest[index] = Int32(index)
                                        volumeUnions &+= join(volumeForest, index, flags[x], shifts)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (planar ? GreyLevelZones(grid, forest: &planarForest, unions: planarUnions, distance: distance(true)) : nil,
                volume ? GreyLevelZones(grid, forest: &volumeForest, unions: volumeUnions, distance: distance(false)) : nil)
    }

    /// Joins voxel `index` with its neighbours at `shifts[o]` for each bit `o` of `bits`;
    /// returns the number of joins that merged two sets.
    @inline(__always)
    private static func join(_ parent: UnsafeMutableBufferPointer<Int32>, _ index: Int, _ bits: Int32,
                             _ shifts: [Int]) -> Int {
        func root(_ v: Int) -> Int {
            var v = v
            while Int(parent[v]) != v {
                parent[v] = parent[Int(parent[v])]
                v = Int(parent[v])
            }
            return v
        }
        // The voxel is new, so it is its own root until joined; `own` tracks its root.
        var bits = bits, unions = 0, own = index
        while bits != 0 {
            let other = root(index &+ shifts[bits.trailingZeroBitCount])
            if other < own {
                parent[own] = Int32(other)
                own = other
                unions &+= 1
            } else if other > own {
                parent[other] = Int32(own)
                unions &+= 1
            }
            bits &= bits &- 1
        }
        return unions
    }

    /// Numbers the sets of `forest` (which it overwrites with each voxel's zone) in raster order.
    private init(_ grid: TextureGrid, forest: inout [Int32], unions: Int, distance: [Int32]?) {
        let zoneCount = grid.voxelCount - unions
        var level = [Int32](repeating: 0, count: zoneCount)
        var size = [Int32](repeating: 0, count: zoneCount)
        var minimumDistance = [Int32](repeating: Int32.max, count: distance == nil ? 0 : zoneCount)
        var sliceStart = [Int](repeating: 0, count: grid.nz + 1)
        grid.levels.withUnsafeBufferPointer { levels in
            forest.withUnsafeMutableBufferPointer { zoneOf in
                level.withUnsafeMutableBufferPointer { level in
                    size.withUnsafeMutableBufferPointer { size in
                        var zones = 0
                        var index = 0
                        for z in 0..<grid.nz {
                            sliceStart[z] = zones
                            for _ in 0..<grid.sliceSize {
                                defer { index &+= 1 }
                                let value = levels[index]
                                guard value > 0 else { continue }
                                // Parents precede their children and already hold their zone.
                                let up = Int(zoneOf[index])
                                let zone: Int32
                                if up == index {
                                    zone = Int32(zones)
                                    zones &+= 1
                                    level[Int(zone)] = value
                                } else {
                                    zone = zoneOf[up]
                                }
                                zoneOf[index] = zone
                                size[Int(zone)] &+= 1
                            }
                        }
                        sliceStart[grid.nz] = zones
                    }
                }
                if let distance {
                    distance.withUnsafeBufferPointer { distance in
                        minimumDistance.withUnsafeMutableBufferPointer { minimumDistance in
                            for index in 0..<zoneOf.count where zoneOf[index] >= 0 {
                                let zone = Int(zoneOf[index])
                                minimumDistance[zone] = min(minimumDistance[zone], distance[index])
                            }
                        }
                    }
                }
            }
        }
        self.level = level
        self.size = size
        self.minimumDistance = minimumDistance
        self.sliceStart = sliceStart
    }
}

enum BorderDistance {
    /// Per voxel, the Manhattan distance to the nearest voxel outside `inside` (IBSI 1: 6-connected
    /// in 3D, 4-connected in-plane when `planar`): 1 for a voxel on the border, 0 outside.
    /// Beyond the grid counts as outside.
    static func map(_ grid: TextureGrid, inside: [Bool], planar: Bool) -> [Int32] {
        let (nx, ny, nz) = (grid.nx, grid.ny, grid.nz)
        let plane = nx * ny
        var distance = [Int32](repeating: 0, count: grid.levels.count)
        // Two raster passes with face neighbours give the exact city-block distance.
        inside.withUnsafeBufferPointer { inside in
            distance.withUnsafeMutableBufferPointer { d in
                var index = 0
                for z in 0..<nz {
                    for y in 0..<ny {
                        for x in 0..<nx {
                            defer { index &+= 1 }
                            guard inside[index] else { continue }
                            var m = min(x > 0 ? d[index &- 1] : 0, y > 0 ? d[index &- nx] : 0)
                            if !planar { m = min(m, z > 0 ? d[index &- plane] : 0) }
                            d[index] = m &+ 1
                        }
                    }
                }
                for z in stride(from: nz - 1, through: 0, by: -1) {
                    for y in stride(from: ny - 1, through: 0, by: -1) {
                        var index = (z * ny + y) * nx + nx - 1
                        for x in stride(from: nx - 1, through: 0, by: -1) {
                            defer { index &-= 1 }
                            guard d[index] > 1 else { continue }
                            var m = min(x < nx - 1 ? d[index &+ 1] : 0, y < ny - 1 ? d[index &+ nx] : 0)
                            if !planar { m = min(m, z < nz - 1 ? d[index &+ plane] : 0) }
                            d[index] = min(d[index], m &+ 1)
                        }
                    }
                }
            }
        }
        return distance
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
        items: (TextureGrid, _ planar: Bool, _ volume: Bool) -> (planar: LevelItems?, volume: LevelItems?)
    ) -> [FeatureValue] {
        let wanted = TextureOutput.distinct(aggregations, singleMatrix: true)
        guard !wanted.isEmpty else { return [] }
        let grid = TextureGrid(roi)
        let both = items(grid, wanted.contains { $0.singleMatrixSuffix != "3D" },
                         wanted.contains { $0.singleMatrixSuffix == "3D" })
        // Slice matrices share their columns, so the 2.5D matrix is their sum.
        var slices: [LevelMatrix] = []
        var merged: LevelMatrix?
        if let planar = both.planar {
            slices = LevelMatrix.sharingColumns(
                greyLevels: grid.greyLevels, levels: planar.levels, values: planar.values,
                ranges: (0..<grid.nz).map { planar.sliceStart[$0]..<planar.sliceStart[$0 + 1] },
                voxelCounts: (0..<grid.nz).map { grid.voxelCount(slice: $0) })
            merged = slices.first.map { first in slices.dropFirst().reduce(into: first) { $0.add($1) } }
        }
        let computed = compute(
            wanted, grid: grid, featureCount: Name.allCases.count,
            slice: { slices.isEmpty ? nil : slices[$0] },
            mergedSlices: { merged },
            volume: {
                both.volume.map { LevelMatrix(greyLevels: grid.greyLevels, levels: $0.levels, values: $0.values,
                                              range: 0..<$0.levels.count, voxelCount: grid.voxelCount) }
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
/// slice order; the items of slice `z` are `sliceStart[z]..<sliceStart[z + 1]`. Items of
/// level 0 (voxels outside the ROI, when the items are the grid's voxels) are not counted.
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

import Foundation
import ImagingCore

// Zones of linked equal-level voxels (GLSZM, GLDZM), distances to the ROI border (GLDZM),
// and the 2D / 2.5D / 3D aggregation of families with one matrix per slice or volume.

/// Grey level zones: groups of ROI voxels with one grey level, linked through 8-connected
/// in-plane neighbours (`planar`) or 26-connected neighbours.
///
/// Zones are numbered in the order of their first voxels (x fastest, then y, then z): a zone's
/// first voxel lies in the zone's first slice, which for in-plane zones is its only one, so the
/// zones starting in one slice are consecutive.
struct GreyLevelZones: Sendable {
    /// Per ROI voxel: the number of its zone. Voxels outside the ROI hold no meaningful value
    /// (the array is never cleared): read it only where the grid's level is above 0.
    let zoneOfVoxel: [Int32]
    /// Per zone: its grey level.
    let levels: [Int32]
    /// Per zone: its number of voxels.
    let sizes: [Int32]
    /// Per slice `z`, the first zone starting in slice `z` or later (`nz + 1` entries): the zones
    /// starting in slice `z` are `sliceStarts[z]..<sliceStarts[z + 1]`.
    let sliceStarts: [Int]

    var count: Int { levels.count }

    /// Per zone: the smallest of `distance` over its voxels.
    func minimumDistances(_ grid: TextureGrid, _ distance: [Int32]) -> [Int32] {
        var minimum = [Int32](repeating: .max, count: count)
        grid.levels.withUnsafeBufferPointer { levels in
            zoneOfVoxel.withUnsafeBufferPointer { zone in
                distance.withUnsafeBufferPointer { distance in
                    minimum.withUnsafeMutableBufferPointer { minimum in
                        grid.roiRanges { range in
                            for index in range where levels[index] > 0 {
                                let z = Int(zone[index])
                                minimum[z] = min(minimum[z], distance[index])
                            }
                        }
                    }
                }
            }
        }
        return minimum
    }

    /// The zones as items: grey level and the second quantity `values` (sizes or distances), one
    /// per zone, grouped by the slice of their first voxel.
    func items(_ values: [Int32]) -> LevelItems {
        LevelItems(levels: levels, values: values, sliceStarts: sliceStarts)
    }

    /// The neighbours that come before a voxel in memory order: the in-plane ones (the voxel
    /// to the left first), then those of the slice below.
    private static let backward = [Offset3(-1, 0, 0), Offset3(0, -1, 0), Offset3(-1, -1, 0), Offset3(1, -1, 0)]
        + Offset3.throughPlaneDirections.map { Offset3(-$0.dx, -$0.dy, -$0.dz) }

    /// For each set of `backward` neighbours (bit `o` for `backward[o]`), one neighbour (the
    /// lowest bit) of each group of them linked through one another.
    ///
    /// Equal neighbours adjacent to each other both come before the voxel, so they already share
    /// a zone: a voxel with the grey level of the neighbours in `bits` joins their zones by
    /// joining those of `linkedGroups[bits]`.
    private static let linkedGroups: [UInt16] = {
        let adjacent = backward.map { o in
            backward.indices.reduce(0) { bits, p in
                let q = backward[p]
                return max(abs(q.dx - o.dx), abs(q.dy - o.dy), abs(q.dz - o.dz)) <= 1 ? bits | 1 << p : bits
            }
        }
        return (0..<(1 << backward.count)).map { bits in
            var left = bits, groups = 0
            while left != 0 {
                var group = 1 << left.trailingZeroBitCount
                groups |= group
                while true {
                    var grown = group
                    for o in backward.indices where group & 1 << o != 0 { grown |= adjacent[o] & bits }
                    if grown == group { break }
                    group = grown
                }
                left &= ~group
            }
            return UInt16(groups)
        }
    }()

    /// In-plane and/or volume zones, sharing one scan of the grid.
    static func label(_ grid: TextureGrid, planar: Bool, volume: Bool) -> (planar: GreyLevelZones?, volume: GreyLevelZones?) {
        let backward = volume ? Self.backward : Array(Self.backward.prefix(4))
        let shifts = backward.map { $0.linear(grid) }
        let planarMask: Int32 = 0b1111
        let n = grid.levels.count
        precondition(n <= Int(Int32.max), "zone labelling indexes voxels with 32-bit parents")
        // Union-find forests (parent per ROI voxel; outside the ROI never written nor read, so not
        // cleared); roots are the first voxel of their set and a join hangs the later root under
        // the earlier, so parents precede children.
        func forest(_ wanted: Bool) -> [Int32] {
            [Int32](unsafeUninitializedCapacity: wanted ? n : 0) { _, count in count = wanted ? n : 0 }
        }
        var planarForest = forest(planar), volumeForest = forest(volume)
        // Bit o of flags[x] is set when voxel x of the current row has the grey level of its
        // neighbour at backward[o].
        var flags = [Int32](repeating: 0, count: grid.nx)
        Self.linkedGroups.withUnsafeBufferPointer { groups in
        shifts.withUnsafeBufferPointer { shifts in
        grid.levels.withUnsafeBufferPointer { levels in
            planarForest.withUnsafeMutableBufferPointer { planarForest in
                volumeForest.withUnsafeMutableBufferPointer { volumeForest in
                    flags.withUnsafeMutableBufferPointer { flags in
                        for z in 0..<grid.nz {
                            for y in 0..<grid.ny {
                                // Only the voxels from the row's first to its last ROI voxel need flags.
                                let extent = grid.extents[z * grid.ny + y]
                                guard extent.lower <= extent.upper else { continue }
                                let rowStart = (z * grid.ny + y) * grid.nx
                                // The first neighbour (the voxel to the left) sets the flags of
                                // all but a first voxel at x = 0, which has no left neighbour.
                                flags[extent.lower] = 0
                                for (o, offset) in backward.enumerated() {
                                    let xs = TextureGrid.overlap(grid.nx, offset.dx)
                                        .clamped(to: extent.lower..<(extent.upper + 1))
                                    guard grid.contains(0, y + offset.dy, z + offset.dz), !xs.isEmpty else { continue }
                                    RowKernels.markEqual(levels.baseAddress! + rowStart + xs.lowerBound,
                                                         flags.baseAddress! + xs.lowerBound,
                                                         count: xs.count, shift: shifts[o], bit: 1 << Int32(o),
                                                         replacing: o == 0)
                                }
                                // One loop for each combination asked for, without tests of it per voxel.
                                @inline(__always)
                                func joinRow(planar: Bool, volume: Bool) {
                                    // The root of the previous voxel's set, once it has one.
                                    var planarLeft = 0, volumeLeft = 0
                                    for x in extent.lower...extent.upper {
                                        let index = rowStart &+ x
                                        guard levels[index] > 0 else { continue }
                                        if planar {
                                            planarLeft = join(planarForest, index, groups[Int(flags[x] & planarMask)],
                                                              left: planarLeft, shifts)
                                        }
                                        if volume {
                                            volumeLeft = join(volumeForest, index, groups[Int(flags[x])],
                                                              left: volumeLeft, shifts)
                                        }
                                    }
                                }
                                if planar && volume {
                                    joinRow(planar: true, volume: true)
                                } else if volume {
                                    joinRow(planar: false, volume: true)
                                } else {
                                    joinRow(planar: true, volume: false)
                                }
                            }
                        }
                    }
                }
            }
        }
        }
        }
        return (planar ? GreyLevelZones(grid, forest: planarForest) : nil,
                volume ? GreyLevelZones(grid, forest: volumeForest) : nil)
    }

    /// Adds voxel `index` and joins it with its neighbours at `shifts[o]` for each bit `o` of
    /// `bits`; bit 0 (the voxel to the left) joins the set whose root is `left`. Returns the
    /// root of the voxel's set.
    @inline(__always)
    private static func join(_ parent: UnsafeMutableBufferPointer<Int32>, _ index: Int, _ bits: UInt16,
                             left: Int, _ shifts: UnsafeBufferPointer<Int>) -> Int {
        func root(_ v: Int) -> Int {
            var v = v
            while Int(parent[v]) != v {
                parent[v] = parent[Int(parent[v])]
                v = Int(parent[v])
            }
            return v
        }
        // The voxel is new, so it is its own root until joined; `own` tracks its root.
        var bits = bits, own = index
        if bits & 1 != 0 {
            own = left
            bits &= ~1
        }
        // Voxel indices fit in 32 bits (the forest's parents are 32-bit).
        parent[index] = Int32(truncatingIfNeeded: own)
        while bits != 0 {
            let other = root(index &+ shifts[bits.trailingZeroBitCount])
            if other < own {
                parent[own] = Int32(truncatingIfNeeded: other)
                own = other
            } else if other > own {
                parent[other] = Int32(truncatingIfNeeded: own)
            }
            bits &= bits &- 1
        }
        return own
    }

    /// Numbers the sets of `forest` (a parent per ROI voxel, every parent before its children) in
    /// the order of their roots, and counts their voxels.
    private init(_ grid: TextureGrid, forest: [Int32]) {
        var forest = forest
        // At most one zone per voxel; the arrays are cut to the zones found.
        let most = grid.voxelCount
        var levels = [Int32](unsafeUninitializedCapacity: most) { _, count in count = most }
        var sizes = [Int32](unsafeUninitializedCapacity: most) { _, count in count = most }
        var sliceStarts: [Int] = []
        sliceStarts.reserveCapacity(grid.nz + 1)
        var zones = 0
        grid.levels.withUnsafeBufferPointer { gridLevels in
            forest.withUnsafeMutableBufferPointer { forest in
                levels.withUnsafeMutableBufferPointer { levels in
                    sizes.withUnsafeMutableBufferPointer { sizes in
                        // A voxel's parent comes before it, so it holds its zone's number already.
                        for z in 0..<grid.nz {
                            sliceStarts.append(zones)
                            grid.roiRanges(slices: z..<(z + 1)) { range in
                                for index in range where gridLevels[index] > 0 {
                                    let up = Int(forest[index])
                                    if up == index {
                                        levels[zones] = gridLevels[index]
                                        sizes[zones] = 1
                                        forest[index] = Int32(truncatingIfNeeded: zones)
                                        zones &+= 1
                                    } else {
                                        let zone = forest[up]
                                        forest[index] = zone
                                        sizes[Int(zone)] &+= 1
                                    }
                                }
                            }
                        }
                        sliceStarts.append(zones)
                    }
                }
            }
        }
        levels.removeLast(most - zones)
        sizes.removeLast(most - zones)
        zoneOfVoxel = forest
        self.levels = levels
        self.sizes = sizes
        self.sliceStarts = sliceStarts
    }
}

/// The zones of the ROI labelled last, so that GLSZM and GLDZM of one ROI label it once.
///
/// The ROI is recognised by the storage of its grey levels, which the memo keeps alive: while
/// it does, no other array can have that storage, and the shared storage cannot change.
final class ZoneMemo: @unchecked Sendable {
    static let shared = ZoneMemo()

    private let lock = NSLock()
    private var levels: [Int32] = []
    private var planar: GreyLevelZones?
    private var volume: GreyLevelZones?

    /// The in-plane and/or volume zones of `grid`, labelled now or reused.
    func zones(_ grid: TextureGrid, planar wantsPlanar: Bool, volume wantsVolume: Bool)
        -> (planar: GreyLevelZones?, volume: GreyLevelZones?) {
        lock.lock()
        let same = Self.identical(levels, grid.levels)
        var found = same ? (planar: planar, volume: volume) : (planar: nil, volume: nil)
        lock.unlock()
        let missingPlanar = wantsPlanar && found.planar == nil, missingVolume = wantsVolume && found.volume == nil
        if missingPlanar || missingVolume {
            let labelled = GreyLevelZones.label(grid, planar: missingPlanar, volume: missingVolume)
            found.planar = found.planar ?? labelled.planar
            found.volume = found.volume ?? labelled.volume
            lock.lock()
            if !Self.identical(levels, grid.levels) {
                levels = grid.levels
                planar = nil
                volume = nil
            }
            planar = planar ?? found.planar
            volume = volume ?? found.volume
            lock.unlock()
        }
        return (wantsPlanar ? found.planar : nil, wantsVolume ? found.volume : nil)
    }

    private static func identical(_ a: [Int32], _ b: [Int32]) -> Bool {
        a.count == b.count && a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress } }
    }
}

enum BorderDistance {
    /// Per voxel, the Manhattan distance to the nearest voxel outside `inside` (IBSI 1: 6-connected
    /// in 3D, 4-connected in-plane when `planar`): 1 for a voxel on the border, 0 outside.
    /// Beyond the grid counts as outside.
    ///
    /// The distances depend on the mask alone, so the response maps of one region, which share its
    /// morphological mask, find them computed (`MaskMemos.borderDistances`).
    static func map(_ grid: TextureGrid, inside: [Bool], planar: Bool) -> [Int32] {
        MaskMemos.borderDistances.value(for: inside, shape: [grid.nx, grid.ny, grid.nz, planar ? 1 : 0]) {
            computeMap(grid, inside: inside, planar: planar)
        }
    }

    private static func computeMap(_ grid: TextureGrid, inside: [Bool], planar: Bool) -> [Int32] {
        let (nx, ny, nz) = (grid.nx, grid.ny, grid.nz)
        let plane = nx * ny
        var distance = [Int32](repeating: 0, count: grid.levels.count)
        // Outside the rows' extents of `inside` every distance is 0, as beyond the grid (`zeros`);
        // in-plane, the neighbouring slices are no neighbours (`none`).
        let extents = Preprocessor.rowExtents(inside, size: Size3(nx, ny, nz))
        let zeros = [Int32](repeating: 0, count: nx), none = [Int32](repeating: .max, count: nx)
        // Two raster passes with face neighbours give the exact city-block distance.
        inside.withUnsafeBufferPointer { inside in
            distance.withUnsafeMutableBufferPointer { d in
                zeros.withUnsafeBufferPointer { zeros in
                none.withUnsafeBufferPointer { none in
                    let d = d.baseAddress!, zeros = zeros.baseAddress!, none = none.baseAddress!
                    // The distances of neighbour row `(y, z)`.
                    func row(_ y: Int, _ z: Int, inPlane: Bool) -> UnsafePointer<Int32> {
                        guard inPlane || !planar else { return none }
                        return y >= 0 && y < ny && z >= 0 && z < nz ? UnsafePointer(d + (z * ny + y) * nx) : zeros
                    }
                    for z in 0..<nz {
                        for y in 0..<ny {
                            let (lower, upper) = extents[z * ny + y]
                            guard lower <= upper else { continue }
                            let start = (z * ny + y) * nx
                            let up = row(y - 1, z, inPlane: true), below = row(y, z - 1, inPlane: false)
                            var left: Int32 = 0
                            for x in lower...upper {
                                left = inside[start &+ x] ? min(left, up[x], below[x]) &+ 1 : 0
                                d[start &+ x] = left
                            }
                        }
                    }
                    for z in stride(from: nz - 1, through: 0, by: -1) {
                        for y in stride(from: ny - 1, through: 0, by: -1) {
                            let (lower, upper) = extents[z * ny + y]
                            guard lower <= upper else { continue }
                            let start = (z * ny + y) * nx
                            let down = row(y + 1, z, inPlane: true), above = row(y, z + 1, inPlane: false)
                            var right: Int32 = 0
                            for x in stride(from: upper, through: lower, by: -1) {
                                let own = d[start &+ x]
                                right = own > 1 ? min(own, min(right, down[x], above[x]) &+ 1) : own
                                d[start &+ x] = right
                            }
                        }
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
        // Items per voxel are 0 outside the ROI, so only the ROI's row extents are read; lists of
        // items (zones) are read by their slices' ranges.
        func roiRows(_ items: LevelItems, _ slices: Range<Int>) -> [Range<Int>] {
            if let starts = items.sliceStarts { return [starts[slices.lowerBound]..<starts[slices.upperBound]] }
            var rows: [Range<Int>] = []
            grid.roiRanges(slices: slices) { rows.append($0) }
            return rows
        }
        // Slice matrices share their columns, so the 2.5D matrix is their sum.
        var slices: [LevelMatrix] = []
        var merged: LevelMatrix?
        if let planar = both.planar {
            slices = LevelMatrix.sharingColumns(
                greyLevels: grid.greyLevels, levels: planar.levels, values: planar.values,
                ranges: (0..<grid.nz).map { roiRows(planar, $0..<($0 + 1)) },
                voxelCounts: (0..<grid.nz).map { grid.voxelCount(slice: $0) }, valueBound: planar.valueBound)
            merged = slices.first.map { first in slices.dropFirst().reduce(into: first) { $0.add($1) } }
        }
        let computed = compute(
            wanted, grid: grid, featureCount: Name.allCases.count,
            slice: { slices.isEmpty ? nil : slices[$0] },
            mergedSlices: { merged },
            volume: {
                both.volume.map {
                    LevelMatrix.sharingColumns(greyLevels: grid.greyLevels, levels: $0.levels, values: $0.values,
                                               ranges: [roiRows($0, 0..<grid.nz)], voxelCounts: [grid.voxelCount],
                                               valueBound: $0.valueBound)[0]
                }
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

/// Items counted by a single-matrix family: their grey levels and second quantities, either one
/// per voxel of the grid (`sliceStarts` nil; items whose value is 0, voxels outside the ROI, are
/// not counted) or a list grouped by slice (zones: those of slice `z` are
/// `sliceStarts[z]..<sliceStarts[z + 1]`). Per voxel, `valueBound` (when known) is the largest
/// value there can be, and outside the ROI both level and value are 0: the matrix is then
/// counted in one read.
struct LevelItems {
    var levels: [Int32]
    var values: [Int32]
    var sliceStarts: [Int]? = nil
    var valueBound: Int? = nil
}


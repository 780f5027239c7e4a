import Foundation

// Machinery shared by the six texture families: the grid they read, neighbour offsets,
// matrices of counts per grey level, feature averaging and the naming of results.

/// The discretised grid as the texture families read it.
///
/// `greyLevels` (Ng) is the ROI's bin count, raised to the highest level present should a
/// caller pass a smaller one, so that every level indexes a matrix row. Levels must not be
/// negative: they index the texture matrices.
struct TextureGrid {
    let nx: Int
    let ny: Int
    let nz: Int
    let levels: [Int32]
    let greyLevels: Int
    let voxelCount: Int
    /// For each row (fixed y and z, index `z * ny + y`), the first and last x of an ROI voxel;
    /// `lower > upper` for a row without one. Texture counts skip what lies outside.
    let extents: [(lower: Int, upper: Int)]

    /// The grid of `roi`; the six families of one ROI share one (see `TextureGridMemo`).
    init(_ roi: DiscretisedROI) {
        if let known = TextureGridMemo.shared.grid(roi) {
            self = known
            return
        }
        nx = roi.size.nx
        ny = roi.size.ny
        nz = roi.size.nz
        levels = roi.levels
        var extents = [(lower: Int, upper: Int)](repeating: (1, 0), count: ny * nz)
        var highest: Int32 = 0
        var count = 0
        var lowest: Int32 = 0
        let nx = nx
        roi.levels.withUnsafeBufferPointer { levels in
            // No levels: no row has any.
            guard let base = levels.baseAddress else { return }
            let raw = UnsafeRawPointer(base)
            for row in 0..<extents.count {
                // Outside the extents every level is 0, so the scan below sees every other level.
                // Zeros are skipped four at a time (four levels in 16 bytes), then one at a time.
                let start = row * nx
                func zeros(_ offset: Int) -> Bool {
                    raw.loadUnaligned(fromByteOffset: (start + offset) * 4, as: SIMD4<Int32>.self) == .zero
                }
                var lower = 0
                while lower + 4 <= nx && zeros(lower) { lower += 4 }
                while lower < nx && levels[start + lower] == 0 { lower += 1 }
                guard lower < nx else { continue }
                var upper = nx - 1
                while upper >= 3 && zeros(upper - 3) { upper -= 4 }
                while levels[start + upper] == 0 { upper -= 1 }
                extents[row] = (lower, upper)
                for level in levels[(start + lower)...(start + upper)] {
                    count &+= level > 0 ? 1 : 0
                    highest = max(highest, level)
                    lowest = min(lowest, level)
                }
            }
        }
        precondition(lowest >= 0, "discretised ROI \(roi.size) has grey level \(lowest): levels must be 0 (outside) or 1...binCount")
        greyLevels = max(roi.binCount, Int(highest), 1)
        voxelCount = count
        self.extents = extents
        TextureGridMemo.shared.remember(self, binCount: roi.binCount)
    }

    var sliceSize: Int { nx * ny }

    /// ROI voxels in slice `z`.
    func voxelCount(slice z: Int) -> Int {
        var count = 0
        levels.withUnsafeBufferPointer { levels in
            roiRanges(slices: z..<(z + 1)) { range in
                for index in range where levels[index] > 0 { count += 1 }
            }
        }
        return count
    }

    /// The row extents (`extents`).
    func rowExtents() -> [(lower: Int, upper: Int)] { extents }

    /// Calls `body` with the linear indices from the first to the last ROI voxel of each row
    /// (in memory order) of `slices`: every ROI voxel lies in one of them.
    @inline(__always)
    func roiRanges(slices: Range<Int>? = nil, _ body: (Range<Int>) -> Void) {
        let slices = slices ?? 0..<nz
        for row in (slices.lowerBound * ny)..<(slices.upperBound * ny) {
            let extent = extents[row]
            guard extent.lower <= extent.upper else { continue }
            body((row * nx + extent.lower)..<(row * nx + extent.upper + 1))
        }
    }

    /// Whether the voxel `(x, y, z) + offset` lies inside the grid.
    @inline(__always)
    func contains(_ x: Int, _ y: Int, _ z: Int) -> Bool {
        x >= 0 && x < nx && y >= 0 && y < ny && z >= 0 && z < nz
    }

    /// The range of `c` for which both `c` and `c + d` lie in `0..<n`.
    @inline(__always)
    static func overlap(_ n: Int, _ d: Int) -> Range<Int> {
        let lower = max(0, -d)
        let upper = min(n, n - d)
        return lower < upper ? lower..<upper : 0..<0
    }
}

/// The texture grid of the ROI seen last, so that the six families of one ROI scan it once.
///
/// The ROI is recognised by the storage of its grey levels (kept alive by the grid, so no other
/// array can have it meanwhile) and its bin count.
final class TextureGridMemo: @unchecked Sendable {
    static let shared = TextureGridMemo()

    private let lock = NSLock()
    private var last: (grid: TextureGrid, binCount: Int)?

    func grid(_ roi: DiscretisedROI) -> TextureGrid? {
        lock.lock()
        defer { lock.unlock() }
        guard let last, last.binCount == roi.binCount, last.grid.levels.count == roi.levels.count,
              last.grid.nx == roi.size.nx, last.grid.ny == roi.size.ny else { return nil }
        let same = last.grid.levels.withUnsafeBufferPointer { a in
            roi.levels.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress }
        }
        return same ? last.grid : nil
    }

    func remember(_ grid: TextureGrid, binCount: Int) {
        lock.lock()
        last = (grid, binCount)
        lock.unlock()
    }
}

/// A step from a voxel to a neighbour, in voxels.
struct Offset3: Hashable {
    let dx: Int
    let dy: Int
    let dz: Int

    init(_ dx: Int, _ dy: Int, _ dz: Int) { self.dx = dx; self.dy = dy; self.dz = dz }

    func scaled(_ factor: Int) -> Offset3 { Offset3(dx * factor, dy * factor, dz * factor) }

    func linear(_ grid: TextureGrid) -> Int { (dz * grid.ny + dy) * grid.nx + dx }

    /// The 4 in-plane directions of IBSI 1 (one of each opposite pair).
    static let planarDirections = [Offset3(1, 0, 0), Offset3(1, 1, 0), Offset3(0, 1, 0), Offset3(-1, 1, 0)]

    /// The 9 further directions that complete the 13 of a 3D neighbourhood.
    static let throughPlaneDirections = [
        Offset3(0, 0, 1), Offset3(0, 1, 1), Offset3(0, -1, 1), Offset3(1, 0, 1), Offset3(-1, 0, 1),
        Offset3(1, 1, 1), Offset3(1, -1, 1), Offset3(-1, 1, 1), Offset3(-1, -1, 1),
    ]
}

/// The features of one family, named by the feature part of their IBSI tags.
protocol TextureFeatureName: CaseIterable, RawRepresentable where RawValue == String, AllCases == [Self] {
    /// Why the feature can be NaN although its matrix is not empty.
    var undefinedReason: String { get }
}

/// Element-wise mean of feature vectors that skips undefined (NaN) entries.
///
/// IBSI averages a feature over the slices or directions whose matrices define it;
/// a slice without neighbouring pairs, say, does not drag the mean towards zero.
struct FeatureMean {
    private var sums: [Double]
    private var counts: [Int]

    init(count: Int) {
        sums = [Double](repeating: 0, count: count)
        counts = [Int](repeating: 0, count: count)
    }

    mutating func add(_ values: [Double]?) {
        guard let values else { return }
        for (index, value) in values.enumerated() where !value.isNaN {
            sums[index] += value
            counts[index] += 1
        }
    }

    /// The means, or nil when no vector was added.
    var mean: [Double]? {
        guard counts.contains(where: { $0 > 0 }) else { return nil }
        return zip(sums, counts).map { $1 > 0 ? $0 / Double($1) : .nan }
    }
}

enum TextureOutput {
    /// The aggregations to compute, each once: for single-matrix families, `avg` and `comb`
    /// of one dimensionality are the same computation.
    static func distinct(_ aggregations: [TextureAggregation], singleMatrix: Bool) -> [TextureAggregation] {
        var seen = Set<String>()
        var result: [TextureAggregation] = []
        for aggregation in aggregations {
            let key = singleMatrix ? aggregation.singleMatrixSuffix : aggregation.rawValue
            if seen.insert(key).inserted { result.append(aggregation) }
        }
        return result
    }

    /// Feature values for one aggregation, with a note on every NaN.
    ///
    /// - Parameters:
    ///   - values: one value per feature in `Name.allCases` order, or nil when the ROI gave no matrix.
    ///   - emptyReason: why there is no matrix (used when `values` is nil).
    static func values<Name: TextureFeatureName>(
        _ names: Name.Type, family: FeatureFamily, suffix: String, values: [Double]?, emptyReason: String
    ) -> [FeatureValue] {
        Name.allCases.enumerated().map { index, name in
            let value = values?[index] ?? .nan
            let note: String? = value.isNaN ? (values == nil ? emptyReason : name.undefinedReason) : nil
            return FeatureValue(
                family: family, name: name.rawValue,
                ibsiTag: "\(family.ibsiPrefix)_\(name.rawValue)_\(suffix)", value: value, note: note)
        }
    }
}

extension Array {
    /// `map(transform)` as a straight loop into uninitialised storage, which the optimiser vectorises when
    /// `transform` is simple: `map` appends element by element (about 15 instructions each), and the families map
    /// whole per-voxel arrays of every response map. Same elements, same order.
    @inline(__always)
    func mapVoxels<T>(_ transform: (Element) -> T) -> [T] {
        [T](unsafeUninitializedCapacity: count) { out, initialised in
            initialised = count
            guard let out = out.baseAddress else { return }
            withUnsafeBufferPointer { v in
                for n in 0..<v.count { (out + n).initialize(to: transform(v[n])) }
            }
        }
    }
}

/// `-p log2 p`, 0 for `p = 0`.
@inline(__always)
func entropyTerm(_ p: Double) -> Double { p > 0 ? -p * log2(p) : 0 }

/// `c log2 c` for counts `c`, tabulated for small counts so that entropies of count matrices
/// need no logarithm per cell: `-Σ p log2 p = log2 N - Σ c log2 c / N` for counts summing to `N`.
struct CountLogarithms {
    private static let shared: [Double] = (0..<4096).map { $0 == 0 ? 0 : Double($0) * log2(Double($0)) }
    private let table = CountLogarithms.shared

    @inline(__always)
    func xLog2x(_ count: Int) -> Double {
        count < table.count ? table[count] : Double(count) * log2(Double(count))
    }

    /// The entropy in bits of counts whose `Σ c log2 c` is `sum` and whose total is `total`.
    static func entropy(sumOfXLog2X sum: Double, total: Double) -> Double {
        max(0, log2(total) - sum / total)
    }
}

/// A count matrix with one row per grey level and one column per observed value of a second
/// quantity (run length, zone size, zone distance or dependence count), as used by GLRLM,
/// GLSZM, GLDZM and NGLDM.
///
/// Only the observed values get a column, so a huge zone costs one column, not a row of
/// the length of its size.
struct LevelMatrix {
    let greyLevels: Int
    /// The second quantity of each column, increasing.
    let columnValues: [Int]
    /// Counts, row-major: `counts[(level - 1) * columnValues.count + column]`.
    var counts: [Int32]
    /// Voxels behind the matrix (summed when matrices are merged): the `N_v` of the percentages.
    var voxelCount: Int
    /// Columns beyond the first `usedColumns` are all zero.
    var usedColumns: Int

    /// A zero matrix with the columns `1...maxValue`.
    init(greyLevels: Int, maxValue: Int, voxelCount: Int) {
        self.greyLevels = greyLevels
        columnValues = Array(1...max(maxValue, 1))
        counts = [Int32](repeating: 0, count: greyLevels * columnValues.count)
        self.voxelCount = voxelCount
        usedColumns = 0
    }

    /// The matrix of the items in `ranges` of `levels` and `values`; items of value 0 are skipped.
    init(greyLevels: Int, levels: [Int32], values: [Int32], ranges: [Range<Int>], voxelCount: Int) {
        self = Self.sharingColumns(greyLevels: greyLevels, levels: levels, values: values,
                                   ranges: [ranges], voxelCounts: [voxelCount])[0]
    }

    private init(greyLevels: Int, columnValues: [Int], counts: [Int32], voxelCount: Int) {
        self.greyLevels = greyLevels
        self.columnValues = columnValues
        self.counts = counts
        self.voxelCount = voxelCount
        usedColumns = columnValues.count
    }

    /// One matrix per list of ranges of items, all with the columns of the values found in any
    /// (so they can be merged by adding); items of value 0 are skipped.
    ///
    /// With a small `valueBound` (no value above it; NGLDM dependence counts), the items are read once,
    /// counted by value into a dense matrix with a row for level 0 (voxels outside the ROI, not
    /// kept), and the columns of values found are kept.
    static func sharingColumns(greyLevels: Int, levels: [Int32], values: [Int32], ranges: [[Range<Int>]],
                               voxelCounts: [Int], valueBound: Int? = nil) -> [LevelMatrix] {
        // (A dense matrix of a wide neighbourhood's counts would be too large.)
        if let valueBound, (greyLevels + 1) * (valueBound + 1) <= 1 << 16 {
            return denseSharingColumns(greyLevels: greyLevels, levels: levels, values: values, ranges: ranges,
                                       voxelCounts: voxelCounts, valueBound: valueBound)
        }
        var observed: [Int] = []
        var matrices: [LevelMatrix] = []
        levels.withUnsafeBufferPointer { levels in
            values.withUnsafeBufferPointer { values in
                var maxValue: Int32 = 0
                for range in ranges.joined() {
                    for item in range { maxValue = max(maxValue, values[item]) }
                }
                var column = [Int32](repeating: -1, count: Int(maxValue) + 1)
                column.withUnsafeMutableBufferPointer { column in
                    for range in ranges.joined() {
                        for item in range where values[item] > 0 { column[Int(values[item])] = 0 }
                    }
                    for value in 0...Int(maxValue) where column[value] == 0 {
                        column[value] = Int32(observed.count)
                        observed.append(value)
                    }
                    let width = observed.count
                    for (matrixRanges, voxels) in zip(ranges, voxelCounts) {
                        var counts = [Int32](repeating: 0, count: greyLevels * width)
                        counts.withUnsafeMutableBufferPointer { counts in
                            for range in matrixRanges {
                                for item in range where values[item] > 0 {
                                    counts[(Int(levels[item]) &- 1) &* width &+ Int(column[Int(values[item])])] &+= 1
                                }
                            }
                        }
                        matrices.append(LevelMatrix(greyLevels: greyLevels, columnValues: observed, counts: counts,
                                                    voxelCount: voxels))
                    }
                }
            }
        }
        return matrices
    }

    /// `sharingColumns` for values in `0...valueBound`, in one read of the items.
    private static func denseSharingColumns(greyLevels: Int, levels: [Int32], values: [Int32], ranges: [[Range<Int>]],
                                            voxelCounts: [Int], valueBound: Int) -> [LevelMatrix] {
        let width = valueBound + 1
        var dense: [[Int32]] = []
        levels.withUnsafeBufferPointer { levels in
            values.withUnsafeBufferPointer { values in
                for matrixRanges in ranges {
                    var counts = [Int32](repeating: 0, count: (greyLevels + 1) * width)
                    counts.withUnsafeMutableBufferPointer { counts in
                        for range in matrixRanges {
                            for item in range {
                                counts[Int(levels[item]) &* width &+ Int(values[item])] &+= 1
                            }
                        }
                    }
                    dense.append(counts)
                }
            }
        }
        // The values found at an ROI voxel (row above 0, value above 0), in any matrix.
        var found = [Bool](repeating: false, count: width)
        for counts in dense {
            for row in 1...greyLevels {
                for value in 1..<width where counts[row * width + value] != 0 { found[value] = true }
            }
        }
        let observed = (1..<width).filter { found[$0] }
        return zip(dense, voxelCounts).map { counts, voxels in
            var compact = [Int32](repeating: 0, count: greyLevels * observed.count)
            for row in 1...greyLevels {
                for (column, value) in observed.enumerated() {
                    compact[(row - 1) * observed.count + column] = counts[row * width + value]
                }
            }
            return LevelMatrix(greyLevels: greyLevels, columnValues: observed, counts: compact, voxelCount: voxels)
        }
    }

    /// Adds another matrix with the same columns.
    mutating func add(_ other: LevelMatrix) {
        precondition(other.columnValues.count == columnValues.count, "merged matrices must share their columns")
        counts.withUnsafeMutableBufferPointer { counts in
            other.counts.withUnsafeBufferPointer { more in
                for index in 0..<counts.count { counts[index] &+= more[index] }
            }
        }
        voxelCount += other.voxelCount
        usedColumns = max(usedColumns, other.usedColumns)
    }
}

/// The sums from which the GLRLM, GLSZM, GLDZM and NGLDM features follow.
///
/// With counts `c_ij` for grey level `i` and second quantity `j`, `N_s = Σ c_ij`,
/// `p_ij = c_ij / N_s` and marginals `c_i.`, `c_.j`; every emphasis below is already divided by `N_s`.
struct LevelMatrixStatistics {
    /// `N_s`.
    var total = 0.0
    /// `N_v`.
    var voxelCount = 0.0
    /// `Σ c_.j / j²`, `Σ j² c_.j`, `Σ c_i. / i²`, `Σ i² c_i.` over `N_s`.
    var smallEmphasis = 0.0, largeEmphasis = 0.0, lowGreyEmphasis = 0.0, highGreyEmphasis = 0.0
    /// `Σ c_ij / (i² j²)`, `Σ i² c_ij / j²`, `Σ j² c_ij / i²`, `Σ i² j² c_ij` over `N_s`.
    var smallLowGrey = 0.0, smallHighGrey = 0.0, largeLowGrey = 0.0, largeHighGrey = 0.0
    /// `Σ_i c_i.² / N_s` and `Σ_j c_.j² / N_s`.
    var greyNonUniformity = 0.0, secondNonUniformity = 0.0
    /// Variances of `i` and of `j` under `p_ij`.
    var greyVariance = 0.0, secondVariance = 0.0
    /// `-Σ p_ij log2 p_ij` and `Σ p_ij²`.
    var entropy = 0.0, energy = 0.0

    /// Nil for an empty matrix.
    init?(_ matrix: LevelMatrix) {
        let width = matrix.columnValues.count, used = matrix.usedColumns
        let js = matrix.columnValues.map(Double.init)
        var columnSums = [Double](repeating: 0, count: width)
        var rowSums = [Double](repeating: 0, count: matrix.greyLevels)
        var total = 0.0
        matrix.counts.withUnsafeBufferPointer { counts in
            for row in 0..<matrix.greyLevels {
                let i = Double(row + 1), i2 = i * i
                var rowSum = 0.0, rowSmall = 0.0, rowLarge = 0.0
                for column in 0..<used {
                    let c = counts[row * width + column]
                    guard c != 0 else { continue }
                    let count = Double(c), j = js[column], j2 = j * j
                    rowSum += count
                    rowSmall += count / j2
                    rowLarge += count * j2
                    columnSums[column] += count
                }
                guard rowSum > 0 else { continue }
                rowSums[row] = rowSum
                total += rowSum
                smallLowGrey += rowSmall / i2
                smallHighGrey += rowSmall * i2
                largeLowGrey += rowLarge / i2
                largeHighGrey += rowLarge * i2
                lowGreyEmphasis += rowSum / i2
                highGreyEmphasis += rowSum * i2
            }
            guard total > 0 else { return }
            let logs = CountLogarithms()
            var xLogX = 0.0, squares = 0.0
            for row in 0..<matrix.greyLevels where rowSums[row] > 0 {
                for column in 0..<used {
                    let c = Int(counts[row * width + column])
                    guard c != 0 else { continue }
                    xLogX += logs.xLog2x(c)
                    squares += Double(c * c)
                }
            }
            entropy = CountLogarithms.entropy(sumOfXLog2X: xLogX, total: total)
            energy = squares / (total * total)
        }
        guard total > 0 else { return nil }
        self.total = total
        voxelCount = Double(matrix.voxelCount)
        for (column, sum) in columnSums.enumerated() where sum > 0 {
            let j2 = js[column] * js[column]
            smallEmphasis += sum / j2
            largeEmphasis += sum * j2
            secondNonUniformity += sum * sum
        }
        greyNonUniformity = rowSums.reduce(0) { $0 + $1 * $1 }
        for name in [\Self.smallEmphasis, \.largeEmphasis, \.lowGreyEmphasis, \.highGreyEmphasis,
                     \.smallLowGrey, \.smallHighGrey, \.largeLowGrey, \.largeHighGrey,
                     \.greyNonUniformity, \.secondNonUniformity] {
            self[keyPath: name] /= total
        }
        greyVariance = Self.variance(values: (1...matrix.greyLevels).map(Double.init), weights: rowSums, total: total)
        secondVariance = Self.variance(values: js, weights: columnSums, total: total)
    }

    private static func variance(values: [Double], weights: [Double], total: Double) -> Double {
        var mean = 0.0
        for (value, weight) in zip(values, weights) { mean += value * weight / total }
        var variance = 0.0
        for (value, weight) in zip(values, weights) { variance += (value - mean) * (value - mean) * weight / total }
        return variance
    }
}

/// A per-direction texture matrix (GLCM or GLRLM) that can be merged with another.
protocol DirectionalMatrix {
    mutating func add(_ other: Self)
    /// Adds the matrix to `sum` (as `sum.add(self)`) and empties it, so that it can count another direction: it is then
    /// as the `zero` of `DirectionalAggregation.compute` made it, with the same voxel count.
    mutating func move(into sum: inout Self)
}

extension LevelMatrix: DirectionalMatrix {
    mutating func move(into sum: inout LevelMatrix) {
        precondition(sum.columnValues.count == columnValues.count, "merged matrices must share their columns")
        let width = columnValues.count, used = usedColumns
        counts.withUnsafeMutableBufferPointer { counts in
            sum.counts.withUnsafeMutableBufferPointer { sum in
                // Columns beyond `usedColumns` are zero in this matrix.
                for row in 0..<greyLevels {
                    for column in 0..<used {
                        let cell = row &* width &+ column
                        sum[cell] &+= counts[cell]
                        counts[cell] = 0
                    }
                }
            }
        }
        sum.voxelCount += voxelCount
        sum.usedColumns = max(sum.usedColumns, usedColumns)
        usedColumns = 0
    }
}

/// The five IBSI ways of turning per-direction matrices into one value (GLCM, GLRLM).
enum DirectionalAggregation {
    /// Feature vectors for each of `wanted`, in order (nil where no matrix had any entry).
    ///
    /// - Parameters:
    ///   - zero: an empty matrix standing for `voxelCount` ROI voxels.
    ///   - count: adds the entries along a direction within a range of slices.
    ///   - values: the features of one matrix, nil when it is empty.
    static func compute<Matrix: DirectionalMatrix>(
        _ wanted: [TextureAggregation], grid: TextureGrid, step: Int, featureCount: Int,
        zero: (_ voxelCount: Int) -> Matrix,
        count: (inout Matrix, Offset3, Range<Int>) -> Void,
        values: (Matrix) -> [Double]?
    ) -> [[Double]?] {
        let needsSlices = wanted.contains { $0 == .slice2DAverage || $0 == .slice2DMerged }
        let needsVolume = wanted.contains { $0 != .slice2DAverage && $0 != .slice2DMerged }
        let needs3D = wanted.contains { $0 == .volume3DAverage || $0 == .volume3DMerged }
        let planarDirections = Offset3.planarDirections.map { $0.scaled(step) }

        // With 2D, the in-plane matrices per direction summed over slices: 2.5D, and 4 of the 13 in 3D.
        var planar: [Matrix] = []
        var sliceAverage = FeatureMean(count: featureCount)
        var sliceMerged = FeatureMean(count: featureCount)
        if needsSlices {
            planar = [Matrix](repeating: zero(0), count: planarDirections.count)
            for z in 0..<grid.nz {
                let voxels = grid.voxelCount(slice: z)
                guard voxels > 0 else { continue }
                var merged = zero(0)
                for (d, direction) in planarDirections.enumerated() {
                    var slice = zero(voxels)
                    count(&slice, direction, z..<(z + 1))
                    sliceAverage.add(values(slice))
                    merged.add(slice)
                    planar[d].add(slice)
                }
                sliceMerged.add(values(merged))
            }
        }
        // The volume's directions in turn, in-plane first: each matrix's features (for `avg`) are taken, then it is
        // moved into the merged matrix (for `comb`) and counts the next direction. One matrix is reused (zeroing a
        // fresh one for each of 13 directions cost as much as moving them).
        let averages = wanted.contains { $0 == .volume2_5DAverage || $0 == .volume3DAverage }
        var directionValues: [[Double]?] = []
        var sum = zero(0)
        func take(_ matrix: inout Matrix) {
            if averages { directionValues.append(values(matrix)) }
            matrix.move(into: &sum)
        }
        var matrix: Matrix?
        func countVolume(_ direction: Offset3) {
            if matrix == nil { matrix = zero(grid.voxelCount) }
            count(&matrix!, direction, 0..<grid.nz)
            take(&matrix!)
        }
        var planarMerged: [Double]?
        if needsVolume {
            if needsSlices {
                for d in planar.indices { take(&planar[d]) }
            } else {
                for direction in planarDirections { countVolume(direction) }
            }
            if wanted.contains(.volume2_5DMerged) { planarMerged = values(sum) }
        }
        var allMerged: [Double]?
        if needs3D {
            for direction in Offset3.throughPlaneDirections { countVolume(direction.scaled(step)) }
            if wanted.contains(.volume3DMerged) { allMerged = values(sum) }
        }

        func averaged(_ vectors: ArraySlice<[Double]?>) -> [Double]? {
            var mean = FeatureMean(count: featureCount)
            for vector in vectors { mean.add(vector) }
            return mean.mean
        }
        return wanted.map { aggregation in
            switch aggregation {
            case .slice2DAverage: return sliceAverage.mean
            case .slice2DMerged: return sliceMerged.mean
            case .volume2_5DAverage: return averaged(directionValues.prefix(planarDirections.count))
            case .volume2_5DMerged: return planarMerged
            case .volume3DAverage: return averaged(directionValues[...])
            case .volume3DMerged: return allMerged
            }
        }
    }
}

extension LevelMatrixStatistics {
    /// The quantities the GLRLM, GLSZM, GLDZM and NGLDM features are made of; "second" is the
    /// matrix's column quantity (run length, zone size, zone distance or dependence count).
    enum Quantity {
        case smallEmphasis, largeEmphasis, lowGreyEmphasis, highGreyEmphasis
        case smallLowGrey, smallHighGrey, largeLowGrey, largeHighGrey
        case greyNonUniformity, greyNonUniformityNormalised
        case secondNonUniformity, secondNonUniformityNormalised
        case percentage, greyVariance, secondVariance, entropy, energy
    }

    func value(_ quantity: Quantity) -> Double {
        switch quantity {
        case .smallEmphasis: return smallEmphasis
        case .largeEmphasis: return largeEmphasis
        case .lowGreyEmphasis: return lowGreyEmphasis
        case .highGreyEmphasis: return highGreyEmphasis
        case .smallLowGrey: return smallLowGrey
        case .smallHighGrey: return smallHighGrey
        case .largeLowGrey: return largeLowGrey
        case .largeHighGrey: return largeHighGrey
        case .greyNonUniformity: return greyNonUniformity
        case .greyNonUniformityNormalised: return greyNonUniformity / total
        case .secondNonUniformity: return secondNonUniformity
        case .secondNonUniformityNormalised: return secondNonUniformity / total
        case .percentage: return voxelCount > 0 ? total / voxelCount : .nan
        case .greyVariance: return greyVariance
        case .secondVariance: return secondVariance
        case .entropy: return entropy
        case .energy: return energy
        }
    }
}

/// A feature of a grey level × second-quantity matrix (GLRLM, GLSZM, GLDZM, NGLDM).
protocol LevelMatrixFeature: TextureFeatureName {
    var quantity: LevelMatrixStatistics.Quantity { get }
}

extension LevelMatrixFeature {
    var undefinedReason: String { "undefined for this matrix" }

    /// The features of `matrix` in `allCases` order; nil when it is empty.
    static func values(_ matrix: LevelMatrix) -> [Double]? {
        guard let statistics = LevelMatrixStatistics(matrix) else { return nil }
        return allCases.map { statistics.value($0.quantity) }
    }
}

/// Eight Int32 on the heap for `RowKernels.increment`, freed with their owner.
final class LaneBuffer {
    let pointer = UnsafeMutablePointer<Int32>.allocate(capacity: 8)
    deinit { pointer.deallocate() }
}

/// Eight-lane kernels over runs of consecutive voxels, comparing each voxel with the one
/// `shift` places away.
enum RowKernels {
    private typealias Lanes = SIMD8<Int32>

    @inline(__always)
    private static func load(_ pointer: UnsafePointer<Int32>) -> Lanes {
        UnsafeRawPointer(pointer).loadUnaligned(as: Lanes.self)
    }

    @inline(__always)
    private static func store(_ value: Lanes, _ pointer: UnsafeMutablePointer<Int32>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: Lanes.self)
    }

    /// Adds 1 to `counts[cells[lane]]` for each of the eight lanes (repeated cells count repeatedly). The cells
    /// are stored to `lanes` (eight entries that `counts` may overlap, as far as the compiler knows) and read back
    /// one at a time: a load and an increment a lane, where taking each lane out of the vector register and
    /// widening it took three instructions.
    @inline(__always)
    static func increment(_ counts: UnsafeMutablePointer<Int32>, cells: SIMD8<Int32>, through lanes: UnsafeMutablePointer<Int32>) {
        store(cells, lanes)
        for lane in 0..<8 { counts[Int(lanes[lane])] &+= 1 }
    }

    /// Sets `bit` in `flags[k]` for each `k` in `0..<count` with `levels[k] == levels[k + shift]`;
    /// when `replacing`, `flags[k]` becomes that bit or 0 (no flags to clear before).
    static func markEqual(_ levels: UnsafePointer<Int32>, _ flags: UnsafeMutablePointer<Int32>,
                          count: Int, shift: Int, bit: Int32, replacing: Bool = false) {
        // Two copies, each without the other's branch.
        if replacing {
            markEqual(levels, flags, count: count, shift: shift, bit: bit, replace: true)
        } else {
            markEqual(levels, flags, count: count, shift: shift, bit: bit, replace: false)
        }
    }

    @inline(__always)
    private static func markEqual(_ levels: UnsafePointer<Int32>, _ flags: UnsafeMutablePointer<Int32>,
                                  count: Int, shift: Int, bit: Int32, replace: Bool) {
        var k = 0
        let zero = Lanes(repeating: 0), bits = Lanes(repeating: bit)
        func mark(_ k: Int) {
            let new = zero.replacing(with: bits, where: load(levels + k) .== load(levels + k + shift))
            store(replace ? new : load(flags + k) | new, flags + k)
        }
        while k &+ 8 <= count {
            mark(k)
            k &+= 8
        }
        // Marking a lane twice gives the same flags, so the last lanes may overlap the previous ones.
        if k < count && count >= 8 {
            mark(count - 8)
            return
        }
        while k < count {
            let new = levels[k] == levels[k + shift] ? bit : 0
            flags[k] = replace ? new : flags[k] | new
            k += 1
        }
    }

    /// Calls `body` with the range of linear indices of each row (fixed y and z) whose voxels and
    /// their neighbours at `offset` lie in the grid and within the ROI extents (`grid.rowExtents()`)
    /// of their rows: the pairs of ROI voxels along `offset`, and some pairs with a voxel outside.
    static func roiRows(_ grid: TextureGrid, _ offset: Offset3, extents: [(lower: Int, upper: Int)],
                        slices: Range<Int>? = nil, _ body: (Range<Int>) -> Void) {
        let (nx, ny) = (grid.nx, grid.ny)
        let xs = TextureGrid.overlap(nx, offset.dx), ys = TextureGrid.overlap(ny, offset.dy)
        let zs = TextureGrid.overlap(grid.nz, offset.dz).clamped(to: slices ?? 0..<grid.nz)
        guard !xs.isEmpty, !ys.isEmpty, !zs.isEmpty else { return }
        precondition(extents.count == ny * grid.nz, "one extent per row")
        // Rows `z * ny + y` for z in `zs` and y in `ys` and their neighbour rows (`neighbour` further on) lie in the
        // grid, so the row indices and their voxels' linear indices (less than the grid's voxel count) cannot overflow.
        let neighbour = offset.dz &* ny &+ offset.dy
        extents.withUnsafeBufferPointer { extents in
            for z in zs {
                var row = z &* ny &+ ys.lowerBound
                let end = z &* ny &+ ys.upperBound
                repeat {
                    if let range = clip(xs, offset, from: extents[row], to: extents[row &+ neighbour], rowStart: row &* nx) {
                        body(range)
                    }
                    row &+= 1
                } while row < end
            }
        }
    }

    /// The x within `xs` whose voxel lies within the extent `from` of its row and whose neighbour
    /// at `offset` lies within the extent `to` of the neighbour row, as linear indices.
    ///
    /// Extents and `xs` lie within the row (`0..<nx`, or `(1, 0)` for a row without ROI voxels) and `rowStart` is a row's
    /// first voxel, so none of the sums overflows.
    @inline(__always)
    private static func clip(_ xs: Range<Int>, _ offset: Offset3, from: (lower: Int, upper: Int),
                             to: (lower: Int, upper: Int), rowStart: Int) -> Range<Int>? {
        let lower = max(xs.lowerBound, from.lower, to.lower &- offset.dx)
        let upper = min(xs.upperBound &- 1, from.upper, to.upper &- offset.dx)
        guard lower <= upper else { return nil }
        return Range(uncheckedBounds: (rowStart &+ lower, rowStart &+ upper &+ 1))
    }

    /// Calls `body` with the range of linear indices of each row (fixed y and z) whose voxels
    /// and their neighbours at `offset` all lie in the grid.
    static func rows(_ grid: TextureGrid, _ offset: Offset3, slices: Range<Int>? = nil, _ body: (Range<Int>) -> Void) {
        let xs = TextureGrid.overlap(grid.nx, offset.dx)
        let ys = TextureGrid.overlap(grid.ny, offset.dy)
        let zs = TextureGrid.overlap(grid.nz, offset.dz).clamped(to: slices ?? 0..<grid.nz)
        guard !xs.isEmpty, !ys.isEmpty, !zs.isEmpty else { return }
        for z in zs {
            for y in ys {
                let start = (z * grid.ny + y) * grid.nx + xs.lowerBound
                body(start..<(start + xs.count))
            }
        }
    }
}

/// Grey level run length matrix features (IBSI 1, section 3.7, family `TP0I`).
///
/// A GLRLM counts `r_ij`, the runs of grey level `i` and length `j` along one direction:
/// maximal sequences of consecutive ROI voxels with the same grey level. With `N_s = Σ r_ij`
/// runs, `N_v` voxels, marginals `r_i.` and `r_.j` and `p_ij = r_ij / N_s`, the features are
/// those of `Feature`. When matrices are merged, `N_v` is summed with them (IBSI), so the run
/// percentage of 13 merged directions divides by 13 `N_v`.
///
/// Directions and aggregations are those of the GLCM: 4 in-plane directions per slice (2D),
/// merged over slices (2.5D), or 13 directions of the volume (3D), averaged (`avg`) or merged (`comb`).
public enum GLRLM {
    /// The IBSI 1 GLRLM features; the raw value is the feature part of the IBSI tag.
    public enum Feature: String, CaseIterable, Sendable {
        /// Short runs emphasis (`22OV`): `Σ_j r_.j / j² / N_s`.
        case shortRunsEmphasis = "sre"
        /// Long runs emphasis (`W4KF`): `Σ_j j² r_.j / N_s`.
        case longRunsEmphasis = "lre"
        /// Low grey level run emphasis (`V3SW`): `Σ_i r_i. / i² / N_s`.
        case lowGreyLevelRunEmphasis = "lgre"
        /// High grey level run emphasis (`G3QZ`): `Σ_i i² r_i. / N_s`.
        case highGreyLevelRunEmphasis = "hgre"
        /// Short run low grey level emphasis (`HTZT`): `Σ_ij r_ij / (i² j²) / N_s`.
        case shortRunLowGreyLevelEmphasis = "srlge"
        /// Short run high grey level emphasis (`GD3A`): `Σ_ij i² r_ij / j² / N_s`.
        case shortRunHighGreyLevelEmphasis = "srhge"
        /// Long run low grey level emphasis (`IVPO`): `Σ_ij j² r_ij / i² / N_s`.
        case longRunLowGreyLevelEmphasis = "lrlge"
        /// Long run high grey level emphasis (`3KUM`): `Σ_ij i² j² r_ij / N_s`.
        case longRunHighGreyLevelEmphasis = "lrhge"
        /// Grey level non-uniformity (`R5YN`): `Σ_i r_i.² / N_s`.
        case greyLevelNonUniformity = "glnu"
        /// Normalised grey level non-uniformity (`OVBL`): `Σ_i r_i.² / N_s²`.
        case normalisedGreyLevelNonUniformity = "glnu_norm"
        /// Run length non-uniformity (`W92Y`): `Σ_j r_.j² / N_s`.
        case runLengthNonUniformity = "rlnu"
        /// Normalised run length non-uniformity (`IC23`): `Σ_j r_.j² / N_s²`.
        case normalisedRunLengthNonUniformity = "rlnu_norm"
        /// Run percentage (`9ZK5`): `N_s / N_v`.
        case runPercentage = "r_perc"
        /// Grey level variance (`8CE5`): `Σ_ij (i - μ)² p_ij`, `μ = Σ_ij i p_ij`.
        case greyLevelVariance = "gl_var"
        /// Run length variance (`SXLW`): `Σ_ij (j - μ)² p_ij`, `μ = Σ_ij j p_ij`.
        case runLengthVariance = "rl_var"
        /// Run entropy (`HJ9O`): `-Σ_ij p_ij log2 p_ij`.
        case runEntropy = "rl_entr"
    }

    /// GLRLM features of `roi` for each requested aggregation. Only an empty ROI gives NaN.
    public static func features(_ roi: DiscretisedROI, aggregations: [TextureAggregation]) -> [FeatureValue] {
        let wanted = TextureOutput.distinct(aggregations, singleMatrix: false)
        guard !wanted.isEmpty else { return [] }
        let grid = TextureGrid(roi)
        let longest = max(grid.nx, grid.ny, grid.nz)
        let extents = grid.rowExtents()
        var runLengths = RunScratch.runLengths(grid)
        var scratch = RunScratch(grid, width: longest)
        let computed = DirectionalAggregation.compute(
            wanted, grid: grid, step: 1, featureCount: Feature.allCases.count,
            zero: { LevelMatrix(greyLevels: grid.greyLevels, maxValue: longest, voxelCount: $0) },
            count: { matrix, direction, slices in
                countRuns(grid, direction, slices: slices, into: &matrix, extents: extents, runLengths: &runLengths,
                          scratch: &scratch)
            },
            values: { Feature.values($0) })
        var result: [FeatureValue] = []
        for (aggregation, values) in zip(wanted, computed) {
            result += TextureOutput.values(
                Feature.self, family: .glrlm, suffix: aggregation.rawValue, values: values,
                emptyReason: "the ROI is empty")
        }
        return result
    }

    /// Adds the runs along `direction` within `slices` to `matrix` (columns 1...longest run);
    /// a direction leaving the plane must be given all slices.
    ///
    /// Voxels are visited in memory order, so a voxel's predecessor along the direction (one step
    /// back) comes first: each ROI voxel takes the run length of its predecessor plus one when both
    /// share a grey level (its place `j` in its run). Every voxel is counted at its level and place, `f_ij`; the runs of
    /// length exactly `j` are those with a `j`-th voxel but no `j+1`-th, `r_ij = f_ij - f_i(j+1)`, so no voxel needs
    /// its successor. Only the ROI's extent of each row is visited, eight voxels at a time where their predecessors
    /// lie in the grid. `runLengths` (one entry per voxel, `RunScratch.runLengths`) and `scratch` (made for the
    /// matrix's grey levels and columns, all zero, and left so) are scratch space, shared by the directions of one grid.
    static func countRuns(_ grid: TextureGrid, _ direction: Offset3, slices: Range<Int>, into matrix: inout LevelMatrix,
                          extents: [(lower: Int, upper: Int)]? = nil, runLengths: inout [Int32],
                          scratch: inout RunScratch) {
        let width = matrix.columnValues.count
        let shift = direction.linear(grid)
        let (dx, dy, dz) = (direction.dx, direction.dy, direction.dz)
        precondition(dz > 0 || (dz == 0 && (dy > 0 || (dy == 0 && dx > 0))), "run directions point forward in memory order")
        precondition(runLengths.count == grid.levels.count, "one run length per voxel")
        let (nx, ny, nz) = (grid.nx, grid.ny, grid.nz)
        let extents = extents ?? grid.rowExtents()
        // Row 0 collects voxels outside the ROI; it is dropped at the end. Neighbouring voxels count
        // into different copies of the matrix (`RunCells`), so that repeated cells do not wait on each other.
        let cells = scratch.cells
        precondition(cells.width == width && cells.copySize == (grid.greyLevels + 1) * width,
                     "scratch made for the matrix's grey levels and columns")
        let zs = dz == 0 ? slices : 0..<nz
        // The x with a neighbour one step back (predecessor) in the row's neighbour row.
        let xBack = max(0, dx)..<min(nx, nx + dx)
        let alongX = dx == 1 && dy == 0 && dz == 0
        // At least the longest run of ROI voxels (the highest place counted): columns beyond it are zero.
        var longest: Int32 = 1, longestLanes = Lanes(repeating: 1)
        grid.levels.withUnsafeBufferPointer { levels in
            runLengths.withUnsafeMutableBufferPointer { runLengths in
                scratch.counts.withUnsafeMutableBufferPointer { counts in
                    let levels = levels.baseAddress!, lengths = runLengths.baseAddress!, counts = counts.baseAddress!
                    let lanes = scratch.lanes.pointer
                    for z in zs {
                        for y in 0..<ny {
                            let (lower, upper) = extents[z * ny + y]
                            guard lower <= upper else { continue }
                            let rowStart = (z * ny + y) * nx
                            if alongX {
                                countRowRuns(levels + rowStart, lower, upper, counts, cells)
                                longest = max(longest, Int32(truncatingIfNeeded: upper &- lower &+ 1))
                                continue
                            }
                            let back = (0..<ny).contains(y - dy) && (0..<nz).contains(z - dz) ? xBack : 0..<0
                            // Eight at a time where the predecessors exist and none is among the eight; the
                            // eight may reach past `upper` (voxels outside the ROI count in row 0).
                            let innerLower = back.lowerBound
                            let innerUpper = shift >= 8 ? back.upperBound : innerLower
                            var x = lower
                            func one() {
                                longest = max(longest, countRun(levels, lengths, counts, at: rowStart &+ x, shift: shift,
                                                                cells, hasPredecessor: back.contains(x)))
                                x &+= 1
                            }
                            while x <= upper && x < innerLower { one() }
                            if x <= upper && x &+ 8 <= innerUpper {
                                x = countEightRuns(levels, lengths, counts, from: rowStart &+ x,
                                                   to: rowStart &+ min(upper &+ 1, innerUpper &- 7), shift: shift,
                                                   cells.laneOffsets, cells.widths, lanes, &longestLanes) &- rowStart
                            }
                            while x <= upper { one() }
                        }
                    }
                }
            }
        }
        let places = min(width, Int(max(longest, longestLanes.max())))
        var used = matrix.usedColumns
        matrix.counts.withUnsafeMutableBufferPointer { counts in
            scratch.counts.withUnsafeMutableBufferPointer { scratch in
                // The number of copies a constant in each loop (so that the sum over them is unrolled). Every cell
                // read is cleared, so the scratch is all zero again for the next direction.
                @inline(__always) func add(copies: Int) {
                    for copy in 0..<copies {
                        for column in 0..<width { scratch[copy &* cells.copySize &+ column] = 0 }
                    }
                    /// `f` of the cell `offset` within a copy, summed over the copies, which are cleared.
                    @inline(__always) func take(_ offset: Int) -> Int32 {
                        var count: Int32 = 0
                        for copy in 0..<copies {
                            let cell = copy &* cells.copySize &+ offset
                            count &+= scratch[cell]
                            scratch[cell] = 0
                        }
                        return count
                    }
                    for row in 0..<grid.greyLevels {
                        let start = (row &+ 1) &* width
                        // Runs of length exactly j: voxels at place j less those at place j + 1 (none beyond `places`).
                        var here = take(start)
                        for column in 0..<places {
                            let next = column &+ 1 < places ? take(start &+ column &+ 1) : 0
                            let count = here &- next
                            here = next
                            guard count != 0 else { continue }
                            counts[row &* width &+ column] &+= count
                            used = max(used, column + 1)
                        }
                    }
                }
                if cells.copies == 4 { add(copies: 4) } else { add(copies: 1) }
            }
        }
        matrix.usedColumns = used
    }

    /// The counts of `countRuns` before they are summed into a matrix, made once for the directions of a grid and
    /// cleared as they are summed (a fresh copy was zeroed for each of the 13 directions).
    struct RunScratch {
        /// Run lengths for `countRuns`, one per voxel of `grid`, not initialised: `countRuns` reads only the lengths of
        /// predecessors it has written before in the same direction (a voxel continues a run only when its predecessor
        /// is an ROI voxel, which comes first in memory order). Other lanes of its eight-voxel loads are discarded.
        /// (Zeroing them cost a megabyte's memset for each response map.)
        static func runLengths(_ grid: TextureGrid) -> [Int32] {
            [Int32](unsafeUninitializedCapacity: grid.levels.count) { _, initialised in initialised = grid.levels.count }
        }

        fileprivate let cells: RunCells
        /// `cells.copies` matrices of grey levels 0...N_g, all zero between calls.
        var counts: [Int32]
        /// Eight cells of a kernel (`RowKernels.increment`).
        let lanes = LaneBuffer()

        /// Scratch for the matrices of `grid` with `width` columns (run lengths 1...width).
        init(_ grid: TextureGrid, width: Int) {
            let width = max(width, 1)
            cells = RunCells(width: width, copySize: (grid.greyLevels + 1) * width)
            counts = [Int32](repeating: 0, count: cells.copies * cells.copySize)
        }
    }

    /// The layout of the counts `f_ij` of `countRuns`: `copies` matrices of `copySize` cells, grey level 0...N_g by place
    /// in the run 1...width.
    ///
    /// Neighbouring voxels count into different copies so that repeated cells (few grey levels: the same few
    /// cells again and again) do not wait on each other. A large matrix (many grey levels, as a response map's
    /// 25 HU bins over a wide range give) is counted in one copy: its counts rarely repeat a cell, and four copies
    /// cost four times the zeroing and summing for each of the 13 directions.
    fileprivate struct RunCells {
        /// Copies counted into in turn: 4, or 1 for matrices above `largestCopied` cells.
        let copies: Int
        static let largestCopied = 1 << 13
        let width: Int
        let copySize: Int
        /// `index(copy: lane, level: 0, length: 0)` for eight lanes.
        let laneOffsets: SIMD8<Int32>
        /// `width` in each lane.
        let widths: SIMD8<Int32>

        init(width: Int, copySize: Int) {
            self.width = width
            self.copySize = copySize
            let copies = copySize <= Self.largestCopied ? 4 : 1
            self.copies = copies
            laneOffsets = SIMD8<Int32>((0..<8).map { Int32(($0 & (copies - 1)) * copySize - 1) })
            widths = SIMD8<Int32>(repeating: Int32(width))
        }

        @inline(__always)
        func index(copy: Int, level: Int32, length: Int32) -> Int {
            (copy & (copies - 1)) &* copySize &+ Int(level) &* width &+ Int(length) &- 1
        }
    }

    /// One voxel: its place in its run from its predecessor's, counted and returned.
    @inline(__always)
    private static func countRun(_ levels: UnsafePointer<Int32>, _ lengths: UnsafeMutablePointer<Int32>,
                                 _ counts: UnsafeMutablePointer<Int32>, at v: Int, shift: Int, _ cells: RunCells,
                                 hasPredecessor: Bool) -> Int32 {
        let level = levels[v]
        let continues = hasPredecessor && level > 0 && levels[v &- shift] == level
        let length = continues ? lengths[v &- shift] &+ 1 : 1
        lengths[v] = length
        counts[cells.index(copy: v, level: level, length: length)] &+= 1
        return length
    }

    private typealias Lanes = SIMD8<Int32>

    /// The voxels `v` in `start..<end` (at least one), eight at a time (the last eight may reach past `end`), whose
    /// predecessors lie in the grid and not among the eight; returns where it stopped, and raises `longest` to the
    /// places found. Not inlined: its own function keeps its pointers in registers (within `countRuns` they were
    /// reloaded from the stack for every eight).
    @inline(never)
    private static func countEightRuns(_ levels: UnsafePointer<Int32>, _ lengths: UnsafeMutablePointer<Int32>,
                                       _ counts: UnsafeMutablePointer<Int32>, from start: Int, to end: Int, shift: Int,
                                       _ laneOffsets: Lanes, _ widths: Lanes, _ lanes: UnsafeMutablePointer<Int32>,
                                       _ longest: inout Lanes) -> Int {
        func load(_ pointer: UnsafePointer<Int32>) -> Lanes { UnsafeRawPointer(pointer).loadUnaligned(as: Lanes.self) }
        let one = Lanes(repeating: 1), zero = Lanes(repeating: 0)
        let previousLevels = levels - shift, previousLengths = UnsafePointer(lengths - shift)
        var v = start, most = longest
        defer { longest = most }
        repeat {
            let level = load(levels + v)
            let continues = (load(previousLevels + v) .== level) .& (level .> zero)
            let length = one.replacing(with: load(previousLengths + v) &+ one, where: continues)
            UnsafeMutableRawPointer(lengths + v).storeBytes(of: length, as: Lanes.self)
            most = pointwiseMax(most, length)
            // Every lane adds 1 so that nothing branches; voxels outside the ROI count in row 0, which is dropped.
            RowKernels.increment(counts, cells: level &* widths &+ length &+ laneOffsets, through: lanes)
            v &+= 8
        } while v < end
        return v
    }

    /// The runs along x of one row, between the first and last ROI voxel `lower` and `upper`. Not inlined, so that
    /// the loop has registers enough (inlined, it moved values between registers for every voxel).
    @inline(never)
    private static func countRowRuns(_ row: UnsafePointer<Int32>, _ lower: Int, _ upper: Int,
                                     _ counts: UnsafeMutablePointer<Int32>, _ cells: RunCells) {
        // The voxel before `lower` is outside the ROI (voxels outside count in row 0, dropped).
        var previous: Int32 = 0, length: Int32 = 0, x = lower
        repeat {
            let level = row[x]
            length = level == previous ? length &+ 1 : 1
            previous = level
            counts[cells.index(copy: x, level: level, length: length)] &+= 1
            x &+= 1
        } while x <= upper
    }

    /// `countRuns` with its own scratch space.
    static func countRuns(_ grid: TextureGrid, _ direction: Offset3, slices: Range<Int>, into matrix: inout LevelMatrix) {
        var runLengths = RunScratch.runLengths(grid)
        var scratch = RunScratch(grid, width: matrix.columnValues.count)
        countRuns(grid, direction, slices: slices, into: &matrix, runLengths: &runLengths, scratch: &scratch)
    }
}

extension GLRLM.Feature: LevelMatrixFeature {
    var quantity: LevelMatrixStatistics.Quantity {
        switch self {
        case .shortRunsEmphasis: return .smallEmphasis
        case .longRunsEmphasis: return .largeEmphasis
        case .lowGreyLevelRunEmphasis: return .lowGreyEmphasis
        case .highGreyLevelRunEmphasis: return .highGreyEmphasis
        case .shortRunLowGreyLevelEmphasis: return .smallLowGrey
        case .shortRunHighGreyLevelEmphasis: return .smallHighGrey
        case .longRunLowGreyLevelEmphasis: return .largeLowGrey
        case .longRunHighGreyLevelEmphasis: return .largeHighGrey
        case .greyLevelNonUniformity: return .greyNonUniformity
        case .normalisedGreyLevelNonUniformity: return .greyNonUniformityNormalised
        case .runLengthNonUniformity: return .secondNonUniformity
        case .normalisedRunLengthNonUniformity: return .secondNonUniformityNormalised
        case .runPercentage: return .percentage
        case .greyLevelVariance: return .greyVariance
        case .runLengthVariance: return .secondVariance
        case .runEntropy: return .entropy
        }
    }
}

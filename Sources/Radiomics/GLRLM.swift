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
        let computed = DirectionalAggregation.compute(
            wanted, grid: grid, step: 1, featureCount: Feature.allCases.count,
            zero: { LevelMatrix(greyLevels: grid.greyLevels, maxValue: longest, voxelCount: $0) },
            count: { matrix, direction, slices in countRuns(grid, direction, slices: slices, into: &matrix) },
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
    static func countRuns(_ grid: TextureGrid, _ direction: Offset3, slices: Range<Int>, into matrix: inout LevelMatrix) {
        let width = matrix.columnValues.count
        let shift = direction.linear(grid)
        let (dx, dy, dz) = (direction.dx, direction.dy, direction.dz)
        // Every line starts on a face of the grid the direction points away from.
        let x0 = dx > 0 ? 0 : grid.nx - 1, y0 = dy > 0 ? 0 : grid.ny - 1, z0 = dz > 0 ? 0 : grid.nz - 1
        func steps(_ c: Int, _ d: Int, _ n: Int) -> Int { d > 0 ? (n - 1 - c) / d + 1 : (d < 0 ? c / -d + 1 : Int.max) }
        // Runs are counted with a leading row for level 0 (outside the ROI), dropped at the end.
        var scratch = [Int32](repeating: 0, count: (grid.greyLevels + 1) * width)
        grid.levels.withUnsafeBufferPointer { levels in
            scratch.withUnsafeMutableBufferPointer { counts in
                let levels = levels.baseAddress!, counts = counts.baseAddress!
                func walk(_ x: Int, _ y: Int, _ z: Int) {
                    let length = min(steps(x, dx, grid.nx), steps(y, dy, grid.ny), steps(z, dz, grid.nz))
                    countLine(levels + (z * grid.ny + y) * grid.nx + x, counts, length: length, shift: shift, width: width)
                }
                for z in slices {
                    if dx != 0 { for y in 0..<grid.ny { walk(x0, y, z) } }
                    if dy != 0 { for x in 0..<grid.nx where !(dx != 0 && x == x0) { walk(x, y0, z) } }
                }
                if dz != 0 && slices.contains(z0) {
                    for y in 0..<grid.ny where !(dy != 0 && y == y0) {
                        for x in 0..<grid.nx where !(dx != 0 && x == x0) { walk(x, y, z0) }
                    }
                }
            }
        }
        var used = matrix.usedColumns
        matrix.counts.withUnsafeMutableBufferPointer { counts in
            scratch.withUnsafeBufferPointer { scratch in
                for row in 0..<grid.greyLevels {
                    for column in 0..<width where scratch[(row + 1) &* width &+ column] != 0 {
                        counts[row &* width &+ column] &+= scratch[(row + 1) &* width &+ column]
                        used = max(used, column + 1)
                    }
                }
            }
        }
        matrix.usedColumns = used
    }

    /// Counts the runs of the `length` voxels `shift` apart from `start` into
    /// `counts[level * width + length - 1]` (level 0 included).
    @inline(__always)
    private static func countLine(_ start: UnsafePointer<Int32>, _ counts: UnsafeMutablePointer<Int32>,
                                  length: Int, shift: Int, width: Int) {
        var voxel = start
        var current = voxel.pointee
        var run = 1
        var remaining = length &- 1
        while remaining > 0 {
            voxel += shift
            let level = voxel.pointee
            if level != current {
                counts[Int(current) &* width &+ run &- 1] &+= 1
                current = level
                run = 0
            }
            run &+= 1
            remaining &-= 1
        }
        counts[Int(current) &* width &+ run &- 1] &+= 1
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

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

    /// Adds the runs along `direction` that start in `slices` to `matrix` (columns 1...longest run).
    static func countRuns(_ grid: TextureGrid, _ direction: Offset3, slices: Range<Int>, into matrix: inout LevelMatrix) {
        let width = matrix.columnValues.count
        let shift = direction.linear(grid)
        grid.levels.withUnsafeBufferPointer { levels in
            matrix.counts.withUnsafeMutableBufferPointer { counts in
                for z in slices {
                    for y in 0..<grid.ny {
                        var index = (z * grid.ny + y) * grid.nx
                        for x in 0..<grid.nx {
                            defer { index += 1 }
                            let level = levels[index]
                            guard level > 0 else { continue }
                            if grid.contains(x - direction.dx, y - direction.dy, z - direction.dz)
                                && levels[index - shift] == level { continue }
                            var length = 1
                            var (qx, qy, qz, q) = (x + direction.dx, y + direction.dy, z + direction.dz, index + shift)
                            while grid.contains(qx, qy, qz) && levels[q] == level {
                                length += 1
                                qx += direction.dx; qy += direction.dy; qz += direction.dz; q += shift
                            }
                            counts[(Int(level) - 1) * width + length - 1] += 1
                        }
                    }
                }
            }
        }
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

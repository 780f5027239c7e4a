/// Neighbouring grey level dependence matrix features (IBSI 1, section 3.11, family `REK0`).
///
/// A voxel `k` of grey level `i` depends on each ROI neighbour within Chebyshev distance `δ`
/// (in-plane for 2D and 2.5D) whose grey level differs by at most the coarseness `α`; its
/// dependence count is `j = 1 +` that number. Every ROI voxel counts, neighbours outside the
/// ROI never do. The NGLDM counts `s_ij`, the voxels of grey level `i` with dependence `j`.
/// With `N_s = Σ s_ij` (= `N_v`), marginals `s_i.` and `s_.j` and `p_ij = s_ij / N_s`, the
/// features are those of `Feature`.
///
/// 2D averages each feature over slices; 2.5D merges the slices' matrices (and their `N_v`);
/// 3D uses the volume's neighbourhoods.
public enum NGLDM {
    /// The IBSI 1 NGLDM features; the raw value is the feature part of the IBSI tag.
    public enum Feature: String, CaseIterable, Sendable {
        /// Low dependence emphasis (`SODN`): `Σ_j s_.j / j² / N_s`.
        case lowDependenceEmphasis = "lde"
        /// High dependence emphasis (`IMOQ`): `Σ_j j² s_.j / N_s`.
        case highDependenceEmphasis = "hde"
        /// Low grey level count emphasis (`TL9H`): `Σ_i s_i. / i² / N_s`.
        case lowGreyLevelCountEmphasis = "lgce"
        /// High grey level count emphasis (`OAE7`): `Σ_i i² s_i. / N_s`.
        case highGreyLevelCountEmphasis = "hgce"
        /// Low dependence low grey level emphasis (`EQ3F`): `Σ_ij s_ij / (i² j²) / N_s`.
        case lowDependenceLowGreyLevelEmphasis = "ldlge"
        /// Low dependence high grey level emphasis (`JA6D`): `Σ_ij i² s_ij / j² / N_s`.
        case lowDependenceHighGreyLevelEmphasis = "ldhge"
        /// High dependence low grey level emphasis (`NBZI`): `Σ_ij j² s_ij / i² / N_s`.
        case highDependenceLowGreyLevelEmphasis = "hdlge"
        /// High dependence high grey level emphasis (`9QMG`): `Σ_ij i² j² s_ij / N_s`.
        case highDependenceHighGreyLevelEmphasis = "hdhge"
        /// Grey level non-uniformity (`FP8K`): `Σ_i s_i.² / N_s`.
        case greyLevelNonUniformity = "glnu"
        /// Normalised grey level non-uniformity (`5SPA`): `Σ_i s_i.² / N_s²`.
        case normalisedGreyLevelNonUniformity = "glnu_norm"
        /// Dependence count non-uniformity (`Z87G`): `Σ_j s_.j² / N_s`.
        case dependenceCountNonUniformity = "dcnu"
        /// Normalised dependence count non-uniformity (`OKJI`): `Σ_j s_.j² / N_s²`.
        case normalisedDependenceCountNonUniformity = "dcnu_norm"
        /// Dependence count percentage (`6XV8`): `N_s / N_v` (1 by construction).
        case dependenceCountPercentage = "dc_perc"
        /// Grey level variance (`1PFV`): `Σ_ij (i - μ)² p_ij`, `μ = Σ_ij i p_ij`.
        case greyLevelVariance = "gl_var"
        /// Dependence count variance (`DNX2`): `Σ_ij (j - μ)² p_ij`, `μ = Σ_ij j p_ij`.
        case dependenceCountVariance = "dc_var"
        /// Dependence count entropy (`FCBV`): `-Σ_ij p_ij log2 p_ij`.
        case dependenceCountEntropy = "dc_entr"
        /// Dependence count energy (`CAS9`): `Σ_ij p_ij²`.
        case dependenceCountEnergy = "dc_energy"
    }

    /// NGLDM features of `roi` for each requested aggregation (`avg` and `comb` of one
    /// dimensionality are the same single-matrix value), with neighbourhood radius `distance`
    /// (Chebyshev) and coarseness `α`. Only an empty ROI gives NaN.
    public static func features(
        _ roi: DiscretisedROI, aggregations: [TextureAggregation], distance: Int = 1, coarseness: Int = 0
    ) -> [FeatureValue] {
        let radius = max(distance, 1)
        let alpha = Int32(max(coarseness, 0))
        return SingleMatrixAggregation.levelMatrixFeatures(
            Feature.self, family: .ngldm, roi: roi, aggregations: aggregations,
            items: { grid, planar, volume in
                // In-plane dependences serve 2D and 2.5D, and are the first part of the 3D ones.
                let inPlaneOffsets = Offset3.halfNeighbourhood(radius: radius, planar: true)
                let throughPlane = Offset3.halfNeighbourhood(radius: radius, planar: false).filter { $0.dz > 0 }
                // A voxel depends on at most both neighbours along each offset.
                let planarBound = 1 + 2 * inPlaneOffsets.count
                let volumeBound = planarBound + 2 * throughPlane.count
                guard planar else {
                    return (nil, volume ? items(grid, dependences: dependences(grid, offsets: inPlaneOffsets + throughPlane,
                                                                               alpha: alpha, start: nil),
                                                bound: volumeBound) : nil)
                }
                let inPlane = dependences(grid, offsets: inPlaneOffsets, alpha: alpha, start: nil)
                return (items(grid, dependences: inPlane, bound: planarBound),
                        volume ? items(grid, dependences: dependences(grid, offsets: throughPlane, alpha: alpha,
                                                                      start: inPlane), bound: volumeBound) : nil)
            })
    }

    /// Per voxel, 1 plus the dependent ROI neighbours along `offsets` and their opposites,
    /// added to `start` when given.
    static func dependences(_ grid: TextureGrid, offsets: [Offset3], alpha: Int32, start: [Int32]?) -> [Int32] {
        // Levels are never negative: min(level, 1) is 1 for an ROI voxel, 0 outside (without a branch: vectorised).
        var counts = start ?? grid.levels.mapVoxels { min($0, 1) }
        let extents = grid.rowExtents()
        let shifts = offsets.map { $0.linear(grid) }
        grid.levels.withUnsafeBufferPointer { levels in
            counts.withUnsafeMutableBufferPointer { counts in
                // Row by row, every offset in turn, so that the rows read stay in the cache.
                for z in 0..<grid.nz {
                    for y in 0..<grid.ny where extents[z * grid.ny + y].lower <= extents[z * grid.ny + y].upper {
                        for (offset, shift) in zip(offsets, shifts) {
                            guard let row = RowKernels.roiRow(grid, offset, extents: extents, y: y, z: z) else { continue }
                            RowKernels.countDependent(levels.baseAddress!, counts.baseAddress!, range: row,
                                                      shift: shift, alpha: alpha)
                        }
                    }
                }
            }
        }
        return counts
    }

    /// The grid's voxels as items: grey level and dependence count (voxels outside the ROI have
    /// level 0 and count 0), no count above `bound`.
    private static func items(_ grid: TextureGrid, dependences: [Int32], bound: Int) -> LevelItems {
        LevelItems(levels: grid.levels, values: dependences, valueBound: bound)
    }
}

extension NGLDM.Feature: LevelMatrixFeature {
    var quantity: LevelMatrixStatistics.Quantity {
        switch self {
        case .lowDependenceEmphasis: return .smallEmphasis
        case .highDependenceEmphasis: return .largeEmphasis
        case .lowGreyLevelCountEmphasis: return .lowGreyEmphasis
        case .highGreyLevelCountEmphasis: return .highGreyEmphasis
        case .lowDependenceLowGreyLevelEmphasis: return .smallLowGrey
        case .lowDependenceHighGreyLevelEmphasis: return .smallHighGrey
        case .highDependenceLowGreyLevelEmphasis: return .largeLowGrey
        case .highDependenceHighGreyLevelEmphasis: return .largeHighGrey
        case .greyLevelNonUniformity: return .greyNonUniformity
        case .normalisedGreyLevelNonUniformity: return .greyNonUniformityNormalised
        case .dependenceCountNonUniformity: return .secondNonUniformity
        case .normalisedDependenceCountNonUniformity: return .secondNonUniformityNormalised
        case .dependenceCountPercentage: return .percentage
        case .greyLevelVariance: return .greyVariance
        case .dependenceCountVariance: return .secondVariance
        case .dependenceCountEntropy: return .entropy
        case .dependenceCountEnergy: return .energy
        }
    }
}

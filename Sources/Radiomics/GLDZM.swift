/// Grey level distance zone matrix features (IBSI 1, section 3.9, family `VMDZ`).
///
/// Zones are those of the GLSZM (8-connected in-plane for 2D and 2.5D, 26-connected for 3D,
/// from the intensity mask). A zone's distance is the smallest distance of its voxels to the
/// ROI edge, measured on the morphological mask with the Manhattan norm (4-connected in-plane
/// for 2D and 2.5D, 6-connected for 3D): 1 for a voxel at the border. The GLDZM counts
/// `d_ij`, the zones of grey level `i` at distance `j`. With `N_s = Σ d_ij` zones, `N_v`
/// voxels, marginals `d_i.` and `d_.j` and `p_ij = d_ij / N_s`, the features are those of `Feature`.
public enum GLDZM {
    /// The IBSI 1 GLDZM features; the raw value is the feature part of the IBSI tag.
    public enum Feature: String, CaseIterable, Sendable {
        /// Small distance emphasis (`0GBI`): `Σ_j d_.j / j² / N_s`.
        case smallDistanceEmphasis = "sde"
        /// Large distance emphasis (`MB4I`): `Σ_j j² d_.j / N_s`.
        case largeDistanceEmphasis = "lde"
        /// Low grey level zone emphasis (`S1RA`): `Σ_i d_i. / i² / N_s`.
        case lowGreyLevelZoneEmphasis = "lgze"
        /// High grey level zone emphasis (`K26C`): `Σ_i i² d_i. / N_s`.
        case highGreyLevelZoneEmphasis = "hgze"
        /// Small distance low grey level emphasis (`RUVG`): `Σ_ij d_ij / (i² j²) / N_s`.
        case smallDistanceLowGreyLevelEmphasis = "sdlge"
        /// Small distance high grey level emphasis (`DKNJ`): `Σ_ij i² d_ij / j² / N_s`.
        case smallDistanceHighGreyLevelEmphasis = "sdhge"
        /// Large distance low grey level emphasis (`A7WM`): `Σ_ij j² d_ij / i² / N_s`.
        case largeDistanceLowGreyLevelEmphasis = "ldlge"
        /// Large distance high grey level emphasis (`KLTH`): `Σ_ij i² j² d_ij / N_s`.
        case largeDistanceHighGreyLevelEmphasis = "ldhge"
        /// Grey level non-uniformity (`VFT7`): `Σ_i d_i.² / N_s`.
        case greyLevelNonUniformity = "glnu"
        /// Normalised grey level non-uniformity (`7HP3`): `Σ_i d_i.² / N_s²`.
        case normalisedGreyLevelNonUniformity = "glnu_norm"
        /// Zone distance non-uniformity (`V294`): `Σ_j d_.j² / N_s`.
        case zoneDistanceNonUniformity = "zdnu"
        /// Normalised zone distance non-uniformity (`IATH`): `Σ_j d_.j² / N_s²`.
        case normalisedZoneDistanceNonUniformity = "zdnu_norm"
        /// Zone percentage (`VIWW`): `N_s / N_v`.
        case zonePercentage = "z_perc"
        /// Grey level variance (`QK93`): `Σ_ij (i - μ)² p_ij`, `μ = Σ_ij i p_ij`.
        case greyLevelVariance = "gl_var"
        /// Zone distance variance (`7WT1`): `Σ_ij (j - μ)² p_ij`, `μ = Σ_ij j p_ij`.
        case zoneDistanceVariance = "zd_var"
        /// Zone distance entropy (`GBDU`): `-Σ_ij p_ij log2 p_ij`.
        case zoneDistanceEntropy = "zd_entr"
    }

    /// GLDZM features of `roi` for each requested aggregation (`avg` and `comb` of one
    /// dimensionality are the same single-matrix value). Only an empty ROI gives NaN.
    ///
    /// - Parameter morphologicalMask: the ROI before re-segmentation, on the grid of `roi.levels`;
    ///   nil when it equals the intensity mask (`level > 0`). Distances to the border are taken
    ///   from it; outside the grid counts as outside the ROI.
    public static func features(
        _ roi: DiscretisedROI, morphologicalMask: [Bool]?, aggregations: [TextureAggregation]
    ) -> [FeatureValue] {
        precondition(morphologicalMask.map { $0.count == roi.levels.count } ?? true,
                     "the morphological mask must cover the grid of the discretised ROI")
        return SingleMatrixAggregation.levelMatrixFeatures(
            Feature.self, family: .gldzm, roi: roi, aggregations: aggregations,
            items: { grid, planar, volume in
                let inside: [Bool] = morphologicalMask ?? grid.levels.mapVoxels { $0 > 0 }
                let zones = ZoneMemo.shared.zones(grid, planar: planar, volume: volume)
                func items(_ zones: GreyLevelZones, planar: Bool) -> LevelItems {
                    let distance = BorderDistance.map(grid, inside: inside, planar: planar)
                    return zones.items(zones.minimumDistances(grid, distance))
                }
                return (zones.planar.map { items($0, planar: true) }, zones.volume.map { items($0, planar: false) })
            })
    }
}

extension GLDZM.Feature: LevelMatrixFeature {
    var quantity: LevelMatrixStatistics.Quantity {
        switch self {
        case .smallDistanceEmphasis: return .smallEmphasis
        case .largeDistanceEmphasis: return .largeEmphasis
        case .lowGreyLevelZoneEmphasis: return .lowGreyEmphasis
        case .highGreyLevelZoneEmphasis: return .highGreyEmphasis
        case .smallDistanceLowGreyLevelEmphasis: return .smallLowGrey
        case .smallDistanceHighGreyLevelEmphasis: return .smallHighGrey
        case .largeDistanceLowGreyLevelEmphasis: return .largeLowGrey
        case .largeDistanceHighGreyLevelEmphasis: return .largeHighGrey
        case .greyLevelNonUniformity: return .greyNonUniformity
        case .normalisedGreyLevelNonUniformity: return .greyNonUniformityNormalised
        case .zoneDistanceNonUniformity: return .secondNonUniformity
        case .normalisedZoneDistanceNonUniformity: return .secondNonUniformityNormalised
        case .zonePercentage: return .percentage
        case .greyLevelVariance: return .greyVariance
        case .zoneDistanceVariance: return .secondVariance
        case .zoneDistanceEntropy: return .entropy
        }
    }
}

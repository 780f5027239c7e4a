/// Grey level size zone matrix features (IBSI 1, section 3.8, family `9SAK`).
///
/// A zone is a group of linked ROI voxels with one grey level: 8-connected in-plane for 2D
/// and 2.5D, 26-connected for 3D. The GLSZM counts `s_ij`, the zones of grey level `i` and
/// size `j`. With `N_s = Σ s_ij` zones, `N_v` voxels, marginals `s_i.` and `s_.j` and
/// `p_ij = s_ij / N_s`, the features are those of `Feature`.
///
/// 2D averages each feature over slices; 2.5D merges the slices' matrices (and their `N_v`);
/// 3D uses the volume's zones.
public enum GLSZM {
    /// The IBSI 1 GLSZM features; the raw value is the feature part of the IBSI tag.
    public enum Feature: String, CaseIterable, Sendable {
        /// Small zone emphasis (`5QRC`): `Σ_j s_.j / j² / N_s`.
        case smallZoneEmphasis = "sze"
        /// Large zone emphasis (`48P8`): `Σ_j j² s_.j / N_s`.
        case largeZoneEmphasis = "lze"
        /// Low grey level zone emphasis (`XMSY`): `Σ_i s_i. / i² / N_s`.
        case lowGreyLevelZoneEmphasis = "lgze"
        /// High grey level zone emphasis (`5GN9`): `Σ_i i² s_i. / N_s`.
        case highGreyLevelZoneEmphasis = "hgze"
        /// Small zone low grey level emphasis (`5RAI`): `Σ_ij s_ij / (i² j²) / N_s`.
        case smallZoneLowGreyLevelEmphasis = "szlge"
        /// Small zone high grey level emphasis (`HW1V`): `Σ_ij i² s_ij / j² / N_s`.
        case smallZoneHighGreyLevelEmphasis = "szhge"
        /// Large zone low grey level emphasis (`YH51`): `Σ_ij j² s_ij / i² / N_s`.
        case largeZoneLowGreyLevelEmphasis = "lzlge"
        /// Large zone high grey level emphasis (`J17V`): `Σ_ij i² j² s_ij / N_s`.
        case largeZoneHighGreyLevelEmphasis = "lzhge"
        /// Grey level non-uniformity (`JNSA`): `Σ_i s_i.² / N_s`.
        case greyLevelNonUniformity = "glnu"
        /// Normalised grey level non-uniformity (`Y1RO`): `Σ_i s_i.² / N_s²`.
        case normalisedGreyLevelNonUniformity = "glnu_norm"
        /// Zone size non-uniformity (`4JP3`): `Σ_j s_.j² / N_s`.
        case zoneSizeNonUniformity = "zsnu"
        /// Normalised zone size non-uniformity (`VB3A`): `Σ_j s_.j² / N_s²`.
        case normalisedZoneSizeNonUniformity = "zsnu_norm"
        /// Zone percentage (`P30P`): `N_s / N_v`.
        case zonePercentage = "z_perc"
        /// Grey level variance (`BYLV`): `Σ_ij (i - μ)² p_ij`, `μ = Σ_ij i p_ij`.
        case greyLevelVariance = "gl_var"
        /// Zone size variance (`3NSA`): `Σ_ij (j - μ)² p_ij`, `μ = Σ_ij j p_ij`.
        case zoneSizeVariance = "zs_var"
        /// Zone size entropy (`GU8N`): `-Σ_ij p_ij log2 p_ij`.
        case zoneSizeEntropy = "zs_entr"
    }

    /// GLSZM features of `roi` for each requested aggregation (`avg` and `comb` of one
    /// dimensionality are the same single-matrix value). Only an empty ROI gives NaN.
    public static func features(_ roi: DiscretisedROI, aggregations: [TextureAggregation]) -> [FeatureValue] {
        SingleMatrixAggregation.levelMatrixFeatures(
            Feature.self, family: .glszm, roi: roi, aggregations: aggregations,
            items: { grid, planar, volume in
                let zones = ZoneMemo.shared.zones(grid, planar: planar, volume: volume)
                return (zones.planar.map { $0.items($0.sizes) }, zones.volume.map { $0.items($0.sizes) })
            })
    }
}

extension GLSZM.Feature: LevelMatrixFeature {
    var quantity: LevelMatrixStatistics.Quantity {
        switch self {
        case .smallZoneEmphasis: return .smallEmphasis
        case .largeZoneEmphasis: return .largeEmphasis
        case .lowGreyLevelZoneEmphasis: return .lowGreyEmphasis
        case .highGreyLevelZoneEmphasis: return .highGreyEmphasis
        case .smallZoneLowGreyLevelEmphasis: return .smallLowGrey
        case .smallZoneHighGreyLevelEmphasis: return .smallHighGrey
        case .largeZoneLowGreyLevelEmphasis: return .largeLowGrey
        case .largeZoneHighGreyLevelEmphasis: return .largeHighGrey
        case .greyLevelNonUniformity: return .greyNonUniformity
        case .normalisedGreyLevelNonUniformity: return .greyNonUniformityNormalised
        case .zoneSizeNonUniformity: return .secondNonUniformity
        case .normalisedZoneSizeNonUniformity: return .secondNonUniformityNormalised
        case .zonePercentage: return .percentage
        case .greyLevelVariance: return .greyVariance
        case .zoneSizeVariance: return .secondVariance
        case .zoneSizeEntropy: return .entropy
        }
    }
}

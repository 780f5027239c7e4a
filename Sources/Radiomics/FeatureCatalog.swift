/// What every feature name of the feature store means: its IBSI 1 identifier and, where
/// PyRadiomics defines the same quantity, PyRadiomics' name for it.
///
/// Store names are `<family>.<IBSI tag without the family prefix>`, e.g. `glcm.joint_max_3D_comb`,
/// `morphology.volume`, `glszm.sze_3D`; the catalogue lists every name any settings can produce
/// (each texture feature under each aggregation).
///
/// PyRadiomics names are those of PyRadiomics 3.0.1 for the original image (`original_<class>_<Feature>`)
/// under its default 3D settings: distance 1, symmetric GLCM, GLCM and GLRLM features averaged over the
/// 13 directions (IBSI `3D_avg`), one 3D matrix for GLSZM, GLDM (α = 0, the IBSI NGLDM) and NGTDM,
/// `voxelArrayShift` 0. A name is given only where the definitions agree; `note` says why a name is
/// missing, or under which condition the values agree (discretisation).
public enum FeatureCatalog {
    public struct Entry: Sendable, Hashable {
        /// `<family>.<feature>[_<aggregation>]`, as in the feature store.
        public var storeName: String
        public var family: FeatureFamily
        /// The feature's part of the IBSI tag, e.g. `joint_max`.
        public var feature: String
        /// The texture aggregation suffix of the tag (`3D_comb`, `2_5D_avg`, `3D`, ...), nil for
        /// families without aggregations.
        public var aggregation: String?
        /// The IBSI tag of the reference-value files, e.g. `cm_joint_max_3D_comb`.
        public var ibsiTag: String
        /// The IBSI 1 feature identifier, e.g. `GYBY` (the same for every aggregation).
        public var ibsiID: String
        /// PyRadiomics' feature name, e.g. `original_glcm_MaximumProbability`; nil where PyRadiomics
        /// has no feature defined the same way.
        public var pyradiomicsName: String?
        /// Why there is no PyRadiomics name, or when the values agree.
        public var note: String?
    }

    /// Every entry, families in `FeatureFamily` order, features in IBSI order, then aggregations.
    public static let entries: [Entry] = build()

    private static let index: [String: Entry] = Dictionary(uniqueKeysWithValues: entries.map { ($0.storeName, $0) })

    /// The entry of a store name (`glcm.joint_max_3D_comb`), nil for a name LesionMap never writes.
    /// A response map's feature (`log_s1.5.intensity.mean`) has the entry of its unfiltered name.
    public static func entry(storeName: String) -> Entry? { index[storeName] ?? index[split(storeName).base] }

    /// A store name split into the filter token of a response map (nil for the unfiltered image) and the
    /// `<family>.<feature>` part: feature names hold no dot, so the family is the second-to-last part and
    /// anything before it is the token (which may hold dots, as `log_s1.5`).
    public static func split(_ storeName: String) -> (filter: String?, base: String) {
        let parts = storeName.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count > 2 else { return (nil, storeName) }
        return (parts.dropLast(2).joined(separator: "."), parts.suffix(2).joined(separator: "."))
    }

    // MARK: - Tables

    /// One feature of a family: IBSI identifier, PyRadiomics feature (without prefix) and note.
    private struct Definition {
        var feature: String
        var ibsiID: String
        var pyradiomics: String?
        var note: String?

        init(_ feature: String, _ ibsiID: String, _ pyradiomics: String? = nil, _ note: String? = nil) {
            self.feature = feature
            self.ibsiID = ibsiID
            self.pyradiomics = pyradiomics
            self.note = note
        }
    }

    private static let notInPyRadiomics = "not computed by PyRadiomics"
    /// PyRadiomics 3 never outputs these: asking for them raises a deprecation warning.
    private static let neverComputed = "deprecated in PyRadiomics 3, which never computes it"
    /// Marching-cubes meshes: PyRadiomics resolves some ambiguous cube configurations differently.
    private static let mesh = "PyRadiomics' marching-cubes table resolves some ambiguous cube configurations "
        + "differently: mesh volume and area differ by up to about 0.1% (both within IBSI tolerance)"
    private static let deprecatedShape = "deprecated in PyRadiomics: computed only when enabled by name, not by "
        + "enableAllFeatures(); " + mesh
    private static let principalAxes = "PyRadiomics divides the covariance of the voxel positions by N, LesionMap by "
        + "N - 1: PyRadiomics' value is this one times sqrt((N - 1) / N)"
    /// Grey-level numbering: the values agree when both tools put the ROI minimum in the same bin number.
    private static let levels = "values agree when the grey levels are numbered alike: PyRadiomics' bin 1 holds the "
        + "ROI minimum (bins on multiples of the bin width), IBSI's starts at the lower re-segmentation bound"
    /// Bin edges: histogram entropy and uniformity need the same partition only.
    private static let edges = "computed by PyRadiomics on its bins (multiples of the bin width); values agree when "
        + "the IBSI lower re-segmentation bound is such a multiple (e.g. -1000 HU with 25 HU bins)"
    private static let rawIntensities = "PyRadiomics' first-order statistics read intensities, not grey levels"

    private static let morphology: [Definition] = [
        Definition("volume", "RNU0", "MeshVolume", mesh),
        Definition("vol_approx", "YEKZ", "VoxelVolume"),
        Definition("area_mesh", "C0JK", "SurfaceArea", mesh),
        Definition("av", "2PR5", "SurfaceVolumeRatio", mesh),
        Definition("comp_1", "SKGS", "Compactness1", deprecatedShape),
        Definition("comp_2", "BQWJ", "Compactness2", deprecatedShape),
        Definition("sph_dispr", "KRCK", "SphericalDisproportion", deprecatedShape),
        Definition("sphericity", "QCFX", "Sphericity", mesh),
        Definition("asphericity", "25C7", nil, notInPyRadiomics),
        Definition("com", "KLMA", nil, notInPyRadiomics),
        Definition("diam", "L0JK", "Maximum3DDiameter"),
        Definition("pca_maj_axis", "TDIC", nil, principalAxes + " (MajorAxisLength)"),
        Definition("pca_min_axis", "P9VJ", nil, principalAxes + " (MinorAxisLength)"),
        Definition("pca_least_axis", "7J51", nil, principalAxes + " (LeastAxisLength)"),
        Definition("pca_elongation", "Q3CK", "Elongation"),
        Definition("pca_flatness", "N17B", "Flatness"),
        Definition("vol_dens_aabb", "PBX1", nil, notInPyRadiomics),
        Definition("area_dens_aabb", "R59B", nil, notInPyRadiomics),
        Definition("vol_dens_ombb", "ZH1A", nil, notInPyRadiomics),
        Definition("area_dens_ombb", "IQYR", nil, notInPyRadiomics),
        Definition("vol_dens_aee", "6BDE", nil, notInPyRadiomics),
        Definition("area_dens_aee", "RDD2", nil, notInPyRadiomics),
        Definition("vol_dens_mvee", "SWZ1", nil, notInPyRadiomics),
        Definition("area_dens_mvee", "BRI8", nil, notInPyRadiomics),
        Definition("vol_dens_conv_hull", "R3ER", nil, notInPyRadiomics),
        Definition("area_dens_conv_hull", "7T7F", nil, notInPyRadiomics),
        Definition("integ_int", "99N0", nil, notInPyRadiomics),
        Definition("moran_i", "N365", nil, notInPyRadiomics),
        Definition("geary_c", "NPT7", nil, notInPyRadiomics),
    ]

    private static let localIntensity: [Definition] = [
        Definition("peak_loc", "VJGA", nil, notInPyRadiomics),
        Definition("peak_glob", "0F91", nil, notInPyRadiomics),
    ]

    private static let intensity: [Definition] = [
        Definition("mean", "Q4LE", "Mean"),
        Definition("var", "ECT3", "Variance"),
        Definition("skew", "KE2A", "Skewness"),
        Definition("kurt", "IPH6", nil, "PyRadiomics' Kurtosis is not the excess kurtosis: it is this value + 3"),
        Definition("median", "Y12H", "Median"),
        Definition("min", "1GSF", "Minimum"),
        Definition("p10", "QG58", "10Percentile"),
        Definition("p90", "8DWT", "90Percentile"),
        Definition("max", "84IY", "Maximum"),
        Definition("iqr", "SALO", "InterquartileRange"),
        Definition("range", "2OJQ", "Range"),
        Definition("mad", "4FUA", "MeanAbsoluteDeviation"),
        Definition("rmad", "1128", "RobustMeanAbsoluteDeviation"),
        Definition("medad", "N72L", nil, notInPyRadiomics),
        Definition("cov", "7TET", nil, notInPyRadiomics),
        Definition("qcod", "9S40", nil, notInPyRadiomics),
        Definition("energy", "N8CA", "Energy"),
        Definition("rms", "5ZWQ", "RootMeanSquared"),
    ]

    private static let histogram: [Definition] = [
        Definition("mean", "X6K6", nil, rawIntensities),
        Definition("var", "CH89", nil, rawIntensities),
        Definition("skew", "88K1", nil, rawIntensities),
        Definition("kurt", "C3I7", nil, rawIntensities),
        Definition("median", "WIFQ", nil, rawIntensities),
        Definition("min", "1PR8", nil, rawIntensities),
        Definition("p10", "GPMT", nil, rawIntensities),
        Definition("p90", "OZ0C", nil, rawIntensities),
        Definition("max", "3NCY", nil, rawIntensities),
        Definition("mode", "AMMC", nil, notInPyRadiomics),
        Definition("iqr", "WR0O", nil, rawIntensities),
        Definition("range", "5Z3W", nil, rawIntensities),
        Definition("mad", "D2ZX", nil, rawIntensities),
        Definition("rmad", "WRZB", nil, rawIntensities),
        Definition("medad", "4RNL", nil, notInPyRadiomics),
        Definition("cov", "CWYJ", nil, notInPyRadiomics),
        Definition("qcod", "SLWD", nil, notInPyRadiomics),
        Definition("entropy", "TLU2", "Entropy", edges),
        Definition("uniformity", "BJ5W", "Uniformity", edges),
        Definition("max_grad", "12CE", nil, notInPyRadiomics),
        Definition("max_grad_g", "8E6O", nil, notInPyRadiomics),
        Definition("min_grad", "VQB3", nil, notInPyRadiomics),
        Definition("min_grad_g", "RHQZ", nil, notInPyRadiomics),
    ]

    private static let volumeHistogram: [Definition] = [
        Definition("v10", "NK6P", nil, notInPyRadiomics),
        Definition("v90", "4279", nil, notInPyRadiomics),
        Definition("i10", "PWN1", nil, notInPyRadiomics),
        Definition("i90", "BOHI", nil, notInPyRadiomics),
        Definition("diff_v10_v90", "WITY", nil, notInPyRadiomics),
        Definition("diff_i10_i90", "JXJA", nil, notInPyRadiomics),
        Definition("auc", "9CMM", nil, notInPyRadiomics),
    ]

    private static let glcm: [Definition] = [
        Definition("joint_max", "GYBY", "MaximumProbability"),
        Definition("joint_avg", "60VM", "JointAverage", levels),
        Definition("joint_var", "UR99", "SumSquares"),
        Definition("joint_entr", "TU9B", "JointEntropy"),
        Definition("diff_avg", "TF7R", "DifferenceAverage"),
        Definition("diff_var", "D3YU", "DifferenceVariance"),
        Definition("diff_entr", "NTRS", "DifferenceEntropy"),
        Definition("sum_avg", "ZGXS", "SumAverage", levels),
        Definition("sum_var", "OEEB", nil, "PyRadiomics' SumVariance is " + neverComputed
                   + "; for a symmetric GLCM it equals ClusterTendency (clust_tend)"),
        Definition("sum_entr", "P6QZ", "SumEntropy"),
        Definition("energy", "8ZQL", "JointEnergy"),
        Definition("contrast", "ACUI", "Contrast"),
        Definition("dissimilarity", "8S9J", nil, "PyRadiomics' Dissimilarity is " + neverComputed
                   + "; it equals DifferenceAverage (diff_avg)"),
        Definition("inv_diff", "IB1Z", "Id"),
        Definition("inv_diff_norm", "NDRX", "Idn", levels + " (Ng is the highest grey level)"),
        Definition("inv_diff_mom", "WF0Z", "Idm"),
        Definition("inv_diff_mom_norm", "1QCO", "Idmn", levels + " (Ng is the highest grey level)"),
        Definition("inv_var", "E8JP", "InverseVariance"),
        Definition("corr", "NI2N", "Correlation"),
        Definition("auto_corr", "QWB0", "Autocorrelation", levels),
        Definition("clust_tend", "DG8W", "ClusterTendency"),
        Definition("clust_shade", "7NFM", "ClusterShade"),
        Definition("clust_prom", "AE86", "ClusterProminence"),
        Definition("info_corr1", "R8DG", "Imc1"),
        Definition("info_corr2", "JN9H", "Imc2"),
    ]

    private static let glrlm: [Definition] = [
        Definition("sre", "22OV", "ShortRunEmphasis"),
        Definition("lre", "W4KF", "LongRunEmphasis"),
        Definition("lgre", "V3SW", "LowGrayLevelRunEmphasis", levels),
        Definition("hgre", "G3QZ", "HighGrayLevelRunEmphasis", levels),
        Definition("srlge", "HTZT", "ShortRunLowGrayLevelEmphasis", levels),
        Definition("srhge", "GD3A", "ShortRunHighGrayLevelEmphasis", levels),
        Definition("lrlge", "IVPO", "LongRunLowGrayLevelEmphasis", levels),
        Definition("lrhge", "3KUM", "LongRunHighGrayLevelEmphasis", levels),
        Definition("glnu", "R5YN", "GrayLevelNonUniformity"),
        Definition("glnu_norm", "OVBL", "GrayLevelNonUniformityNormalized"),
        Definition("rlnu", "W92Y", "RunLengthNonUniformity"),
        Definition("rlnu_norm", "IC23", "RunLengthNonUniformityNormalized"),
        Definition("r_perc", "9ZK5", "RunPercentage"),
        Definition("gl_var", "8CE5", "GrayLevelVariance"),
        Definition("rl_var", "SXLW", "RunVariance"),
        Definition("rl_entr", "HJ9O", "RunEntropy"),
    ]

    private static let glszm: [Definition] = [
        Definition("sze", "5QRC", "SmallAreaEmphasis"),
        Definition("lze", "48P8", "LargeAreaEmphasis"),
        Definition("lgze", "XMSY", "LowGrayLevelZoneEmphasis", levels),
        Definition("hgze", "5GN9", "HighGrayLevelZoneEmphasis", levels),
        Definition("szlge", "5RAI", "SmallAreaLowGrayLevelEmphasis", levels),
        Definition("szhge", "HW1V", "SmallAreaHighGrayLevelEmphasis", levels),
        Definition("lzlge", "YH51", "LargeAreaLowGrayLevelEmphasis", levels),
        Definition("lzhge", "J17V", "LargeAreaHighGrayLevelEmphasis", levels),
        Definition("glnu", "JNSA", "GrayLevelNonUniformity"),
        Definition("glnu_norm", "Y1RO", "GrayLevelNonUniformityNormalized"),
        Definition("zsnu", "4JP3", "SizeZoneNonUniformity"),
        Definition("zsnu_norm", "VB3A", "SizeZoneNonUniformityNormalized"),
        Definition("z_perc", "P30P", "ZonePercentage"),
        Definition("gl_var", "BYLV", "GrayLevelVariance"),
        Definition("zs_var", "3NSA", "ZoneVariance"),
        Definition("zs_entr", "GU8N", "ZoneEntropy"),
    ]

    private static let gldzm: [Definition] = [
        Definition("sde", "0GBI"), Definition("lde", "MB4I"), Definition("lgze", "S1RA"), Definition("hgze", "K26C"),
        Definition("sdlge", "RUVG"), Definition("sdhge", "DKNJ"), Definition("ldlge", "A7WM"),
        Definition("ldhge", "KLTH"), Definition("glnu", "VFT7"), Definition("glnu_norm", "7HP3"),
        Definition("zdnu", "V294"), Definition("zdnu_norm", "IATH"), Definition("z_perc", "VIWW"),
        Definition("gl_var", "QK93"), Definition("zd_var", "7WT1"), Definition("zd_entr", "GBDU"),
    ].map { Definition($0.feature, $0.ibsiID, nil, "PyRadiomics has no distance zone matrix") }

    private static let ngtdm: [Definition] = [
        Definition("coarseness", "QCDE", "Coarseness"),
        Definition("contrast", "65HE", "Contrast"),
        Definition("busyness", "NQ30", "Busyness", levels),
        Definition("complexity", "HDEZ", "Complexity"),
        Definition("strength", "1X9X", "Strength"),
    ]

    private static let ngldm: [Definition] = [
        Definition("lde", "SODN", "SmallDependenceEmphasis"),
        Definition("hde", "IMOQ", "LargeDependenceEmphasis"),
        Definition("lgce", "TL9H", "LowGrayLevelEmphasis", levels),
        Definition("hgce", "OAE7", "HighGrayLevelEmphasis", levels),
        Definition("ldlge", "EQ3F", "SmallDependenceLowGrayLevelEmphasis", levels),
        Definition("ldhge", "JA6D", "SmallDependenceHighGrayLevelEmphasis", levels),
        Definition("hdlge", "NBZI", "LargeDependenceLowGrayLevelEmphasis", levels),
        Definition("hdhge", "9QMG", "LargeDependenceHighGrayLevelEmphasis", levels),
        Definition("glnu", "FP8K", "GrayLevelNonUniformity"),
        Definition("glnu_norm", "5SPA", nil, "PyRadiomics' GLDM GrayLevelNonUniformityNormalized is " + neverComputed
                   + "; it equals the histogram uniformity (ih_uniformity)"),
        Definition("dcnu", "Z87G", "DependenceNonUniformity"),
        Definition("dcnu_norm", "OKJI", "DependenceNonUniformityNormalized"),
        Definition("dc_perc", "6XV8", nil, "PyRadiomics' DependencePercentage is " + neverComputed + " (it is always 1)"),
        Definition("gl_var", "1PFV", "GrayLevelVariance"),
        Definition("dc_var", "DNX2", "DependenceVariance"),
        Definition("dc_entr", "FCBV", "DependenceEntropy"),
        Definition("dc_energy", "CAS9", nil, notInPyRadiomics),
    ]

    /// The family's definitions, PyRadiomics feature class, and the aggregation PyRadiomics computes.
    private static func table(_ family: FeatureFamily) -> (definitions: [Definition], pyradiomicsClass: String,
                                                            pyradiomicsAggregation: String?) {
        switch family {
        case .morphology: return (morphology, "shape", nil)
        case .localIntensity: return (localIntensity, "", nil)
        case .intensity: return (intensity, "firstorder", nil)
        case .histogram: return (histogram, "firstorder", nil)
        case .intensityVolumeHistogram: return (volumeHistogram, "", nil)
        case .glcm: return (glcm, "glcm", TextureAggregation.volume3DAverage.rawValue)
        case .glrlm: return (glrlm, "glrlm", TextureAggregation.volume3DAverage.rawValue)
        case .glszm: return (glszm, "glszm", "3D")
        case .gldzm: return (gldzm, "", "3D")
        case .ngtdm: return (ngtdm, "ngtdm", "3D")
        case .ngldm: return (ngldm, "gldm", "3D")
        }
    }

    /// The tag suffixes of a texture family: per-direction families have an `avg` and a `comb`
    /// variant of each dimensionality, single-matrix families one.
    private static func aggregations(_ family: FeatureFamily) -> [String] {
        switch family {
        case .glcm, .glrlm: return TextureAggregation.allCases.map(\.rawValue)
        default:
            var suffixes: [String] = []
            for a in TextureAggregation.allCases where !suffixes.contains(a.singleMatrixSuffix) {
                suffixes.append(a.singleMatrixSuffix)
            }
            return suffixes
        }
    }

    private static func build() -> [Entry] {
        var out: [Entry] = []
        for family in FeatureFamily.allCases {
            let (definitions, pyClass, pyAggregation) = table(family)
            for d in definitions {
                let py = d.pyradiomics.map { "original_\(pyClass)_\($0)" }
                guard family.isTexture else {
                    out.append(Entry(storeName: "\(family.rawValue).\(d.feature)", family: family, feature: d.feature,
                                     aggregation: nil, ibsiTag: "\(family.ibsiPrefix)_\(d.feature)", ibsiID: d.ibsiID,
                                     pyradiomicsName: py, note: d.note))
                    continue
                }
                for suffix in aggregations(family) {
                    let matches = suffix == pyAggregation
                    let note = py == nil || matches ? d.note
                        : "PyRadiomics computes this feature as \(pyAggregation ?? "") only (\(py!))"
                    out.append(Entry(storeName: "\(family.rawValue).\(d.feature)_\(suffix)", family: family,
                                     feature: d.feature, aggregation: suffix,
                                     ibsiTag: "\(family.ibsiPrefix)_\(d.feature)_\(suffix)", ibsiID: d.ibsiID,
                                     pyradiomicsName: matches ? py : nil, note: note))
                }
            }
        }
        return out
    }
}

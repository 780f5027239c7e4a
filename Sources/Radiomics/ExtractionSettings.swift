import ImagingCore

/// Every choice that changes a feature value, from resampling to the families computed.
///
/// The settings are recorded verbatim (as JSON) in the feature store's provenance and in
/// signature files, so two feature tables can be compared only when their settings are equal.
/// Named presets reproduce the IBSI 1 benchmark configurations (`ibsi-a` ... `ibsi-e`, the
/// digital phantom) and a clinical CT default; see `ExtractionSettings.preset(named:)`.
public struct ExtractionSettings: Codable, Hashable, Sendable {
    /// Whether texture matrices and in-plane resampling treat slices separately.
    public enum ComputationMode: String, Codable, Hashable, Sendable, CaseIterable {
        /// Per slice: in-plane resampling only, texture matrices per slice.
        case slice2D = "2D"
        /// Per slice matrices merged over the volume.
        case volume2_5D = "2.5D"
        /// Full 3D neighbourhoods and isotropic resampling.
        case volume3D = "3D"
    }

    /// Image interpolation used when resampling.
    public enum Interpolation: String, Codable, Hashable, Sendable, CaseIterable {
        case nearest
        /// Trilinear (bilinear in-plane for 2D resampling).
        case linear
        /// Tricubic convolution (Keys, a = -0.5), the "tricubic" of IBSI configuration E.
        case cubic
    }

    /// Resampling to a new voxel spacing on the IBSI grid (centred on the original image centre).
    public struct Resampling: Codable, Hashable, Sendable {
        /// Target spacing in mm: x, y and z for 3D; for in-plane (2D) resampling z is ignored
        /// and the slice spacing is kept.
        public var spacing: [Double]
        /// Resample in-plane only (IBSI 2D configurations) instead of in 3D.
        public var inPlaneOnly: Bool
        public var interpolation: Interpolation
        /// Round interpolated intensities to the nearest integer (CT: HU are integers).
        public var roundIntensities: Bool
        /// Partial-volume threshold: an interpolated mask value at or above it is inside.
        public var maskThreshold: Double

        public init(spacing: [Double], inPlaneOnly: Bool = false, interpolation: Interpolation = .linear,
                    roundIntensities: Bool = true, maskThreshold: Double = 0.5) {
            self.spacing = spacing
            self.inPlaneOnly = inPlaneOnly
            self.interpolation = interpolation
            self.roundIntensities = roundIntensities
            self.maskThreshold = maskThreshold
        }

        /// Isotropic 3D resampling to `mm` mm voxels.
        public static func isotropic(_ mm: Double, interpolation: Interpolation = .linear,
                                     roundIntensities: Bool = true) -> Resampling {
            Resampling(spacing: [mm, mm, mm], inPlaneOnly: false, interpolation: interpolation,
                       roundIntensities: roundIntensities)
        }

        /// In-plane resampling to `mm` x `mm` pixels, slices untouched.
        public static func inPlane(_ mm: Double, interpolation: Interpolation = .linear,
                                   roundIntensities: Bool = true) -> Resampling {
            Resampling(spacing: [mm, mm, 0], inPlaneOnly: true, interpolation: interpolation,
                       roundIntensities: roundIntensities)
        }
    }

    /// Intensity re-segmentation of the intensity mask (the morphological mask is never re-segmented).
    public struct Resegmentation: Codable, Hashable, Sendable {
        /// Voxels below this intensity leave the intensity mask (nil: no lower bound).
        public var lowerBound: Double?
        /// Voxels above this intensity leave the intensity mask (nil: no upper bound).
        public var upperBound: Double?
        /// Also remove voxels outside mean ± `outlierSigma` SD of the ROI (after the range step).
        public var outlierSigma: Double?

        public init(lowerBound: Double? = nil, upperBound: Double? = nil, outlierSigma: Double? = nil) {
            self.lowerBound = lowerBound
            self.upperBound = upperBound
            self.outlierSigma = outlierSigma
        }

        public static let none = Resegmentation()
    }

    /// Grey-level discretisation for texture matrices and the intensity histogram.
    public enum Discretisation: Codable, Hashable, Sendable {
        /// Fixed bin size: `bin = floor((x - lower) / width) + 1`, where `lower` is the lower
        /// re-segmentation bound, or the ROI minimum when there is none.
        case fixedBinSize(width: Double)
        /// Fixed bin number: `bin = floor(count * (x - min) / (max - min)) + 1`, the maximum mapped to `count`.
        case fixedBinNumber(count: Int)
    }

    /// How the intensity-volume histogram discretises intensities.
    public enum IVHDiscretisation: Codable, Hashable, Sendable {
        /// Intensities used as they are, on a unit grid (CT in HU, the digital phantom).
        case none
        /// Fixed bin size, bins starting at the lower re-segmentation bound (or ROI minimum); bin centres used.
        case fixedBinSize(width: Double)
        /// Fixed bin number over the re-segmentation range (or ROI range); bin numbers used.
        case fixedBinNumber(count: Int)
    }

    /// The peritumoral ring: voxels within `widthMM` of the lesion but farther than `innerMarginMM`.
    public struct RingSettings: Codable, Hashable, Sendable {
        /// Distance (mm, voxel centre to lesion voxel centre) to the ring's outer edge.
        public var widthMM: Double
        /// Distance (mm) from the lesion left out of the ring; 0 = the ring starts right at the lesion.
        public var innerMarginMM: Double
        /// Remove the voxels of other lesions of the same patient from the ring.
        public var excludeOtherLesions: Bool
        /// Remove voxels below this intensity (e.g. air at -950 HU in lung); nil keeps all.
        public var excludeBelowIntensity: Double?

        public init(widthMM: Double = 10, innerMarginMM: Double = 0, excludeOtherLesions: Bool = true,
                    excludeBelowIntensity: Double? = nil) {
            self.widthMM = widthMM
            self.innerMarginMM = innerMarginMM
            self.excludeOtherLesions = excludeOtherLesions
            self.excludeBelowIntensity = excludeBelowIntensity
        }
    }

    public var mode: ComputationMode
    /// nil: features on the original grid.
    public var resampling: Resampling?
    public var resegmentation: Resegmentation
    public var discretisation: Discretisation
    /// Aggregations computed for texture families (IBSI 1, section 3.6).
    public var textureAggregations: [TextureAggregation]
    public var ivhDiscretisation: IVHDiscretisation
    /// nil: no peritumoral ring is extracted.
    public var ring: RingSettings?
    /// Families computed, in this order.
    public var families: [FeatureFamily]
    /// Also compute the image-wide IBSI diagnostics (`mean_int_init_img`, ...), which read the whole
    /// image instead of the lesion box; useful for conformance checks only.
    public var wholeImageDiagnostics: Bool

    public init(mode: ComputationMode = .volume3D, resampling: Resampling? = nil,
                resegmentation: Resegmentation = .none, discretisation: Discretisation = .fixedBinSize(width: 25),
                textureAggregations: [TextureAggregation] = [.volume3DAverage, .volume3DMerged],
                ivhDiscretisation: IVHDiscretisation = .none, ring: RingSettings? = nil,
                families: [FeatureFamily] = FeatureFamily.allCases, wholeImageDiagnostics: Bool = false) {
        self.mode = mode
        self.resampling = resampling
        self.resegmentation = resegmentation
        self.discretisation = discretisation
        self.textureAggregations = textureAggregations
        self.ivhDiscretisation = ivhDiscretisation
        self.ring = ring
        self.families = families
        self.wholeImageDiagnostics = wholeImageDiagnostics
    }
}

// MARK: - Presets

extension ExtractionSettings {
    /// Aggregations matching a computation mode: 2D uses per-slice matrices, 2.5D merges slices, 3D volumes.
    public static func aggregations(for mode: ComputationMode) -> [TextureAggregation] {
        switch mode {
        case .slice2D: return [.slice2DAverage, .slice2DMerged]
        case .volume2_5D: return [.volume2_5DAverage, .volume2_5DMerged]
        case .volume3D: return [.volume3DAverage, .volume3DMerged]
        }
    }

    /// The IBSI 1 digital phantom as the reference manual processes it: no resampling, no
    /// re-segmentation, grey levels used as they are (fixed bin size 1 starting at the ROI minimum,
    /// which is 1), every aggregation, IVH on the raw levels.
    public static let ibsiDigitalPhantom = ExtractionSettings(
        mode: .volume3D, resampling: nil, resegmentation: .none, discretisation: .fixedBinSize(width: 1),
        textureAggregations: TextureAggregation.allCases, ivhDiscretisation: .none)

    /// IBSI configuration A: 2D, no interpolation, re-segmentation [-500, 400] HU, fixed bin size 25 HU.
    public static let ibsiA = ExtractionSettings(
        mode: .slice2D, resampling: nil,
        resegmentation: Resegmentation(lowerBound: -500, upperBound: 400),
        discretisation: .fixedBinSize(width: 25),
        textureAggregations: [.slice2DAverage, .slice2DMerged, .volume2_5DAverage, .volume2_5DMerged],
        ivhDiscretisation: .none)

    /// IBSI configuration B: 2D, bilinear to 2 x 2 mm in-plane, re-segmentation [-500, 400] HU, 32 bins.
    public static let ibsiB = ExtractionSettings(
        mode: .slice2D, resampling: .inPlane(2, interpolation: .linear),
        resegmentation: Resegmentation(lowerBound: -500, upperBound: 400),
        discretisation: .fixedBinNumber(count: 32),
        textureAggregations: [.slice2DAverage, .slice2DMerged, .volume2_5DAverage, .volume2_5DMerged],
        ivhDiscretisation: .none)

    /// IBSI configuration C: 3D, trilinear to 2 mm isotropic, re-segmentation [-1000, 400] HU,
    /// fixed bin size 25 HU; IVH with 2.5 HU bins.
    public static let ibsiC = ExtractionSettings(
        mode: .volume3D, resampling: .isotropic(2, interpolation: .linear),
        resegmentation: Resegmentation(lowerBound: -1000, upperBound: 400),
        discretisation: .fixedBinSize(width: 25),
        textureAggregations: [.volume3DAverage, .volume3DMerged],
        ivhDiscretisation: .fixedBinSize(width: 2.5))

    /// IBSI configuration D: as C plus outlier filtering (mean ± 3 SD), 32 bins; IVH with 1000 bins.
    public static let ibsiD = ExtractionSettings(
        mode: .volume3D, resampling: .isotropic(2, interpolation: .linear),
        resegmentation: Resegmentation(lowerBound: -1000, upperBound: 400, outlierSigma: 3),
        discretisation: .fixedBinNumber(count: 32),
        textureAggregations: [.volume3DAverage, .volume3DMerged],
        ivhDiscretisation: .fixedBinNumber(count: 1000))

    /// IBSI configuration E: as D with tricubic interpolation.
    public static let ibsiE = ExtractionSettings(
        mode: .volume3D, resampling: .isotropic(2, interpolation: .cubic),
        resegmentation: Resegmentation(lowerBound: -1000, upperBound: 400, outlierSigma: 3),
        discretisation: .fixedBinNumber(count: 32),
        textureAggregations: [.volume3DAverage, .volume3DMerged],
        ivhDiscretisation: .fixedBinNumber(count: 1000))

    /// Clinical CT default: 3D on 1 mm isotropic voxels (trilinear, HU rounded), re-segmentation
    /// [-1000, 3000] HU, 25 HU bins, 3D averaged and merged texture, a 10 mm peritumoral ring
    /// excluding other lesions and air below -950 HU.
    public static let clinicalDefault = ExtractionSettings(
        mode: .volume3D, resampling: .isotropic(1, interpolation: .linear),
        resegmentation: Resegmentation(lowerBound: -1000, upperBound: 3000),
        discretisation: .fixedBinSize(width: 25),
        textureAggregations: [.volume3DAverage, .volume3DMerged],
        ivhDiscretisation: .none,
        ring: RingSettings(widthMM: 10, innerMarginMM: 0, excludeOtherLesions: true, excludeBelowIntensity: -950))

    /// Preset names accepted by `preset(named:)`, in display order.
    public static let presetNames = ["default", "ibsi-digital-phantom", "ibsi-a", "ibsi-b", "ibsi-c", "ibsi-d", "ibsi-e"]

    /// The settings of a named preset; throws `RadiomicsError.unknownPreset` listing the valid names.
    public static func preset(named name: String) throws -> ExtractionSettings {
        switch name.lowercased() {
        case "default": return clinicalDefault
        case "ibsi-digital-phantom": return ibsiDigitalPhantom
        case "ibsi-a": return ibsiA
        case "ibsi-b": return ibsiB
        case "ibsi-c": return ibsiC
        case "ibsi-d": return ibsiD
        case "ibsi-e": return ibsiE
        default: throw RadiomicsError.unknownPreset(name, known: presetNames)
        }
    }
}

/// Errors raised by feature extraction; each names the lesion or file involved.
public enum RadiomicsError: Error, CustomStringConvertible, Equatable {
    case unknownPreset(String, known: [String])
    case emptyMask(String)
    case invalidSettings(String)
    case gridMismatch(String)

    public var description: String {
        switch self {
        case .unknownPreset(let name, let known):
            return "unknown radiomics preset '\(name)'; known presets: \(known.joined(separator: ", "))"
        case .emptyMask(let context): return "empty mask: \(context) has no voxel inside the region"
        case .invalidSettings(let s): return "invalid radiomics settings: \(s)"
        case .gridMismatch(let s): return "image and mask grids differ: \(s)"
        }
    }
}

import Foundation
import ImagingCore

/// Every choice that changes a feature value, from resampling to the families computed.
///
/// The settings are recorded verbatim (as JSON) in the feature store's provenance and in
/// signature files, so two feature tables can be compared only when their settings are equal.
/// Named presets reproduce the IBSI 1 benchmark configurations (`ibsi-a` ... `ibsi-e`, the
/// digital phantom), a clinical CT default, a PET default (SUV) and an MR default (arbitrary units);
/// see `ExtractionSettings.preset(named:)`. Settings per modality: `ModalitySettings`.
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
        /// Cubic convolution (Keys 1981, a = -0.5) on the four nearest samples per axis, samples
        /// beyond the image taking the nearest edge value. Interpolating and cheap, but not the
        /// "tricubic spline" of IBSI configuration E (that is `bspline`).
        case cubic
        /// Cubic B-spline interpolation, the "tricubic spline" of IBSI 1 configuration E and the 3D
        /// configurations of IBSI 2 phase 2: the samples are first turned into B-spline coefficients
        /// (Unser's recursive prefilter, so the spline passes through every sample), then the cubic
        /// B-spline β³ is evaluated at the new positions, f(x) = Σ_k c_k β³(x - k). Outside the image
        /// the nearest edge value is used. This is `scipy.ndimage.map_coordinates(order=3,
        /// mode="nearest")` (prefilter on), as the IBSI reference implementation MIRP calls it.
        case bspline
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
        /// Fixed bin number over the ROI's own intensity range (the re-segmentation range is not used,
        /// as IBSI 1 prescribes for arbitrary intensity units); bin numbers used.
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

    /// A region of a lesion whose features are extracted (`regions`), as the PET/CT study of Lin et al.
    /// (Br J Cancer 2025;132:558-68) defines its four volumes of interest: tumoral, peritumoral,
    /// intratumoral and tumour-peritumoral. The raw value is the region's name in stores and columns.
    public enum Region: String, Codable, Hashable, Sendable, CaseIterable {
        /// The lesion as contoured.
        case tumour
        /// The peritumoral ring (`ring`: `PeritumoralRing`).
        case ring
        /// The intratumoral core: the lesion eroded by `coreMarginMM` (every voxel whose ball of that
        /// radius lies inside the lesion), on the lesion's own grid, before resampling.
        case core
        /// The tumour and its ring together (their union, on the lesion's grid).
        case tumourRing = "tumour_ring"
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
    /// Filtered images (IBSI 2 filters, PyRadiomics image types) and the families of their response maps;
    /// nil: the unfiltered image only. Absent from the settings JSON when nil, so settings without filters
    /// read and hash as before filters existed.
    public var filtering: Filtering?
    /// The regions extracted, in any order (extracted in `Region.allCases` order); nil: the tumour,
    /// and its ring when `ring` is set (LesionMap's regions before this setting existed). `tumour` is
    /// always among them; `ring` and `tumour_ring` need `ring` (the ring's definition). Absent from
    /// the settings JSON when nil, so existing presets, stores and signatures read and hash as before.
    public var regions: [Region]?
    /// The margin in mm by which the lesion is eroded to give its intratumoral `core`; only with `core`
    /// among the `regions`. nil: `defaultCoreMarginMM`. Absent from the settings JSON when nil.
    public var coreMarginMM: Double?

    public init(mode: ComputationMode = .volume3D, resampling: Resampling? = nil,
                resegmentation: Resegmentation = .none, discretisation: Discretisation = .fixedBinSize(width: 25),
                textureAggregations: [TextureAggregation] = [.volume3DAverage, .volume3DMerged],
                ivhDiscretisation: IVHDiscretisation = .none, ring: RingSettings? = nil,
                families: [FeatureFamily] = FeatureFamily.allCases, wholeImageDiagnostics: Bool = false,
                filtering: Filtering? = nil, regions: [Region]? = nil, coreMarginMM: Double? = nil) {
        self.mode = mode
        self.resampling = resampling
        self.resegmentation = resegmentation
        self.discretisation = discretisation
        self.textureAggregations = textureAggregations
        self.ivhDiscretisation = ivhDiscretisation
        self.ring = ring
        self.families = families
        self.wholeImageDiagnostics = wholeImageDiagnostics
        self.filtering = filtering
        self.regions = regions
        self.coreMarginMM = coreMarginMM
    }

    /// The intratumoral core's margin when the settings give none: 3 mm. Lin et al. (Br J Cancer
    /// 2025) erode the tumour to an intratumoral volume but leave the margin to their supplementary
    /// methods, which the shared text does not hold; 3 mm is our choice: three voxels of the 1 mm CT
    /// default. The erosion is made on the image's own grid, and a margin below a voxel spacing erodes
    /// nothing along that axis: on PET voxels of 4 mm choose a margin of at least 4 mm.
    public static let defaultCoreMarginMM = 3.0

    /// The regions extracted, in `Region.allCases` order: `regions`, or the tumour and (with `ring`) its ring.
    public var extractedRegions: [Region] {
        guard let regions else { return ring == nil ? [.tumour] : [.tumour, .ring] }
        return Region.allCases.filter(regions.contains)
    }

    /// The core's erosion margin in mm: `coreMarginMM`, else `defaultCoreMarginMM`.
    public var effectiveCoreMarginMM: Double { coreMarginMM ?? Self.defaultCoreMarginMM }
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

    /// IBSI configuration D: 3D, trilinear to 2 mm isotropic, re-segmentation by outlier filtering only
    /// (mean ± 3 SD of the ROI, no range), 32 bins; IVH on the HU as they are (no discretisation).
    public static let ibsiD = ExtractionSettings(
        mode: .volume3D, resampling: .isotropic(2, interpolation: .linear),
        resegmentation: Resegmentation(outlierSigma: 3),
        discretisation: .fixedBinNumber(count: 32),
        textureAggregations: [.volume3DAverage, .volume3DMerged],
        ivhDiscretisation: .none)

    /// IBSI configuration E: 3D, tricubic spline (cubic B-spline) to 2 mm isotropic, re-segmentation
    /// [-1000, 400] HU then outlier filtering (mean ± 3 SD of the voxels the range kept), 32 bins; IVH
    /// with 1000 bins over the ROI's intensity range (the "arbitrary intensity units" case).
    public static let ibsiE = ExtractionSettings(
        mode: .volume3D, resampling: .isotropic(2, interpolation: .bspline),
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

    /// PET default (`pet-default`), for FDG PET in body-weight SUV (SUVbw, the unit the DICOM reader
    /// converts PET series to): 3D on 4 mm isotropic voxels (trilinear, intensities never rounded:
    /// SUV are not whole numbers), re-segmentation to SUV >= 0 (so that bins start at 0 SUV and every
    /// lesion shares them; no HU range), fixed bin size 0.25 SUV, intensity-volume histogram in
    /// 0.1 SUV bins, a 10 mm peritumoral ring excluding other lesions (no air threshold).
    ///
    /// Sources: a fixed bin size in SUV keeps grey levels comparable between and within patients,
    /// where a fixed bin number does not (Leijenaar et al., Sci Rep 2015;5:11075; PyRadiomics also
    /// recommends a fixed bin width); 0.25 SUV is the bin width Pfaehler et al. (Med Phys
    /// 2019;46:665-78) use for FDG uptake, giving 8 to 80 levels for lesions of SUV 2 to 20. IBSI 1
    /// rounds interpolated intensities only where the modality's values are integers (CT HU). 4 mm
    /// is the order of the voxels of clinical whole-body PET reconstructions (about 2 to 4 mm in-plane),
    /// so resampling neither invents detail nor discards much.
    public static let petDefault = ExtractionSettings(
        mode: .volume3D, resampling: .isotropic(4, interpolation: .linear, roundIntensities: false),
        resegmentation: Resegmentation(lowerBound: 0, upperBound: nil),
        discretisation: .fixedBinSize(width: 0.25),
        textureAggregations: [.volume3DAverage, .volume3DMerged],
        ivhDiscretisation: .fixedBinSize(width: 0.1),
        ring: RingSettings(widthMM: 10, innerMarginMM: 0, excludeOtherLesions: true, excludeBelowIntensity: nil))

    /// MR default (`mr-default`), for intensities in arbitrary units: 3D on 1 mm isotropic voxels
    /// (trilinear, never rounded), no range re-segmentation (a fixed range means different things
    /// in different scans) but outlier removal at mean ± 3 SD (IBSI configuration D), a fixed bin
    /// number of 32 (IBSI configurations B, D, E: with arbitrary units only the lesion's own range
    /// is meaningful), IVH with 1000 bins (IBSI D), a 10 mm ring excluding other lesions.
    public static let mrDefault = ExtractionSettings(
        mode: .volume3D, resampling: .isotropic(1, interpolation: .linear, roundIntensities: false),
        resegmentation: Resegmentation(lowerBound: nil, upperBound: nil, outlierSigma: 3),
        discretisation: .fixedBinNumber(count: 32),
        textureAggregations: [.volume3DAverage, .volume3DMerged],
        ivhDiscretisation: .fixedBinNumber(count: 1000),
        ring: RingSettings(widthMM: 10, innerMarginMM: 0, excludeOtherLesions: true, excludeBelowIntensity: nil))

    /// Preset names accepted by `preset(named:)`, in display order.
    /// (The IBSI 2 presets are listed only when this version provides their filter.)
    public static let presetNames = ["default", "pet-default", "mr-default", "ibsi-digital-phantom",
                                     "ibsi-a", "ibsi-b", "ibsi-c", "ibsi-d", "ibsi-e"] + availableIBSI2PresetNames

    /// The settings of a named preset; throws `RadiomicsError.unknownPreset` listing the valid names.
    public static func preset(named name: String) throws -> ExtractionSettings {
        let settings: ExtractionSettings
        switch name.lowercased() {
        case "default": settings = clinicalDefault
        case "pet-default": settings = petDefault
        case "mr-default": settings = mrDefault
        case "ibsi-digital-phantom": settings = ibsiDigitalPhantom
        case "ibsi-a": settings = ibsiA
        case "ibsi-b": settings = ibsiB
        case "ibsi-c": settings = ibsiC
        case "ibsi-d": settings = ibsiD
        case "ibsi-e": settings = ibsiE
        default:
            guard let ibsi2 = ibsi2Preset(named: name) else {
                throw RadiomicsError.unknownPreset(name, known: presetNames.filter { !$0.hasPrefix("ibsi2-") }
                    + ["ibsi2-phase1-<config> (1a1 ... 8a3)", "ibsi2-phase2-<n><a|b> (1a ... 9b)"])
            }
            return try ibsi2.validated(in: "preset \(name)")
        }
        // Presets are within the bounds (a test checks each); validated anyway, as every other source of settings.
        return try settings.validated()
    }
}

/// Errors raised by feature extraction; each names the lesion or file involved.
public enum RadiomicsError: Error, CustomStringConvertible, Equatable {
    case unknownPreset(String, known: [String])
    case emptyMask(String)
    case invalidSettings(String)
    case gridMismatch(String)
    /// Lesions whose estimated memory exceeds the budget (one line per lesion, naming it, the
    /// estimate, the budget and the setting responsible); nothing was allocated for them.
    case overMemoryBudget(String)
    /// Settings that make no sense for a lesion's modality (one line per lesion, naming it, its
    /// modality and the setting): e.g. rounding PET intensities, or a HU range on PET or MR.
    case modalityRefused(String)
    /// A lesion on a scan whose modality has no settings (`--preset ct=default` and a PT scan).
    case noSettingsForModality(String)

    public var description: String {
        switch self {
        case .unknownPreset(let name, let known):
            return "unknown radiomics preset '\(name)'; known presets: \(known.joined(separator: ", "))"
        case .emptyMask(let context): return "empty mask: \(context) has no voxel inside the region"
        case .invalidSettings(let s): return "invalid radiomics settings: \(s)"
        case .gridMismatch(let s): return "image and mask grids differ: \(s)"
        case .overMemoryBudget(let s): return s
        case .modalityRefused(let s): return s
        case .noSettingsForModality(let s): return s
        }
    }
}

// MARK: - Bounds

/// The documented ranges of the numeric extraction settings.
///
/// They are checked where settings are made: `SettingsOverrides.applied(to:)` (the command-line
/// options), settings files (`validated(in:)` after decoding), `preset(named:)` and `validated()`. What a setting costs for a given lesion is checked separately, before any work,
/// by the per-lesion memory estimate (`ExtractionMemory`), which guards every extraction whatever
/// its settings.
public enum SettingsBounds {
    /// Grey levels of the texture discretisation: a fixed bin number, or the levels a fixed bin
    /// size gives over a closed re-segmentation range. IBSI 1 and PyRadiomics practice is 8 to 256
    /// (IBSI configurations: 32; PyRadiomics recommends 30 to 130 bins); 4096 still allows 1 HU bins
    /// over the whole CT range [-1000, 3000]. A GLCM holds Ng² cells per direction, so 4096 levels
    /// already cost about 1 GB for the 13 directions of 3D.
    public static let greyLevels = 1...4096
    /// Levels of the intensity-volume histogram (IBSI configuration E uses 1000 bins; each level
    /// costs a few bytes, so the bound is generous).
    public static let ivhLevels = 1...1_000_000
    /// Resampling spacing in mm. Below 0.1 mm is finer than any clinical CT, MR or PET reconstruction
    /// (the finest, ultra-high-resolution and photon-counting CT, is about 0.2 mm) and only multiplies
    /// voxels; above 20 mm the 1 cm³ sphere of the local intensity features (radius 6.2 mm) holds a
    /// single voxel and a lesion of a few centimetres a handful. IBSI and PyRadiomics use 1 to 5 mm.
    public static let spacingMM = 0.1...20.0
    /// Peritumoral ring width in mm (0 < width <= 50); published rings are 2 to 20 mm wide.
    public static let ringWidthMM = 0.0...50.0
    /// Intratumoral core margin in mm (0 < margin <= 50), the ring's bound: published intratumoral
    /// volumes shrink the tumour by a few mm; a margin beyond a lesion's inradius leaves no core.
    public static let coreMarginMM = 0.0...50.0
    /// Partial-volume threshold of the interpolated mask (0 < threshold <= 1; IBSI uses 0.5).
    public static let maskThreshold = 0.0...1.0
    /// Outlier re-segmentation in standard deviations (0 < sigma <= 10; IBSI uses 3).
    public static let outlierSigma = 0.0...10.0
}

extension ExtractionSettings {
    /// Every problem with these settings, one line each naming the setting (its command-line option
    /// where there is one, and its key in a settings file), its value and the allowed range; empty
    /// when the settings are within `SettingsBounds`.
    public func problems() -> [String] {
        var out: [String] = []
        let number = Self.text
        func range(_ r: ClosedRange<Double>) -> String { "\(number(r.lowerBound)) to \(number(r.upperBound))" }

        if let r = resampling {
            let used = r.inPlaneOnly ? 2 : 3
            if r.spacing.count < used || (!r.inPlaneOnly && r.spacing.count != 3) {
                out.append("resampling spacing \(r.spacing.map(number)) (resampling.spacing): needs \(r.inPlaneOnly ? "x and y (z is ignored in-plane)" : "3 values, x, y and z")")
            } else {
                let axes = ["x", "y", "z"]
                let bad = (0..<used).filter { !(r.spacing[$0].isFinite && SettingsBounds.spacingMM.contains(r.spacing[$0])) }
                // Isotropic (or square in-plane) spacing is one value to the user: named once.
                let same = Set(r.spacing.prefix(used).map { $0.bitPattern }).count == 1
                for a in (same ? Array(bad.prefix(1)) : bad) {
                    out.append("resampling spacing\(same ? "" : " " + axes[a]) \(number(r.spacing[a])) mm (--spacing, resampling.spacing): must be \(range(SettingsBounds.spacingMM)) mm")
                }
            }
            let t = r.maskThreshold
            if !(t.isFinite && t > SettingsBounds.maskThreshold.lowerBound && t <= SettingsBounds.maskThreshold.upperBound) {
                out.append("mask threshold \(number(t)) (resampling.maskThreshold): must be greater than 0 and at most 1 (IBSI: 0.5)")
            }
        }

        let reseg = resegmentation
        for (name, key, value) in [("lower", "lowerBound", reseg.lowerBound), ("upper", "upperBound", reseg.upperBound)] {
            if let v = value, !v.isFinite {
                out.append("re-segmentation \(name) bound \(number(v)) (resegmentation.\(key)): must be a finite number (leave it out for no bound)")
            }
        }
        if let lo = reseg.lowerBound, let hi = reseg.upperBound, lo.isFinite, hi.isFinite, !(lo < hi) {
            out.append("re-segmentation range [\(number(lo)), \(number(hi))] (resegmentation.lowerBound, upperBound): the lower bound must be below the upper bound")
        }
        if let s = reseg.outlierSigma,
           !(s.isFinite && s > SettingsBounds.outlierSigma.lowerBound && s <= SettingsBounds.outlierSigma.upperBound) {
            out.append("outlier re-segmentation \(number(s)) SD (resegmentation.outlierSigma): must be greater than 0 and at most \(number(SettingsBounds.outlierSigma.upperBound)) (IBSI: 3)")
        }
        // The closed re-segmentation range, when both bounds are usable.
        let closed: (lo: Double, hi: Double)? = {
            guard let lo = reseg.lowerBound, let hi = reseg.upperBound, lo.isFinite, hi.isFinite, lo < hi else { return nil }
            return (lo, hi)
        }()
        let levels = SettingsBounds.greyLevels
        switch discretisation {
        case .fixedBinSize(let width):
            if !(width.isFinite && width > 0) {
                out.append("bin width \(number(width)) (--bin-width, discretisation.fixedBinSize.width): must be a number greater than 0")
            } else if let c = closed {
                let n = ((c.hi - c.lo) / width).rounded(.down) + 1
                if n > Double(levels.upperBound) {
                    out.append("bin width \(number(width)) (--bin-width, discretisation.fixedBinSize.width): gives \(number(n)) grey levels over the re-segmentation range [\(number(c.lo)), \(number(c.hi))], more than \(levels.upperBound); use a width of at least \(number(((c.hi - c.lo) / Double(levels.upperBound - 1) * 1000).rounded(.up) / 1000))")
                }
            }
        case .fixedBinNumber(let count):
            if !levels.contains(count) {
                out.append("bin count \(count) (--bin-count, discretisation.fixedBinNumber.count): must be \(levels.lowerBound) to \(levels.upperBound) (IBSI and PyRadiomics practice: 8 to 256)")
            }
        }
        let ivh = SettingsBounds.ivhLevels
        switch ivhDiscretisation {
        case .none:
            if let c = closed, c.hi - c.lo + 1 > Double(ivh.upperBound) {
                out.append("intensity-volume histogram on a unit grid (ivhDiscretisation.none): gives \(number((c.hi - c.lo).rounded() + 1)) levels over the re-segmentation range, more than \(ivh.upperBound); use a fixed bin size or number")
            }
        case .fixedBinSize(let width):
            if !(width.isFinite && width > 0) {
                out.append("intensity-volume histogram bin width \(number(width)) (ivhDiscretisation.fixedBinSize.width): must be a number greater than 0")
            } else if let c = closed, ((c.hi - c.lo) / width).rounded(.up) + 1 > Double(ivh.upperBound) {
                out.append("intensity-volume histogram bin width \(number(width)) (ivhDiscretisation.fixedBinSize.width): gives \(number(((c.hi - c.lo) / width).rounded(.up) + 1)) levels over the re-segmentation range, more than \(ivh.upperBound)")
            }
        case .fixedBinNumber(let count):
            if !ivh.contains(count) {
                out.append("intensity-volume histogram bin count \(count) (ivhDiscretisation.fixedBinNumber.count): must be \(ivh.lowerBound) to \(ivh.upperBound) (IBSI configuration E: 1000)")
            }
        }

        if let ring {
            let w = ring.widthMM
            if !(w.isFinite && w > SettingsBounds.ringWidthMM.lowerBound && w <= SettingsBounds.ringWidthMM.upperBound) {
                out.append("ring width \(number(w)) mm (--ring-mm, ring.widthMM): must be greater than 0 and at most \(number(SettingsBounds.ringWidthMM.upperBound)) mm (--ring-mm 0 removes the ring)")
            }
            let m = ring.innerMarginMM
            if !(m.isFinite && m >= 0) {
                out.append("ring inner margin \(number(m)) mm (ring.innerMarginMM): must be 0 or more")
            } else if w.isFinite && w > 0 && m >= w {
                out.append("ring inner margin \(number(m)) mm (ring.innerMarginMM): must be less than the ring width \(number(w)) mm, or the ring is empty")
            }
            if let t = ring.excludeBelowIntensity, !t.isFinite {
                out.append("ring air threshold \(number(t)) (ring.excludeBelowIntensity): must be a finite number (leave it out to keep every voxel)")
            }
        }
        if let regions {
            let names = Region.allCases.map(\.rawValue).joined(separator: ", ")
            if !regions.contains(.tumour) {
                out.append("regions \(regions.map(\.rawValue)) (--regions, regions): must include tumour (regions: \(names))")
            }
            for r in Region.allCases where regions.filter({ $0 == r }).count > 1 {
                out.append("regions (--regions, regions): \(r.rawValue) is named twice")
            }
            if ring == nil {
                for r in [Region.ring, .tumourRing] where regions.contains(r) {
                    out.append("region \(r.rawValue) (--regions, regions): needs a peritumoral ring (--ring-mm, ring.widthMM), and the settings have none")
                }
            }
        }
        if let m = coreMarginMM {
            if !(m.isFinite && m > SettingsBounds.coreMarginMM.lowerBound && m <= SettingsBounds.coreMarginMM.upperBound) {
                out.append("core margin \(number(m)) mm (--core-mm, coreMarginMM): must be greater than 0 and at most \(number(SettingsBounds.coreMarginMM.upperBound)) mm")
            } else if !extractedRegions.contains(.core) {
                out.append("core margin \(number(m)) mm (--core-mm, coreMarginMM): the regions (--regions, regions) have no core; add core to them or leave the margin out")
            }
        }
        if families.isEmpty {
            out.append("feature families (families): at least one is needed")
        }
        out += filteringProblems()
        return out
    }

    /// A setting's value as text: whole numbers without a fraction ("25", not "25.0").
    public static func text(_ x: Double) -> String {
        x.isFinite && x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)"
    }

    /// These settings, or `RadiomicsError.invalidSettings` listing every problem (`problems()`),
    /// prefixed with `source` when given (e.g. "settings file /path/s.json").
    public func validated(in source: String? = nil) throws -> ExtractionSettings {
        let list = problems()
        guard list.isEmpty else {
            throw RadiomicsError.invalidSettings((source.map { $0 + ": " } ?? "") + Self.listing(list))
        }
        return self
    }

    /// Problems as one message: inline for one, one indented line each for several.
    static func listing(_ problems: [String]) -> String {
        problems.count == 1 ? problems[0]
            : "\(problems.count) problems:\n" + problems.map { "  - " + $0 }.joined(separator: "\n")
    }
}

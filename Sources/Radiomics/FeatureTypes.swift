import ImagingCore

/// The IBSI 1 feature families LesionMap computes.
///
/// The raw value is the family's part of stable feature names (`<region>.<family>.<feature>`);
/// `ibsiPrefix` is the prefix of the family's tags in the IBSI reference-value files.
public enum FeatureFamily: String, CaseIterable, Sendable, Codable {
    case morphology
    case localIntensity = "local_intensity"
    case intensity
    case histogram
    case intensityVolumeHistogram = "ivh"
    case glcm, glrlm, glszm, gldzm, ngtdm, ngldm

    public var ibsiPrefix: String {
        switch self {
        case .morphology: return "morph"
        case .localIntensity: return "loc"
        case .intensity: return "stat"
        case .histogram: return "ih"
        case .intensityVolumeHistogram: return "ivh"
        case .glcm: return "cm"
        case .glrlm: return "rlm"
        case .glszm: return "szm"
        case .gldzm: return "dzm"
        case .ngtdm: return "ngt"
        case .ngldm: return "ngl"
        }
    }

    /// Whether the family works on discretised grey levels (texture matrices).
    public var isTexture: Bool {
        switch self {
        case .glcm, .glrlm, .glszm, .gldzm, .ngtdm, .ngldm: return true
        default: return false
        }
    }
}

/// How a texture family turns per-slice or per-direction matrices into one value (IBSI 1, section 3.6).
///
/// - `2D` variants compute per slice (in-plane neighbours only); `2.5D` merge all slices;
///   `3D` use the full 26-neighbourhood.
/// - `average` computes the feature per matrix then averages; `merged` sums the matrices first.
///   For GLCM and GLRLM, whose matrices are per direction, `2D_comb` merges the directions of
///   each slice, `2.5D_avg` merges slices per direction, `2.5D_comb` merges everything.
public enum TextureAggregation: String, CaseIterable, Sendable, Codable {
    case slice2DAverage = "2D_avg"
    case slice2DMerged = "2D_comb"
    case volume2_5DAverage = "2_5D_avg"
    case volume2_5DMerged = "2_5D_comb"
    case volume3DAverage = "3D_avg"
    case volume3DMerged = "3D_comb"

    /// For families with a single matrix per slice or volume (GLSZM, GLDZM, NGTDM, NGLDM),
    /// the IBSI tag suffix of this aggregation (`2D`, `2_5D` or `3D`).
    public var singleMatrixSuffix: String {
        switch self {
        case .slice2DAverage, .slice2DMerged: return "2D"
        case .volume2_5DAverage, .volume2_5DMerged: return "2_5D"
        case .volume3DAverage, .volume3DMerged: return "3D"
        }
    }
}

/// One computed feature value.
public struct FeatureValue: Sendable, Hashable {
    public var family: FeatureFamily
    /// The feature's part of the IBSI tag, e.g. `joint_max` for `cm_joint_max_3D_comb`.
    public var name: String
    /// The full IBSI reference tag, e.g. `cm_joint_max_3D_comb` or `stat_mean`.
    public var ibsiTag: String
    public var value: Double
    /// Why the value is NaN (e.g. "undefined for a one-voxel ROI"), when it is.
    public var note: String?
    /// The token of the filter whose response map the value describes (`log_s1.5`, see `FilterSpec.token`);
    /// nil for the unfiltered image.
    public var filter: String?

    public init(family: FeatureFamily, name: String, ibsiTag: String, value: Double, note: String? = nil,
                filter: String? = nil) {
        self.family = family
        self.name = name
        self.ibsiTag = ibsiTag
        self.value = value
        self.note = note
        self.filter = filter
    }

    /// `[<filter>.]<family>.<feature>`: the region-independent part of the store name.
    public var stableName: String { (filter.map { $0 + "." } ?? "") + "\(family.rawValue).\(name)" }
}

/// A region of interest after re-segmentation and discretisation, cropped to its bounding box.
///
/// Texture families read only this: grey levels `1...binCount` inside the ROI and 0 outside,
/// x fastest, then y, then z (slices), with the physical voxel spacing.
public struct DiscretisedROI: Sendable {
    public let size: Size3
    public let spacing: Vector3
    /// Grey level per voxel: `1...binCount` inside the ROI, 0 outside.
    public let levels: [Int32]
    /// Number of grey levels Ng (the highest level that can occur).
    public let binCount: Int

    public init(size: Size3, spacing: Vector3, levels: [Int32], binCount: Int) {
        precondition(levels.count == size.count, "levels must cover the grid")
        self.size = size
        self.spacing = spacing
        self.levels = levels
        self.binCount = binCount
    }

    @inline(__always)
    public func level(_ i: Int, _ j: Int, _ k: Int) -> Int32 { levels[(k * size.ny + j) * size.nx + i] }

    public var voxelCount: Int { levels.reduce(0) { $0 + ($1 > 0 ? 1 : 0) } }
}

import Foundation
import ImagingCore

/// Where a lesion sits. The CD8-style signature uses location indicators, so the set is fixed.
public enum LesionLocation: String, CaseIterable, Codable, Sendable {
    case lung, liver
    case lymphNode = "lymph_node"
    case headNeck = "head_neck"
    case bone, adrenal, brain
    case softTissue = "soft_tissue"
    case other
}

/// RECIST-style response category, of a lesion or of a patient's best overall response.
public enum ResponseCategory: String, CaseIterable, Codable, Sendable {
    case complete = "CR", partial = "PR", stable = "SD", progressive = "PD"

    /// Complete or partial response.
    public var isResponse: Bool { self == .complete || self == .partial }
}

/// A survival endpoint: time in months and whether the event was observed (false = censored).
public struct SurvivalTime: Hashable, Codable, Sendable {
    public var months: Double
    public var event: Bool
    public init(months: Double, event: Bool) { self.months = months; self.event = event }
}

/// A patient's clinical outcomes, as recorded in `patients.csv`.
public struct Outcomes: Hashable, Codable, Sendable {
    public var pfs: SurvivalTime?
    public var os: SurvivalTime?
    public var bestResponse: ResponseCategory?
    public var abscopalResponse: Bool?
    /// Further covariates (`cov_*` columns), by column name, kept as text.
    public var covariates: [String: String]

    public init(pfs: SurvivalTime? = nil, os: SurvivalTime? = nil, bestResponse: ResponseCategory? = nil,
                abscopalResponse: Bool? = nil, covariates: [String: String] = [:]) {
        self.pfs = pfs
        self.os = os
        self.bestResponse = bestResponse
        self.abscopalResponse = abscopalResponse
        self.covariates = covariates
    }
}

/// What a `mask` cell points at.
public enum ContourSourceKind: String, Codable, Sendable {
    /// A NIfTI or NRRD label map (0 = background).
    case labelMap
    /// A DICOM RT Structure Set.
    case rtstruct
    /// A DICOM Segmentation object.
    case seg
}

/// What an `image` cell points at.
public enum ImageSourceKind: String, Codable, Sendable {
    /// A NIfTI or NRRD file.
    case volumeFile
    /// A folder holding a DICOM series.
    case dicomFolder
}

/// One row of `lesions.csv`, validated: a lesion, or a contour file to expand into lesions.
public struct LesionEntry: Hashable, Sendable {
    public var patientID: String
    /// Nil when the row asks for expansion (empty `lesion_id` and `roi`).
    public var lesionID: String?
    public var image: URL
    public var imageKind: ImageSourceKind
    public var mask: URL
    public var maskKind: ContourSourceKind
    /// Label value, ROI name or segment number, as written.
    public var roi: String?
    public var location: LesionLocation
    public var irradiated: Bool
    public var response: ResponseCategory?
    /// Tube voltage from the manifest (for images without a DICOM header).
    public var kvp: Double?
    /// Modality code from the manifest (`CT`, `PT`, `MR`); nil: the DICOM series' own, or CT for
    /// NIfTI/NRRD. A DICOM series whose Modality differs is refused.
    public var modality: String? = nil
    /// Further images of the same study (`image_<modality>` columns, e.g. `image_pt`), in column order, onto
    /// which the lesion's mask, drawn on `image`'s grid, is carried (`Mask.transferred(onto:)`).
    public var furtherImages: [FurtherImage] = []
    /// Spreadsheet row number in lesions.csv.
    public var row: Int
    /// Days from the baseline scan (`timepoint` column): 0 = baseline (also when empty), negative = a pre-baseline
    /// scan. The same lesion id at two time points is the same lesion.
    public var timepoint: Double = 0
    /// False when the row leaves `location` empty (`location` is then `.other`). A follow-up lesion matched to a
    /// known lesion takes that lesion's location then; a given value differing from it is warned of and not kept.
    public var locationGiven: Bool = true
    /// False when the row leaves `irradiated` empty (`irradiated` is then false); as `locationGiven`.
    public var irradiatedGiven: Bool = true

    /// True when this row stands for every ROI, segment or connected component of its mask.
    public var expands: Bool { lesionID == nil && roi == nil }
}

/// A further image of a lesion row's study, from an `image_<modality>` column of lesions.csv.
public struct FurtherImage: Hashable, Sendable {
    /// Upper-case modality code from the column name (`image_pt` -> `PT`).
    public var modality: String
    public var image: URL
    public var kind: ImageSourceKind
    /// The column it came from, for messages (`image_pt`).
    public var column: String

    public init(modality: String, image: URL, kind: ImageSourceKind, column: String) {
        self.modality = modality
        self.image = image
        self.kind = kind
        self.column = column
    }
}

/// One patient of a cohort: outcomes and the lesion rows that belong to them, in manifest order.
public struct PatientEntry: Hashable, Sendable {
    public var id: String
    public var outcomes: Outcomes
    public var lesions: [LesionEntry]
    /// Spreadsheet row number in patients.csv.
    public var row: Int
}

/// A validated cohort manifest: patients in `patients.csv` order.
public struct Cohort: Sendable {
    /// The manifest folder.
    public var folder: URL
    public var patients: [PatientEntry]

    public var lesionRowCount: Int { patients.reduce(0) { $0 + $1.lesions.count } }

    public func patient(_ id: String) -> PatientEntry? { patients.first { $0.id == id } }
}

/// A lesion ready for feature extraction: its mask on its scan's grid and its clinical facts.
public struct Lesion: Sendable {
    public var id: String
    public var patientID: String
    public var mask: Mask { didSet { maskBoundingBox = mask.boundingBox } }
    /// `mask.boundingBox`, kept with the mask (found when the lesion is loaded, updated when the mask changes), so
    /// that extraction and the lesion table read the box instead of the whole image again.
    public private(set) var maskBoundingBox: IndexBox?
    public var location: LesionLocation
    public var irradiated: Bool
    public var response: ResponseCategory?
    /// Index into the loaded patient's `scans`.
    public var scanIndex: Int
    /// Human-readable origin: "masks/P1.nii.gz label 3".
    public var source: String
    /// Number of 26-connected components (more than one is computed as one ROI, with a warning).
    public var componentCount: Int
    /// The contour's name in its file: RTSTRUCT ROI name or SEG segment label ("" for label maps). Several
    /// lesions may share it (a SEG with eleven segments labelled "Neoplasm, Secondary"); `id` is unique.
    /// Refused characters (`Identifier`) are shown as `<U+XXXX>`.
    public var label: String
    /// The lesion on the further images of its study (`image_<modality>` columns), in column order; each has a
    /// modality other than the contour scan's and than each other's.
    public var furtherImages: [LesionImage] = []
    /// Days from the baseline scan of the scan this mask was drawn on (0 = baseline; `LesionEntry.timepoint`).
    public var timepoint: Double

    public init(id: String, patientID: String, mask: Mask, location: LesionLocation, irradiated: Bool,
                response: ResponseCategory?, scanIndex: Int, source: String, componentCount: Int, label: String = "",
                timepoint: Double = 0, maskBoundingBox: IndexBox?? = nil) {
        // `maskBoundingBox`: the mask's bounding box when the caller knows it already (nil inside for an empty mask).
        self.maskBoundingBox = maskBoundingBox ?? mask.boundingBox
        self.label = label
        self.timepoint = timepoint
        self.id = id
        self.patientID = patientID
        self.mask = mask
        self.location = location
        self.irradiated = irradiated
        self.response = response
        self.scanIndex = scanIndex
        self.source = source
        self.componentCount = componentCount
    }
}

/// A lesion's mask carried onto a further image of its study (an `image_<modality>` column).
public struct LesionImage: Sendable {
    /// Index into the loaded patient's `scans`.
    public var scanIndex: Int
    /// The lesion's mask on that scan's grid (`Mask.transferred(onto:)`: at least half of each voxel inside).
    public var mask: Mask
    public init(scanIndex: Int, mask: Mask) { self.scanIndex = scanIndex; self.mask = mask }
}

/// A patient with images and lesion masks in memory.
public struct Patient: Sendable {
    public var id: String
    public var outcomes: Outcomes
    public var scans: [Scan]
    public var lesions: [Lesion]
    /// Non-fatal findings (e.g. a disconnected lesion mask), to be shown to the user.
    public var warnings: [String]
}

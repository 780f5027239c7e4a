import Foundation

/// Scan-level facts kept in the store (never patient names, birth dates or other identifiers).
public struct ScanMetadata: Hashable, Codable, Sendable {
    public var modality: String
    public var kvp: Double?
    public var manufacturer: String?
    public var model: String?
    public var convolutionKernel: String?
    public var sliceThickness: Double?
    public var contrast: String?
    public var scanDate: String?
    /// DICOM FrameOfReferenceUID (0020,0052): images sharing it share patient coordinates, so a mask drawn on
    /// one may be carried onto the other. Nil for NIfTI/NRRD, which record none.
    public var frameOfReferenceUID: String?

    public init(modality: String = "CT", kvp: Double? = nil, manufacturer: String? = nil, model: String? = nil,
                convolutionKernel: String? = nil, sliceThickness: Double? = nil, contrast: String? = nil,
                scanDate: String? = nil, frameOfReferenceUID: String? = nil) {
        self.frameOfReferenceUID = frameOfReferenceUID
        self.modality = modality
        self.kvp = kvp
        self.manufacturer = manufacturer
        self.model = model
        self.convolutionKernel = convolutionKernel
        self.sliceThickness = sliceThickness
        self.contrast = contrast
        self.scanDate = scanDate
    }
}

/// An image volume with its metadata and where it came from.
public struct Scan: Sendable {
    public var image: Volume<Float>
    public var metadata: ScanMetadata
    public var source: URL

    public init(image: Volume<Float>, metadata: ScanMetadata, source: URL) {
        self.image = image
        self.metadata = metadata
        self.source = source
    }
}

/// A contour read from a DICOM RTSTRUCT or SEG, rasterised on an image grid.
public struct NamedMask: Sendable {
    /// ROI name (RTSTRUCT) or segment label (SEG).
    public var name: String
    public var mask: Mask
    /// ROI Number (3006,0022) or Segment Number (0062,0004): unique within its file, unlike names and labels.
    public var number: Int?
    public init(name: String, mask: Mask, number: Int? = nil) { self.name = name; self.mask = mask; self.number = number }
}


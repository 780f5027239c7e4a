import Foundation
import ImagingCore

/// A value to write into a DICOM dataset: text in DICOM form (numbers as text, multiple values
/// separated by backslashes) or the items of a sequence.
public enum DICOMValue: Hashable, Sendable {
    case text(String)
    case items([[DICOMTag: DICOMValue]])
    /// A Decimal String (DS) value written as DS even where the data dictionary does not know the element
    /// (private elements, e.g. the Philips PET scale factors under their private creator).
    case decimalString(String)
}

/// One single-frame greyscale image to write: geometry, stored values and identifiers.
public struct DICOMImageSlice: Sendable {
    public var columns: Int
    public var rows: Int
    /// Stored values, row by row (columns fastest).
    public var storedValues: [Int16]
    /// (row spacing, column spacing) in mm, as PixelSpacing orders them.
    public var pixelSpacing: (Double, Double)
    public var position: Vector3
    /// Row direction cosines then column direction cosines.
    public var orientation: [Double]
    public var rescaleSlope: Double
    public var rescaleIntercept: Double
    public var modality: String
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var frameOfReferenceUID: String
    public var sopInstanceUID: String
    public var instanceNumber: Int
    /// Further attributes (KVP, PET dose module, ...), written after the ones above and overriding them.
    public var extra: [DICOMTag: DICOMValue]

    public init(columns: Int, rows: Int, storedValues: [Int16], pixelSpacing: (Double, Double), position: Vector3,
                orientation: [Double] = [1, 0, 0, 0, 1, 0], rescaleSlope: Double = 1, rescaleIntercept: Double = 0,
                modality: String = "CT", studyInstanceUID: String, seriesInstanceUID: String,
                frameOfReferenceUID: String, sopInstanceUID: String = DICOMWriter.newUID(), instanceNumber: Int = 1,
                extra: [DICOMTag: DICOMValue] = [:]) {
        self.columns = columns
        self.rows = rows
        self.storedValues = storedValues
        self.pixelSpacing = pixelSpacing
        self.position = position
        self.orientation = orientation
        self.rescaleSlope = rescaleSlope
        self.rescaleIntercept = rescaleIntercept
        self.modality = modality
        self.studyInstanceUID = studyInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
        self.frameOfReferenceUID = frameOfReferenceUID
        self.sopInstanceUID = sopInstanceUID
        self.instanceNumber = instanceNumber
        self.extra = extra
    }
}

/// Writes DICOM image files (Explicit VR Little Endian), for exporting volumes and for building test series.
public enum DICOMWriter {
    /// A new globally unique UID.
    public static func newUID() -> String { DICOMFile.newUID() }

    /// Writes one slice as a CT (or PET, by `modality`) image file.
    public static func write(_ s: DICOMImageSlice, to url: URL) throws {
        guard s.storedValues.count == s.rows * s.columns else {
            throw DICOMError(file: url, message: "slice has \(s.storedValues.count) values for \(s.columns)x\(s.rows) pixels")
        }
        let file = DICOMFile()
        let d = file.dataset
        let sopClass = s.modality == "PT" ? SOPClass.petImage : SOPClass.ctImage
        try d.set(Tag.sopClassUID, sopClass)
        try d.set(Tag.sopInstanceUID, s.sopInstanceUID)
        try d.set(Tag.modality, s.modality)
        try d.set(Tag.studyInstanceUID, s.studyInstanceUID)
        try d.set(Tag.seriesInstanceUID, s.seriesInstanceUID)
        try d.set(Tag.frameOfReferenceUID, s.frameOfReferenceUID)
        try d.set(Tag.instanceNumber, s.instanceNumber)
        try d.set(Tag.imageType, "ORIGINAL\\PRIMARY\\AXIAL")
        try d.set(Tag.imagePositionPatient, ds([s.position.x, s.position.y, s.position.z]))
        try d.set(Tag.imageOrientationPatient, ds(s.orientation))
        try d.set(Tag.pixelSpacing, ds([s.pixelSpacing.0, s.pixelSpacing.1]))
        try d.set(Tag.rows, s.rows)
        try d.set(Tag.columns, s.columns)
        try d.set(Tag.samplesPerPixel, 1)
        try d.set(Tag.photometricInterpretation, "MONOCHROME2")
        try d.set(Tag.bitsAllocated, 16)
        try d.set(Tag.bitsStored, 16)
        try d.set(Tag.highBit, 15)
        try d.set(Tag.pixelRepresentation, 1)
        try d.set(Tag.rescaleSlope, ds([s.rescaleSlope]))
        try d.set(Tag.rescaleIntercept, ds([s.rescaleIntercept]))
        try apply(s.extra, to: d)
        var bytes = [UInt8]()
        bytes.reserveCapacity(2 * s.storedValues.count)
        for v in s.storedValues {
            let u = UInt16(bitPattern: v)
            bytes.append(UInt8(u & 0xFF))
            bytes.append(UInt8(u >> 8))
        }
        try file.setPixelBytes(bytes, words: true)
        try file.save(to: url)
    }

    /// Writes a CT volume (HU, rounded to integers) as one file per slice in `folder`, returning the
    /// identifiers of the new series. `extra` goes into every slice (e.g. KVP).
    @discardableResult
    public static func writeSeries(_ image: Volume<Float>, to folder: URL, modality: String = "CT",
                                   extra: [DICOMTag: DICOMValue] = [:]) throws -> SeriesReference {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let g = image.grid
        let study = newUID(), series = newUID(), frame = newUID()
        var uids: [String] = []
        let perSlice = g.size.nx * g.size.ny
        let row = g.direction.column(0), col = g.direction.column(1)
        for k in 0..<g.size.nz {
            let values = try image.voxels[(k * perSlice)..<((k + 1) * perSlice)].map { v -> Int16 in
                let r = v.rounded()
                guard r.isFinite, r >= Float(Int16.min), r <= Float(Int16.max) else {
                    throw DICOMError(file: folder, message: "value \(v) on slice \(k) does not fit a 16-bit CT image")
                }
                return Int16(r)
            }
            let slice = DICOMImageSlice(
                columns: g.size.nx, rows: g.size.ny, storedValues: values, pixelSpacing: (g.spacing.y, g.spacing.x),
                position: g.world(at: Index3(0, 0, k)), orientation: [row.x, row.y, row.z, col.x, col.y, col.z],
                modality: modality, studyInstanceUID: study, seriesInstanceUID: series, frameOfReferenceUID: frame,
                instanceNumber: k + 1, extra: extra)
            uids.append(slice.sopInstanceUID)
            try write(slice, to: folder.appendingPathComponent(String(format: "slice%04d.dcm", k)))
        }
        return SeriesReference(studyInstanceUID: study, seriesInstanceUID: series, frameOfReferenceUID: frame,
                               sopClassUID: modality == "PT" ? SOPClass.petImage : SOPClass.ctImage,
                               sopInstanceUIDs: uids)
    }

    static func apply(_ values: [DICOMTag: DICOMValue], to item: DICOMItem) throws {
        for (tag, value) in values.sorted(by: { ($0.key.group, $0.key.element) < ($1.key.group, $1.key.element) }) {
            switch value {
            case .text(let s):
                try item.set(tag, s)
            case .decimalString(let s):
                try item.setDecimalString(tag, s)
            case .items(let list):
                for entry in list { try apply(entry, to: try item.append(tag)) }
            }
        }
    }

    /// Decimal strings that fit DICOM's 16-character DS limit.
    static func ds(_ values: [Double]) -> String {
        values.map { v -> String in
            var s = String(format: "%.6f", v)
            while s.contains(".") && (s.hasSuffix("0") || s.hasSuffix(".")) { s.removeLast() }
            if s.count > 16 { s = String(format: "%.9g", v) }
            return s == "-0" ? "0" : s
        }.joined(separator: "\\")
    }
}

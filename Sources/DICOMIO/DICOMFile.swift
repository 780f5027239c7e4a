import CDCMTK
import Foundation

/// A DICOM attribute tag (group, element).
public struct DICOMTag: Hashable, Sendable, CustomStringConvertible {
    public var group: UInt16
    public var element: UInt16
    public init(_ group: UInt16, _ element: UInt16) { self.group = group; self.element = element }
    public var description: String {
        "(" + String(group, radix: 16, uppercase: true).leftPadded(4) + ","
            + String(element, radix: 16, uppercase: true).leftPadded(4) + ")"
    }
}

extension String {
    fileprivate func leftPadded(_ n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}

/// An open DICOM file (read or being built); closes its DCMTK object when released.
///
/// Internal to DICOMIO: the C handles never leave this target.
final class DICOMFile {
    let handle: OpaquePointer
    let url: URL?

    /// Opens `url`; values larger than `deferLength` bytes are read only when used (0 = read everything now).
    init(reading url: URL, deferLength: UInt32 = 0) throws {
        var error = cdcm_error()
        guard let h = cdcm_open(url.path, deferLength, &error) else {
            throw DICOMError(file: url, message: Self.message(error))
        }
        handle = h
        self.url = url
    }

    /// A new empty dataset.
    init() {
        handle = cdcm_create()
        url = nil
    }

    deinit { cdcm_close(handle) }

    var dataset: DICOMItem { DICOMItem(handle: cdcm_dataset(handle), file: self) }

    var transferSyntax: String {
        guard let p = cdcm_transfer_syntax(handle) else { return "" }
        defer { cdcm_free(p) }
        return String(cString: p)
    }

    /// The Image Pixel module as found in the file (see `PixelModule` for the checks made on it).
    struct PixelInfo: Sendable {
        var rows: Int, columns: Int, frames: Int, samplesPerPixel: Int
        var bitsAllocated: Int, bitsStored: Int, highBit: Int, pixelRepresentation: Int
        /// Byte length of native Pixel Data; nil for encapsulated (compressed) transfer syntaxes.
        var pixelDataLength: Int?
    }

    func pixelInfo() throws -> PixelInfo {
        var info = cdcm_pixel_info()
        var error = cdcm_error()
        guard cdcm_pixel_info_get(handle, &info, &error) != 0 else { throw fail(error) }
        return PixelInfo(rows: info.rows, columns: info.columns, frames: info.frames,
                         samplesPerPixel: info.samples_per_pixel, bitsAllocated: Int(info.bits_allocated),
                         bitsStored: Int(info.bits_stored), highBit: Int(info.high_bit),
                         pixelRepresentation: Int(info.pixel_representation),
                         pixelDataLength: info.encapsulated != 0 ? nil : Int(info.pixel_data_length))
    }

    /// Stored values of one frame as floats, written into `out` (rows x columns values).
    func frame(_ index: Int, into out: UnsafeMutableBufferPointer<Float>) throws {
        var error = cdcm_error()
        guard cdcm_frame_float(handle, index, out.baseAddress, out.count, &error) != 0 else { throw fail(error) }
    }

    /// Stored values of one frame as integers.
    func frameInt32(_ index: Int, count: Int) throws -> [Int32] {
        var out = [Int32](repeating: 0, count: count)
        var error = cdcm_error()
        let ok = out.withUnsafeMutableBufferPointer { cdcm_frame_int32(handle, index, $0.baseAddress, $0.count, &error) }
        guard ok != 0 else { throw fail(error) }
        return out
    }

    func setPixelBytes(_ bytes: [UInt8], words: Bool) throws {
        var error = cdcm_error()
        let ok = bytes.withUnsafeBufferPointer {
            cdcm_set_pixel_bytes(cdcm_dataset(handle), $0.baseAddress, $0.count, words ? 1 : 0, &error)
        }
        guard ok != 0 else { throw fail(error) }
    }

    func save(to url: URL) throws {
        var error = cdcm_error()
        guard cdcm_save(handle, url.path, &error) != 0 else {
            throw DICOMError(file: url, message: Self.message(error))
        }
    }

    func fail(_ error: cdcm_error) -> DICOMError {
        DICOMError(file: url, message: Self.message(error))
    }

    static func message(_ error: cdcm_error) -> String {
        withUnsafeBytes(of: error.message) { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            let end = bytes.firstIndex(of: 0) ?? bytes.count
            return String(decoding: bytes[0..<end], as: UTF8.self)
        }
    }

    /// Loads the DICOM library (libLesionMapDCMTK.so, see cdcmtk.h) now, so that a missing library is reported once,
    /// for `url`, rather than as every file of a folder being unreadable.
    static func requireLibrary(for url: URL) throws {
        var error = cdcm_error()
        guard cdcm_load(&error) != 0 else { throw DICOMError(file: url, message: message(error)) }
    }

    /// A new UID under DCMTK's root.
    static func newUID() -> String {
        var buf = [CChar](repeating: 0, count: 80)
        buf.withUnsafeMutableBufferPointer { cdcm_generate_uid($0.baseAddress, $0.count) }
        return String(cString: buf)
    }
}

/// The dataset or a sequence item of a `DICOMFile`; keeps its file open.
struct DICOMItem {
    let handle: OpaquePointer?
    let file: DICOMFile

    func has(_ tag: DICOMTag) -> Bool { cdcm_has(handle, tag.group, tag.element) != 0 }

    /// The value as text, trimmed; nil when absent.
    func string(_ tag: DICOMTag) -> String? {
        guard let p = cdcm_string(handle, tag.group, tag.element) else { return nil }
        defer { cdcm_free(p) }
        return String(cString: p).trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: "\0")))
    }

    /// The value as text, nil when absent or empty.
    func text(_ tag: DICOMTag) -> String? {
        guard let s = string(tag), !s.isEmpty else { return nil }
        return s
    }

    /// Every numeric value; empty when absent; throws when a value is not a number.
    /// The offending text is not quoted: header values may carry identifiers (see `DICOMError`).
    func numbers(_ tag: DICOMTag) throws -> [Double] {
        let n = cdcm_numbers(handle, tag.group, tag.element, nil, 0)
        guard n >= 0 else {
            throw DICOMError(file: file.url, message: "\(tag) holds a value that is not a number")
        }
        guard n > 0 else { return [] }
        var out = [Double](repeating: 0, count: n)
        _ = out.withUnsafeMutableBufferPointer { cdcm_numbers(handle, tag.group, tag.element, $0.baseAddress, $0.count) }
        return out
    }

    /// The first numeric value, nil when absent or not a number.
    func number(_ tag: DICOMTag) -> Double? { (try? numbers(tag))?.first }

    func items(_ tag: DICOMTag) -> [DICOMItem] {
        let n = cdcm_sequence_count(handle, tag.group, tag.element)
        return (0..<n).map { DICOMItem(handle: cdcm_sequence_item(handle, tag.group, tag.element, $0), file: file) }
    }

    func firstItem(_ tag: DICOMTag) -> DICOMItem? { items(tag).first }

    // Writing

    func set(_ tag: DICOMTag, _ value: String) throws {
        var error = cdcm_error()
        guard cdcm_set_string(handle, tag.group, tag.element, value, &error) != 0 else { throw file.fail(error) }
    }

    func set(_ tag: DICOMTag, _ value: Int) throws { try set(tag, String(value)) }

    /// Sets a Decimal String value whatever the dictionary says (private elements it does not know).
    func setDecimalString(_ tag: DICOMTag, _ value: String) throws {
        var error = cdcm_error()
        guard cdcm_set_decimal_string(handle, tag.group, tag.element, value, &error) != 0 else { throw file.fail(error) }
    }

    func setTag(_ tag: DICOMTag, _ value: DICOMTag) throws {
        var error = cdcm_error()
        guard cdcm_set_tag(handle, tag.group, tag.element, value.group, value.element, &error) != 0 else {
            throw file.fail(error)
        }
    }

    func append(_ tag: DICOMTag) throws -> DICOMItem {
        var error = cdcm_error()
        guard let h = cdcm_sequence_append(handle, tag.group, tag.element, &error) else { throw file.fail(error) }
        return DICOMItem(handle: h, file: file)
    }

    /// Copies a text value from another item when present there.
    func copy(_ tag: DICOMTag, from other: DICOMItem) throws {
        if let v = other.string(tag) { try set(tag, v) }
    }
}

/// A problem with a DICOM file or series, naming the file or folder.
///
/// Messages name files, attributes (by keyword and tag) and numbers (sizes, positions, spacings); they
/// never quote header values that can carry identifiers: no UIDs, descriptions, names, dates or free
/// text, and coded values only when they are one of the terms the standard defines (`Redacted.code`).
/// ROI names and segment labels are the exception: they are the lesion names a manifest selects and
/// becomes lesion ids on expansion, so they are quoted (see README, "DICOM identifiers").
public struct DICOMError: Error, CustomStringConvertible, Sendable {
    public var file: URL?
    public var message: String
    /// The ROI name or segment label the problem concerns, when it concerns one: the lesion, for callers
    /// that add patient and lesion to the message.
    public var region: String?
    /// `region` as messages show it (control and format characters replaced).
    public var shownRegion: String? { region.map(Redacted.label) }

    public init(file: URL?, message: String, region: String? = nil) {
        self.file = file
        self.message = message
        self.region = region
    }

    public var description: String { file.map { "\($0.path): \(message)" } ?? message }
}

/// Header values that may be shown in messages.
enum Redacted {
    /// A coded value (CS) quoted when it is one of `known` (terms the standard defines, which cannot carry
    /// an identifier), otherwise "an unrecognised value": a CS element can hold any short text.
    static func code(_ value: String?, known: Set<String>) -> String {
        guard let value, !value.isEmpty else { return "empty" }
        return known.contains(value.uppercased()) ? "'\(value.uppercased())'" : "an unrecognised value"
    }

    /// An ROI name or segment label as shown in messages (lesion names may be shown, see `DICOMError`):
    /// control and format characters (line breaks, bidirectional overrides) become "?", so a name cannot
    /// forge or hide message text, and at most 64 characters are kept.
    static func label(_ name: String) -> String {
        let cleaned = String(String.UnicodeScalarView(name.unicodeScalars.map { scalar -> Unicode.Scalar in
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator: return "?"
            default: return scalar
            }
        }))
        return cleaned.count > 64 ? String(cleaned.prefix(63)) + "…" : cleaned
    }

    /// Modality defined terms (PS3.3 C.7.3.1.1.1), the ones LesionMap may meet.
    static let modalities: Set<String> = [
        "CT", "PT", "MR", "NM", "US", "CR", "DX", "MG", "XA", "RF", "OT", "SC", "SEG", "RTSTRUCT", "RTDOSE", "RTPLAN",
        "RTIMAGE", "RTRECORD", "REG", "SR", "KO", "PR", "DOC", "RWV", "PLAN", "FID",
    ]
}

import CHDF5
import Foundation

/// The value of an attribute: a scalar or a one-dimensional array of text,
/// 64-bit floats or 64-bit integers.
///
/// Text is stored as variable-length UTF-8, which h5py reads back as `str`.
public enum HDF5AttributeValue: Equatable, Sendable {
    case text(String)
    case double(Double)
    case int64(Int64)
    case texts([String])
    case doubles([Double])
    case int64s([Int64])

    /// The text of a `.text` value, otherwise nil.
    public var text: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    /// The number of a `.double` or `.int64` value, otherwise nil.
    public var double: Double? {
        switch self {
        case .double(let value): return value
        case .int64(let value): return Double(value)
        default: return nil
        }
    }

    /// The integer of an `.int64` value, otherwise nil.
    public var int64: Int64? {
        if case .int64(let value) = self { return value }
        return nil
    }

    /// The texts of a `.texts` value (or a `.text` as one element), otherwise nil.
    public var texts: [String]? {
        switch self {
        case .texts(let values): return values
        case .text(let value): return [value]
        default: return nil
        }
    }

    var payload: HDF5Payload {
        switch self {
        case .text(let v): return .strings([v])
        case .double(let v): return .doubles([v])
        case .int64(let v): return .int64s([v])
        case .texts(let v): return .strings(v)
        case .doubles(let v): return .doubles(v)
        case .int64s(let v): return .int64s(v)
        }
    }

    var isScalar: Bool {
        switch self {
        case .text, .double, .int64: return true
        case .texts, .doubles, .int64s: return false
        }
    }
}

/// What the elements of a dataset or attribute are.
public enum HDF5ElementKind: Equatable, Sendable {
    case float
    case integer
    case string
    /// Compound, enum, reference and other classes, which this module does not read.
    case other
}

/// Typed values on their way into HDF5.
enum HDF5Payload {
    case doubles([Double])
    case int64s([Int64])
    case strings([String])

    var count: Int {
        switch self {
        case .doubles(let v): return v.count
        case .int64s(let v): return v.count
        case .strings(let v): return v.count
        }
    }

    /// Calls `body` with the file type, the memory type and a pointer to the
    /// values laid out as the memory type expects.
    func withBuffer<T>(_ site: HDF5Site, _ body: (hid_t, hid_t, UnsafeRawPointer?) throws -> T) throws -> T {
        switch self {
        case .doubles(let values):
            return try values.withUnsafeBytes {
                try body(chdf5_t_ieee_f64le(), chdf5_t_native_double(), $0.baseAddress)
            }
        case .int64s(let values):
            return try values.withUnsafeBytes {
                try body(chdf5_t_std_i64le(), chdf5_t_native_int64(), $0.baseAddress)
            }
        case .strings(let values):
            let type = try site.check(chdf5_vlen_utf8_string_type(), "create string type")
            defer { lm_H5Tclose(type) }
            let pointers = values.map { strdup($0) }
            defer { pointers.forEach { free($0) } }
            if pointers.contains(where: { $0 == nil }) { throw site.error("copy strings", "out of memory") }
            return try pointers.withUnsafeBytes { try body(type, type, $0.baseAddress) }
        }
    }
}

/// A dataspace for `shape` (empty shape: scalar); the caller closes it.
func createDataspace(_ shape: [Int], _ site: HDF5Site) throws -> hid_t {
    if shape.isEmpty { return try site.check(lm_H5Screate(H5S_SCALAR), "create dataspace") }
    let dims = shape.map { hsize_t($0) }
    return try site.check(lm_H5Screate_simple(Int32(dims.count), dims, nil), "create dataspace")
}

/// Shape and element count of a dataspace.
func dataspaceShape(_ space: hid_t, _ site: HDF5Site) throws -> (shape: [Int], count: Int) {
    let rank = lm_H5Sget_simple_extent_ndims(space)
    if rank < 0 { throw site.libraryError("read dataspace") }
    var dims = [hsize_t](repeating: 0, count: Int(rank))
    if rank > 0 && lm_H5Sget_simple_extent_dims(space, &dims, nil) < 0 {
        throw site.libraryError("read dataspace")
    }
    let points = lm_H5Sget_simple_extent_npoints(space)
    if points < 0 { throw site.libraryError("read dataspace") }
    return (dims.map { Int($0) }, Int(points))
}

/// The element kind of an HDF5 datatype.
func classifyElements(of type: hid_t, _ site: HDF5Site) throws -> HDF5ElementKind {
    let typeClass = lm_H5Tget_class(type)
    switch typeClass {
    case H5T_FLOAT: return .float
    case H5T_INTEGER: return .integer
    case H5T_STRING: return .string
    case H5T_NO_CLASS: throw site.libraryError("read datatype")
    default: return .other
    }
}

/// Reads `count` elements stored with `fileType`, using `read(memType, buffer)`
/// for the actual transfer (H5Dread or H5Aread).
struct HDF5ElementReader {
    var site: HDF5Site
    var fileType: hid_t
    var space: hid_t
    var count: Int
    var read: (hid_t, UnsafeMutableRawPointer) -> herr_t

    func doubles() throws -> [Double] {
        try numbers(0.0, memType: chdf5_t_native_double(), kinds: [.float, .integer], "numbers")
    }

    /// Integers only: reading floats as integers would silently truncate them.
    func int64s() throws -> [Int64] {
        try numbers(Int64(0), memType: chdf5_t_native_int64(), kinds: [.integer], "integers")
    }

    private func numbers<T>(_ zero: T, memType: hid_t, kinds: [HDF5ElementKind], _ what: String) throws -> [T] {
        let kind = try classifyElements(of: fileType, site)
        guard kinds.contains(kind) else { throw site.error("read \(what)", "it holds \(kind) values, not \(what)") }
        var values = [T](repeating: zero, count: count)
        if count > 0 {
            let status = values.withUnsafeMutableBytes { read(memType, $0.baseAddress!) }
            try site.check(status, "read \(what)")
        }
        return values
    }

    func strings() throws -> [String] {
        let kind = try classifyElements(of: fileType, site)
        guard kind == .string else {
            throw site.error("read strings", "it holds \(kind) values, not strings")
        }
        if count == 0 { return [] }
        if try site.checkBool(lm_H5Tis_variable_str(fileType), "read string type") {
            return try variableLengthStrings()
        }
        return try fixedLengthStrings()
    }

    private func variableLengthStrings() throws -> [String] {
        let memType = try site.check(chdf5_vlen_utf8_string_type(), "create string type")
        defer { lm_H5Tclose(memType) }
        var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
        let status = pointers.withUnsafeMutableBytes { read(memType, $0.baseAddress!) }
        try site.check(status, "read strings")
        let strings = pointers.map { $0.map { String(cString: $0) } ?? "" }
        _ = pointers.withUnsafeMutableBytes { chdf5_reclaim_vlen(memType, space, $0.baseAddress!) }
        return strings
    }

    private func fixedLengthStrings() throws -> [String] {
        let memType = try site.check(lm_H5Tcopy(fileType), "copy string type")
        defer { lm_H5Tclose(memType) }
        let size = lm_H5Tget_size(memType)
        guard size > 0 else { throw site.libraryError("read strings") }
        let spacePadded = lm_H5Tget_strpad(memType) == H5T_STR_SPACEPAD
        var bytes = [UInt8](repeating: 0, count: count * size)
        let status = bytes.withUnsafeMutableBytes { read(memType, $0.baseAddress!) }
        try site.check(status, "read strings")
        return (0..<count).map { index in
            var element = bytes[(index * size)..<((index + 1) * size)].prefix { $0 != 0 }
            if spacePadded { while element.last == 0x20 { element = element.dropLast() } }
            return String(decoding: element, as: UTF8.self)
        }
    }
}

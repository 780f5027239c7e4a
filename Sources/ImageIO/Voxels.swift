import Foundation
import ImagingCore
import ZlibSupport

/// The on-disk type of one voxel value.
enum ScalarType: String, Sendable, CaseIterable {
    case uint8, int8, uint16, int16, uint32, int32, uint64, int64, float32, float64

    var byteCount: Int {
        switch self {
        case .uint8, .int8: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64: return 8
        }
    }
}

/// A fixed-size value that can be read from unaligned bytes of either endianness.
protocol RawScalar {
    static func load(from pointer: UnsafeRawPointer, swapped: Bool) -> Self
    var doubleValue: Double { get }
}

extension RawScalar where Self: FixedWidthInteger {
    @inline(__always)
    static func load(from pointer: UnsafeRawPointer, swapped: Bool) -> Self {
        let value = pointer.loadUnaligned(as: Self.self)
        return swapped ? value.byteSwapped : value
    }
}

extension UInt8: RawScalar { var doubleValue: Double { Double(self) } }
extension Int8: RawScalar { var doubleValue: Double { Double(self) } }
extension UInt16: RawScalar { var doubleValue: Double { Double(self) } }
extension Int16: RawScalar { var doubleValue: Double { Double(self) } }
extension UInt32: RawScalar { var doubleValue: Double { Double(self) } }
extension Int32: RawScalar { var doubleValue: Double { Double(self) } }
extension UInt64: RawScalar { var doubleValue: Double { Double(self) } }
extension Int64: RawScalar { var doubleValue: Double { Double(self) } }

extension Float: RawScalar {
    @inline(__always)
    static func load(from pointer: UnsafeRawPointer, swapped: Bool) -> Float {
        Float(bitPattern: UInt32.load(from: pointer, swapped: swapped))
    }
    var doubleValue: Double { Double(self) }
}

extension Double: RawScalar {
    @inline(__always)
    static func load(from pointer: UnsafeRawPointer, swapped: Bool) -> Double {
        Double(bitPattern: UInt64.load(from: pointer, swapped: swapped))
    }
    var doubleValue: Double { self }
}

#if _endian(big)
let hostIsBigEndian = true
#else
let hostIsBigEndian = false
#endif

/// Voxel values still in their file encoding: `count` values of `type` starting at byte `offset` of `bytes`.
struct RawVoxels {
    let bytes: Data
    let offset: Int
    let count: Int
    let type: ScalarType
    let bigEndian: Bool

    /// Byte count the values need.
    var byteCount: Int { count * type.byteCount }

    /// The values as `Float`, after the linear rescaling `value * slope + intercept`
    /// (computed in double precision; skipped when it is the identity).
    func floats(slope: Double = 1, intercept: Double = 0) -> [Float] {
        if slope == 1 && intercept == 0 {
            switch type {
            case .uint8: return map(UInt8.self) { Float($0) }
            case .int8: return map(Int8.self) { Float($0) }
            case .uint16: return map(UInt16.self) { Float($0) }
            case .int16: return map(Int16.self) { Float($0) }
            case .uint32: return map(UInt32.self) { Float($0) }
            case .int32: return map(Int32.self) { Float($0) }
            case .uint64: return map(UInt64.self) { Float($0) }
            case .int64: return map(Int64.self) { Float($0) }
            case .float32: return map(Float.self) { $0 }
            case .float64: return map(Double.self) { Float($0) }
            }
        }
        return doubles { Float($0 * slope + intercept) }
    }

    /// The values as integer labels after rescaling; throws (naming `file`) at the first value
    /// that is not a whole number within the `Int32` range.
    func integers(slope: Double = 1, intercept: Double = 0, file: URL) throws -> [Int32] {
        // Integer types that always fit, unscaled: decoded straight into Int32, nothing to check.
        if slope == 1 && intercept == 0 {
            switch type {
            case .uint8: return map(UInt8.self) { Int32($0) }
            case .int8: return map(Int8.self) { Int32($0) }
            case .uint16: return map(UInt16.self) { Int32($0) }
            case .int16: return map(Int16.self) { Int32($0) }
            case .int32: return map(Int32.self) { $0 }
            default: break
            }
        }
        var index = -1
        var firstBad: (index: Int, value: Double)?
        let labels: [Int32] = doubles { raw in
            index += 1
            let value = raw * slope + intercept
            if value.rounded() == value && value >= Double(Int32.min) && value <= Double(Int32.max) {
                return Int32(value)
            }
            if firstBad == nil { firstBad = (index, value) }
            return 0
        }
        if let bad = firstBad {
            throw ImageIOError(file: file, reason: "is not a label map: voxel \(bad.index) has value \(bad.value), "
                               + "which is not a whole number in the 32-bit integer range")
        }
        return labels
    }

    /// Every value converted to `Double` and transformed.
    private func doubles<R>(_ transform: (Double) -> R) -> [R] {
        switch type {
        case .uint8: return map(UInt8.self) { transform($0.doubleValue) }
        case .int8: return map(Int8.self) { transform($0.doubleValue) }
        case .uint16: return map(UInt16.self) { transform($0.doubleValue) }
        case .int16: return map(Int16.self) { transform($0.doubleValue) }
        case .uint32: return map(UInt32.self) { transform($0.doubleValue) }
        case .int32: return map(Int32.self) { transform($0.doubleValue) }
        case .uint64: return map(UInt64.self) { transform($0.doubleValue) }
        case .int64: return map(Int64.self) { transform($0.doubleValue) }
        case .float32: return map(Float.self) { transform($0.doubleValue) }
        case .float64: return map(Double.self) { transform($0) }
        }
    }

    @inline(__always)
    private func map<T: RawScalar, R>(_: T.Type, _ transform: (T) -> R) -> [R] {
        let stride = MemoryLayout<T>.size
        let swapped = bigEndian != hostIsBigEndian
        let n = count
        return bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + offset
            return [R](unsafeUninitializedCapacity: n) { out, initialized in
                // Two loops so the byte-order test stays out of the per-voxel work.
                if swapped {
                    for i in 0..<n { out[i] = transform(T.load(from: base + i * stride, swapped: true)) }
                } else {
                    for i in 0..<n { out[i] = transform(T.load(from: base + i * stride, swapped: false)) }
                }
                initialized = n
            }
        }
    }
}

/// Little-endian bytes of voxel values, appended to `data` in one bulk copy on little-endian hosts.
func appendLittleEndian<T: FixedWidthInteger>(_ values: [T], to data: inout Data) {
    #if _endian(big)
    for v in values { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    #else
    values.withUnsafeBytes { data.append(contentsOf: $0) }
    #endif
}

func appendLittleEndian(_ values: [Float], to data: inout Data) {
    #if _endian(big)
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
    #else
    values.withUnsafeBytes { data.append(contentsOf: $0) }
    #endif
}


/// The bytes of a file as stored (memory-mapped when possible). Only regular files are read: a FIFO
/// would block the reader forever and a device such as /dev/zero would be read until memory runs out.
func readFileBytes(_ url: URL) throws -> Data {
    if let kind = nonRegularFileKind(url) {
        throw ImageIOError(file: url, reason: "is \(kind), not an image file")
    }
    do {
        return try Data(contentsOf: url, options: .mappedIfSafe)
    } catch {
        throw ImageIOError(file: url, reason: "cannot be read (\(error.localizedDescription))")
    }
}

/// What `url` is when it exists but is not a regular file (following symbolic links), in words;
/// nil for a regular file or a path that does not exist (the read then reports it).
func nonRegularFileKind(_ url: URL) -> String? {
    var info = stat()
    guard stat(url.path, &info) == 0 else { return nil }
    switch info.st_mode & S_IFMT {
    case S_IFREG: return nil
    case S_IFDIR: return "a folder"
    case S_IFIFO: return "a FIFO (named pipe)"
    case S_IFCHR, S_IFBLK: return "a device"
    case S_IFSOCK: return "a socket"
    default: return "not a regular file"
    }
}

/// Bytes a compressed file may hold beyond what its header describes before it is refused as not
/// matching its header (a decompression bomb costs at most this much more memory than a true image).
let gzipSlack = 1 << 20

/// Gunzips `data`, naming `file` when the compression is damaged. `describedBytes` is what the header says
/// the uncompressed data holds: a header describing more than the compressed bytes can expand to is refused
/// before anything is allocated, and decompression stops once the output exceeds it (plus `gzipSlack`).
func gunzip(_ data: Data, file: URL, describedBytes: Int? = nil, what: String = "the header describes") throws -> Data {
    var limit: Int?
    if let described = describedBytes {
        let ceiling = Gzip.maximumDecompressedSize(ofCompressed: data.count)
        guard described <= ceiling else {
            throw ImageIOError(file: file, reason: "\(what) \(described) bytes of uncompressed data, more than its "
                               + "\(data.count) bytes of gzip data can hold (at most \(ceiling)): the header is wrong")
        }
        limit = described.addingReportingOverflow(gzipSlack).overflow ? nil : described + gzipSlack
    }
    do {
        return try Gzip.decompress(data, limit: limit)
    } catch let error as ZlibError where limit != nil && error.message.contains("decompresses to more than") {
        throw ImageIOError(file: file, reason: "\(what) \(describedBytes!) bytes of uncompressed data, but the gzip "
                           + "data holds more than \(limit!) (a wrong header or a decompression bomb); refused")
    } catch {
        throw ImageIOError(file: file, reason: "corrupt or truncated gzip compression: \(error)")
    }
}

/// The first `count` uncompressed bytes of gzip `data` (a header), naming `file` when the compression is damaged.
func gunzipPrefix(_ data: Data, count: Int, file: URL) throws -> Data {
    do {
        return try Gzip.decompressPrefix(data, count: count)
    } catch {
        throw ImageIOError(file: file, reason: "corrupt or truncated gzip compression: \(error)")
    }
}

/// Writes `data` to `url` atomically, gzip-compressed when `compressed`.
func writeFileBytes(_ data: Data, to url: URL, compressed: Bool) throws {
    do {
        try (compressed ? Gzip.compress(data) : data).write(to: url, options: .atomic)
    } catch {
        throw ImageIOError(file: url, reason: "cannot be written (\(error.localizedDescription))")
    }
}

import Foundation
import ImagingCore

/// Which of a NIfTI file's two transforms gave the voxel-to-world geometry.
public enum NIfTITransformSource: String, Sendable {
    /// The general affine (`srow_x/y/z`, `sform_code`).
    case sform
    /// The quaternion, offset and `pixdim` (`qform_code`).
    case qform
    /// Neither code is set: origin 0, identity directions, `pixdim` spacing.
    case none
}

/// The fields of a NIfTI-1 header that matter for reading an image, with the geometry derived from them.
///
/// `grid` is in LPS millimetres and equals what ITK/SimpleITK report for the same file
/// (`GetOrigin`, `GetSpacing`, `GetDirection`): ITK's rule for choosing between the sform and
/// the qform is followed, and NIfTI's RAS x and y are negated.
public struct NIfTIHeader: Sendable, Equatable {
    /// Whether the file was written big-endian (detected from `sizeof_hdr`).
    public let isBigEndian: Bool
    /// `dim[0]` (number of dimensions) followed by the size of each dimension.
    public let dim: [Int]
    public let intentCode: Int
    /// NIfTI datatype code (2 uint8, 4 int16, 8 int32, 16 float32, 64 float64, 256 int8, 512 uint16,
    /// 768 uint32, 1024 int64, 1280 uint64).
    public let datatype: Int
    public let bitpix: Int
    /// `pixdim[0]` (qfac) followed by the voxel size along each dimension, in `xyzt_units`.
    public let pixdim: [Float]
    /// Byte offset of the voxel data.
    public let voxOffset: Float
    public let sclSlope: Float
    public let sclInter: Float
    public let xyztUnits: UInt8
    public let descrip: String
    public let qformCode: Int
    public let sformCode: Int
    /// Quaternion parameters b, c, d of the qform.
    public let quatern: [Float]
    /// qform translation x, y, z (RAS, file units).
    public let qoffset: [Float]
    /// The three rows of the sform affine (RAS, file units).
    public let srow: [[Float]]
    /// "n+1" for single-file NIfTI-1.
    public let magic: String

    /// Voxel grid in LPS millimetres, as ITK derives it from this header.
    public let grid: ImageGrid
    /// Which transform `grid` came from.
    public let transformSource: NIfTITransformSource

    /// The on-disk voxel type name (`int16`, `float32`, ...).
    public var datatypeName: String { Self.typeName(datatype) }

    /// The factor and offset applied to stored values, or nil when values are used as stored.
    /// As in nifti_clib and ITK, a zero or non-finite slope means "no scaling".
    public var rescale: (slope: Double, intercept: Double)? {
        guard sclSlope.isFinite, sclSlope != 0 else { return nil }
        let inter = sclInter.isFinite ? Double(sclInter) : 0
        if sclSlope == 1 && inter == 0 { return nil }
        return (Double(sclSlope), inter)
    }

    var scalarType: ScalarType { Self.scalarTypes[datatype]! }
    /// Byte offset of the voxel data within the (uncompressed) file.
    var dataOffset: Int { Int(voxOffset) }

    static let headerSize = 348
    static let singleFileDataOffset = 352

    static let scalarTypes: [Int: ScalarType] = [
        2: .uint8, 4: .int16, 8: .int32, 16: .float32, 64: .float64, 256: .int8, 512: .uint16,
        768: .uint32, 1024: .int64, 1280: .uint64,
    ]
    private static let otherTypeNames: [Int: String] = [
        1: "binary (1 bit)", 32: "complex64", 128: "rgb24", 1536: "float128", 1792: "complex128",
        2048: "complex256", 2304: "rgba32",
    ]

    static func typeName(_ code: Int) -> String {
        scalarTypes[code]?.rawValue ?? otherTypeNames[code] ?? "unknown datatype code \(code)"
    }

    static func code(of type: ScalarType) -> Int {
        scalarTypes.first { $0.value == type }!.key
    }
}

extension NIfTIHeader {
    /// Parses and validates the header at the start of the uncompressed file bytes `bytes` of `file`.
    init(bytes: Data, file: URL) throws {
        func fail(_ reason: String) -> ImageIOError { ImageIOError(file: file, reason: reason) }
        guard bytes.count >= Self.headerSize else {
            throw fail("is truncated: \(bytes.count) bytes, but a NIfTI-1 header alone needs \(Self.headerSize)")
        }
        let little = HeaderBytes(data: bytes, bigEndian: false)
        let big = HeaderBytes(data: bytes, bigEndian: true)
        let reader: HeaderBytes
        if little.int32(0) == Self.headerSize {
            reader = little
        } else if big.int32(0) == Self.headerSize {
            reader = big
        } else if little.int32(0) == 540 || big.int32(0) == 540 {
            throw fail("is a NIfTI-2 file (sizeof_hdr = 540); only NIfTI-1 is supported")
        } else {
            throw fail("is not a NIfTI-1 file: sizeof_hdr is \(little.int32(0)), expected 348")
        }
        let magic = reader.string(344, 4)
        switch magic {
        case "n+1": break
        case "ni1":
            throw fail("is the header of a two-file NIfTI pair (magic \"ni1\"); only single-file .nii/.nii.gz is supported")
        default:
            throw fail("has wrong magic \(String(reflecting: magic)) (expected \"n+1\"); "
                       + "it is not a single-file NIfTI-1 image (Analyze 7.5 files are not supported)")
        }

        let dim = (0..<8).map { reader.int16(40 + 2 * $0) }
        let pixdim = (0..<8).map { reader.float32(76 + 4 * $0) }
        let datatype = reader.int16(70)
        let voxOffset = reader.float32(108)
        let qformCode = reader.int16(252), sformCode = reader.int16(254)
        let quatern = (0..<3).map { reader.float32(256 + 4 * $0) }
        let qoffset = (0..<3).map { reader.float32(268 + 4 * $0) }
        let srow = (0..<3).map { r in (0..<4).map { reader.float32(280 + 16 * r + 4 * $0) } }
        let xyztUnits = reader.uint8(123)

        guard (1...7).contains(dim[0]) else {
            throw fail("has invalid dim[0] = \(dim[0]) (must be 1 to 7)")
        }
        guard dim[0] >= 3 else {
            throw fail("is a \(dim[0])D image (dim[0] = \(dim[0])); only 3D volumes are supported")
        }
        for axis in 1...3 where dim[axis] < 1 {
            throw fail("has invalid size dim[\(axis)] = \(dim[axis])")
        }
        if dim[0] > 3 {
            for axis in 4...dim[0] where dim[axis] > 1 || dim[axis] < 0 {
                let sizes = (1...dim[0]).map { String(dim[$0]) }.joined(separator: "x")
                throw fail("is a \(dim[0])D image (\(sizes)) with \(dim[axis]) entries along dimension \(axis); "
                           + "only single 3D volumes are supported")
            }
        }
        guard Self.scalarTypes[datatype] != nil else {
            throw fail("has unsupported voxel type \(Self.typeName(datatype)); supported: "
                       + "uint8, int8, int16, uint16, int32, uint32, int64, uint64, float32, float64")
        }
        for axis in 1...3 where !(pixdim[axis].isFinite && pixdim[axis] > 0) {
            throw fail("has invalid voxel spacing pixdim[\(axis)] = \(pixdim[axis]) (must be positive and finite)")
        }
        guard voxOffset.isFinite, voxOffset >= Float(Self.headerSize), voxOffset.rounded() == voxOffset,
              voxOffset <= Float(bytes.count) else {
            throw fail("has invalid vox_offset \(voxOffset) (must be a whole number from 348 to the file size "
                       + "\(bytes.count))")
        }

        let size = Size3(dim[1], dim[2], dim[3])
        let type = Self.scalarTypes[datatype]!
        let needed = Int(voxOffset) + size.count * type.byteCount
        guard bytes.count >= needed else {
            throw fail("data size mismatch: the header describes \(size) \(type.rawValue) voxels at byte "
                       + "\(Int(voxOffset)), which needs \(needed) bytes, but the file has \(bytes.count) "
                       + "(truncated?)")
        }

        let geometry = try NIfTIGeometry.itkGrid(
            size: size, pixdim: Array(pixdim[1...3]), qfac: pixdim[0] < 0 ? -1 : 1,
            qformCode: qformCode, sformCode: sformCode, quatern: quatern, qoffset: qoffset, srow: srow,
            spaceUnits: xyztUnits & 0x07, file: file)

        self.init(isBigEndian: reader.bigEndian, dim: dim, intentCode: reader.int16(68), datatype: datatype,
                  bitpix: reader.int16(72), pixdim: pixdim, voxOffset: voxOffset,
                  sclSlope: reader.float32(112), sclInter: reader.float32(116), xyztUnits: xyztUnits,
                  descrip: reader.string(148, 80), qformCode: qformCode, sformCode: sformCode,
                  quatern: quatern, qoffset: qoffset, srow: srow, magic: magic,
                  grid: geometry.grid, transformSource: geometry.source)
    }

    /// The size of the uncompressed file the header at the start of `head` describes: `vox_offset` plus
    /// the voxels of dim[1...3] (and higher dimensions) of its datatype; nil when those fields are unusable
    /// (the full header check then says why).
    static func describedFileSize(_ head: Data) -> Int? {
        guard head.count >= headerSize else { return nil }
        let little = HeaderBytes(data: head, bigEndian: false), big = HeaderBytes(data: head, bigEndian: true)
        let reader: HeaderBytes
        if little.int32(0) == headerSize { reader = little } else if big.int32(0) == headerSize { reader = big } else {
            return nil
        }
        let rank = reader.int16(40)
        guard (1...7).contains(rank), let type = scalarTypes[reader.int16(70)] else { return nil }
        let voxOffset = reader.float32(108)
        guard voxOffset.isFinite, voxOffset >= 0, voxOffset < 1e15 else { return nil }
        var total = type.byteCount
        for axis in 1...rank {
            let n = reader.int16(40 + 2 * axis)
            guard n >= 1 || axis > 3 else { return nil }
            let (product, overflow) = total.multipliedReportingOverflow(by: max(1, n))
            if overflow { return .max }
            total = product
        }
        let (size, overflow) = Int(voxOffset).addingReportingOverflow(total)
        return overflow ? .max : size
    }

    /// A little-endian single-file NIfTI-1 header (plus the empty extension flag) for `grid`
    /// with voxels of `type`. Both the qform and the sform are set (code 1, scanner anatomical)
    /// and describe the same geometry, so ITK, nibabel and FSL all read it identically.
    static func encode(grid: ImageGrid, type: ScalarType, description: String) -> Data {
        let t = NIfTIGeometry.rasTransform(of: grid)
        var out = HeaderWriter(count: singleFileDataOffset)
        out.int32(0, Int32(headerSize))
        let dims = [3, grid.size.nx, grid.size.ny, grid.size.nz, 1, 1, 1, 1]
        for (i, d) in dims.enumerated() { out.int16(40 + 2 * i, Int16(d)) }
        out.int16(70, Int16(code(of: type)))
        out.int16(72, Int16(type.byteCount * 8))
        let pixdim = [t.qfac, grid.spacing.x, grid.spacing.y, grid.spacing.z, 1, 1, 1, 1]
        for (i, p) in pixdim.enumerated() { out.float32(76 + 4 * i, Float(p)) }
        out.float32(108, Float(singleFileDataOffset))
        out.float32(112, 1)  // scl_slope
        out.float32(116, 0)  // scl_inter
        out.uint8(123, 2 | 8)  // millimetres, seconds
        out.string(148, description, maxLength: 79)
        out.int16(252, 1)
        out.int16(254, 1)
        for i in 0..<3 {
            out.float32(256 + 4 * i, Float(t.quaternion[i]))
            out.float32(268 + 4 * i, Float(t.offset[i]))
            for c in 0..<3 { out.float32(280 + 16 * i + 4 * c, Float(t.matrix[i, c])) }
            out.float32(280 + 16 * i + 12, Float(t.offset[i]))
        }
        out.string(344, "n+1", maxLength: 3)
        return out.data
    }
}

/// Endian-aware reads of header fields.
private struct HeaderBytes {
    let data: Data
    let bigEndian: Bool

    private func load<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
        let v = data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
        return bigEndian ? T(bigEndian: v) : T(littleEndian: v)
    }

    func uint8(_ offset: Int) -> UInt8 { load(offset, UInt8.self) }
    func int16(_ offset: Int) -> Int { Int(load(offset, Int16.self)) }
    func int32(_ offset: Int) -> Int { Int(load(offset, Int32.self)) }
    func float32(_ offset: Int) -> Float { Float(bitPattern: load(offset, UInt32.self)) }

    /// A NUL-terminated ASCII field of at most `length` bytes.
    func string(_ offset: Int, _ length: Int) -> String {
        let bytes = data[data.startIndex + offset ..< data.startIndex + offset + length].prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Little-endian writes of header fields into a zero-filled buffer.
private struct HeaderWriter {
    var data: Data

    init(count: Int) { data = Data(count: count) }

    private mutating func store<T: FixedWidthInteger>(_ offset: Int, _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes in
            data.replaceSubrange(offset ..< offset + bytes.count, with: bytes)
        }
    }

    mutating func uint8(_ offset: Int, _ v: UInt8) { store(offset, v) }
    mutating func int16(_ offset: Int, _ v: Int16) { store(offset, v) }
    mutating func int32(_ offset: Int, _ v: Int32) { store(offset, v) }
    mutating func float32(_ offset: Int, _ v: Float) { store(offset, v.bitPattern) }

    mutating func string(_ offset: Int, _ s: String, maxLength: Int) {
        let bytes = Array(s.utf8.prefix(maxLength))
        data.replaceSubrange(offset ..< offset + bytes.count, with: bytes)
    }
}

import Foundation

/// Builds single-file NIfTI-1 bytes field by field, so tests can reproduce exactly the headers
/// whose geometry was measured with SimpleITK (the same fields written by a Python script).
struct NIfTIFixture {
    var dims: [Int16] = [3, 6, 5, 4, 1, 1, 1, 1]
    var datatype: Int16 = 16
    var bitpix: Int16 = 32
    var pixdim: [Float] = [1, 1, 1, 1, 0, 0, 0, 0]
    var qformCode: Int16 = 0
    var sformCode: Int16 = 0
    var quatern: [Float] = [0, 0, 0]
    var qoffset: [Float] = [0, 0, 0]
    var srow: [[Float]] = [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    var sclSlope: Float = 1
    var sclInter: Float = 0
    var xyztUnits: UInt8 = 2
    var bigEndian = false
    var sizeofHdr: Int32 = 348
    var voxOffset: Float = 352
    var magic = "n+1"
    /// Voxel bytes, already in the file's byte order.
    var voxels = Data()

    /// The A case of the reference script: an oblique quaternion with offset.
    static let obliqueQuaternion: (quatern: [Float], qoffset: [Float]) = ([0.1, -0.2, 0.3], [10.5, -20.25, 30.0])
    /// The B case: a 30 degree in-plane rotation scaled by 0.7 x 0.7 x 1.5 mm.
    static let rotatedSform: [[Float]] = [[0.6062178, -0.35, 0, -50.0], [0.35, 0.6062178, 0, 60.0],
                                          [0, 0, 1.5, -70.0]]
    static let shearedSform: [[Float]] = [[1, 0.2, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]

    /// 120 float32 values -7.25, -6.75, ... (little-endian), as the reference script writes.
    static var rampFloat32: Data {
        var d = Data()
        for i in 0..<120 { withUnsafeBytes(of: (Float(i) * 0.5 - 7.25).bitPattern.littleEndian) { d.append(contentsOf: $0) } }
        return d
    }

    /// 120 int16 values -100, -97, ... big-endian.
    static var rampInt16BigEndian: Data {
        var d = Data()
        for i in 0..<120 { withUnsafeBytes(of: Int16(i * 3 - 100).bigEndian) { d.append(contentsOf: $0) } }
        return d
    }

    var data: Data {
        var h = Data(count: 352)
        func put<T: FixedWidthInteger>(_ offset: Int, _ v: T) {
            withUnsafeBytes(of: bigEndian ? v.bigEndian : v.littleEndian) { h.replaceSubrange(offset..<offset + $0.count, with: $0) }
        }
        func putFloat(_ offset: Int, _ v: Float) { put(offset, v.bitPattern) }
        put(0, sizeofHdr)
        for (i, d) in dims.enumerated() { put(40 + 2 * i, d) }
        put(70, datatype)
        put(72, bitpix)
        for (i, p) in pixdim.enumerated() { putFloat(76 + 4 * i, p) }
        putFloat(108, voxOffset)
        putFloat(112, sclSlope)
        putFloat(116, sclInter)
        h[123] = xyztUnits
        put(252, qformCode)
        put(254, sformCode)
        for i in 0..<3 {
            putFloat(256 + 4 * i, quatern[i])
            putFloat(268 + 4 * i, qoffset[i])
            for c in 0..<4 { putFloat(280 + 16 * i + 4 * c, srow[i][c]) }
        }
        let m = Array(magic.utf8.prefix(4))
        h.replaceSubrange(344..<344 + m.count, with: m)
        return h + voxels
    }

    func write(to url: URL) throws { try data.write(to: url) }
}

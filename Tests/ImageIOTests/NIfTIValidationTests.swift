import Foundation
import ImageIO
import ImagingCore
import TestSupport
import XCTest
import ZlibSupport

/// Damaged or unsupported NIfTI files give an `ImageIOError` that names the file and the problem.
final class NIfTIValidationTests: XCTestCase {
    private var validFixture: NIfTIFixture {
        var f = NIfTIFixture()
        f.qformCode = 1
        f.voxels = NIfTIFixture.rampFloat32
        return f
    }

    private func assertRefused(_ bytes: Data, name: String = "bad.nii", containing words: [String],
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let url = try SharedData.temporaryDirectory(for: self).appendingPathComponent(name)
        try bytes.write(to: url)
        for read in [{ _ = try NIfTI.readImage(url) }, { _ = try NIfTI.readLabelMap(url) },
                     { _ = try NIfTI.readHeader(url) }, { _ = try ImageFile.readImage(url) }] {
            XCTAssertThrowsError(try read(), file: file, line: line) { error in
                guard let e = error as? ImageIOError else {
                    return XCTFail("not an ImageIOError: \(error)", file: file, line: line)
                }
                XCTAssertEqual(e.file, url, file: file, line: line)
                XCTAssertTrue(e.description.hasPrefix(url.path), e.description, file: file, line: line)
                for word in words {
                    XCTAssertTrue(e.reason.contains(word), "\"\(word)\" missing in: \(e.reason)", file: file, line: line)
                }
            }
        }
    }

    func testTruncatedHeader() throws {
        try assertRefused(validFixture.data.prefix(200), containing: ["truncated", "200 bytes"])
        try assertRefused(Data(), containing: ["truncated", "0 bytes"])
    }

    func testTruncatedVoxelData() throws {
        try assertRefused(validFixture.data.dropLast(5), containing: ["data size mismatch", "6x5x4 float32"])
    }

    func testWrongSizeofHeader() throws {
        var f = validFixture
        f.sizeofHdr = 350
        try assertRefused(f.data, containing: ["sizeof_hdr", "350"])
        f.sizeofHdr = 540
        try assertRefused(f.data, containing: ["NIfTI-2"])
    }

    func testWrongMagic() throws {
        var f = validFixture
        f.magic = "xyz"
        try assertRefused(f.data, containing: ["magic", "xyz"])
        f.magic = "ni1"
        try assertRefused(f.data, containing: ["two-file"])
    }

    func testInvalidVoxOffset() throws {
        for bad: Float in [100, 3e38, .nan, 352.5] {
            var f = validFixture
            f.voxOffset = bad
            try assertRefused(f.data, containing: ["vox_offset"])
        }
    }

    func testInvalidSpacing() throws {
        for bad: Float in [0, -1, .nan, .infinity] {
            var f = validFixture
            f.pixdim[2] = bad
            try assertRefused(f.data, containing: ["pixdim[2]", "positive and finite"])
        }
    }

    func testUnsupportedDatatype() throws {
        var f = validFixture
        f.datatype = 32
        f.bitpix = 64
        try assertRefused(f.data, containing: ["complex64"])
    }

    func testReal4DAnd2DAreRefused() throws {
        var f = validFixture
        f.dims = [4, 6, 5, 2, 2, 1, 1, 1]
        try assertRefused(f.data, containing: ["4D", "6x5x2x2"])
        f.dims = [2, 6, 20, 1, 1, 1, 1, 1]
        try assertRefused(f.data, containing: ["2D"])
        f.dims = [3, 6, 0, 20, 1, 1, 1, 1]
        try assertRefused(f.data, containing: ["dim[2] = 0"])
    }

    func testCorruptAndTruncatedGzip() throws {
        let packed = Gzip.compress(validFixture.data)
        try assertRefused(packed.prefix(packed.count / 2), name: "cut.nii.gz", containing: ["gzip", "truncated"])
        var damaged = packed
        for i in stride(from: 12, to: damaged.count - 8, by: 5) { damaged[i] ^= 0xa5 }
        try assertRefused(damaged, name: "damaged.nii.gz", containing: ["gzip", "corrupt"])
    }

    func testMissingFile() throws {
        let url = try SharedData.temporaryDirectory(for: self).appendingPathComponent("absent.nii.gz")
        XCTAssertThrowsError(try NIfTI.readImage(url)) { error in
            XCTAssertEqual((error as? ImageIOError)?.file, url)
            XCTAssertTrue("\(error)".contains("cannot be read"), "\(error)")
        }
    }

    func testGzipDetectedByContentNotName() throws {
        let url = try SharedData.temporaryDirectory(for: self).appendingPathComponent("misnamed.nii")
        try Gzip.compress(validFixture.data).write(to: url)
        XCTAssertEqual(try NIfTI.readImage(url).voxels.first, -7.25)
    }

    func testScaleSlopeAndInterceptAreApplied() throws {
        var f = validFixture
        f.datatype = 2
        f.bitpix = 8
        f.sclSlope = 2
        f.sclInter = -10
        f.voxels = Data((0..<120).map { UInt8($0) })
        let url = try SharedData.temporaryDirectory(for: self).appendingPathComponent("scaled.nii")
        try f.write(to: url)
        let image = try NIfTI.readImage(url)
        XCTAssertEqual(image.voxels[0], -10)
        XCTAssertEqual(image.voxels[119], 228)
        XCTAssertEqual(try NIfTI.readLabelMap(url).voxels[7], 4)
        f.sclSlope = 0.5
        f.sclInter = 0
        try f.write(to: url)
        XCTAssertThrowsError(try NIfTI.readLabelMap(url)) { error in
            XCTAssertTrue("\(error)".contains("voxel 1 has value 0.5"), "\(error)")
        }
    }

    /// Every supported datatype, in both byte orders, decodes to the same values.
    func testAllDatatypesBothEndiannesses() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let values: [Double] = (0..<120).map { Double($0 % 60) }
        func bytes<T: FixedWidthInteger>(_: T.Type, big: Bool) -> Data {
            var d = Data()
            for v in values { withUnsafeBytes(of: big ? T(v).bigEndian : T(v).littleEndian) { d.append(contentsOf: $0) } }
            return d
        }
        let encoders: [(code: Int16, bits: Int16, encode: (Bool) -> Data)] = [
            (2, 8, { bytes(UInt8.self, big: $0) }), (256, 8, { bytes(Int8.self, big: $0) }),
            (4, 16, { bytes(Int16.self, big: $0) }), (512, 16, { bytes(UInt16.self, big: $0) }),
            (8, 32, { bytes(Int32.self, big: $0) }), (768, 32, { bytes(UInt32.self, big: $0) }),
            (1024, 64, { bytes(Int64.self, big: $0) }), (1280, 64, { bytes(UInt64.self, big: $0) }),
            (16, 32, { big in
                var d = Data()
                for v in values { withUnsafeBytes(of: big ? Float(v).bitPattern.bigEndian : Float(v).bitPattern.littleEndian) { d.append(contentsOf: $0) } }
                return d
            }),
            (64, 64, { big in
                var d = Data()
                for v in values { withUnsafeBytes(of: big ? v.bitPattern.bigEndian : v.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
                return d
            }),
        ]
        for (code, bits, encode) in encoders {
            for big in [false, true] {
                var f = validFixture
                f.datatype = code
                f.bitpix = bits
                f.bigEndian = big
                f.voxels = encode(big)
                let url = dir.appendingPathComponent("t\(code)\(big ? "be" : "le").nii")
                try f.write(to: url)
                XCTAssertEqual(try NIfTI.readImage(url).voxels, values.map { Float($0) }, "datatype \(code) big \(big)")
                XCTAssertEqual(try NIfTI.readLabelMap(url).voxels, values.map { Int32($0) }, "datatype \(code) big \(big)")
                XCTAssertEqual(try NIfTI.readHeader(url).isBigEndian, big)
            }
        }
    }
}

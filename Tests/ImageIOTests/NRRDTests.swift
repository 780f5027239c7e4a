import Foundation
import ImageIO
import ImagingCore
import TestSupport
import XCTest
import ZlibSupport

/// NRRD files written by the test, with geometry and values measured once with SimpleITK 2.5.7
/// reading the same header text and voxel bytes (written by a Python script).
final class NRRDTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = try SharedData.temporaryDirectory(for: self)
    }

    /// Voxel values i * 7 - 50 for i = 0..<24 (a 4x3x2 volume).
    private let ramp: [Int] = (0..<24).map { $0 * 7 - 50 }

    private func header(_ fields: [String]) -> Data {
        Data(("NRRD0004\n# made for LesionMap tests\n" + fields.map { $0 + "\n" }.joined()).utf8)
    }

    private func bytes<T: FixedWidthInteger>(_ values: [Int], as _: T.Type, bigEndian: Bool = false) -> Data {
        var d = Data()
        for v in values { withUnsafeBytes(of: bigEndian ? T(v).bigEndian : T(v).littleEndian) { d.append(contentsOf: $0) } }
        return d
    }

    private func write(_ data: Data, _ name: String) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        return url
    }

    private func assertRamp(_ image: Volume<Float>, scale: Float = 7, offset: Float = -50,
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(image.size, Size3(4, 3, 2), file: file, line: line)
        XCTAssertEqual(image.voxels, (0..<24).map { Float($0) * scale + offset }, file: file, line: line)
    }

    func testAttachedRawLPSOblique() throws {
        let url = try write(header([
            "type: short", "dimension: 3", "space: left-posterior-superior", "sizes: 4 3 2",
            "space directions: (0.8660254,0.5,0) (-0.5,0.8660254,0) (0,0,2.5)", "kinds: domain domain domain",
            "endian: little", "encoding: raw", "space origin: (-12.5,30.25,-400)",
        ]) + Data("\n".utf8) + bytes(ramp, as: Int16.self), "lps_raw.nrrd")
        let image = try NRRD.readImage(url)
        assertRamp(image)
        assertGrid(image.grid, matches: SimpleITKGeometry(
            origin: [-12.5, 30.25, -400], spacing: [0.999999997, 0.999999997, 2.5],
            direction: [0.866025403, -0.500000002, 0, 0.500000002, 0.866025403, 0, 0, 0, 1],
            points: [(Index3(3, 2, 1), [-10.9019238, 33.4820508, -397.5]),
                     (Index3(1, 2, 0), [-12.6339746, 32.4820508, -400])]), "lps_raw")
        XCTAssertEqual(image[3, 2, 1], 111)
        XCTAssertEqual(try ImageFile.readLabelMap(url)[1, 2, 0], 13)
    }

    func testAttachedGzipRASBigEndianFloat() throws {
        var floats = Data()
        for v in ramp { withUnsafeBytes(of: Float(v).bitPattern.bigEndian) { floats.append(contentsOf: $0) } }
        let url = try write(header([
            "type: float", "dimension: 3", "space: right-anterior-superior", "sizes: 4 3 2",
            "space directions: (0.7,0,0) (0,0.7,0) (0,0.35,1.2)", "endian: big", "encoding: gzip",
            "space origin: (100.5,-20,15)",
        ]) + Data("\n".utf8) + Gzip.compress(floats), "ras_gzip.nrrd")
        let image = try ImageFile.readImage(url)
        assertRamp(image)
        assertGrid(image.grid, matches: SimpleITKGeometry(
            origin: [-100.5, 20, 15], spacing: [0.7, 0.7, 1.25], direction: [-1, 0, 0, 0, -1, -0.28, 0, 0, 0.96],
            points: [(Index3(3, 2, 1), [-102.6, 18.25, 16.2]), (Index3(1, 2, 0), [-101.2, 18.6, 15])]), "ras_gzip")
    }

    func testDetachedRawRASAbbreviation() throws {
        _ = try write(Data((0..<24).map { UInt8($0 * 10) }), "ras_detached.raw")
        let url = try write(header([
            "type: uchar", "dimension: 3", "space: RAS", "sizes: 4 3 2",
            "space directions: (-1,0,0) (0,-1,0) (0,0,1)", "encoding: raw", "space origin: (5,6,7)",
            "data file: ras_detached.raw",
        ]), "ras_detached.nhdr")
        let labels = try NRRD.readLabelMap(url)
        XCTAssertEqual(labels.voxels, (0..<24).map { Int32($0 * 10) })
        assertGrid(labels.grid, matches: SimpleITKGeometry(
            origin: [-5, -6, 7], spacing: [1, 1, 1], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
            points: [(Index3(3, 2, 1), [-2, -4, 8]), (Index3(1, 2, 0), [-4, -4, 7])]), "ras_detached")
    }

    func testDetachedGzSlicerStyle() throws {
        _ = try write(Gzip.compress(bytes((0..<24).map { $0 * 1000 }, as: UInt16.self)), "lps_detached.raw.gz")
        let url = try write(header([
            "type: unsigned short", "dimension: 3", "space: LPS", "sizes: 4 3 2",
            "space directions: (0,1.5,0) (1.5,0,0) (0,0,-3)", "kinds: space space space", "endian: little",
            "encoding: gz", "space origin: (1,2,3)", "data file: lps_detached.raw.gz", "labels:=whatever",
        ]), "lps_detached.nhdr")
        let image = try ImageFile.readImage(url)
        XCTAssertEqual(image[3, 2, 1], 23000)
        XCTAssertEqual(image[1, 2, 0], 9000)
        assertGrid(image.grid, matches: SimpleITKGeometry(
            origin: [1, 2, 3], spacing: [1.5, 1.5, 3], direction: [0, 1, 0, 1, 0, 0, 0, 0, -1],
            points: [(Index3(3, 2, 1), [4, 6.5, 0]), (Index3(1, 2, 0), [4, 3.5, 3])]), "lps_detached")
    }

    func testSpacingsWithoutSpace() throws {
        let url = try write(header([
            "type: int", "dimension: 3", "sizes: 4 3 2", "spacings: 0.5 0.75 2", "endian: little", "encoding: raw",
        ]) + Data("\n".utf8) + bytes(ramp, as: Int32.self), "spacings.nrrd")
        let image = try NRRD.readImage(url)
        assertRamp(image)
        assertGrid(image.grid, matches: SimpleITKGeometry(
            origin: [0, 0, 0], spacing: [0.5, 0.75, 2], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
            points: [(Index3(3, 2, 1), [1.5, 1.5, 2])]), "spacings")
    }

    func testLeftAnteriorSuperiorDoubleWithCRLF() throws {
        var doubles = Data()
        for v in ramp { withUnsafeBytes(of: Double(v).bitPattern.littleEndian) { doubles.append(contentsOf: $0) } }
        let text = "NRRD0004\r\ntype: double\r\ndimension: 3\r\nspace: left-anterior-superior\r\nsizes: 4 3 2\r\n"
            + "space directions: (1,0,0) (0,1,0) (0,0,1)\r\nendian: little\r\nencoding: raw\r\n"
            + "space origin: (10,20,30)\r\n\r\n"
        let url = try write(Data(text.utf8) + doubles, "las.nrrd")
        let image = try NRRD.readImage(url)
        assertRamp(image)
        assertGrid(image.grid, matches: SimpleITKGeometry(
            origin: [10, -20, 30], spacing: [1, 1, 1], direction: [1, 0, 0, 0, -1, 0, 0, 0, 1],
            points: [(Index3(3, 2, 1), [13, -22, 31]), (Index3(1, 2, 0), [11, -22, 30])]), "las")
    }

    func testByteSkipFromEnd() throws {
        _ = try write(Data("JUNKJUNKJUNK".utf8) + bytes(ramp, as: Int16.self), "skip.raw")
        let url = try write(header([
            "type: int16", "dimension: 3", "space: left-posterior-superior", "sizes: 4 3 2",
            "space directions: (1,0,0) (0,1,0) (0,0,1)", "endian: little", "encoding: raw", "byte skip: -1",
            "data file: skip.raw",
        ]), "skip.nhdr")
        assertRamp(try NRRD.readImage(url))
    }

    func testTypeAliases() throws {
        let aliases: [(String, Int)] = [
            ("signed char", 1), ("int8_t", 1), ("uchar", 1), ("unsigned char", 1), ("uint8", 1),
            ("short int", 2), ("signed short", 2), ("int16_t", 2), ("ushort", 2), ("uint16", 2),
            ("int", 4), ("signed int", 4), ("int32_t", 4), ("uint", 4), ("unsigned int", 4),
            ("longlong", 8), ("long long int", 8), ("int64", 8), ("unsigned long long", 8), ("uint64_t", 8),
        ]
        let values = (0..<24).map { $0 * 5 }
        for (name, size) in aliases {
            let data: Data
            switch size {
            case 1: data = Data(values.map { UInt8($0) })
            case 2: data = bytes(values, as: Int16.self)
            case 4: data = bytes(values, as: Int32.self)
            default: data = bytes(values, as: Int64.self)
            }
            let url = try write(header(["type: \(name)", "dimension: 3", "sizes: 4 3 2", "endian: little",
                                        "encoding: raw"]) + Data("\n".utf8) + data, "alias.nrrd")
            XCTAssertEqual(try NRRD.readLabelMap(url).voxels, values.map { Int32($0) }, name)
        }
    }

    // MARK: - Refusals

    private func assertRefused(_ data: Data, name: String = "bad.nrrd", containing words: [String],
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let url = try write(data, name)
        XCTAssertThrowsError(try NRRD.readImage(url), file: file, line: line) { error in
            guard let e = error as? ImageIOError else {
                return XCTFail("not an ImageIOError: \(error)", file: file, line: line)
            }
            XCTAssertTrue(e.description.contains(name), e.description, file: file, line: line)
            for word in words {
                XCTAssertTrue(e.reason.contains(word), "\"\(word)\" missing in: \(e.reason)", file: file, line: line)
            }
        }
    }

    private let basic = ["type: short", "dimension: 3", "sizes: 4 3 2", "endian: little", "encoding: raw"]

    func testVectorAxisIsRefused() throws {
        try assertRefused(header(["type: float", "dimension: 4", "sizes: 3 4 3 2", "kinds: vector domain domain domain",
                                  "encoding: raw"]) + Data("\n".utf8) + Data(count: 288),
                          containing: ["axis 0", "vector", "3 entries"])
    }

    func testOtherDimensionsAreRefused() throws {
        try assertRefused(header(["type: short", "dimension: 2", "sizes: 4 3", "encoding: raw"]) + Data("\n".utf8)
                          + Data(count: 24), containing: ["dimension 2"])
    }

    func testUnsupportedEncodingAndType() throws {
        try assertRefused(header(["type: short", "dimension: 3", "sizes: 4 3 2", "encoding: bzip2"]) + Data("\n".utf8),
                          containing: ["bzip2", "raw and gzip"])
        try assertRefused(header(["type: block", "dimension: 3", "sizes: 4 3 2", "encoding: raw"]) + Data("\n".utf8),
                          containing: ["block"])
    }

    func testTruncatedDataAndCorruptGzip() throws {
        try assertRefused(header(basic) + Data("\n".utf8) + bytes(ramp, as: Int16.self).dropLast(3),
                          containing: ["data size mismatch", "48 bytes", "45"])
        let packed = Gzip.compress(bytes(ramp, as: Int16.self))
        try assertRefused(header(["type: short", "dimension: 3", "sizes: 4 3 2", "encoding: gzip"]) + Data("\n".utf8)
                          + packed.prefix(packed.count - 6), containing: ["gzip", "truncated"])
    }

    func testMissingDataFileAndBadMagic() throws {
        try assertRefused(header(basic + ["data file: nowhere.raw"]), name: "lonely.nhdr",
                          containing: ["nowhere.raw", "cannot be read"])
        try assertRefused(Data("P5\n4 3\n255\n".utf8), containing: ["not a NRRD file"])
        try assertRefused(header(basic), name: "headeronly.nrrd", containing: ["neither attached data"])
    }

    func testAbsurdSizesAreRefused() throws {
        try assertRefused(header(["type: short", "dimension: 3", "sizes: 4000000000 4000000000 4000000000",
                                  "encoding: raw"]) + Data("\n".utf8), containing: ["too large"])
    }

    func testZeroSpaceDirectionIsRefused() throws {
        try assertRefused(header(basic + ["space: LPS", "space directions: (1,0,0) (0,0,0) (0,0,1)"]) + Data("\n".utf8)
                          + bytes(ramp, as: Int16.self), containing: ["axis 1", "non-zero"])
    }
}

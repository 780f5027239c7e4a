import Foundation
import XCTest
@testable import ZlibSupport

final class ZlibSupportTests: XCTestCase {
    /// Bytes with structure (so they compress) and noise (so they are not trivial).
    private func sample(count: Int, seed: UInt64 = 42) -> Data {
        var state = seed
        var bytes = [UInt8](repeating: 0, count: count)
        for i in 0..<count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            bytes[i] = i % 7 == 0 ? UInt8(truncatingIfNeeded: state >> 56) : UInt8(truncatingIfNeeded: i / 97)
        }
        return Data(bytes)
    }

    func testCRC32OfCheckString() {
        XCTAssertEqual(Zlib.crc32(Data("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(Zlib.crc32(Data()), 0)
    }

    func testCRC32ContinuesAcrossPieces() {
        let whole = Zlib.crc32(Data("123456789".utf8))
        let first = Zlib.crc32(Data("1234".utf8))
        XCTAssertEqual(Zlib.crc32(Data("56789".utf8), continuing: first), whole)
    }

    func testAdler32OfKnownStrings() {
        XCTAssertEqual(Zlib.adler32(Data("Wikipedia".utf8)), 0x11E6_0398)
        XCTAssertEqual(Zlib.adler32(Data("123456789".utf8)), 0x091E_01DE)
        XCTAssertEqual(Zlib.adler32(Data()), 1)
    }

    func testGzipRoundTrip() throws {
        for count in [0, 1, 1000, 700_000] {
            let data = sample(count: count)
            let packed = Gzip.compress(data)
            XCTAssertTrue(Gzip.isGzip(packed))
            XCTAssertEqual(try Gzip.decompress(packed), data, "size \(count)")
        }
    }

    func testGzipLevelsAllRoundTrip() throws {
        let data = sample(count: 50_000)
        let stored = Gzip.compress(data, level: 0)
        let best = Gzip.compress(data, level: 9)
        XCTAssertGreaterThan(stored.count, data.count)
        XCTAssertLessThan(best.count, data.count)
        XCTAssertEqual(try Gzip.decompress(stored), data)
        XCTAssertEqual(try Gzip.decompress(best), data)
    }

    func testMultiMemberGzipIsConcatenated() throws {
        let a = sample(count: 3000, seed: 1), b = sample(count: 5000, seed: 2)
        var joined = Gzip.compress(a)
        joined.append(Gzip.compress(b))
        XCTAssertEqual(try Gzip.decompress(joined), a + b)
        joined.append(Data(repeating: 0, count: 16))  // zero padding after the last member
        XCTAssertEqual(try Gzip.decompress(joined), a + b)
    }

    func testGzipFromCommandLineToolDecodes() throws {
        // Bytes of `printf 'hello\n' | gzip -n`.
        let fromTool = Data([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9,
                             0xc9, 0xe7, 0x02, 0x00, 0x20, 0x30, 0x3a, 0x36, 0x06, 0x00, 0x00, 0x00])
        XCTAssertEqual(try Gzip.decompress(fromTool), Data("hello\n".utf8))
    }

    func testZlibRoundTripAndHeader() throws {
        let data = sample(count: 100_000)
        let packed = Zlib.deflate(data, level: 9)
        XCTAssertEqual(packed.first, 0x78)
        XCTAssertEqual(try Zlib.inflate(packed), data)
        // The zlib trailer is the big-endian Adler-32 of the uncompressed data.
        let trailer = packed.suffix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        XCTAssertEqual(trailer, Zlib.adler32(data))
    }

    func testTruncatedGzipThrows() {
        let packed = Gzip.compress(sample(count: 20_000))
        for cut in [11, packed.count / 2, packed.count - 1] {
            XCTAssertThrowsError(try Gzip.decompress(packed.prefix(cut)), "cut at \(cut)") { error in
                XCTAssertTrue("\(error)".contains("truncated"), "\(error)")
            }
        }
    }

    func testCorruptGzipThrows() {
        var packed = Gzip.compress(sample(count: 20_000))
        XCTAssertThrowsError(try Gzip.decompress(Data("plain text".utf8))) { error in
            XCTAssertTrue("\(error)".contains("not gzip"), "\(error)")
        }
        XCTAssertThrowsError(try Gzip.decompress(Data()))
        // Flip bytes inside the deflate data: either the stream or its CRC check must fail.
        for i in stride(from: 20, to: packed.count - 8, by: 37) { packed[i] ^= 0x5a }
        XCTAssertThrowsError(try Gzip.decompress(packed)) { error in
            XCTAssertTrue("\(error)".contains("corrupt"), "\(error)")
        }
    }

    func testWrongLengthTrailerIsCorrupt() {
        var packed = Gzip.compress(sample(count: 1000))
        packed[packed.count - 1] ^= 0x01  // ISIZE no longer matches
        XCTAssertThrowsError(try Gzip.decompress(packed)) { error in
            XCTAssertTrue("\(error)".contains("corrupt"), "\(error)")
        }
    }

    func testTrailingGarbageThrows() {
        var packed = Gzip.compress(sample(count: 1000))
        packed.append(contentsOf: [0x41, 0x42, 0x43])
        XCTAssertThrowsError(try Gzip.decompress(packed)) { error in
            XCTAssertTrue("\(error)".contains("unexpected bytes"), "\(error)")
        }
        var z = Zlib.deflate(sample(count: 1000))
        z.append(0x01)
        XCTAssertThrowsError(try Zlib.inflate(z))
    }

    func testCorruptZlibThrows() {
        XCTAssertThrowsError(try Zlib.inflate(Data([0x78, 0x9c, 0xff, 0xff, 0xff])))
        XCTAssertThrowsError(try Zlib.inflate(Data()))
    }
}

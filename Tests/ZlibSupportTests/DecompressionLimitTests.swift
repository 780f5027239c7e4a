import Foundation
import XCTest
import ZlibSupport

/// Bounded gzip decompression: a limit that makes oversized output an error, and a prefix read.
final class DecompressionLimitTests: XCTestCase {
    private let payload = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) })

    func testLimitRefusesLargerOutputAndAcceptsOutputWithinIt() throws {
        let packed = Gzip.compress(payload)
        XCTAssertEqual(try Gzip.decompress(packed, limit: payload.count), payload)
        XCTAssertEqual(try Gzip.decompress(packed, limit: payload.count + 10), payload)
        XCTAssertThrowsError(try Gzip.decompress(packed, limit: 1000)) { error in
            XCTAssertTrue("\(error)".contains("decompresses to more than 1000 bytes"), "\(error)")
        }
    }

    func testPrefixReturnsTheFirstBytesOnly() throws {
        let packed = Gzip.compress(payload)
        XCTAssertEqual(try Gzip.decompressPrefix(packed, count: 352), payload.prefix(352))
        XCTAssertEqual(try Gzip.decompressPrefix(packed, count: 0), Data())
        XCTAssertEqual(try Gzip.decompressPrefix(Gzip.compress(Data([1, 2, 3])), count: 352), Data([1, 2, 3]))
        XCTAssertThrowsError(try Gzip.decompressPrefix(Data([1, 2, 3]), count: 10))
    }

    func testMaximumDecompressedSize() {
        XCTAssertEqual(Gzip.maximumDecompressedSize(ofCompressed: 1000), 1_033_024)
        XCTAssertEqual(Gzip.maximumDecompressedSize(ofCompressed: .max / 2), .max)
    }
}

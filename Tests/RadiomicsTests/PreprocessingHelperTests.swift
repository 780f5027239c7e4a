import Foundation
import ImagingCore
import XCTest
@testable import Radiomics

/// The preprocessing helpers give what the ImagingCore operations they stand in for give.
final class PreprocessingHelperTests: XCTestCase {
    static func randomMask(_ size: Size3, density: Double, seed: UInt64) -> Mask {
        var state = seed
        let voxels = (0..<size.count).map { _ -> Bool in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53) < density
        }
        return Mask(grid: ImageGrid(size: size), voxels: voxels)
    }

    func testPartCountBoundingBoxAndCropMatchImagingCore() {
        for (n, density) in [(0, 0.0), (1, 0.02), (2, 0.1), (3, 0.3), (4, 0.7)] {
            let size = Size3(9 + n, 7, 5 + n)
            let mask = Self.randomMask(size, density: density, seed: UInt64(n + 1))
            XCTAssertEqual(Preprocessor.partCount(mask.voxels, size: size), ConnectedComponents.label(mask).count, "\(n)")
            XCTAssertEqual(Preprocessor.boundingBox(mask.voxels, size: size), mask.boundingBox, "\(n)")
            let box = IndexBox(lower: Index3(1, 2, 1), upper: Index3(6, 5, 3))
            XCTAssertEqual(Preprocessor.crop(mask.voxels, size: size, to: box), mask.cropped(to: box).voxels)
            // A mask known on a box: voxels of any other box, false outside the known one.
            let placed = PlacedMask(mask: mask, offset: Index3(3, -2, 4))
            let query = IndexBox(lower: Index3(0, -3, 2), upper: Index3(14, 6, 12))
            var expected = [Bool]()
            for k in query.lower.k...query.upper.k { for j in query.lower.j...query.upper.j { for i in query.lower.i...query.upper.i {
                let (a, b, c) = (i - 3, j + 2, k - 4)
                expected.append(a >= 0 && b >= 0 && c >= 0 && a < size.nx && b < size.ny && c < size.nz && mask[a, b, c])
            } } }
            XCTAssertEqual(placed.voxels(in: query), expected, "\(n)")
        }
    }

    func testAscendingIsTheSortedArray() {
        let integers = (0..<500).map { Double(($0 * 7919) % 301) - 150 }
        XCTAssertEqual(Distribution.ascending(integers), integers.sorted())
        let fractions = integers.map { $0 / 3 }
        XCTAssertEqual(Distribution.ascending(fractions), fractions.sorted())
        let wide = (0..<100).map { Double($0 * $0 * 1000) }
        XCTAssertEqual(Distribution.ascending(wide), wide.sorted())
        let negativeZero = integers + [-0.0]
        XCTAssertEqual(Distribution.ascending(negativeZero).map(\.bitPattern), negativeZero.sorted().map(\.bitPattern))
    }

    /// The radix path (non-integer values such as a response map's) gives `sorted()`'s array bit for bit, and
    /// declines NaN and -0 (left to `sorted()`).
    func testRadixSortIsTheSortedArray() throws {
        var generator = SystemRandomNumberGenerator()
        var values = (0..<5000).map { _ in Double.random(in: -1e6...1e6, using: &generator) }
        values += (0..<500).map { _ in Double.random(in: -1e-300...1e-300, using: &generator) }
        values += [0, 0, .infinity, -.infinity, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .greatestFiniteMagnitude,
                   -.greatestFiniteMagnitude, 1.5, 1.5, -2.25, -2.25]
        values.shuffle()
        let radix = try XCTUnwrap(Distribution.radixSorted(values))
        XCTAssertEqual(radix.map(\.bitPattern), values.sorted().map(\.bitPattern))
        XCTAssertEqual(Distribution.ascending(values).map(\.bitPattern), values.sorted().map(\.bitPattern))
        // Values sharing their high bits (passes with one digit skipped).
        let close = (0..<300).map { 1000 + Double($0 % 17) / 64 }
        XCTAssertEqual(try XCTUnwrap(Distribution.radixSorted(close)), close.sorted())
        XCTAssertNil(Distribution.radixSorted(values + [.nan]))
        XCTAssertNil(Distribution.radixSorted(values + [-0.0]))
        XCTAssertEqual(Distribution.ascending(values + [-0.0]).map(\.bitPattern), (values + [-0.0]).sorted().map(\.bitPattern))
    }

    /// Single-precision values (response maps) take 32-bit keys and come back as the same doubles in `sorted()`'s
    /// order; a double that is no float, NaN or -0 sends the values to the 64-bit path or to `sorted()`.
    func testSinglePrecisionRadixSortIsTheSortedArray() throws {
        var generator = SystemRandomNumberGenerator()
        var floats = (0..<5000).map { _ in Float.random(in: -1e6...1e6, using: &generator) }
        floats += (0..<500).map { _ in Float.random(in: -1e-30...1e-30, using: &generator) }
        floats += [0, 0, .infinity, -.infinity, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .greatestFiniteMagnitude,
                   -.greatestFiniteMagnitude, 1.5, 1.5, -2.25, -2.25]
        let values = floats.shuffled().map(Double.init)
        let singles = try XCTUnwrap(Distribution.radixSortedSingles(values))
        XCTAssertEqual(singles.map(\.bitPattern), values.sorted().map(\.bitPattern))
        XCTAssertEqual(try XCTUnwrap(Distribution.radixSorted(values)).map(\.bitPattern), values.sorted().map(\.bitPattern))
        XCTAssertNil(Distribution.radixSortedSingles(values + [0.1]))
        XCTAssertNil(Distribution.radixSortedSingles(values + [.nan]))
        XCTAssertNil(Distribution.radixSortedSingles(values + [-0.0]))
        let mixed = values + [0.1, 1e300]
        XCTAssertEqual(try XCTUnwrap(Distribution.radixSorted(mixed)).map(\.bitPattern), mixed.sorted().map(\.bitPattern))
    }
}

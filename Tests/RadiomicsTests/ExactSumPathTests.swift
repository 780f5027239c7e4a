import ImagingCore
@testable import Radiomics
import XCTest

/// Fast paths that rely on exact arithmetic must give the very values of the general path.
final class ExactSumPathTests: XCTestCase {
    typealias Random = FastPathTests.Random

    /// A box whose ROI sits in the middle, far from the voxel at the box's first corner (no sphere
    /// of an ROI voxel reaches it), with whole intensities up to `magnitude`.
    static func region(magnitude: Double, seed: UInt64) -> PreparedRegion {
        let size = Size3(30, 25, 12), spacing = Vector3(1.1, 1.3, 2.7)
        var random = Random(state: seed)
        var intensities = [Double](), mask = [Bool]()
        for t in 0..<size.count {
            intensities.append((random.next() * 2 * magnitude).rounded() - magnitude)
            let (i, j, k) = (t % size.nx, (t / size.nx) % size.ny, t / (size.nx * size.ny))
            mask.append((12...17).contains(i) && (10...14).contains(j) && (5...6).contains(k) && random.next() < 0.7)
        }
        return PreparedRegion(grid: ImageGrid(size: size, spacing: spacing), intensities: intensities,
                              morphMask: mask, intensityMask: mask)
    }

    /// The peaks of `region`, and of the same region with a fraction at the far corner, which no
    /// sphere reads but which rules out whole-number sums.
    static func peaksWholeAndGeneral(_ region: PreparedRegion) -> (whole: [Double], general: [Double]) {
        var fractional = region
        fractional.intensities[0] += 0.5
        return (LocalIntensity.features(region).map(\.value), LocalIntensity.features(fractional).map(\.value))
    }

    func testLocalPeaksOfWholeIntensitiesAreThoseOfDoubleSums() {
        for seed in [UInt64(1), 2, 3] {
            let (whole, general) = Self.peaksWholeAndGeneral(Self.region(magnitude: 1000, seed: seed))
            XCTAssertEqual(whole.map(\.bitPattern), general.map(\.bitPattern), "seed \(seed)")
            XCTAssertTrue(whole.allSatisfy(\.isFinite))
        }
    }

    func testLocalPeaksOfIntensitiesBeyondTheWholeNumberLimit() {
        // Sphere sums of these would leave the 32-bit range, so doubles are used throughout.
        let (whole, general) = Self.peaksWholeAndGeneral(Self.region(magnitude: 1e8, seed: 4))
        XCTAssertEqual(whole.map(\.bitPattern), general.map(\.bitPattern))
        XCTAssertTrue(whole.allSatisfy(\.isFinite))
    }
}

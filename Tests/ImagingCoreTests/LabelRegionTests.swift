import XCTest
@testable import ImagingCore

/// `labelRegions` (one pass) must say exactly what building each label's mask and measuring it says.
final class LabelRegionTests: XCTestCase {
    /// A label map with runs, isolated voxels, negative and large labels, labels touching every face,
    /// on an oblique anisotropic grid (so the centroid goes through the full index-to-world transform).
    private func sampleMap(seed: UInt64) -> LabelMap {
        let direction = Matrix3(rows: [[0.96, -0.28, 0], [0.28, 0.96, 0], [0, 0, 1]])
        let grid = ImageGrid(size: Size3(23, 17, 11), spacing: Vector3(0.7, 0.9, 2.5),
                             origin: Vector3(-120.25, 33.5, 7.125), direction: direction)
        var state = seed
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        let palette: [Int32] = [0, 0, 0, 0, 1, 2, 7, -3, 1_000_000, Int32.max, Int32.min + 1]
        var voxels = [Int32](repeating: 0, count: grid.voxelCount)
        var i = 0
        while i < voxels.count {
            let run = Int(next() % 9) + 1
            let value = palette[Int(next() % UInt64(palette.count))]
            for t in i..<min(voxels.count, i + run) { voxels[t] = value }
            i += run
        }
        return LabelMap(grid: grid, voxels: voxels)
    }

    func testRegionsEqualMaskMeasurementsForEveryLabel() throws {
        for seed: UInt64 in [1, 2, 3, 42] {
            let map = sampleMap(seed: seed)
            let regions = map.labelRegions
            // The distinct non-zero labels, as a Set over every voxel finds them.
            let expected = Set(map.voxels).subtracting([0]).sorted()
            XCTAssertEqual(regions.map(\.label), expected)
            XCTAssertEqual(map.labels, expected)
            for region in regions {
                let mask = map.mask(label: region.label)
                XCTAssertEqual(region.voxelCount, mask.count, "label \(region.label)")
                XCTAssertEqual(region.boundingBox, mask.boundingBox, "label \(region.label)")
                let centroid = try XCTUnwrap(mask.centroid)
                // Bit for bit: the same sums and the same arithmetic.
                XCTAssertEqual(region.centroid.x.bitPattern, centroid.x.bitPattern, "label \(region.label)")
                XCTAssertEqual(region.centroid.y.bitPattern, centroid.y.bitPattern, "label \(region.label)")
                XCTAssertEqual(region.centroid.z.bitPattern, centroid.z.bitPattern, "label \(region.label)")
                XCTAssertEqual(map.mask(of: region).voxels, mask.voxels, "label \(region.label)")
            }
        }
    }

    func testEmptyAndSingleVoxelMaps() {
        let grid = ImageGrid(size: Size3(4, 3, 2))
        var map = LabelMap(grid: grid, repeating: 0)
        XCTAssertEqual(map.labelRegions, [])
        XCTAssertEqual(map.labels, [])
        map[3, 2, 1] = 5
        XCTAssertEqual(map.labels, [5])
        let regions = map.labelRegions
        XCTAssertEqual(regions.count, 1)
        XCTAssertEqual(regions[0].voxelCount, 1)
        XCTAssertEqual(regions[0].boundingBox, IndexBox(lower: Index3(3, 2, 1), upper: Index3(3, 2, 1)))
        XCTAssertEqual(regions[0].centroid, grid.world(at: Index3(3, 2, 1)))
    }

    func testSplitGivesComponentsInNumberOrder() {
        let grid = ImageGrid(size: Size3(9, 5, 3))
        var mask = Mask(grid: grid, repeating: false)
        for (i, j, k) in [(0, 0, 0), (1, 1, 0), (5, 0, 2), (8, 4, 2), (7, 3, 1), (3, 4, 0)] { mask[i, j, k] = true }
        let (labels, count) = ConnectedComponents.label(mask)
        let parts = ConnectedComponents.split(mask)
        XCTAssertEqual(parts.count, count)
        for (n, part) in parts.enumerated() {
            XCTAssertEqual(part.voxels, labels.mask(label: Int32(n + 1)).voxels)
        }
    }
}

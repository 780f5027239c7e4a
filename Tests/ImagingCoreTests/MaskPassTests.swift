import XCTest
@testable import ImagingCore

/// The word-at-a-time mask passes (`count`, `isEmpty`, `boundingBox`, `centroid`, `LabelMap.mask(label:)`) against
/// voxel-by-voxel reference loops, on rows whose length is not a multiple of eight and on sparse and empty masks.
final class MaskPassTests: XCTestCase {
    func testWordPassesEqualVoxelByVoxelLoops() {
        var state: UInt64 = 12345
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        for (size, density) in [(Size3(13, 7, 5), 50), (Size3(17, 9, 3), 3), (Size3(8, 8, 8), 1), (Size3(5, 3, 2), 0),
                                (Size3(31, 11, 4), 100)] {
            let grid = ImageGrid(size: size, spacing: Vector3(0.7, 0.9, 2.5), origin: Vector3(-3, 4, 10))
            let labels = LabelMap(grid: grid, voxels: (0..<grid.voxelCount).map { _ in
                Int(next() % 100) < density ? Int32(1 + next() % 3) : 0 })
            for label: Int32 in [1, 2, 3, 4] {
                let mask = labels.mask(label: label)
                XCTAssertEqual(mask.voxels, labels.voxels.map { $0 == label })
                var count = 0, lo = Index3(Int.max, Int.max, Int.max), hi = Index3(-1, -1, -1), s = Vector3.zero
                for (n, inside) in mask.voxels.enumerated() where inside {
                    let p = grid.index(ofLinear: n)
                    count += 1
                    lo = Index3(min(lo.i, p.i), min(lo.j, p.j), min(lo.k, p.k))
                    hi = Index3(max(hi.i, p.i), max(hi.j, p.j), max(hi.k, p.k))
                    s = s + Vector3(Double(p.i), Double(p.j), Double(p.k))
                }
                XCTAssertEqual(mask.count, count)
                XCTAssertEqual(mask.isEmpty, count == 0)
                XCTAssertEqual(mask.boundingBox, count == 0 ? nil : IndexBox(lower: lo, upper: hi))
                // Bit for bit: the same sums in the same order.
                XCTAssertEqual(mask.centroid, count == 0 ? nil : grid.world(atContinuousIndex: (1.0 / Double(count)) * s))
                // On the bounding box (what extraction uses once the box is known): the same values, bit for bit.
                if let box = mask.boundingBox {
                    XCTAssertEqual(mask.count(within: box), count)
                    XCTAssertEqual(mask.centroid(within: box), mask.centroid)
                    // Label regions give the same box, and the mask written on the box alone is the same mask.
                    let region = labels.labelRegions.first { $0.label == label }
                    XCTAssertEqual(region?.boundingBox, box)
                    XCTAssertEqual(region.map { labels.mask(of: $0).voxels }, mask.voxels)
                }
            }
        }
    }
}

import XCTest
@testable import ImagingCore

final class MaskTransferTests: XCTestCase {
    /// A reproducible irregular mask: voxels inside a lumpy blob (deterministic hash noise near the surface).
    private func blob(_ grid: ImageGrid, centre: Vector3, radius: Double) -> Mask {
        var m = Mask(grid: grid, repeating: false)
        for k in 0..<grid.size.nz {
            for j in 0..<grid.size.ny {
                for i in 0..<grid.size.nx {
                    let w = grid.world(at: Index3(i, j, k))
                    let h = Double(((i &* 73856093) ^ (j &* 19349663) ^ (k &* 83492791)) & 1023) / 1023
                    if (w - centre).length <= radius + 1.5 * (h - 0.5) { m[i, j, k] = true }
                }
            }
        }
        return m
    }

    private func sphere(_ grid: ImageGrid, centre: Vector3, radius: Double) -> Mask {
        var m = Mask(grid: grid, repeating: false)
        for n in 0..<grid.voxelCount where (grid.world(at: grid.index(ofLinear: n)) - centre).length <= radius {
            m.voxels[n] = true
        }
        return m
    }

    func testIdenticalGridsGiveTheIdenticalMask() throws {
        let grid = ImageGrid(size: Size3(16, 14, 12), spacing: Vector3(0.8, 0.8, 2), origin: Vector3(-5, 3, 10))
        let mask = blob(grid, centre: grid.world(at: Index3(8, 7, 6)), radius: 4)
        XCTAssertGreaterThan(mask.count, 50)
        XCTAssertEqual(try mask.transferred(onto: grid).voxels, mask.voxels)
        // The same geometry, 10⁻⁷ mm apart, goes through the sub-point sampling and still gives the same voxels.
        var nudged = grid
        nudged.origin = grid.origin + Vector3(1e-7, 0, 0)
        let carried = try mask.transferred(onto: nudged)
        XCTAssertEqual(carried.grid, nudged)
        XCTAssertEqual(carried.voxels, mask.voxels)
    }

    func testAlignedGridTwiceAsCoarseGivesTheExactMajorityRule() throws {
        let fine = ImageGrid(size: Size3(20, 18, 16), spacing: Vector3(1, 1.5, 2), origin: Vector3(-10, 4, 7))
        let mask = blob(fine, centre: fine.world(at: Index3(10, 9, 8)), radius: 7)
        // Each coarse voxel covers exactly fine voxels 2t and 2t+1 on every axis (its centre sits between them).
        let coarse = ImageGrid(size: Size3(10, 9, 8), spacing: Vector3(2, 3, 4),
                               origin: fine.origin + Vector3(0.5, 0.75, 1))
        let carried = try mask.transferred(onto: coarse)
        var differing = 0, inside = 0, ties = 0
        for k in 0..<8 {
            for j in 0..<9 {
                for i in 0..<10 {
                    var n = 0
                    for dk in 0..<2 { for dj in 0..<2 { for di in 0..<2 where mask[2 * i + di, 2 * j + dj, 2 * k + dk] { n += 1 } } }
                    let expected = n >= 4
                    if n == 4 { ties += 1 }
                    if expected { inside += 1 }
                    if carried[i, j, k] != expected { differing += 1 }
                }
            }
        }
        XCTAssertEqual(differing, 0)
        XCTAssertGreaterThan(inside, 20)
        XCTAssertGreaterThan(ties, 0, "the blob should have coarse voxels exactly half inside (the rule keeps them)")
    }

    func testShiftedRotatedGridKeepsVolume() throws {
        let fine = ImageGrid(size: Size3(40, 40, 40), spacing: Vector3(1, 1, 1), origin: Vector3(-20, -20, -20))
        let centre = Vector3(0.3, -0.2, 0.1)
        let mask = sphere(fine, centre: centre, radius: 12)
        let exact = 4.0 / 3.0 * Double.pi * 12 * 12 * 12
        XCTAssertEqual(mask.physicalVolume, exact, accuracy: 0.02 * exact)
        // 4 mm voxels (anisotropic in z), rotated 30° about z then 20° about x, origin off any fine voxel.
        let c = cos(Double.pi / 6), s = sin(Double.pi / 6), cx = cos(Double.pi / 9), sx = sin(Double.pi / 9)
        let rz = Matrix3(rows: [[c, -s, 0], [s, c, 0], [0, 0, 1]])
        let rx = Matrix3(rows: [[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
        let direction = rx * rz
        let spacing = Vector3(4, 4, 5)
        // The target grid centred near the sphere, 12 voxels per axis.
        let half = direction * Vector3(5.5 * spacing.x, 5.5 * spacing.y, 5.5 * spacing.z)
        let coarse = ImageGrid(size: Size3(12, 12, 12), spacing: spacing,
                               origin: Vector3(1.37, -0.91, 0.55) - half, direction: direction)
        let carried = try mask.transferred(onto: coarse)
        // Stated tolerance (doc comment, README): within 5% of the source mask's volume.
        XCTAssertEqual(carried.physicalVolume, mask.physicalVolume, accuracy: 0.05 * mask.physicalVolume,
                       "carried \(carried.physicalVolume) mm³ vs \(mask.physicalVolume) mm³")
        // And the carried mask sits where the sphere is.
        XCTAssertLessThan((carried.centroid! - centre).length, 1.5)
    }

    /// The documented partial-volume error (`Mask.transferVolumeTolerance`), measured: spheres of 7 to 20 mm on a
    /// 0.98 x 0.98 x 2.5 mm CT grid, each at 60 random positions, carried onto a 4.07 x 4.07 x 3.27 mm PET grid with
    /// a random origin; every carried volume lies within the tolerance for its voxel count. Prints, per radius, the
    /// mean PET voxel count and the mean, lowest and highest relative volume change.
    func testPartialVolumeErrorOverRandomPositions() throws {
        var state: UInt64 = 0x9E3779B97F4A7C15
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) * 0x1.0p-53
        }
        let ctSpacing = Vector3(0.976562, 0.976562, 2.5), petSpacing = Vector3(4.0728, 4.0728, 3.27)
        for radius in [7.0, 8.5, 10, 12, 16, 20] {
            var errors: [Double] = [], counts: [Int] = []
            for _ in 0..<60 {
                let centre = Vector3(uniform() * 10, uniform() * 10, uniform() * 10)
                let extent = radius + 6
                let ctOrigin = centre - Vector3(extent, extent, extent) + Vector3(uniform() * ctSpacing.x, uniform() * ctSpacing.y, uniform() * ctSpacing.z)
                let ct = ImageGrid(size: Size3(Int(2 * extent / ctSpacing.x) + 1, Int(2 * extent / ctSpacing.y) + 1, Int(2 * extent / ctSpacing.z) + 1),
                                   spacing: ctSpacing, origin: ctOrigin)
                let petOrigin = centre - Vector3(extent + 8, extent + 8, extent + 8) + Vector3(uniform() * petSpacing.x, uniform() * petSpacing.y, uniform() * petSpacing.z)
                let pet = ImageGrid(size: Size3(Int(2 * (extent + 8) / petSpacing.x) + 1, Int(2 * (extent + 8) / petSpacing.y) + 1,
                                                Int(2 * (extent + 8) / petSpacing.z) + 1), spacing: petSpacing, origin: petOrigin)
                let mask = sphere(ct, centre: centre, radius: radius)
                let carried = try mask.transferred(onto: pet)
                let error = carried.physicalVolume / mask.physicalVolume - 1
                XCTAssertLessThanOrEqual(abs(error), Mask.transferVolumeTolerance(targetVoxels: carried.count),
                                         "sphere \(radius) mm at \(centre): \(carried.count) PET voxels, \(error)")
                errors.append(error)
                counts.append(carried.count)
            }
            print(String(format: "sphere %4.1f mm: %5.1f PET voxels on average (%d..%d), volume change mean %+.1f%%, lowest %+.1f%%, highest %+.1f%%",
                         radius, Double(counts.reduce(0, +)) / Double(counts.count), counts.min()!, counts.max()!,
                         100 * errors.reduce(0, +) / Double(errors.count), 100 * errors.min()!, 100 * errors.max()!))
        }
    }

    func testMaskOutsideTheTargetImageIsRefused() throws {
        let fine = ImageGrid(size: Size3(30, 30, 30), spacing: Vector3(1, 1, 1))
        let mask = sphere(fine, centre: Vector3(24, 15, 15), radius: 3)
        // A PET field of view covering x 0..20 mm only: the lesion at x 21..27 mm lies outside.
        let target = ImageGrid(size: Size3(5, 8, 8), spacing: Vector3(4, 4, 4), origin: Vector3(1.5, 1.5, 1.5))
        XCTAssertThrowsError(try mask.transferred(onto: target)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("does not lie inside the extent"), text)
            XCTAssertTrue(text.contains("x 21.0..27.0"), text)
            XCTAssertTrue(text.contains("x -0.5..19.5"), text)
        }
        XCTAssertThrowsError(try Mask(grid: fine, repeating: false).transferred(onto: target)) { error in
            XCTAssertTrue("\(error)".contains("the mask is empty"), "\(error)")
        }
        // The same lesion inside a field of view that covers it is carried.
        let wide = ImageGrid(size: Size3(8, 8, 8), spacing: Vector3(4, 4, 4), origin: Vector3(1.5, 1.5, 1.5))
        XCTAssertGreaterThan(try mask.transferred(onto: wide).count, 0)
    }
}

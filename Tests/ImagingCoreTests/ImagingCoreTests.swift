import XCTest
@testable import ImagingCore

final class GeometryTests: XCTestCase {
    func testWorldIndexRoundTripWithObliqueDirection() {
        let c = 0.8, s = 0.6
        let dir = Matrix3(rows: [[c, -s, 0], [s, c, 0], [0, 0, -1]])
        let grid = ImageGrid(size: Size3(10, 12, 5), spacing: Vector3(0.7, 0.9, 2.5),
                             origin: Vector3(-100, 20, 35), direction: dir)
        let idx = Vector3(3.25, 7.5, 4)
        let w = grid.world(atContinuousIndex: idx)
        // origin + D * (spacing ⊙ idx), worked by hand.
        let sx = 3.25 * 0.7, sy = 7.5 * 0.9, sz = 4 * 2.5
        XCTAssertEqual(w.x, -100 + c * sx - s * sy, accuracy: 1e-12)
        XCTAssertEqual(w.y, 20 + s * sx + c * sy, accuracy: 1e-12)
        XCTAssertEqual(w.z, 35 - sz, accuracy: 1e-12)
        let back = grid.continuousIndex(ofWorld: w)
        XCTAssertEqual((back - idx).length, 0, accuracy: 1e-12)
    }

    func testGridMismatchNamesTheDifference() {
        let a = ImageGrid(size: Size3(4, 4, 4))
        var b = a
        b.origin = Vector3(0, 0, 1)
        XCTAssertThrowsError(try a.requireMatch(b, context: "mask m.nii")) { error in
            XCTAssertTrue("\(error)".contains("origin"), "\(error)")
            XCTAssertTrue("\(error)".contains("m.nii"), "\(error)")
        }
        XCTAssertNoThrow(try a.requireMatch(a))
    }

    func testCropKeepsWorldPositions() {
        let grid = ImageGrid(size: Size3(6, 5, 4), spacing: Vector3(1, 2, 3), origin: Vector3(10, 20, 30))
        let vol = Volume<Float>(grid: grid, voxels: (0..<grid.voxelCount).map(Float.init))
        let box = IndexBox(lower: Index3(2, 1, 1), upper: Index3(4, 3, 2))
        let sub = vol.cropped(to: box)
        XCTAssertEqual(sub.size, Size3(3, 3, 2))
        XCTAssertEqual(sub[0, 0, 0], vol[2, 1, 1])
        XCTAssertEqual(sub[2, 2, 1], vol[4, 3, 2])
        XCTAssertEqual(sub.grid.world(at: Index3(1, 1, 1)), grid.world(at: Index3(3, 2, 2)))
    }
}

final class MorphologyTests: XCTestCase {
    private func singleVoxel(size: Size3, spacing: Vector3, at p: Index3) -> Mask {
        var m = Mask(grid: ImageGrid(size: size, spacing: spacing), repeating: false)
        m[p] = true
        return m
    }

    func testDilationMatchesBruteForceBallOnAnisotropicGrid() {
        let spacing = Vector3(0.8, 0.8, 3)
        let m = singleVoxel(size: Size3(21, 21, 9), spacing: spacing, at: Index3(10, 10, 4))
        let r = 5.0
        let d = Morphology.dilate(m, radiusMM: r)
        var expected = 0
        for k in 0..<9 { for j in 0..<21 { for i in 0..<21 {
            let off = Vector3(Double(i - 10) * 0.8, Double(j - 10) * 0.8, Double(k - 4) * 3)
            let inside = off.length <= r
            if inside { expected += 1 }
            XCTAssertEqual(d[i, j, k], inside, "voxel \(i),\(j),\(k)")
        }}}
        XCTAssertEqual(d.count, expected)
        // 5 mm reaches 6 voxels in-plane but only one slice either side.
        XCTAssertTrue(d[16, 10, 4]); XCTAssertFalse(d[17, 10, 4])
        XCTAssertTrue(d[10, 10, 5]); XCTAssertFalse(d[10, 10, 6])
    }

    func testErosionUndoesDilationOfABlock() {
        var m = Mask(grid: ImageGrid(size: Size3(20, 20, 20)), repeating: false)
        for k in 6..<14 { for j in 6..<14 { for i in 6..<14 { m[i, j, k] = true } } }
        let eroded = Morphology.erode(m, radiusMM: 1)
        XCTAssertEqual(eroded.count, 6 * 6 * 6)
        let full = Mask(grid: m.grid, repeating: true)
        XCTAssertEqual(Morphology.erode(full, radiusMM: 3).count, full.count, "outside counts as inside")
    }

    func testRingIsDilationMinusLesion() {
        let m = singleVoxel(size: Size3(9, 9, 9), spacing: Vector3(1, 1, 1), at: Index3(4, 4, 4))
        let ring = Morphology.dilate(m, radiusMM: 1).subtracting(m)
        XCTAssertEqual(ring.count, 6)
        XCTAssertFalse(ring[4, 4, 4])
    }
}

final class ComponentTests: XCTestCase {
    func testTwentySixConnectivityAndStableOrder() {
        var m = Mask(grid: ImageGrid(size: Size3(6, 6, 6)), repeating: false)
        // Component met second in raster order (z = 3).
        m[1, 1, 3] = true; m[2, 2, 4] = true  // corner-connected: one component
        // Component met first (z = 0).
        m[5, 5, 0] = true; m[5, 4, 0] = true
        let (labels, count) = ConnectedComponents.label(m)
        XCTAssertEqual(count, 2)
        XCTAssertEqual(labels[5, 4, 0], 1)
        XCTAssertEqual(labels[5, 5, 0], 1)
        XCTAssertEqual(labels[1, 1, 3], 2)
        XCTAssertEqual(labels[2, 2, 4], 2)
        XCTAssertEqual(ConnectedComponents.split(m).map(\.count), [2, 2])
    }

    func testMaskStatistics() {
        var m = Mask(grid: ImageGrid(size: Size3(4, 4, 4), spacing: Vector3(1, 1, 2), origin: Vector3(10, 0, 0)),
                     repeating: false)
        XCTAssertNil(m.boundingBox)
        XCTAssertNil(m.centroid)
        m[1, 1, 1] = true; m[3, 1, 1] = true
        XCTAssertEqual(m.boundingBox, IndexBox(lower: Index3(1, 1, 1), upper: Index3(3, 1, 1)))
        XCTAssertEqual(m.centroid, Vector3(12, 1, 2))
        XCTAssertEqual(m.physicalVolume, 4)
        XCTAssertEqual(m.dice(m), 1)
    }
}

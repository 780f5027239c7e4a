import XCTest
import ImagingCore
@testable import Response

/// Diameters against numbers worked out independently of the code (geometry of rectangles, discs,
/// ellipses; scipy for the outlines of rectangles, a bar and an irregular lesion), with the expected error of a
/// voxelised shape bounded by one in-plane voxel diagonal.
final class LesionMeasurementTests: XCTestCase {
    func mask(_ grid: ImageGrid, _ inside: (Int, Int, Int) -> Bool) -> Mask {
        var m = Mask(grid: grid, repeating: false)
        for k in 0..<grid.size.nz { for j in 0..<grid.size.ny { for i in 0..<grid.size.nx where inside(i, j, k) {
            m.voxels[grid.linearIndex(i, j, k)] = true
        } } }
        return m
    }

    /// An axis-aligned w x h voxel rectangle: its outline points lie on the middles of its boundary voxel faces, so
    /// the long axis is the longest cut-corner diagonal, here ((w - 1)·sx, h·sy) = (4.9, 3.9) mm: √39.22 =
    /// 6.262587 mm (against (5.6, 2.6) -> 6.174 and (5.25, 3.25) -> 6.175). Short axis 4.984508 mm, computed
    /// independently with scipy (Tests/python/measurement_crosscheck.py).
    func testAxisAlignedRectangleAnisotropicSpacing() {
        let grid = ImageGrid(size: Size3(20, 12, 4), spacing: Vector3(0.7, 1.3, 2.5))
        // Slice 1: 8 x 3 voxels; slice 2: 4 x 2 voxels (smaller, must not be chosen).
        let m = mask(grid) { i, j, k in
            (k == 1 && (3..<11).contains(i) && (4..<7).contains(j)) || (k == 2 && (3..<7).contains(i) && (4..<6).contains(j))
        }
        let r = LesionMeasurement.measure(m)
        XCTAssertEqual(r.longAxisMM, 39.22.squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(r.shortAxisMM, 4.984508, accuracy: 1e-5)
        XCTAssertEqual(r.slice, 1)
        XCTAssertEqual(r.volumeML, 32 * 0.7 * 1.3 * 2.5 / 1000, accuracy: 1e-12)
    }

    /// One voxel measures its side (its four face middles), not its diagonal.
    func testSingleVoxelMeasuresItsSide() {
        let grid = ImageGrid(size: Size3(5, 5, 3), spacing: Vector3(1.5, 1.5, 4))
        let r = LesionMeasurement.measure(mask(grid) { i, j, k in i == 2 && j == 2 && k == 1 })
        XCTAssertEqual(r.longAxisMM, 1.5, accuracy: 1e-12)
        XCTAssertEqual(r.shortAxisMM, 1.5, accuracy: 1e-12)
    }

    /// Rotating and shifting the grid in patient space changes no distance: direction cosines are honoured.
    func testRotatedGridGivesTheSameNumbers() {
        let c = cos(Double.pi / 6), s = sin(Double.pi / 6)
        let rot = Matrix3(rows: [[c, -s, 0], [s, c, 0], [0, 0, 1]])
        let grid = ImageGrid(size: Size3(20, 12, 3), spacing: Vector3(0.7, 1.3, 2.5), origin: Vector3(-100, 40, 12),
                             direction: rot)
        let m = mask(grid) { i, j, k in k == 1 && (3..<11).contains(i) && (4..<7).contains(j) }
        let r = LesionMeasurement.measure(m)
        XCTAssertEqual(r.longAxisMM, 39.22.squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(r.shortAxisMM, 4.984508, accuracy: 1e-5)
    }

    /// A rectangle 40 x 10 mm rotated by 30 degrees in the plane, voxelised at 0.4 mm (voxel centres inside):
    /// diagonal √1700 = 41.231 mm, perpendicular chord 10 · 41.231 / 40 = 10.308 mm.
    func testRasterisedRotatedRectangle() {
        let sp = 0.4
        let grid = ImageGrid(size: Size3(140, 140, 1), spacing: Vector3(sp, sp, 3))
        let c = cos(Double.pi / 6), s = sin(Double.pi / 6)
        let m = mask(grid) { i, j, _ in
            let x = Double(i) * sp - 28, y = Double(j) * sp - 28
            let u = c * x + s * y, v = -s * x + c * y
            return abs(u) <= 20 && abs(v) <= 5
        }
        let r = LesionMeasurement.measure(m)
        let diag = sp * 2.squareRoot()
        XCTAssertEqual(r.longAxisMM, 1700.squareRoot(), accuracy: diag)
        XCTAssertEqual(r.shortAxisMM, 10 * 1700.squareRoot() / 40, accuracy: diag)
    }

    /// A disc of radius 10 mm: both axes 20 mm within one voxel diagonal.
    func testDisc() {
        let sp = 0.5
        let grid = ImageGrid(size: Size3(60, 60, 1), spacing: Vector3(sp, sp, 1))
        let m = mask(grid) { i, j, _ in
            let x = Double(i) * sp - 15, y = Double(j) * sp - 15
            return x * x + y * y <= 100
        }
        let r = LesionMeasurement.measure(m)
        XCTAssertEqual(r.longAxisMM, 20, accuracy: sp * 2.squareRoot())
        XCTAssertEqual(r.shortAxisMM, 20, accuracy: sp * 2.squareRoot())
        XCTAssertGreaterThanOrEqual(r.longAxisMM, r.shortAxisMM)
    }

    /// An ellipse with semi-axes 15 and 6 mm at in-plane spacing 0.6 x 0.9 mm: 30 and 12 mm within one voxel
    /// diagonal (1.08 mm).
    func testEllipseAnisotropicSpacing() {
        let grid = ImageGrid(size: Size3(70, 30, 1), spacing: Vector3(0.6, 0.9, 5))
        let m = mask(grid) { i, j, _ in
            let x = Double(i) * 0.6 - 20, y = Double(j) * 0.9 - 13
            return (x / 15) * (x / 15) + (y / 6) * (y / 6) <= 1
        }
        let r = LesionMeasurement.measure(m)
        let diag = (0.36 + 0.81).squareRoot()
        XCTAssertEqual(r.longAxisMM, 30, accuracy: diag)
        XCTAssertEqual(r.shortAxisMM, 12, accuracy: diag)
    }

    /// A sphere of radius 8 mm on 0.8 x 0.8 x 2 mm voxels: the long axis is in the central slice, 16 mm.
    func testSphereAnisotropicSlices() {
        let grid = ImageGrid(size: Size3(30, 30, 13), spacing: Vector3(0.8, 0.8, 2))
        let m = mask(grid) { i, j, k in
            let x = Double(i) * 0.8 - 12, y = Double(j) * 0.8 - 12, z = Double(k) * 2 - 12
            return x * x + y * y + z * z <= 64
        }
        let r = LesionMeasurement.measure(m)
        XCTAssertEqual(r.longAxisMM, 16, accuracy: 0.8 * 2.squareRoot())
        XCTAssertEqual(r.slice, 6)
        XCTAssertEqual(r.volumeML, Double(m.count) * 1.28 / 1000, accuracy: 1e-12)
        // The voxel count approximates 4/3 pi r^3 = 2.145 ml.
        XCTAssertEqual(r.volumeML, 4.0 / 3 * Double.pi * 512 / 1000, accuracy: 0.15)
    }

    /// A coronal acquisition (voxel axis j runs cranio-caudally): axial slices are cut across j, so a bar
    /// 2 voxels wide along i and 20 along k (world y) measures its cut-corner diagonal (1·0.5, 20·0.7):
    /// √196.25 = 14.008926 mm in every axial slice (short axis 1.000638 mm, scipy), not its 30-voxel
    /// cranio-caudal extent.
    func testCoronalGridSlicesAcrossTheCranioCaudalAxis() {
        let dir = Matrix3(columns: Vector3(1, 0, 0), Vector3(0, 0, -1), Vector3(0, 1, 0))
        let grid = ImageGrid(size: Size3(6, 40, 30), spacing: Vector3(0.5, 1.5, 0.7), direction: dir)
        XCTAssertEqual(LesionMeasurement.axialAxis(of: grid), 1)
        let m = mask(grid) { i, j, k in (2..<4).contains(i) && (5..<35).contains(j) && (3..<23).contains(k) }
        let r = LesionMeasurement.measure(m)
        XCTAssertEqual(r.longAxisMM, 196.25.squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(r.shortAxisMM, 1.000638, accuracy: 1e-5)
        XCTAssertEqual(r.slice, 5)
    }

    /// An irregular lesion (a disc narrowing over three slices plus a widening bar in the middle slice) on a
    /// rotated (20 degrees about z), anisotropic grid. Expected values computed independently with numpy 2.4.6
    /// and scipy 1.17.1 (scipy.spatial.ConvexHull of the row and column face points per slice in rotated mm,
    /// brute-force diameter, short axis by sampling 200001 cuts along the long axis;
    /// Tests/python/measurement_crosscheck.py): long 21.306337085 mm in slice 2, short 12.920274 mm, 498 voxels =
    /// 0.94122 ml.
    func testIrregularLesionAgainstScipy() {
        let a = 20 * Double.pi / 180
        let rot = Matrix3(rows: [[cos(a), -sin(a), 0], [sin(a), cos(a), 0], [0, 0, 1]])
        let grid = ImageGrid(size: Size3(40, 36, 5), spacing: Vector3(0.7, 0.9, 3.0), origin: Vector3(5, -3, 20), direction: rot)
        let m = mask(grid) { i, j, k in
            let disc = (1...3).contains(k) && (i - 12) * (i - 12) + (j - 14) * (j - 14) <= 49 - 8 * (k - 2) * (k - 2)
            let bar = k == 2 && (20...34).contains(i) && j >= 10 && j <= 13 + (i - 20) / 5
            return disc || bar
        }
        let r = LesionMeasurement.measure(m)
        XCTAssertEqual(r.longAxisMM, 21.306337085, accuracy: 1e-8)
        XCTAssertEqual(r.slice, 2)
        XCTAssertEqual(r.shortAxisMM, 12.920274, accuracy: 1e-4)
        XCTAssertEqual(m.count, 498)
        XCTAssertEqual(r.volumeML, 0.94122, accuracy: 1e-9)
    }

    func testEmptyMaskMeasuresZero() {
        let grid = ImageGrid(size: Size3(4, 4, 4))
        let r = LesionMeasurement.measure(Mask(grid: grid, repeating: false))
        XCTAssertEqual(r, .zero)
        XCTAssertNil(r.slice)
    }
}

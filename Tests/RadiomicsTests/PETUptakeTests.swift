import XCTest
import ImagingCore
@testable import Radiomics

/// SUVmax, SUVmean, SUVpeak, MTV and TLG on the original grid, against uptake patterns whose 1 cm³ sphere
/// means are computed by hand.
final class PETUptakeTests: XCTestCase {
    /// The radius of a 1 cm³ sphere: (3 / 4π)^(1/3) cm.
    func testPeakRadiusIsThatOfOneCubicCentimetre() {
        XCTAssertEqual(PETUptake.peakRadiusMM, 6.2035, accuracy: 1e-4)
        XCTAssertEqual(4 / 3 * Double.pi * pow(PETUptake.peakRadiusMM, 3), 1000, accuracy: 1e-9)
    }

    private func image(_ size: Size3, spacing: Vector3, background: Float) -> Volume<Float> {
        Volume(grid: ImageGrid(size: size, spacing: spacing), repeating: background)
    }

    /// One hot voxel (SUV 20.83) in a background of 2.5 on 4 mm isotropic voxels; the lesion is the 3 x 3 x 3
    /// block around it. The sphere of radius 6.2035 mm holds the voxel centres at squared index distance
    /// 0, 1 or 2 (16 x 2 = 32 <= 38.48 < 48 = 16 x 3): 1 + 6 + 12 = 19 voxels. Every sphere that contains the hot
    /// voxel holds it once and 18 background voxels, so SUVpeak = (20.83 + 18 x 2.5) / 19 = 3.46474 (never the
    /// hot voxel alone), and the spheres without it have mean 2.5.
    func testHotVoxelInUniformBackground() throws {
        var img = image(Size3(11, 11, 11), spacing: Vector3(4, 4, 4), background: 2.5)
        img[5, 5, 5] = 20.83
        var mask = Mask(grid: img.grid, repeating: false)
        for k in 4...6 { for j in 4...6 { for i in 4...6 { mask[i, j, k] = true } } }
        let p = try PETUptake(image: img, mask: mask)
        XCTAssertEqual(p.suvMax, Double(Float(20.83)))
        XCTAssertEqual(p.suvPeak, (Double(Float(20.83)) + 18 * 2.5) / 19, accuracy: 1e-12)
        XCTAssertEqual(p.suvMean, (Double(Float(20.83)) + 26 * 2.5) / 27, accuracy: 1e-12)
        XCTAssertEqual(p.mtvML, 27 * 64 / 1000.0, accuracy: 1e-12)
        XCTAssertEqual(p.tlg, p.suvMean * p.mtvML, accuracy: 1e-12)
    }

    /// On 4 x 4 x 3 mm voxels the sphere holds 21 voxels: in the centre slice 16(a² + b²) <= 38.48 (9 voxels),
    /// in the slices +-1 16(a² + b²) <= 38.48 - 9 (5 each), in the slices +-2 only the column centre (1 each).
    func testAnisotropicVoxelsCountTheSphereByVoxelCentres() throws {
        var img = image(Size3(9, 9, 9), spacing: Vector3(4, 4, 3), background: 1)
        img[4, 4, 4] = 22
        var mask = Mask(grid: img.grid, repeating: false)
        mask[4, 4, 4] = true
        let p = try PETUptake(image: img, mask: mask)
        XCTAssertEqual(p.suvPeak, (22 + 20 * 1) / 21, accuracy: 1e-12)
        // Moving the hot voxel to the slice +2 keeps it in the sphere (3 x 2 = 6 mm <= 6.2035 mm); +3 does not.
        img[4, 4, 4] = 1
        img[4, 4, 6] = 22
        XCTAssertEqual(try PETUptake(image: img, mask: mask).suvPeak, (22 + 20 * 1) / 21, accuracy: 1e-12)
        img[4, 4, 6] = 1
        img[4, 4, 7] = 22
        XCTAssertEqual(try PETUptake(image: img, mask: mask).suvPeak, 1, accuracy: 1e-12)
        XCTAssertEqual(try PETUptake(image: img, mask: mask).suvMax, 1)
    }

    /// The sphere is not restricted to the lesion: a cold one-voxel lesion (SUV 1) in hot surroundings (SUV 10)
    /// has SUVpeak (1 + 18 x 10) / 19, above its SUVmax.
    func testTheSphereReachesBeyondTheContour() throws {
        var img = image(Size3(7, 7, 7), spacing: Vector3(4, 4, 4), background: 10)
        img[3, 3, 3] = 1
        var mask = Mask(grid: img.grid, repeating: false)
        mask[3, 3, 3] = true
        let p = try PETUptake(image: img, mask: mask)
        XCTAssertEqual(p.suvMax, 1)
        XCTAssertEqual(p.suvPeak, (1 + 18 * 10) / 19.0, accuracy: 1e-12)
    }

    /// At the image corner the sphere keeps the 7 voxels inside the image (index offsets >= 0 with squared
    /// length <= 2): SUVpeak = (H + 6 B) / 7 with H the corner voxel.
    func testVoxelsBeyondTheImageEdgeAreLeftOut() throws {
        var img = image(Size3(6, 6, 6), spacing: Vector3(4, 4, 4), background: 2)
        img[0, 0, 0] = 16
        var mask = Mask(grid: img.grid, repeating: false)
        mask[0, 0, 0] = true
        XCTAssertEqual(try PETUptake(image: img, mask: mask).suvPeak, (16 + 6 * 2) / 7.0, accuracy: 1e-12)
    }

    /// Centres are restricted to the contour: a hotter spot outside the lesion, farther than the radius from every
    /// lesion voxel, does not raise SUVpeak. A linear gradient along x (SUV = 1 + 0.1 x mm) has sphere means equal
    /// to the centre's value (the sphere is symmetric), so SUVpeak is the value at the lesion's highest-x voxel.
    func testCentresAreLesionVoxelsAndASymmetricSphereAveragesAGradientToItsCentre() throws {
        let g = ImageGrid(size: Size3(20, 9, 9), spacing: Vector3(2, 2, 2))
        let img = Volume(grid: g, voxels: (0..<g.voxelCount).map { n in Float(1 + 0.1 * Double(g.index(ofLinear: n).i) * 2) })
        var mask = Mask(grid: g, repeating: false)
        for i in 4...8 { mask[i, 4, 4] = true }
        let p = try PETUptake(image: img, mask: mask)
        // The sphere at 2 mm holds offsets with 4(a² + b² + c²) <= 38.48: symmetric in a, so the mean is exact up to
        // float rounding of the voxel values.
        XCTAssertEqual(p.suvPeak, 1 + 0.1 * 16, accuracy: 1e-6)
        XCTAssertEqual(p.suvMax, Double(Float(1 + 0.1 * 16)))
    }

    /// Non-integer SUVs go through untouched: the values are the float voxels themselves, summed in double.
    func testValuesAreNeverRounded() throws {
        let g = ImageGrid(size: Size3(5, 5, 5), spacing: Vector3(4.07, 4.07, 3.27))
        var img = Volume(grid: g, repeating: Float(0.37))
        img[2, 2, 2] = 20.83
        img[2, 3, 2] = 4.93
        var mask = Mask(grid: g, repeating: false)
        mask[2, 2, 2] = true
        mask[2, 3, 2] = true
        let p = try PETUptake(image: img, mask: mask)
        XCTAssertEqual(p.suvMax, Double(Float(20.83)))
        XCTAssertNotEqual(p.suvMax, 21)
        XCTAssertEqual(p.suvMean, (Double(Float(20.83)) + Double(Float(4.93))) / 2, accuracy: 1e-12)
    }

    func testMaskOnAnotherGridIsRefused() {
        let img = image(Size3(4, 4, 4), spacing: Vector3(4, 4, 4), background: 1)
        let mask = Mask(grid: ImageGrid(size: Size3(4, 4, 5), spacing: Vector3(4, 4, 4)), repeating: true)
        XCTAssertThrowsError(try PETUptake(image: img, mask: mask))
    }
}

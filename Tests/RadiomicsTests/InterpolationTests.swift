import Foundation
import ImagingCore
import XCTest
@testable import Radiomics

/// Resampling kernels: cubic B-spline (`bspline`) as scipy's `map_coordinates(order=3, mode="nearest")`,
/// Keys' cubic convolution (`cubic`), and lesion-box resampling equal to whole-image resampling.
final class InterpolationTests: XCTestCase {
    /// The small test volume of the scipy fixture: v(i, j, k) = ((7i + 13j + 29k) mod 17) * 10 - 50 + ijk.
    static func smallVolume() -> Volume<Float> {
        let grid = ImageGrid(size: Size3(6, 5, 4), spacing: Vector3(1.0, 1.2, 2.0))
        var image = Volume<Float>(grid: grid, repeating: 0)
        for k in 0..<4 { for j in 0..<5 { for i in 0..<6 {
            image.voxels[(k * 5 + j) * 6 + i] = Float(((i * 7 + j * 13 + k * 29) % 17) * 10 - 50 + i * j * k)
        } } }
        return image
    }

    /// Resamples `image` (whole image, or the box of `mask`) to `mm` mm with `interpolation`, unrounded.
    static func resampled(_ image: Volume<Float>, mask: Mask? = nil, mm: Double,
                          interpolation: ExtractionSettings.Interpolation,
                          wholeImage: Bool) throws -> PreparedRegion {
        var settings = ExtractionSettings.clinicalDefault
        settings.resampling = .isotropic(mm, interpolation: interpolation, roundIntensities: false)
        let maps = try Resampler.axisMaps(for: image.grid, resampling: settings.resampling)
        let fullNew = Resampler.newGrid(of: image.grid, maps: maps)
        let placed = PlacedMask(wholeImage: mask ?? Mask(grid: image.grid, repeating: true))
        return Preprocessor.resample(image: image, mask: placed, bbox: placed.boundingBox!, maps: maps,
                                     fullNew: fullNew, settings: settings, wholeImage: wholeImage)
    }

    /// The IBSI grid of a 6 x 5 x 4 volume (1.0 x 1.2 x 2.0 mm) at 0.7 mm, by cubic B-spline, equals
    /// scipy to 1e-6. The fixture (every 37th voxel, x fastest, and sum, minimum, maximum of all 972):
    ///
    ///     import numpy as np, scipy.ndimage as ndi                      # scipy 1.17.1
    ///     nx, ny, nz = 6, 5, 4; sp = np.array([1.0, 1.2, 2.0]); new = 0.7
    ///     i, j, k = np.meshgrid(np.arange(nx), np.arange(ny), np.arange(nz), indexing="ij")
    ///     v = (((i * 7 + j * 13 + k * 29) % 17) * 10.0 - 50 + i * j * k).astype(np.float32).astype(np.float64)
    ///     n = np.array([nx, ny, nz]); m = np.ceil(n * sp / new - 1e-9).astype(int)
    ///     step = new / sp; off = (n - 1) / 2 - (m - 1) / 2 * step
    ///     C = np.meshgrid(*[off[a] + np.arange(m[a]) * step[a] for a in range(3)], indexing="ij")
    ///     out = ndi.map_coordinates(v, C, order=3, mode="nearest").transpose(2, 1, 0).ravel()
    ///     print(m, out[::37], out.sum(), out.min(), out.max())
    func testBSplineMatchesScipyMapCoordinatesOrder3Nearest() throws {
        let region = try Self.resampled(Self.smallVolume(), mm: 0.7, interpolation: .bspline, wholeImage: true)
        XCTAssertEqual(region.grid.size, Size3(9, 9, 12))
        let x = region.intensities
        XCTAssertEqual(x.count, 972)
        let expected = [-90.168075194, 84.443195671, 51.631357043, 37.598940819, 28.870385750, -26.603738629,
                        103.201048204, 34.049292460, -30.451107841, 68.903801920, -19.019021245, -13.549500865,
                        10.121398469, 20.051552965, 35.971554133, 4.266624369, 39.775337533, 131.475841219,
                        3.667698752, 48.970805035, 58.195635529, 26.067061045, 62.293772115, 108.625069700,
                        160.603788062, 107.600046596, 43.154929848]
        for (n, value) in expected.enumerated() {
            XCTAssertEqual(x[n * 37], value, accuracy: 1e-6, "voxel \(n * 37)")
        }
        XCTAssertEqual(x.reduce(0, +), 35577.261933695, accuracy: 1e-6 * 972)
        XCTAssertEqual(x.min()!, -90.168075194, accuracy: 1e-6)
        XCTAssertEqual(x.max()!, 170.556738709, accuracy: 1e-6)
    }

    /// B-spline resampling passes through the samples: at the original spacing the image comes back.
    func testBSplineAtOriginalSpacingReturnsTheImage() throws {
        let grid = ImageGrid(size: Size3(7, 7, 7), spacing: Vector3(1, 1, 1))
        var image = Volume<Float>(grid: grid, repeating: 0)
        for t in 0..<image.voxels.count { image.voxels[t] = Float((t * 7919) % 401) - 200 }
        let region = try Self.resampled(image, mm: 1, interpolation: .bspline, wholeImage: true)
        XCTAssertEqual(region.grid.size, grid.size)
        for (a, b) in zip(region.intensities, image.voxels) { XCTAssertEqual(a, Double(b), accuracy: 1e-9) }
    }

    /// On a lesion box in a larger image, B-spline (and Keys) resampling gives the whole-image values:
    /// the prefilter's margin makes cropping invisible.
    func testLesionBoxResamplingEqualsWholeImage() throws {
        let grid = ImageGrid(size: Size3(70, 64, 30), spacing: Vector3(0.8, 0.8, 2.5))
        var image = Volume<Float>(grid: grid, repeating: 0)
        for t in 0..<image.voxels.count { image.voxels[t] = Float((t * 7919) % 1401) - 1000 }
        // One lesion inside, one touching the image's x = 0 and z = 0 faces.
        for (lower, upper) in [(Index3(30, 25, 12), Index3(40, 34, 17)), (Index3(0, 20, 0), Index3(6, 27, 3))] {
            var mask = Mask(grid: grid, repeating: false)
            for k in lower.k...upper.k { for j in lower.j...upper.j { for i in lower.i...upper.i { mask[i, j, k] = true } } }
            for interpolation in [ExtractionSettings.Interpolation.bspline, .cubic] {
                let whole = try Self.resampled(image, mask: mask, mm: 1.1, interpolation: interpolation, wholeImage: true)
                let box = try Self.resampled(image, mask: mask, mm: 1.1, interpolation: interpolation, wholeImage: false)
                let o = box.grid.origin, s = box.grid.spacing
                let shift = (0..<3).map { Int(((o[$0] - whole.grid.origin[$0]) / s[$0]).rounded()) }
                var worst = 0.0
                let n = box.grid.size, w = whole.grid.size
                for k in 0..<n.nz { for j in 0..<n.ny { for i in 0..<n.nx {
                    let a = box.intensities[(k * n.ny + j) * n.nx + i]
                    let b = whole.intensities[((k + shift[2]) * w.ny + j + shift[1]) * w.nx + i + shift[0]]
                    worst = max(worst, abs(a - b))
                } } }
                XCTAssertLessThan(worst, 1e-9, "\(interpolation) lesion at \(lower)")
            }
        }
    }

    /// Keys' cubic convolution (a = -0.5) interpolates the samples and reproduces quadratics exactly.
    func testKeysCubicConvolutionReproducesQuadratics() throws {
        for t in stride(from: 0.0, through: 1.0, by: 0.125) {
            let w = Resampler.keysWeights(t)
            XCTAssertEqual(w.reduce(0, +), 1, accuracy: 1e-12)
            // Samples at -1, 0, 1, 2 of f(x) = 3x² - 2x + 5.
            let f = { (x: Double) in 3 * x * x - 2 * x + 5 }
            let value = zip(w, [-1.0, 0, 1, 2]).map { $0 * f($1) }.reduce(0, +)
            XCTAssertEqual(value, f(t), accuracy: 1e-12, "t = \(t)")
        }
        XCTAssertEqual(Resampler.keysWeights(0), [0, 1, 0, 0])
        // The B-spline kernel smooths (1/6, 4/6, 1/6 at a sample): it interpolates only after the prefilter.
        let b = Resampler.bSplineWeights(0)
        XCTAssertEqual(b[0], 1.0 / 6, accuracy: 1e-15)
        XCTAssertEqual(b[1], 4.0 / 6, accuracy: 1e-15)
    }
}

import ImagingCore
@testable import Radiomics
import XCTest

/// Response maps are computed over the part of the region's box that the families read (`ResponseMaps.mapBox`),
/// which rests on two facts checked here: a filter's response at a voxel does not depend on the box it is computed
/// over (the same bits over a box and over a part of it), and the part holds every row a family reads.
final class ResponseMapBoxTests: XCTestCase {
    typealias Random = FastPathTests.Random

    /// An image of random non-integer intensities with anisotropic voxels.
    static func image(_ size: Size3, seed: UInt64) -> (values: [Double], spacing: Vector3) {
        var random = Random(state: seed)
        let values = (0..<size.count).map { _ in Double(Float(random.next() * 800 - 300)) }
        return (values, Vector3(0.9, 0.8, 2.5))
    }

    static func whole(_ n: Size3) -> IndexBox {
        IndexBox(lower: Index3(0, 0, 0), upper: Index3(n.nx - 1, n.ny - 1, n.nz - 1))
    }

    /// The values of `part` (indices of `box`) among values over `box`.
    static func values(_ values: [Double], over box: IndexBox, in part: IndexBox) -> [Double] {
        Preprocessor.crop(values, size: box.size, to: IndexBox(
            lower: Index3(part.lower.i - box.lower.i, part.lower.j - box.lower.j, part.lower.k - box.lower.k),
            upper: Index3(part.upper.i - box.lower.i, part.upper.j - box.lower.j, part.upper.k - box.lower.k)))
    }

    func testResponseAtAVoxelDoesNotDependOnTheBox() throws {
        let size = Size3(34, 30, 16)
        let (values, spacing) = Self.image(size, seed: 7)
        let whole = Self.whole(size)
        let filters: [FilterSpec] = [
            .gradient(useSpacing: true),
            .square,
            .laplacianOfGaussian(sigmaMM: 2, truncate: nil, dimensions: nil, boundary: .mirror),
            .laplacianOfGaussian(sigmaMM: 1, truncate: nil, dimensions: .twoD, boundary: .zero),
            .mean(support: 5, dimensions: nil, boundary: .nearest),
            .laws(kernels: "L5E5E5", energyDistance: 2, rotationInvariant: true, pooling: .max, boundary: .mirror),
            .wavelet(wavelet: "db2", subband: "LHL", level: 2, rotationInvariant: nil, pooling: nil, boundary: .periodic),
            .gabor(sigmaMM: 2, gamma: 0.8, lambdaMM: 3, thetaDegrees: 30, thetaStepDegrees: nil, rotationInvariant: nil,
                   pooling: nil, orthogonalPlanes: nil, truncate: 3, boundary: .mirror),
        ]
        // A box inside the image, and one at its edge (where the boundary conditions apply); each cropped as
        // `mapBox` crops, in x too.
        let boxes = [IndexBox(lower: Index3(9, 8, 4), upper: Index3(24, 21, 11)),
                     IndexBox(lower: Index3(0, 0, 0), upper: Index3(15, 13, 7))]
        for box in boxes {
            let part = IndexBox(lower: Index3(box.lower.i + 1, box.lower.j + 2, box.lower.k + 1),
                                upper: Index3(box.upper.i - 2, box.upper.j - 3, box.upper.k - 2))
            for filter in filters {
                let overBox = try ResponseMaps.response(filter, values: values, readBox: whole, box: box, spacing: spacing,
                                                        maxAbsolute: 500)
                let overPart = try ResponseMaps.response(filter, values: values, readBox: whole, box: part, spacing: spacing,
                                                         maxAbsolute: 500)
                XCTAssertEqual(Self.values(overBox, over: box, in: part).map(\.bitPattern), overPart.map(\.bitPattern),
                               "\(filter.token) over \(box)")
            }
            // The eight sub-bands of one decomposition, computed together.
            let bands = ["LLH", "LHL", "LHH", "HLL", "HLH", "HHL", "HHH", "LLL"].map {
                FilterSpec.wavelet(wavelet: "coif1", subband: $0, level: 1, rotationInvariant: nil, pooling: nil, boundary: .periodic)
            }
            let singles = values.map(Float.init)
            let overBox = ResponseMaps.sharedWaveletResponses(bands, singles: singles, readBox: whole, box: box, spacing: spacing)
            let overPart = ResponseMaps.sharedWaveletResponses(bands, singles: singles, readBox: whole, box: part, spacing: spacing)
            XCTAssertEqual(overBox.count, 8)
            for (n, map) in overBox {
                let a = Self.values(map.voxels.map(Double.init), over: box, in: part)
                XCTAssertEqual(a.map(\.bitPattern), try XCTUnwrap(overPart[n]).voxels.map { Double($0).bitPattern },
                               "\(bands[n].token) over \(box)")
            }
        }
    }

    func testMapBoxHoldsTheMasksRowsAndTheLocalIntensitySphere() {
        let size = Size3(30, 40, 20), spacing = Vector3(0.9, 0.8, 2.5)
        var morph = [Bool](repeating: false, count: size.count)
        // Morphological mask rows 15...22, slices 8...10; the intensity mask (re-segmented) within it.
        for k in 8...10 { for j in 15...22 { for i in 10...18 { morph[(k * size.ny + j) * size.nx + i] = true } } }
        var inside = morph
        inside[(8 * size.ny + 15) * size.nx + 10] = false
        let region = PreparedRegion(grid: ImageGrid(size: size, spacing: spacing), intensities: [Double](repeating: 0, count: size.count),
                                    morphMask: morph, intensityMask: inside)
        let log = [FilterSpec.laplacianOfGaussian(sigmaMM: 1, truncate: nil, dimensions: nil, boundary: nil)]
        // The sphere (radius 6.2 mm) reaches 7 rows of 0.8 mm and 2 slices of 2.5 mm; x stays whole.
        let reach = LocalIntensity.reach(spacing: spacing)
        XCTAssertEqual(reach.rows, 7)
        XCTAssertEqual(reach.slices, 2)
        XCTAssertEqual(ResponseMaps.mapBox(region, families: [.intensity, .localIntensity, .glcm], filters: log),
                       IndexBox(lower: Index3(0, 8, 6), upper: Index3(29, 29, 12)))
        // Without local intensity, the masks' box.
        XCTAssertEqual(ResponseMaps.mapBox(region, families: [.intensity, .glszm], filters: log),
                       IndexBox(lower: Index3(10, 15, 8), upper: Index3(18, 22, 10)))
        // Clipped to the box.
        XCTAssertEqual(ResponseMaps.mapBox(region, families: [.localIntensity], filters: log + [.gradient(useSpacing: nil)]).lower,
                       Index3(0, 8, 6))
        // A Simoncelli wavelet on a margin transforms a domain that grows with the box: the whole box.
        let simoncelli = FilterSpec.simoncelli(level: 1, marginVoxels: 4, dimensions: nil, boundary: nil)
        XCTAssertEqual(ResponseMaps.mapBox(region, families: [.intensity], filters: log + [simoncelli]), Self.whole(size))
        // A Gabor filter convolves through FFTs whose size follows the box (the last bits with it): the whole box.
        let gabor = FilterSpec.gabor(sigmaMM: 5, gamma: 1.5, lambdaMM: 2, thetaDegrees: 0, thetaStepDegrees: 22.5,
                                     rotationInvariant: true, pooling: .mean, orthogonalPlanes: nil, truncate: nil, boundary: nil)
        XCTAssertEqual(ResponseMaps.mapBox(region, families: [.intensity], filters: log + [gabor]), Self.whole(size))
        // Nothing to read: the whole box.
        let empty = PreparedRegion(grid: region.grid, intensities: region.intensities,
                                   morphMask: [Bool](repeating: false, count: size.count),
                                   intensityMask: [Bool](repeating: false, count: size.count))
        XCTAssertEqual(ResponseMaps.mapBox(empty, families: [.intensity], filters: log), Self.whole(size))
    }
}

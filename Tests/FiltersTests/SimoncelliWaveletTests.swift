import XCTest
import ImagingCore
import TestSupport
import Filters

/// The Simoncelli wavelet against the IBSI 2 phase 1 consensus maps (8A1-8A3) and its defining properties.
final class SimoncelliWaveletTests: XCTestCase {
    func test8A1SimoncelliLevel1() throws {
        try IBSI2.assertConforms(SimoncelliWavelet(level: 1, boundary: .periodic), phantom: "checkerboard",
                                 map: "id_8_checkerboard_CT_8A1_wavelet_simoncelli_B_level_1", configuration: "8A1")
    }

    func test8A2SimoncelliLevel2() throws {
        try IBSI2.assertConforms(SimoncelliWavelet(level: 2, boundary: .periodic), phantom: "checkerboard",
                                 map: "id_8_checkerboard_CT_8A2_wavelet_simoncelli_B_level_2", configuration: "8A2")
    }

    func test8A3SimoncelliLevel3() throws {
        try IBSI2.assertConforms(SimoncelliWavelet(level: 3, boundary: .periodic), phantom: "checkerboard",
                                 map: "id_8_checkerboard_CT_8A3_wavelet_simoncelli_B_level_3", configuration: "8A3")
    }

    /// ψ̂ is 1 at the centre of its octave band (ν = ν_l/2), 0 at and beyond its ends, halved level by level.
    func testTransferFunction() throws {
        for level in 1...3 {
            let f = try SimoncelliWavelet(level: level)
            let top = 1 / Double(1 << (level - 1))
            XCTAssertEqual(f.transferFunction(top / 2), 1, accuracy: 1e-15)
            XCTAssertEqual(f.transferFunction(top), 0, accuracy: 1e-15)
            XCTAssertEqual(f.transferFunction(top / 4), 0, accuracy: 1e-15)
            XCTAssertEqual(f.transferFunction(top * 1.01), 0)
            XCTAssertEqual(f.transferFunction(top / 4.01), 0)
            // cos(π/2 · log₂(2 · 3/4)) at ν = 3/4 ν_l.
            XCTAssertEqual(f.transferFunction(0.75 * top), cos(Double.pi / 2 * log2(1.5)), accuracy: 1e-15)
        }
        XCTAssertThrowsError(try SimoncelliWavelet(level: 0))
        XCTAssertThrowsError(try SimoncelliWavelet(level: 1, margin: -1)) {
            XCTAssertEqual($0 as? WaveletError, .badMargin(-1))
        }
    }

    /// A band-pass filter: a constant image responds 0 everywhere (2D and 3D).
    func testConstantImageGivesZero() throws {
        let image = Volume<Float>(grid: ImageGrid(size: Size3(9, 8, 5)), repeating: 7)
        for d in FilterDimensionality.allCases {
            let r = try SimoncelliWavelet(level: 1, dimensionality: d).response(of: image)
            XCTAssertLessThan(r.voxels.map { abs($0) }.max()!, 1e-9, d.rawValue)
        }
    }

    /// Slice by slice: each slice's response depends on that slice only, and a box's slices equal the whole
    /// image's (the in-plane domain is the whole slice without a margin).
    func testSliceBySliceAndBoxes() throws {
        var image = Volume<Float>(grid: ImageGrid(size: Size3(10, 9, 4)), repeating: 0)
        for k in 0..<4 { for j in 0..<9 { for i in 0..<10 { image[i, j, k] = Float((i * 7 + j * 13 + k * 29) % 17) } } }
        let f = try SimoncelliWavelet(level: 1, dimensionality: .twoD)
        let whole = f.response(of: image)
        let box = IndexBox(lower: Index3(2, 1, 1), upper: Index3(6, 7, 2))
        let part = f.response(of: image, over: box)
        let worst = zip(part.voxels, whole.cropped(to: box).voxels).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(worst, 1e-4)
        var lone = Volume<Float>(grid: ImageGrid(size: Size3(10, 9, 1)), repeating: 0)
        for j in 0..<9 { for i in 0..<10 { lone[i, j, 0] = image[i, j, 2] } }
        let loneResponse = f.response(of: lone)
        let slice2 = whole.cropped(to: IndexBox(lower: Index3(0, 0, 2), upper: Index3(9, 8, 2)))
        XCTAssertLessThan(zip(loneResponse.voxels, slice2.voxels).map { abs($0 - $1) }.max()!, 1e-4)
    }

    /// With a margin the domain is the box grown to a power-of-two length; for a whole 16x16x8 image, margin 0
    /// and periodic padding that domain is the image itself, so the response equals the whole-image definition.
    /// A box's margin response is finite, on the box's grid, and zero for a constant image.
    func testMarginDomain() throws {
        var image = Volume<Float>(grid: ImageGrid(size: Size3(16, 16, 8)), repeating: 0)
        for k in 0..<8 { for j in 0..<16 { for i in 0..<16 { image[i, j, k] = Float((i * 7 + j * 13 + k * 29) % 17) } } }
        let exact = try SimoncelliWavelet(level: 1, boundary: .periodic).response(of: image)
        let margin0 = try SimoncelliWavelet(level: 1, boundary: .periodic, margin: 0).response(of: image)
        XCTAssertLessThan(zip(exact.voxels, margin0.voxels).map { abs($0 - $1) }.max()!, 1e-4)
        XCTAssertGreaterThan(exact.voxels.map { abs($0) }.max()!, 1)
        let box = IndexBox(lower: Index3(5, 6, 2), upper: Index3(9, 8, 4))
        let local = try SimoncelliWavelet(level: 2, boundary: .mirror, margin: 4).response(of: image, over: box)
        XCTAssertEqual(local.grid, image.grid.subgrid(box))
        XCTAssertTrue(local.voxels.allSatisfy { $0.isFinite })
        let flat = Volume<Float>(grid: image.grid, repeating: 3)
        let zero = try SimoncelliWavelet(level: 1, boundary: .mirror, margin: 4).response(of: flat, over: box)
        XCTAssertLessThan(zero.voxels.map { abs($0) }.max()!, 1e-9)
    }

    func testTokens() throws {
        XCTAssertEqual(try SimoncelliWavelet(level: 2).token, "wavelet_simoncelli_l2")
        XCTAssertEqual(try SimoncelliWavelet(level: 1, dimensionality: .twoD, margin: 16).token,
                       "wavelet_simoncelli_l1_m16_2d")
    }
}

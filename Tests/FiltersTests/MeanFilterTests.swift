import XCTest
import Filters
import ImagingCore

final class MeanFilterTests: XCTestCase {
    func testPhase1_1A1_ZeroPadding() throws {
        try IBSI2.assertConforms(MeanFilter(support: 15, boundary: .zero), phantom: "checkerboard",
                                 map: "id_1_checkerboard_CT_1A1_mean", configuration: "1A1")
    }

    func testPhase1_1A2_NearestPadding() throws {
        try IBSI2.assertConforms(MeanFilter(support: 15, boundary: .nearest), phantom: "checkerboard",
                                 map: "id_1_checkerboard_CT_1A2_mean", configuration: "1A2")
    }

    func testPhase1_1A3_PeriodicPadding() throws {
        try IBSI2.assertConforms(MeanFilter(support: 15, boundary: .periodic), phantom: "checkerboard",
                                 map: "id_1_checkerboard_CT_1A3_mean", configuration: "1A3")
    }

    func testPhase1_1A4_MirrorPadding() throws {
        try IBSI2.assertConforms(MeanFilter(support: 15, boundary: .mirror), phantom: "checkerboard",
                                 map: "id_1_checkerboard_CT_1A4_mean", configuration: "1A4")
    }

    func testPhase1_1B1_SliceBySlice() throws {
        try IBSI2.assertConforms(MeanFilter(support: 15, dimensionality: .twoD, boundary: .zero), phantom: "impulse",
                                 map: "id_1_impulse_CT_1B1_mean", configuration: "1B1")
    }

    /// A 3x3x3 mean on a small ramp, by hand: the centre voxel of a linear image is its own mean, and a zero-padded
    /// corner sees 8 of its 27 neighbours.
    func testSmallImageByHand() {
        let grid = ImageGrid(size: Size3(4, 3, 3))
        let image = Volume<Float>(grid: grid, voxels: (0..<36).map { Float($0) })
        let r = MeanFilter(support: 3, boundary: .zero).response(of: image)
        // Voxel (1,1,1) = 1 + 4 + 12 = 17: mean of the 27 neighbours of a linear ramp is the centre value.
        XCTAssertEqual(r[1, 1, 1], 17, accuracy: 1e-5)
        // Corner (0,0,0): neighbours with i,j,k in {0,1}: values i + 4j + 12k, sum = 8 * (0.5 + 2 + 6) = 68.
        XCTAssertEqual(r[0, 0, 0], 68 / 27, accuracy: 1e-5)
        XCTAssertEqual(MeanFilter(support: 15).token, "mean_s15")
        XCTAssertEqual(MeanFilter(support: 5, dimensionality: .twoD).token, "mean_s5_2d")
    }

    /// The response over a box equals the whole response cropped to it, for every boundary condition, including
    /// boxes touching the image's edges.
    func testBoxResponseEqualsCroppedWholeResponse() {
        let image = FilterTestImages.random(Size3(12, 10, 7), spacing: Vector3(0.8, 0.8, 2.5))
        for boundary in BoundaryCondition.allCases {
            for dims in FilterDimensionality.allCases {
                FilterTestImages.assertBoxEqualsCropped(MeanFilter(support: 5, dimensionality: dims, boundary: boundary),
                                                        image)
            }
        }
    }
}

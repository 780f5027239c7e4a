import XCTest
import Filters
import ImagingCore

final class LaplacianOfGaussianFilterTests: XCTestCase {
    func testPhase1_2A_Impulse3D() throws {
        try IBSI2.assertConforms(LaplacianOfGaussianFilter(sigma: 3, truncation: 4, boundary: .zero),
                                 phantom: "impulse", map: "id_2_impulse_CT_2A_log_s3.0", configuration: "2A")
    }

    func testPhase1_2B_Checkerboard3D() throws {
        try IBSI2.assertConforms(LaplacianOfGaussianFilter(sigma: 5, truncation: 4, boundary: .mirror),
                                 phantom: "checkerboard", map: "id_2_checkerboard_CT_2B_log_s5.0", configuration: "2B")
    }

    func testPhase1_2C_Checkerboard2D() throws {
        try IBSI2.assertConforms(LaplacianOfGaussianFilter(sigma: 5, truncation: 4, dimensionality: .twoD,
                                                           boundary: .mirror),
                                 phantom: "checkerboard", map: "id_2_checkerboard_CT_2C_log_s5.0", configuration: "2C")
    }

    /// The 1D pieces: a normalised Gaussian (sums to 1 up to the truncated tails) whose second derivative sums to
    /// about 0, radius ⌊4σ + ½⌋; the centre of the 3D kernel is -d/σ² (2πσ²)^(-3/2).
    func testKernelPieces() {
        let s = 1.5
        let (g, d2) = LaplacianOfGaussianFilter.kernels(sigmaVoxels: s, truncation: 4)
        XCTAssertEqual(g.weights.count, 13)
        XCTAssertEqual(g.center, 6)
        XCTAssertEqual(g.weights.reduce(0, +), 1, accuracy: 1e-4)
        XCTAssertEqual(d2.weights.reduce(0, +), 0, accuracy: 1e-3)
        XCTAssertEqual(g.weights, g.weights.reversed())
        let centre = 3 * d2.weights[6] * g.weights[6] * g.weights[6]
        XCTAssertEqual(centre, -3 / (s * s) * pow(2 * Double.pi * s * s, -1.5), accuracy: 1e-12)
        XCTAssertEqual(LaplacianOfGaussianFilter(sigma: 1.5).token, "log_s1.5")
        XCTAssertEqual(LaplacianOfGaussianFilter(sigma: 3, dimensionality: .twoD).token, "log_s3_2d")
    }

    func testBoxResponseEqualsCroppedWholeResponse() {
        let image = FilterTestImages.random(Size3(30, 26, 9), spacing: Vector3(1, 1, 2))
        for boundary in BoundaryCondition.allCases {
            for dims in FilterDimensionality.allCases {
                FilterTestImages.assertBoxEqualsCropped(LaplacianOfGaussianFilter(sigma: 2, dimensionality: dims,
                                                                                  boundary: boundary), image)
            }
        }
    }
}

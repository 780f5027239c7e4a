import XCTest
import Filters
import ImagingCore

final class GaborFilterTests: XCTestCase {
    func testPhase1_4A1() throws {
        try IBSI2.assertConforms(GaborFilter(sigma: 10, gamma: 0.5, lambda: 4, theta: 60, dimensionality: .twoD,
                                             boundary: .zero),
                                 phantom: "impulse", map: "id_4_impulse_CT_4A1_gabor_s_10.0_g_0.5_l_4.0_t_0.3333333333333333_3D",
                                 configuration: "4A1")
    }

    func testPhase1_4A2() throws {
        try IBSI2.assertConforms(GaborFilter(sigma: 10, gamma: 0.5, lambda: 4, theta: 0, thetaStep: 45,
                                             rotationInvariant: true, pooling: .mean, dimensionality: .threeD,
                                             boundary: .zero),
                                 phantom: "impulse",
                                 map: "id_4_impulse_CT_4A2_gabor_s_10.0_g_0.5_l_4.0_t_0.0_tstep_0.25_3D_invar",
                                 configuration: "4A2")
    }

    func testPhase1_4B1() throws {
        try IBSI2.assertConforms(GaborFilter(sigma: 20, gamma: 2.5, lambda: 8, theta: 225, dimensionality: .twoD,
                                             boundary: .mirror),
                                 phantom: "sphere", map: "id_4_sphere_CT_4B1_gabor_s_20.0_g_2.5_l_8.0_t_1.25_3D",
                                 configuration: "4B1")
    }

    func testPhase1_4B2() throws {
        try IBSI2.assertConforms(GaborFilter(sigma: 20, gamma: 2.5, lambda: 8, theta: 0, thetaStep: 22.5,
                                             rotationInvariant: true, pooling: .mean, dimensionality: .threeD,
                                             boundary: .mirror),
                                 phantom: "sphere",
                                 map: "id_4_sphere_CT_4B2_gabor_s_20.0_g_2.5_l_8.0_t_0.0_tstep_0.125_3D_invar",
                                 configuration: "4B2")
    }

    /// g(-x) = conj(g(x)) (even real part, odd imaginary part), |g(0)| = 1, and the modulus of the kernel equals
    /// the envelope.
    func testKernelSymmetry() {
        let f = GaborFilter(sigma: 6, gamma: 0.7, lambda: 5, theta: 30)
        let k = f.kernel(thetaDegrees: 30, sigmaVoxels: 3, lambdaVoxels: 2.5, radius: 12)
        let n = 25
        XCTAssertEqual(k.re[12 * n + 12], 1, accuracy: 1e-15)
        XCTAssertEqual(k.im[12 * n + 12], 0, accuracy: 1e-15)
        for v in 0..<n { for u in 0..<n {
            let a = v * n + u, b = (n - 1 - v) * n + (n - 1 - u)
            XCTAssertEqual(k.re[a], k.re[b], accuracy: 1e-12)
            XCTAssertEqual(k.im[a], -k.im[b], accuracy: 1e-12)
        } }
        XCTAssertEqual(f.orientations, [30])
        XCTAssertEqual(GaborFilter(sigma: 5, gamma: 1.5, lambda: 2, thetaStep: 22.5).orientations.count, 16)
        XCTAssertEqual(GaborFilter(sigma: 5, gamma: 1.5, lambda: 2, theta: 0, thetaStep: 22.5).token,
                       "gabor_s5_g1.5_l2_t0_step22.5_mean_2d")
    }

    func testBoxResponseEqualsCroppedWholeResponse() {
        let image = FilterTestImages.random(Size3(24, 20, 10))
        for boundary in BoundaryCondition.allCases {
            FilterTestImages.assertBoxEqualsCropped(GaborFilter(sigma: 3, gamma: 0.8, lambda: 4, theta: 0, thetaStep: 90,
                                                                rotationInvariant: true, dimensionality: .threeD,
                                                                boundary: boundary), image, tolerance: 1e-3)
        }
    }
}

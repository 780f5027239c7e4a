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

    /// The premise of computing θ and θ + 180° once: their kernels are complex conjugates, so the moduli of a real
    /// image's responses are equal.
    func testOppositeOrientationsHaveEqualModuli() {
        let f = GaborFilter(sigma: 4, gamma: 0.6, lambda: 3, theta: 0)
        let block = FilterBlock(origin: Index3(0, 0, 0), size: Size3(30, 28, 2),
                                values: (0..<1680).map { sin(Double($0) * 0.61) * 50 + Double($0 % 7) })
        let a = block.convolvedValid(with: f.kernel(thetaDegrees: 30, sigmaVoxels: 4, lambdaVoxels: 3, radius: 8),
                                     plane: (a: 0, b: 1))
        let b = block.convolvedValid(with: f.kernel(thetaDegrees: 210, sigmaVoxels: 4, lambdaVoxels: 3, radius: 8),
                                     plane: (a: 0, b: 1))
        for n in a.re.values.indices {
            XCTAssertEqual((a.re.values[n] * a.re.values[n] + a.im.values[n] * a.im.values[n]).squareRoot(),
                           (b.re.values[n] * b.re.values[n] + b.im.values[n] * b.im.values[n]).squareRoot(), accuracy: 1e-9)
            XCTAssertEqual(a.im.values[n], -b.im.values[n], accuracy: 1e-9)
        }
        // A full turn of 8 orientations pools 4 distinct ones twice: the response equals pooling the half turn.
        let image = FilterTestImages.random(Size3(20, 18, 3))
        let full = GaborFilter(sigma: 4, gamma: 0.6, lambda: 3, theta: 10, thetaStep: 45, dimensionality: .twoD)
        let single = [10.0, 55, 100, 145].map {
            GaborFilter(sigma: 4, gamma: 0.6, lambda: 3, theta: $0, dimensionality: .twoD).response(of: image).voxels
        }
        let pooled = full.response(of: image).voxels
        for n in pooled.indices {
            XCTAssertEqual(pooled[n], single.map { $0[n] }.reduce(0, +) / 4, accuracy: 1e-3)
        }
    }

    /// On an anisotropic plane the kernel is sampled in mm: spacing (1, 2) mm equals the (1, 1) kernel's every
    /// other row of a kernel twice as tall.
    func testAnisotropicSampling() {
        let f = GaborFilter(sigma: 6, gamma: 0.8, lambda: 5, theta: 20)
        let k2 = f.kernel(thetaDegrees: 20, sigmaVoxels: 6, lambdaVoxels: 5, radius: 10)   // 21 x 21 at 1 mm
        let image = Volume<Float>(grid: ImageGrid(size: Size3(21, 11, 1), spacing: Vector3(1, 2, 1)),
                                  voxels: (0..<231).map { $0 == 5 * 21 + 10 ? 1 : 0 })
        // An impulse at the centre: the response is |g| at each voxel's offset in mm.
        let r = GaborFilter(sigma: 6, gamma: 0.8, lambda: 5, theta: 20, truncation: 8, dimensionality: .twoD,
                            boundary: .zero).response(of: image)
        for j in 0..<11 { for i in 0..<21 {
            // Voxel (i, j) is at (i - 10, 2 (j - 5)) mm from the impulse; the kernel is applied flipped (convolution).
            let u = 10 - (i - 10), v = 10 - 2 * (j - 5)
            let g = (k2.re[v * 21 + u] * k2.re[v * 21 + u] + k2.im[v * 21 + u] * k2.im[v * 21 + u]).squareRoot()
            XCTAssertEqual(Double(r[i, j, 0]), g, accuracy: 1e-6, "voxel \(i), \(j)")
        } }
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

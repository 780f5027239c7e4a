import XCTest
import Filters
import ImagingCore

final class LawsFilterTests: XCTestCase {
    private func laws(_ name: String, invariant: Bool = false, energy: Int? = nil,
                      _ boundary: BoundaryCondition, dims: FilterDimensionality = .threeD) -> LawsFilter {
        LawsFilter(kernels: LawsKernel.parse(name)!, rotationInvariant: invariant, pooling: .max, energyDelta: energy,
                   dimensionality: dims, boundary: boundary)
    }

    func testPhase1_3A1() throws {
        try IBSI2.assertConforms(laws("E5L5S5", .zero), phantom: "impulse",
                                 map: "id_3_impulse_CT_3A1_laws_E5L5S5", configuration: "3A1")
    }

    func testPhase1_3A2() throws {
        try IBSI2.assertConforms(laws("E5L5S5", invariant: true, .zero), phantom: "impulse",
                                 map: "id_3_impulse_CT_3A2_laws_E5L5S5_invar", configuration: "3A2")
    }

    func testPhase1_3A3() throws {
        try IBSI2.assertConforms(laws("E5L5S5", invariant: true, energy: 7, .zero), phantom: "impulse",
                                 map: "id_3_impulse_CT_3A3_laws_E5L5S5_energy_delta_7_invar", configuration: "3A3")
    }

    func testPhase1_3B1() throws {
        try IBSI2.assertConforms(laws("E3W5R5", .mirror), phantom: "checkerboard",
                                 map: "id_3_checkerboard_CT_3B1_laws_E3W5R5", configuration: "3B1")
    }

    func testPhase1_3B2() throws {
        try IBSI2.assertConforms(laws("E3W5R5", invariant: true, .mirror), phantom: "checkerboard",
                                 map: "id_3_checkerboard_CT_3B2_laws_E3W5R5_invar", configuration: "3B2")
    }

    func testPhase1_3B3() throws {
        try IBSI2.assertConforms(laws("E3W5R5", invariant: true, energy: 7, .mirror), phantom: "checkerboard",
                                 map: "id_3_checkerboard_CT_3B3_laws_E3W5R5_energy_delta_7_invar", configuration: "3B3")
    }

    func testPhase1_3C1() throws {
        try IBSI2.assertConforms(laws("L5S5", .mirror, dims: .twoD), phantom: "checkerboard",
                                 map: "id_3_checkerboard_CT_3C1_laws_L5S5", configuration: "3C1")
    }

    func testPhase1_3C2() throws {
        try IBSI2.assertConforms(laws("L5S5", invariant: true, .mirror, dims: .twoD), phantom: "checkerboard",
                                 map: "id_3_checkerboard_CT_3C2_laws_L5S5_invar", configuration: "3C2")
    }

    func testPhase1_3C3() throws {
        try IBSI2.assertConforms(laws("L5S5", invariant: true, energy: 7, .mirror, dims: .twoD), phantom: "checkerboard",
                                 map: "id_3_checkerboard_CT_3C3_laws_L5S5_energy_delta_7_invar", configuration: "3C3")
    }

    /// The 1D kernels have unit norm; E5 = (-1 -2 0 2 1)/√10, L5 = (1 4 6 4 1)/√70, and the names parse.
    func testKernelValues() {
        for k in LawsKernel.allCases {
            XCTAssertEqual(k.kernel.weights.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-12, k.rawValue)
            XCTAssertEqual(k.kernel.center, k.integerWeights.count / 2)
        }
        XCTAssertEqual(LawsKernel.e5.kernel.weights[0], -1 / 10.0.squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(LawsKernel.l5.kernel.weights[2], 6 / 70.0.squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(LawsKernel.s3.kernel.weights, [-1, 2, -1].map { $0 / 6.0.squareRoot() })
        XCTAssertEqual(LawsKernel.parse("l5e5e5"), [.l5, .e5, .e5])
        XCTAssertNil(LawsKernel.parse("L5X5"))
        XCTAssertEqual(laws("L5E5E5", invariant: true, energy: 7, .mirror).token, "laws_l5e5e5_energy_d7_invar_max")
        XCTAssertEqual(laws("L5E5", .mirror, dims: .twoD).token, "laws_l5e5_2d")
    }

    /// 24 distinct rotations in 3D, 4 in 2D, all proper; a kernel with three different asymmetric 1D kernels has
    /// 24 distinct rotated copies, one of three equal symmetric ones only 1.
    func testRotations() {
        XCTAssertEqual(Set(RightAngleRotation.all3D).count, 24)
        XCTAssertTrue(RightAngleRotation.all3D.allSatisfy { $0.determinant == 1 })
        XCTAssertEqual(Set(RightAngleRotation.all2D).count, 4)
        XCTAssertTrue(RightAngleRotation.all2D.allSatisfy { $0.determinant == 1 && $0.permutation[2] == 2 })
        XCTAssertEqual(laws("E5W5E3", invariant: true, .zero).rotatedKernels.count, 24)
        XCTAssertEqual(laws("L5L5L5", invariant: true, .zero).rotatedKernels.count, 1)
        XCTAssertEqual(laws("E5L5", invariant: true, .zero, dims: .twoD).rotatedKernels.count, 4)
    }

    func testBoxResponseEqualsCroppedWholeResponse() {
        let image = FilterTestImages.random(Size3(20, 18, 16))
        for boundary in BoundaryCondition.allCases {
            FilterTestImages.assertBoxEqualsCropped(laws("E5L5S5", invariant: true, energy: 3, boundary, dims: .threeD), image)
            FilterTestImages.assertBoxEqualsCropped(laws("E3S5", invariant: true, energy: 2, boundary, dims: .twoD), image)
        }
    }
}

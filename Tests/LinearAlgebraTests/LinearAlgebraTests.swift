import LinearAlgebra
import XCTest

final class LinearAlgebraTests: XCTestCase {
    /// OpenBLAS is loaded by the first product (not linked), and its idle workers can be stopped afterwards.
    func testOpenBLASIsLoadedByTheFirstProduct() {
        XCTAssertEqual(Matrix([[2]]) * Matrix([[3]]), Matrix([[6]]))
        XCTAssertTrue(BLASThreads.isLoaded)
        BLASThreads.stopIdleWorkers()
        XCTAssertEqual(Matrix([[1, 2], [3, 4]]) * [1, 1], [3, 7], "products go on after the workers are stopped")
    }

    func testMatrixProductsMatchHandComputedValues() {
        let a = Matrix([[1, 2, 3], [4, 5, 6]])
        let b = Matrix([[7, 8], [9, 10], [11, 12]])
        XCTAssertEqual(a * b, Matrix([[58, 64], [139, 154]]))
        XCTAssertEqual(a.multiplied(by: a, transposingSelf: true),
                       Matrix([[17, 22, 27], [22, 29, 36], [27, 36, 45]]))
        XCTAssertEqual(a.multiplied(by: a, transposingOther: true), Matrix([[14, 32], [32, 77]]))
        XCTAssertEqual(a * [1, 0, -1], [-2, -2])
        XCTAssertEqual(a.multiplied(by: [1, 1], transposingSelf: true), [5, 7, 9])
        XCTAssertEqual(Matrix(rows: 2, cols: 0) * Matrix(rows: 0, cols: 3), Matrix(rows: 2, cols: 3))
        XCTAssertEqual(a.transposed, Matrix([[1, 4], [2, 5], [3, 6]]))
        XCTAssertEqual(a - a, Matrix(rows: 2, cols: 3))
        XCTAssertEqual(2 * a, a + a)
    }

    func testSymmetricEigendecomposition2x2() throws {
        let e = try Matrix([[2, 1], [1, 2]]).symmetricEigendecomposition()
        XCTAssertEqual(e.eigenvalues[0], 1, accuracy: 1e-14)
        XCTAssertEqual(e.eigenvalues[1], 3, accuracy: 1e-14)
        let s = 1 / 2.0.squareRoot()
        // First non-negligible component positive.
        XCTAssertEqual(e.eigenvector(0)[0], s, accuracy: 1e-14)
        XCTAssertEqual(e.eigenvector(0)[1], -s, accuracy: 1e-14)
        XCTAssertEqual(e.eigenvector(1)[0], s, accuracy: 1e-14)
        XCTAssertEqual(e.eigenvector(1)[1], s, accuracy: 1e-14)
    }

    func testSymmetricEigendecompositionOfSecondDifferenceMatrix() throws {
        // Eigenvalues 2 - √2, 2, 2 + √2; eigenvectors (1, ±√2, 1)/2 and (1, 0, -1)/√2.
        let m = Matrix([[2, -1, 0], [-1, 2, -1], [0, -1, 2]])
        let e = try m.symmetricEigendecomposition()
        let r2 = 2.0.squareRoot()
        for (got, want) in zip(e.eigenvalues, [2 - r2, 2, 2 + r2]) { XCTAssertEqual(got, want, accuracy: 1e-13) }
        // Signs: first non-negligible component positive.
        let expected = [[0.5, r2 / 2, 0.5], [1 / r2, 0, -1 / r2], [0.5, -r2 / 2, 0.5]]
        for j in 0..<3 {
            for i in 0..<3 { XCTAssertEqual(e.eigenvector(j)[i], expected[j][i], accuracy: 1e-13) }
        }
        // V diag(λ) Vᵀ reproduces the matrix.
        let rebuilt = e.eigenvectors * Matrix.diagonal(e.eigenvalues) * e.eigenvectors.transposed
        XCTAssertLessThan(rebuilt.maxAbsoluteDifference(to: m), 1e-13)
    }

    func testLinearSolveAndInverse() throws {
        let m = Matrix([[2, 1], [1, 3]])
        let x = try m.solve([3, 5])
        XCTAssertEqual(x[0], 0.8, accuracy: 1e-15)
        XCTAssertEqual(x[1], 1.4, accuracy: 1e-15)
        let inverse = try Matrix([[4, 7], [2, 6]]).inverse()
        XCTAssertLessThan(inverse.maxAbsoluteDifference(to: Matrix([[0.6, -0.7], [-0.2, 0.4]])), 1e-15)
        let multi = try m.solve(Matrix([[3, 1], [5, 0]]))
        XCTAssertLessThan(multi.maxAbsoluteDifference(to: Matrix([[0.8, 0.6], [1.4, -0.2]])), 1e-15)
    }

    func testCholeskySolve() throws {
        let x = try Matrix([[4, 2], [2, 3]]).choleskySolve([2, 1])
        XCTAssertEqual(x[0], 0.5, accuracy: 1e-15)
        XCTAssertEqual(x[1], 0, accuracy: 1e-15)
    }

    func testFailuresAreClearErrors() {
        XCTAssertThrowsError(try Matrix([[1, 2], [2, 4]]).solve([1, 2])) { error in
            guard case .singular = error as? LinearAlgebraError else { return XCTFail("\(error)") }
        }
        // Numerically singular: the pivot is 2⁻⁵², not zero, but rcond ≈ 2⁻⁵⁴ is below machine epsilon.
        XCTAssertThrowsError(try Matrix([[1, 1], [1, 1 + 0x1p-52]]).inverse()) { error in
            guard case .singular(let rcond) = error as? LinearAlgebraError else { return XCTFail("\(error)") }
            XCTAssertGreaterThan(rcond, 0)
            XCTAssertLessThan(rcond, Double.ulpOfOne)
        }
        XCTAssertThrowsError(try Matrix([[1, 2], [2, 1]]).choleskySolve([1, 1])) { error in
            XCTAssertEqual(error as? LinearAlgebraError, .notPositiveDefinite(minorOrder: 2))
        }
        XCTAssertThrowsError(try Matrix([[1, 2], [0, 1]]).choleskySolve([1, 1])) { error in
            XCTAssertEqual(error as? LinearAlgebraError, .notSymmetric(maxAsymmetry: 2))
        }
        XCTAssertThrowsError(try Matrix([[1, 2, 3]]).inverse()) { error in
            XCTAssertEqual(error as? LinearAlgebraError, .notSquare(rows: 1, cols: 3))
        }
        XCTAssertThrowsError(try Matrix([[1, .nan], [0, 1]]).solve([1, 1])) { error in
            XCTAssertEqual(error as? LinearAlgebraError, .nonFinite)
        }
        XCTAssertThrowsError(try Matrix([[1, 0], [0, 1]]).solve([1, 1, 1])) { error in
            guard case .dimensionMismatch = error as? LinearAlgebraError else { return XCTFail("\(error)") }
        }
    }

    func testLargerSystemsReproduceTheirInputs() throws {
        // A deterministic 40x40 matrix B; BᵀB + I is symmetric positive definite.
        var state: UInt64 = 12345
        let b = Matrix(rows: 40, cols: 40, values: (0..<1600).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) - 0.5
        })
        let spd = b.multiplied(by: b, transposingSelf: true) + Matrix.identity(40)
        let rhs = (0..<40).map { Double($0) - 20 }
        let viaLU = try spd.solve(rhs)
        let viaCholesky = try spd.choleskySolve(rhs)
        for (u, v) in zip(spd * viaLU, rhs) { XCTAssertEqual(u, v, accuracy: 1e-10) }
        for (u, v) in zip(viaLU, viaCholesky) { XCTAssertEqual(u, v, accuracy: 1e-10) }
        XCTAssertLessThan((try b.inverse() * b).maxAbsoluteDifference(to: .identity(40)), 1e-9)
        let e = try spd.symmetricEigendecomposition()
        XCTAssertEqual(e.eigenvalues, e.eigenvalues.sorted())
        XCTAssertGreaterThanOrEqual(e.eigenvalues[0], 1 - 1e-12)
        let rebuilt = e.eigenvectors * Matrix.diagonal(e.eigenvalues) * e.eigenvectors.transposed
        XCTAssertLessThan(rebuilt.maxAbsoluteDifference(to: spd), 1e-10)
    }
}

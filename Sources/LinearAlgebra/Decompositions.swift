import COpenBLAS

/// Why a factorisation or solve could not produce an answer.
public enum LinearAlgebraError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The operation needs a square matrix.
    case notSquare(rows: Int, cols: Int)
    /// Operand shapes do not fit together.
    case dimensionMismatch(String)
    /// The matrix is not symmetric (largest |a_ij - a_ji| given), where symmetry is required.
    case notSymmetric(maxAsymmetry: Double)
    /// The matrix is singular or numerically so: `reciprocalCondition` is LAPACK's
    /// estimate of 1/cond₁ (0 when a pivot is exactly zero).
    case singular(reciprocalCondition: Double)
    /// The leading minor of this order (1-based) is not positive definite.
    case notPositiveDefinite(minorOrder: Int)
    /// The matrix holds NaN or infinite values.
    case nonFinite
    /// LAPACK's eigenvalue iteration did not converge.
    case notConverged(info: Int)

    public var description: String {
        switch self {
        case .notSquare(let r, let c): return "the matrix is \(r)x\(c) but must be square"
        case .dimensionMismatch(let text): return text
        case .notSymmetric(let d): return "the matrix is not symmetric (largest |a_ij - a_ji| = \(d))"
        case .singular(let rcond):
            return "the matrix is singular (reciprocal condition number estimate \(rcond))"
        case .notPositiveDefinite(let k):
            return "the matrix is not positive definite (leading minor of order \(k) is not)"
        case .nonFinite: return "the matrix contains NaN or infinite values"
        case .notConverged(let info): return "the eigenvalue iteration did not converge (LAPACK info \(info))"
        }
    }
}

/// Eigenvalues and eigenvectors of a symmetric matrix.
public struct SymmetricEigendecomposition: Equatable, Sendable {
    /// Eigenvalues in ascending order.
    public var eigenvalues: [Double]
    /// Column j is the unit eigenvector of `eigenvalues[j]`; its sign is fixed so
    /// that its first non-negligible component (above 1e-8 of its largest) is positive.
    public var eigenvectors: Matrix

    /// The unit eigenvector of `eigenvalues[index]`.
    public func eigenvector(_ index: Int) -> [Double] { eigenvectors.column(index) }
}

extension Matrix {
    /// Eigenvalues (ascending) and eigenvectors of this symmetric matrix (LAPACK dsyevd).
    public func symmetricEigendecomposition() throws -> SymmetricEigendecomposition {
        try requireSymmetric()
        let n = rows
        var a = values
        var w = [Double](repeating: 0, count: n)
        if n > 0 {
            let info = lm_LAPACKE_dsyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "U")),
                                      blasInt(n), &a, blasInt(n), &w)
            if info > 0 { throw LinearAlgebraError.notConverged(info: Int(info)) }
            precondition(info == 0, "LAPACKE_dsyevd rejected argument \(-info)")
        }
        var vectors = Matrix(rows: n, cols: n, values: a)
        for j in 0..<n {
            let column = vectors.column(j)
            let largest = column.reduce(0) { max($0, abs($1)) }
            let lead = column.first { abs($0) > 1e-8 * largest } ?? 0
            if lead < 0 {
                for i in 0..<n { vectors[i, j] = -vectors[i, j] }
            }
        }
        return SymmetricEigendecomposition(eigenvalues: w, eigenvectors: vectors)
    }

    /// X with `self · X = b` (LU with partial pivoting, LAPACK dgetrf/dgetrs as in dgesv).
    ///
    /// Throws `.singular` when a pivot is zero or the reciprocal condition number
    /// estimate is below machine epsilon, where the answer would be noise.
    public func solve(_ b: Matrix) throws -> Matrix {
        try requireFiniteSquare()
        try requireRightHandSide(b)
        let n = rows
        guard n > 0, b.cols > 0 else { return Matrix(rows: n, cols: b.cols) }
        var lu = values
        var pivots = [Int32](repeating: 0, count: n)
        let norm = lm_LAPACKE_dlange(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "1")), blasInt(n), blasInt(n), lu, blasInt(n))
        let info = lm_LAPACKE_dgetrf(LAPACK_ROW_MAJOR, blasInt(n), blasInt(n), &lu, blasInt(n), &pivots)
        if info > 0 { throw LinearAlgebraError.singular(reciprocalCondition: 0) }
        precondition(info == 0, "LAPACKE_dgetrf rejected argument \(-info)")
        var rcond = 0.0
        let conditionInfo = lm_LAPACKE_dgecon(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "1")), blasInt(n), lu, blasInt(n),
                                           norm, &rcond)
        precondition(conditionInfo == 0, "LAPACKE_dgecon rejected argument \(-conditionInfo)")
        if !(rcond >= Double.ulpOfOne) { throw LinearAlgebraError.singular(reciprocalCondition: rcond) }
        var x = b.values
        let solveInfo = lm_LAPACKE_dgetrs(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "N")), blasInt(n), blasInt(b.cols),
                                       lu, blasInt(n), pivots, &x, blasInt(b.cols))
        precondition(solveInfo == 0, "LAPACKE_dgetrs rejected argument \(-solveInfo)")
        return Matrix(rows: n, cols: b.cols, values: x)
    }

    /// x with `self · x = b`; see `solve(_:)` for matrices.
    public func solve(_ b: [Double]) throws -> [Double] {
        try solve(Matrix(rows: b.count, cols: 1, values: b)).values
    }

    /// X with `self · X = b` for a symmetric positive definite matrix (Cholesky, LAPACK dposv).
    public func choleskySolve(_ b: Matrix) throws -> Matrix {
        try requireSymmetric()
        try requireRightHandSide(b)
        let n = rows
        guard n > 0, b.cols > 0 else { return Matrix(rows: n, cols: b.cols) }
        var factor = values
        var x = b.values
        let info = lm_LAPACKE_dposv(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "U")), blasInt(n), blasInt(b.cols),
                                 &factor, blasInt(n), &x, blasInt(b.cols))
        if info > 0 { throw LinearAlgebraError.notPositiveDefinite(minorOrder: Int(info)) }
        precondition(info == 0, "LAPACKE_dposv rejected argument \(-info)")
        return Matrix(rows: n, cols: b.cols, values: x)
    }

    /// x with `self · x = b` for a symmetric positive definite matrix.
    public func choleskySolve(_ b: [Double]) throws -> [Double] {
        try choleskySolve(Matrix(rows: b.count, cols: 1, values: b)).values
    }

    /// The inverse, with the same singularity checks as `solve(_:)`.
    public func inverse() throws -> Matrix {
        try requireFiniteSquare()
        return try solve(Matrix.identity(rows))
    }

    private func requireFiniteSquare() throws {
        guard isSquare else { throw LinearAlgebraError.notSquare(rows: rows, cols: cols) }
        try requireFinite(self)
    }

    /// Square, finite and symmetric to within 1e-10 of its largest magnitude.
    private func requireSymmetric() throws {
        try requireFiniteSquare()
        let scale = values.reduce(0) { max($0, abs($1)) }
        var worst = 0.0
        for i in 0..<rows {
            for j in (i + 1)..<cols { worst = max(worst, abs(self[i, j] - self[j, i])) }
        }
        if worst > 1e-10 * scale { throw LinearAlgebraError.notSymmetric(maxAsymmetry: worst) }
    }

    private func requireRightHandSide(_ b: Matrix) throws {
        guard b.rows == rows else {
            throw LinearAlgebraError.dimensionMismatch(
                "cannot solve a \(rows)x\(cols) system for a right-hand side with \(b.rows) rows")
        }
        try requireFinite(b)
    }

    private func requireFinite(_ m: Matrix) throws {
        guard m.values.allSatisfy({ $0.isFinite }) else { throw LinearAlgebraError.nonFinite }
    }
}

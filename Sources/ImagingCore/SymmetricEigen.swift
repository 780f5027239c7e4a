/// Eigen-decomposition of a small real symmetric matrix by cyclic Jacobi rotations.
///
/// For the handful of small matrices the toolkit decomposes: the 3x3 covariance of a region's voxels (IBSI
/// principal-component morphology features) and the 4x4 matrix whose leading eigenvector is the rotation
/// quaternion of a least-squares rigid alignment (Horn 1987). Jacobi is exact to rounding for these sizes,
/// needs no LAPACK (so the imaging targets stay free of BLAS threads), and its result does not depend on the
/// machine's BLAS.
public struct SymmetricEigen: Sendable {
    /// Eigenvalues in decreasing order (ties keep the order of the diagonal).
    public var values: [Double]
    /// Unit eigenvectors, `vectors[n]` belonging to `values[n]`.
    public var vectors: [[Double]]

    /// Decomposes the symmetric matrix with rows `m` (square; only the upper triangle is read). Sweeps stop
    /// when the off-diagonal mass falls below 1e-30 of the diagonal's, or after `maxSweeps`.
    public init(_ m: [[Double]], maxSweeps: Int = 50) {
        let n = m.count
        precondition(m.allSatisfy { $0.count == n }, "SymmetricEigen needs a square matrix")
        var a = m
        for r in 0..<n { for c in 0..<r { a[r][c] = a[c][r] } }
        var v = (0..<n).map { r in (0..<n).map { c in r == c ? 1.0 : 0.0 } }
        for _ in 0..<maxSweeps {
            var off = 0.0, scale = 0.0
            for p in 0..<n { for q in (p + 1)..<max(p + 1, n) { off += a[p][q] * a[p][q] } }
            for p in 0..<n { scale += a[p][p] * a[p][p] }
            if off <= 1e-30 * max(scale, 1e-300) { break }
            for p in 0..<n {
                for q in (p + 1)..<max(p + 1, n) where a[p][q] != 0 {
                    let theta = (a[q][q] - a[p][p]) / (2 * a[p][q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k][p], akq = a[k][q]
                        a[k][p] = c * akp - s * akq
                        a[k][q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p][k], aqk = a[q][k]
                        a[p][k] = c * apk - s * aqk
                        a[q][k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k][p], vkq = v[k][q]
                        v[k][p] = c * vkp - s * vkq
                        v[k][q] = s * vkp + c * vkq
                    }
                }
            }
        }
        let order = (0..<n).sorted { a[$0][$0] > a[$1][$1] }
        values = order.map { a[$0][$0] }
        vectors = order.map { column in (0..<n).map { v[$0][column] } }
    }
}

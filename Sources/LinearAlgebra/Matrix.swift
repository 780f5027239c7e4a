import COpenBLAS

/// A dense matrix of Doubles stored row-major.
///
/// Small and value-typed: the building block for PCA of lesion shapes, Cox
/// regression, elastic net and attention pooling. Products go to OpenBLAS;
/// factorisations to LAPACK (see `LinearAlgebraError` for their failures).
public struct Matrix: Equatable, Sendable, CustomStringConvertible {
    public let rows: Int
    public let cols: Int
    /// Elements row by row: element (r, c) is `values[r * cols + c]`.
    public var values: [Double]

    public init(rows: Int, cols: Int, values: [Double]) {
        precondition(rows >= 0 && cols >= 0, "matrix dimensions \(rows)x\(cols) must not be negative")
        precondition(values.count == rows * cols,
                     "a \(rows)x\(cols) matrix needs \(rows * cols) values, got \(values.count)")
        self.rows = rows
        self.cols = cols
        self.values = values
    }

    public init(rows: Int, cols: Int, repeating value: Double = 0) {
        self.init(rows: rows, cols: cols, values: [Double](repeating: value, count: rows * cols))
    }

    /// A matrix from its rows, which must all have the same length.
    public init(_ rowArrays: [[Double]]) {
        let cols = rowArrays.first?.count ?? 0
        precondition(rowArrays.allSatisfy { $0.count == cols }, "matrix rows have different lengths")
        self.init(rows: rowArrays.count, cols: cols, values: rowArrays.flatMap { $0 })
    }

    /// The n×n identity.
    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, cols: n)
        for i in 0..<n { m[i, i] = 1 }
        return m
    }

    /// A square matrix with `diagonal` on its diagonal.
    public static func diagonal(_ diagonal: [Double]) -> Matrix {
        var m = Matrix(rows: diagonal.count, cols: diagonal.count)
        for (i, d) in diagonal.enumerated() { m[i, i] = d }
        return m
    }

    @inline(__always)
    public subscript(row: Int, col: Int) -> Double {
        get { values[row * cols + col] }
        set { values[row * cols + col] = newValue }
    }

    public var isSquare: Bool { rows == cols }

    public func row(_ r: Int) -> [Double] { Array(values[(r * cols)..<((r + 1) * cols)]) }

    public func column(_ c: Int) -> [Double] { (0..<rows).map { self[$0, c] } }

    public var transposed: Matrix {
        var t = Matrix(rows: cols, cols: rows)
        for r in 0..<rows {
            for c in 0..<cols { t[c, r] = self[r, c] }
        }
        return t
    }

    public var description: String {
        "Matrix \(rows)x\(cols) " + (0..<rows).map { "\(row($0))" }.joined(separator: " ")
    }

    /// Largest absolute difference to `other` (same shape), for approximate comparisons.
    public func maxAbsoluteDifference(to other: Matrix) -> Double {
        precondition(rows == other.rows && cols == other.cols,
                     "cannot compare a \(rows)x\(cols) matrix with a \(other.rows)x\(other.cols) one")
        return zip(values, other.values).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    // MARK: Products (BLAS)

    /// `op(self) · op(other)`, where op transposes when asked; dgemm.
    public func multiplied(by other: Matrix, transposingSelf: Bool = false, transposingOther: Bool = false) -> Matrix {
        let m = transposingSelf ? cols : rows
        let k = transposingSelf ? rows : cols
        let otherK = transposingOther ? other.cols : other.rows
        let n = transposingOther ? other.rows : other.cols
        precondition(k == otherK, "cannot multiply \(m)x\(k) by \(otherK)x\(n): inner dimensions differ")
        var result = Matrix(rows: m, cols: n)
        guard m > 0, n > 0, k > 0 else { return result }
        values.withUnsafeBufferPointer { a in
            other.values.withUnsafeBufferPointer { b in
                result.values.withUnsafeMutableBufferPointer { c in
                    lm_cblas_dgemm(CblasRowMajor, transposingSelf ? CblasTrans : CblasNoTrans,
                                transposingOther ? CblasTrans : CblasNoTrans,
                                blasInt(m), blasInt(n), blasInt(k), 1, a.baseAddress, blasInt(max(cols, 1)),
                                b.baseAddress, blasInt(max(other.cols, 1)), 0, c.baseAddress, blasInt(n))
                }
            }
        }
        return result
    }

    /// `op(self) · vector`, where op transposes when asked; dgemv.
    public func multiplied(by vector: [Double], transposingSelf: Bool = false) -> [Double] {
        let m = transposingSelf ? cols : rows
        let k = transposingSelf ? rows : cols
        precondition(vector.count == k, "cannot multiply a \(m)x\(k) matrix by a vector of length \(vector.count)")
        var result = [Double](repeating: 0, count: m)
        guard m > 0, k > 0 else { return result }
        values.withUnsafeBufferPointer { a in
            vector.withUnsafeBufferPointer { x in
                result.withUnsafeMutableBufferPointer { y in
                    lm_cblas_dgemv(CblasRowMajor, transposingSelf ? CblasTrans : CblasNoTrans,
                                blasInt(rows), blasInt(cols), 1, a.baseAddress, blasInt(max(cols, 1)),
                                x.baseAddress, 1, 0, y.baseAddress, 1)
                }
            }
        }
        return result
    }

    public static func * (lhs: Matrix, rhs: Matrix) -> Matrix { lhs.multiplied(by: rhs) }

    public static func * (lhs: Matrix, rhs: [Double]) -> [Double] { lhs.multiplied(by: rhs) }

    public static func + (lhs: Matrix, rhs: Matrix) -> Matrix { lhs.elementwise(rhs, "add", +) }

    public static func - (lhs: Matrix, rhs: Matrix) -> Matrix { lhs.elementwise(rhs, "subtract", -) }

    public static func * (scalar: Double, matrix: Matrix) -> Matrix {
        Matrix(rows: matrix.rows, cols: matrix.cols, values: matrix.values.map { scalar * $0 })
    }

    private func elementwise(_ other: Matrix, _ verb: String, _ op: (Double, Double) -> Double) -> Matrix {
        precondition(rows == other.rows && cols == other.cols,
                     "cannot \(verb) a \(rows)x\(cols) and a \(other.rows)x\(other.cols) matrix")
        return Matrix(rows: rows, cols: cols, values: zip(values, other.values).map { op($0.0, $0.1) })
    }
}

/// The integer type CBLAS and LAPACKE take for sizes.
@inline(__always)
func blasInt(_ value: Int) -> Int32 { Int32(value) }

/// A point or displacement in patient space, in millimetres.
///
/// LesionMap uses the DICOM/ITK patient coordinate system (LPS: +x towards the
/// patient's left, +y posterior, +z superior), so world coordinates printed by
/// LesionMap match what SimpleITK and DCMTK-based tools report for the same file.
public struct Vector3: Hashable, Sendable, CustomStringConvertible {
    public var x: Double
    public var y: Double
    public var z: Double

    public init(_ x: Double, _ y: Double, _ z: Double) {
        self.x = x; self.y = y; self.z = z
    }

    public static let zero = Vector3(0, 0, 0)

    public subscript(axis: Int) -> Double {
        get { axis == 0 ? x : (axis == 1 ? y : z) }
        set {
            switch axis {
            case 0: x = newValue
            case 1: y = newValue
            default: z = newValue
            }
        }
    }

    public static func + (a: Vector3, b: Vector3) -> Vector3 { Vector3(a.x + b.x, a.y + b.y, a.z + b.z) }
    public static func - (a: Vector3, b: Vector3) -> Vector3 { Vector3(a.x - b.x, a.y - b.y, a.z - b.z) }
    public static func * (s: Double, a: Vector3) -> Vector3 { Vector3(s * a.x, s * a.y, s * a.z) }
    public static prefix func - (a: Vector3) -> Vector3 { Vector3(-a.x, -a.y, -a.z) }

    /// Component-wise product.
    public func scaled(by s: Vector3) -> Vector3 { Vector3(x * s.x, y * s.y, z * s.z) }
    public func dot(_ o: Vector3) -> Double { x * o.x + y * o.y + z * o.z }
    public func cross(_ o: Vector3) -> Vector3 {
        Vector3(y * o.z - z * o.y, z * o.x - x * o.z, x * o.y - y * o.x)
    }
    public var length: Double { dot(self).squareRoot() }

    public var description: String { "(\(x), \(y), \(z))" }
}

/// An integer voxel index (i along x/columns, j along y/rows, k along z/slices).
public struct Index3: Hashable, Sendable, CustomStringConvertible {
    public var i: Int
    public var j: Int
    public var k: Int
    public init(_ i: Int, _ j: Int, _ k: Int) { self.i = i; self.j = j; self.k = k }
    public var description: String { "[\(i), \(j), \(k)]" }
}

/// The number of voxels along each axis of a grid.
public struct Size3: Hashable, Sendable, CustomStringConvertible {
    public var nx: Int
    public var ny: Int
    public var nz: Int
    public init(_ nx: Int, _ ny: Int, _ nz: Int) { self.nx = nx; self.ny = ny; self.nz = nz }
    public var count: Int { nx * ny * nz }
    public subscript(axis: Int) -> Int { axis == 0 ? nx : (axis == 1 ? ny : nz) }
    public var description: String { "\(nx)x\(ny)x\(nz)" }
}

/// A 3x3 matrix stored by rows; used for direction cosines.
///
/// As in ITK, column `c` of a direction matrix is the world direction of voxel axis `c`.
public struct Matrix3: Hashable, Sendable {
    /// Row-major entries: `m[r * 3 + c]`.
    public var m: [Double]

    public init(rows: [[Double]]) {
        precondition(rows.count == 3 && rows.allSatisfy { $0.count == 3 }, "Matrix3 needs 3x3 entries")
        m = rows.flatMap { $0 }
    }

    /// A matrix whose columns are the given vectors.
    public init(columns a: Vector3, _ b: Vector3, _ c: Vector3) {
        m = [a.x, b.x, c.x, a.y, b.y, c.y, a.z, b.z, c.z]
    }

    public static let identity = Matrix3(rows: [[1, 0, 0], [0, 1, 0], [0, 0, 1]])

    public subscript(r: Int, c: Int) -> Double {
        get { m[r * 3 + c] }
        set { m[r * 3 + c] = newValue }
    }

    public func column(_ c: Int) -> Vector3 { Vector3(self[0, c], self[1, c], self[2, c]) }

    public static func * (a: Matrix3, v: Vector3) -> Vector3 {
        Vector3(a[0, 0] * v.x + a[0, 1] * v.y + a[0, 2] * v.z,
                a[1, 0] * v.x + a[1, 1] * v.y + a[1, 2] * v.z,
                a[2, 0] * v.x + a[2, 1] * v.y + a[2, 2] * v.z)
    }

    public static func * (a: Matrix3, b: Matrix3) -> Matrix3 {
        var out = Matrix3.identity
        for r in 0..<3 {
            for c in 0..<3 {
                out[r, c] = a[r, 0] * b[0, c] + a[r, 1] * b[1, c] + a[r, 2] * b[2, c]
            }
        }
        return out
    }

    public var transposed: Matrix3 {
        var out = self
        for r in 0..<3 { for c in 0..<3 { out[r, c] = self[c, r] } }
        return out
    }

    public var determinant: Double {
        self[0, 0] * (self[1, 1] * self[2, 2] - self[1, 2] * self[2, 1])
            - self[0, 1] * (self[1, 0] * self[2, 2] - self[1, 2] * self[2, 0])
            + self[0, 2] * (self[1, 0] * self[2, 1] - self[1, 1] * self[2, 0])
    }

    /// The inverse, or nil when the matrix is singular.
    public var inverse: Matrix3? {
        let det = determinant
        guard abs(det) > 1e-12 else { return nil }
        var out = Matrix3.identity
        out[0, 0] = (self[1, 1] * self[2, 2] - self[1, 2] * self[2, 1]) / det
        out[0, 1] = (self[0, 2] * self[2, 1] - self[0, 1] * self[2, 2]) / det
        out[0, 2] = (self[0, 1] * self[1, 2] - self[0, 2] * self[1, 1]) / det
        out[1, 0] = (self[1, 2] * self[2, 0] - self[1, 0] * self[2, 2]) / det
        out[1, 1] = (self[0, 0] * self[2, 2] - self[0, 2] * self[2, 0]) / det
        out[1, 2] = (self[0, 2] * self[1, 0] - self[0, 0] * self[1, 2]) / det
        out[2, 0] = (self[1, 0] * self[2, 1] - self[1, 1] * self[2, 0]) / det
        out[2, 1] = (self[0, 1] * self[2, 0] - self[0, 0] * self[2, 1]) / det
        out[2, 2] = (self[0, 0] * self[1, 1] - self[0, 1] * self[1, 0]) / det
        return out
    }

    /// Largest absolute difference between entries.
    public func maxDifference(to other: Matrix3) -> Double {
        zip(m, other.m).map { abs($0 - $1) }.max() ?? 0
    }
}

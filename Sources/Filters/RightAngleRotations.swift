/// A rotation of the voxel grid by multiples of 90°: voxel axis `i` goes to axis `permutation[i]`, reversed
/// when `signs[i]` is -1 (a signed permutation matrix of determinant +1).
///
/// IBSI 2, section 2.4 ("rotation invariance"): a directional filter is made invariant to right-angle
/// rotations by pooling its responses over the rotated copies of its kernel: the 24 rotations of the cube in
/// 3D, the 4 rotations of the square in the axial plane for 2D filters (z left alone). Rotating a kernel is
/// equivalent to rotating the image when the boundary condition is symmetric, as all four IBSI 2 ones are.
public struct RightAngleRotation: Hashable, Sendable, CustomStringConvertible {
    public var permutation: [Int]
    public var signs: [Int]

    public init(permutation: [Int], signs: [Int]) {
        precondition(permutation.sorted() == [0, 1, 2] && signs.allSatisfy { $0 == 1 || $0 == -1 },
                     "a right-angle rotation is a signed permutation of the three axes")
        self.permutation = permutation
        self.signs = signs
    }

    public static let identity = RightAngleRotation(permutation: [0, 1, 2], signs: [1, 1, 1])

    /// Determinant of the signed permutation matrix (+1 for rotations, -1 for reflections).
    public var determinant: Int {
        var parity = 1
        for a in 0..<3 { for b in (a + 1)..<3 where permutation[a] > permutation[b] { parity = -parity } }
        return parity * signs.reduce(1, *)
    }

    /// The 24 proper rotations of 3D (identity first).
    public static let all3D: [RightAngleRotation] = {
        let perms = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]
        var out = [RightAngleRotation]()
        for p in perms {
            for sx in [1, -1] { for sy in [1, -1] { for sz in [1, -1] {
                let r = RightAngleRotation(permutation: p, signs: [sx, sy, sz])
                if r.determinant == 1 { out.append(r) }
            } } }
        }
        return out
    }()

    /// The 4 rotations of the axial plane (x, y), z fixed (identity first).
    public static let all2D: [RightAngleRotation] = [
        RightAngleRotation(permutation: [0, 1, 2], signs: [1, 1, 1]),
        RightAngleRotation(permutation: [1, 0, 2], signs: [1, -1, 1]),
        RightAngleRotation(permutation: [0, 1, 2], signs: [-1, -1, 1]),
        RightAngleRotation(permutation: [1, 0, 2], signs: [-1, 1, 1]),
    ]

    /// The rotations pooled for a filter of `dimensionality`.
    public static func all(_ dimensionality: FilterDimensionality) -> [RightAngleRotation] {
        dimensionality == .threeD ? all3D : all2D
    }

    public var description: String { "rotation \(permutation) \(signs)" }
}

import Foundation
import ImagingCore

/// A rigid transform of patient space, `p -> rotation * p + translation` (rotation proper, det = +1).
public struct RigidTransform: Sendable, Equatable {
    public var rotation: Matrix3
    public var translation: Vector3

    public init(rotation: Matrix3 = .identity, translation: Vector3 = .zero) {
        self.rotation = rotation
        self.translation = translation
    }

    public static let identity = RigidTransform()

    public func apply(_ p: Vector3) -> Vector3 { rotation * p + translation }

    /// The rotation angle in degrees, from the trace: cos θ = (tr R - 1) / 2.
    public var angleDegrees: Double {
        let c = ((rotation[0, 0] + rotation[1, 1] + rotation[2, 2]) - 1) / 2
        return acos(max(-1, min(1, c))) * 180 / .pi
    }
}

/// Rigid alignment of one time point's lesion centroids onto another's, robust to lesions that appear or vanish.
///
/// Method (RANSAC-style consensus over single-pair hypotheses, refined by ICP):
/// 1. every pair (baseline lesion i, follow-up lesion j) proposes the translation that puts j onto i
///    (hypotheses moving more than `maxShift` mm are discarded);
/// 2. each hypothesis is refined by iterated closest points: the correspondences are the mutual nearest
///    neighbours within `inlierDistance` mm; with 3 or more correspondences the least-squares rotation and
///    translation (Horn 1987, unit quaternions: the eigenvector of the largest eigenvalue of the 4x4 matrix
///    built from the cross-covariance) is taken when its angle is at most `maxRotationDegrees` and the mean
///    displacement alone leaves them more than `rotationThresholdMM` (5 mm) RMS apart; otherwise, and with 1 or 2
///    correspondences, the mean displacement (translation only); until the set is stable;
/// 3. the hypothesis with the most correspondences wins, ties broken by the smaller sum of squared
///    residuals, then by the smaller shift.
/// A lesion that vanished or is new only fails to join the consensus; it cannot pull the transform, as a
/// least-squares fit over all centroids (or the centroid of all centroids) would.
public enum RigidAlignment {
    /// The outcome: the transform taking follow-up positions to baseline positions, and its consensus.
    public struct Result: Sendable {
        public var transform: RigidTransform
        /// (fixed index, moving index) pairs that agree within the inlier distance under `transform`.
        public var correspondences: [(fixed: Int, moving: Int)]
        /// Root mean square distance of the correspondences after alignment, mm (0 when there are none).
        public var rmsResidual: Double
        /// True when no hypothesis was within `maxShift`, so `transform` is the identity by default.
        public var noHypothesis: Bool
    }

    public static func estimate(moving: [Vector3], fixed: [Vector3], inlierDistance: Double,
                                maxShift: Double, maxRotationDegrees: Double) -> Result {
        var best: (result: Result, sse: Double, shift: Double)?
        for i in fixed.indices {
            for j in moving.indices {
                let t = fixed[i] - moving[j]
                guard t.length <= maxShift else { continue }
                var transform = RigidTransform(translation: t)
                var pairs = correspondences(moving: moving, fixed: fixed, transform: transform, within: inlierDistance)
                for _ in 0..<20 {
                    guard !pairs.isEmpty else { break }
                    let next = fit(pairs: pairs, moving: moving, fixed: fixed, maxRotationDegrees: maxRotationDegrees)
                    guard next.translation.length <= maxShift else { break }
                    let nextPairs = correspondences(moving: moving, fixed: fixed, transform: next, within: inlierDistance)
                    // Keep the refinement only while it does not lose consensus.
                    if nextPairs.count < pairs.count { break }
                    let same = nextPairs.map { [$0.fixed, $0.moving] } == pairs.map { [$0.fixed, $0.moving] }
                    transform = next
                    pairs = nextPairs
                    if same { break }
                }
                let sse = pairs.reduce(0.0) { s, p in
                    let d = (transform.apply(moving[p.moving]) - fixed[p.fixed]).length
                    return s + d * d
                }
                let shift = transform.translation.length
                let candidate = Result(transform: transform, correspondences: pairs,
                                       rmsResidual: pairs.isEmpty ? 0 : (sse / Double(pairs.count)).squareRoot(),
                                       noHypothesis: false)
                if let b = best {
                    let better = pairs.count > b.result.correspondences.count
                        || (pairs.count == b.result.correspondences.count
                            && (sse < b.sse - 1e-9 || (abs(sse - b.sse) <= 1e-9 && shift < b.shift - 1e-9)))
                    if better { best = (candidate, sse, shift) }
                } else {
                    best = (candidate, sse, shift)
                }
            }
        }
        return best?.result ?? Result(transform: .identity, correspondences: [], rmsResidual: 0,
                                      noHypothesis: !fixed.isEmpty && !moving.isEmpty)
    }

    /// Mutual nearest neighbours within `within` mm under `transform`, sorted by fixed index.
    static func correspondences(moving: [Vector3], fixed: [Vector3], transform: RigidTransform,
                                within: Double) -> [(fixed: Int, moving: Int)] {
        let moved = moving.map(transform.apply)
        func nearest(_ p: Vector3, in set: [Vector3]) -> (Int, Double)? {
            var best: (Int, Double)?
            for (k, q) in set.enumerated() {
                let d = (p - q).length
                if best == nil || d < best!.1 { best = (k, d) }
            }
            return best
        }
        var out: [(fixed: Int, moving: Int)] = []
        for (j, p) in moved.enumerated() {
            guard let (i, d) = nearest(p, in: fixed), d <= within,
                  let (back, _) = nearest(fixed[i], in: moved), back == j else { continue }
            out.append((i, j))
        }
        return out.sorted { $0.fixed < $1.fixed }
    }

    /// Least-squares rigid fit of the pairs (Horn's quaternion method), or the mean displacement when there are
    /// fewer than 3 pairs or the rotation exceeds the bound.
    static func fit(pairs: [(fixed: Int, moving: Int)], moving: [Vector3], fixed: [Vector3],
                    maxRotationDegrees: Double) -> RigidTransform {
        let n = Double(pairs.count)
        let mc = (1 / n) * pairs.reduce(Vector3.zero) { $0 + moving[$1.moving] }
        let fc = (1 / n) * pairs.reduce(Vector3.zero) { $0 + fixed[$1.fixed] }
        let translationOnly = RigidTransform(translation: fc - mc)
        guard pairs.count >= 3 else { return translationOnly }
        // Cross-covariance S[a][b] = sum (m - mc)_a (f - fc)_b.
        var s = [[Double]](repeating: [0, 0, 0], count: 3)
        for p in pairs {
            let a = moving[p.moving] - mc, b = fixed[p.fixed] - fc
            for r in 0..<3 { for c in 0..<3 { s[r][c] += a[r] * b[c] } }
        }
        let (xx, xy, xz) = (s[0][0], s[0][1], s[0][2])
        let (yx, yy, yz) = (s[1][0], s[1][1], s[1][2])
        let (zx, zy, zz) = (s[2][0], s[2][1], s[2][2])
        let nMatrix: [[Double]] = [
            [xx + yy + zz, yz - zy, zx - xz, xy - yx],
            [yz - zy, xx - yy - zz, xy + yx, zx + xz],
            [zx - xz, xy + yx, -xx + yy - zz, yz + zy],
            [xy - yx, zx + xz, yz + zy, -xx - yy + zz],
        ]
        let q = SymmetricEigen(nMatrix, maxSweeps: 60).vectors[0]  // the rotation quaternion, unit length
        let (w, x, y, z) = (q[0], q[1], q[2], q[3])
        let r = Matrix3(rows: [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ])
        let rigid = RigidTransform(rotation: r, translation: fc - r * mc)
        guard rigid.angleDegrees <= maxRotationDegrees else { return translationOnly }
        // A rotation only when a translation leaves the pairs apart by more than centroid jitter: growth and
        // shrinkage move centroids by a few mm, and a rotation fitted to that would swing distant lesions.
        let rms = (pairs.reduce(0.0) { s, p in
            let d = (translationOnly.apply(moving[p.moving]) - fixed[p.fixed]).length
            return s + d * d
        } / n).squareRoot()
        return rms > rotationThresholdMM ? rigid : translationOnly
    }

    /// Root mean square distance, mm, of the corresponding centroids under a translation alone above which a
    /// rotation is fitted.
    public static let rotationThresholdMM = 5.0
}

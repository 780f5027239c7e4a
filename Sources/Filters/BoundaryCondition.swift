/// How a convolutional filter sees voxels outside the image (IBSI 2 reference manual, section 2.3,
/// "boundary conditions"; the phase 1 configurations name one per test).
///
/// For an axis of length `n`, an index `i` outside `0..<n` stands for:
/// - `zero`     (IBSI 2 "zero padding", constant 0): the value 0;
/// - `nearest`  (IBSI 2 "nearest value padding"): the edge voxel, `a a a | a b c d | d d d`;
/// - `periodic` (IBSI 2 "periodic padding"): the image repeated, `b c d | a b c d | a b c`;
/// - `mirror`   (IBSI 2 "mirror padding"): the image reflected about its edge, the edge voxel repeated,
///   `c b a | a b c d | d c b` (scipy.ndimage mode "reflect", numpy.pad mode "symmetric").
public enum BoundaryCondition: String, CaseIterable, Codable, Sendable {
    case zero
    case nearest
    case periodic
    case mirror

    /// The in-image index that index `i` stands for on an axis of `n` voxels,
    /// or nil when it stands for the constant 0 (`zero` outside the image).
    @inline(__always)
    public func sourceIndex(_ i: Int, count n: Int) -> Int? {
        precondition(n > 0, "an axis needs at least one voxel")
        if i >= 0 && i < n { return i }
        switch self {
        case .zero:
            return nil
        case .nearest:
            return i < 0 ? 0 : n - 1
        case .periodic:
            let r = i % n
            return r < 0 ? r + n : r
        case .mirror:
            // Period 2n: 0..<n forwards, n..<2n backwards (edge voxel repeated).
            let period = 2 * n
            var r = i % period
            if r < 0 { r += period }
            return r < n ? r : period - 1 - r
        }
    }
}

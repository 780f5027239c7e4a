/// The lowest and highest of a stream of doubles taken four at a time in vector lanes: the range scans of
/// discretisation, the intensity-volume histogram and the intensity distribution share it.
///
/// Each lane keeps `x < lo ? x : lo` and `x > hi ? x : hi`, as the scalar `min` and `max` do, so the lowest and
/// highest value are those of `min()` and `max()` over the same values, whatever lane a value went to. Two things are
/// left to the callers, which each handle them their own way: a NaN is never taken (it compares false), so a caller
/// that may see one tests for it; and of +0 and -0 either may be kept (they compare equal), which changes no level
/// and no intensity a feature uses.
struct LaneExtremes {
    typealias Lanes = SIMD4<Double>
    private var lo = Lanes(repeating: .infinity), hi = Lanes(repeating: -.infinity)

    /// Takes the four values `x`, by comparisons and blends (`pointwiseMin` and `pointwiseMax` are out-of-line
    /// calls of about 20 instructions each).
    @inline(__always)
    mutating func add(_ x: Lanes) {
        lo.replace(with: x, where: x .< lo)
        hi.replace(with: x, where: x .> hi)
    }

    /// Takes the values of `x` whose lane is set in `inside` (the others as `∞` for the lowest and `-∞` for the
    /// highest, which take nothing: fewer instructions than the lanes' masks combined with the comparisons).
    @inline(__always)
    mutating func add(_ x: Lanes, where inside: SIMDMask<SIMD4<Int64>>) {
        let low = Lanes(repeating: .infinity).replacing(with: x, where: inside)
        let high = Lanes(repeating: -.infinity).replacing(with: x, where: inside)
        lo.replace(with: low, where: low .< lo)
        hi.replace(with: high, where: high .> hi)
    }

    /// The lowest and highest of the values taken and of `lo` and `hi` (those of values seen one at a time, which
    /// start as `∞` and `-∞`): `(∞, -∞)` when there were none.
    func range(with lo: Double = .infinity, _ hi: Double = -.infinity) -> (lo: Double, hi: Double) {
        var lo = lo, hi = hi
        for lane in 0..<4 {
            lo = min(lo, self.lo[lane])
            hi = max(hi, self.hi[lane])
        }
        return (lo, hi)
    }
}

import Foundation

/// A small seeded generator (xoshiro256** seeded through SplitMix64) so that resampling,
/// fold assignment and initialisation are reproducible from one integer on every platform.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func next() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (next(), next(), next(), next())
    }

    /// A generator for a sub-stream `stream` of `seed` (e.g. one per bootstrap or fold), independent of the others.
    public init(seed: UInt64, stream: UInt64) {
        self.init(seed: seed &* 0x2545_F491_4F6C_DD1D ^ (stream &+ 0x632B_E59B_D9B4_E019))
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform integer in 0..<n (n > 0), without modulo bias (Lemire's multiply-and-reject), written out so
    /// that draws do not depend on the standard library's algorithm.
    public mutating func int(below n: Int) -> Int {
        precondition(n > 0, "int(below:) needs a positive bound, got \(n)")
        let bound = UInt64(n)
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold { product = next().multipliedFullWidth(by: bound) }
        }
        return Int(product.high)
    }

    /// The elements in a random order (Fisher-Yates with `int(below:)`).
    public mutating func shuffled<T>(_ elements: [T]) -> [T] {
        var a = elements
        var i = a.count
        while i > 1 {
            let j = int(below: i)
            i -= 1
            a.swapAt(i, j)
        }
        return a
    }

    /// Standard normal draw (Box-Muller).
    public mutating func normal() -> Double {
        var u = uniform()
        while u <= 0 { u = uniform() }
        let v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}

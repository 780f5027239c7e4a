import Foundation
import ImagingCore

/// SplitMix64 (Steele, Lea & Flood 2014): spreads any 64-bit seed over well-mixed words.
///
/// Used to seed `SynthesisRandom` and to derive independent sub-stream seeds, so that
/// every patient, lesion and noise field has its own stream and the result does not
/// depend on the order (or the thread) in which they are generated.
public struct SplitMix64: Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A seed for the sub-stream named by `keys` under `seed` (order of keys matters).
    public static func derive(_ seed: UInt64, _ keys: UInt64...) -> UInt64 {
        var h = seed
        for key in keys {
            var sm = SplitMix64(seed: h ^ (key &* 0xD1B5_4A32_D192_ED03))
            h = sm.next()
        }
        return h
    }
}

/// xoshiro256** (Blackman & Vigna 2018) with the few distributions the generator needs.
///
/// The distributions are written out here rather than taken from the standard library,
/// so the same seed gives the same numbers whatever the Swift version.
public struct SynthesisRandom: Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var sm = SplitMix64(seed: seed)
        s0 = sm.next(); s1 = sm.next(); s2 = sm.next(); s3 = sm.next()
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = Self.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = Self.rotl(s3, 45)
        return result
    }

    /// Uniform on [0, 1).
    @inline(__always)
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform on (0, 1]; safe as the argument of a logarithm.
    @inline(__always)
    public mutating func uniformOpen() -> Double { (Double(next() >> 11) + 1) * 0x1.0p-53 }

    public mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * uniform() }

    /// Log-uniform on [a, b] (a, b > 0): every scale equally likely.
    public mutating func logUniform(_ a: Double, _ b: Double) -> Double { a * Foundation.exp(uniform() * Foundation.log(b / a)) }

    /// Uniform integer in 0..<n (n > 0).
    public mutating func int(below n: Int) -> Int { min(n - 1, Int(uniform() * Double(n))) }

    public mutating func bernoulli(_ p: Double) -> Bool { uniform() < p }

    /// Standard normal (Box–Muller, one value per call).
    public mutating func normal() -> Double {
        let r = (-2 * Foundation.log(uniformOpen())).squareRoot()
        return r * Foundation.cos(2 * Double.pi * uniform())
    }

    /// Standard exponential.
    public mutating func exponential() -> Double { -Foundation.log(uniformOpen()) }

    /// Binomial(n, p) by counting successes.
    public mutating func binomial(_ n: Int, _ p: Double) -> Int {
        var c = 0
        for _ in 0..<n where uniform() < p { c += 1 }
        return c
    }

    /// Beta(a, b) for integer shapes, as a ratio of Gamma(a) and Gamma(b) sums of exponentials.
    public mutating func beta(_ a: Int, _ b: Int) -> Double {
        var ga = 0.0, gb = 0.0
        for _ in 0..<a { ga += exponential() }
        for _ in 0..<b { gb += exponential() }
        return ga / (ga + gb)
    }

    /// Fills `out` with standard normal values, two per Box–Muller draw.
    public mutating func fillNormal(_ out: inout [Float]) {
        var i = 0
        let n = out.count
        while i < n {
            let r = (-2 * Foundation.log(uniformOpen())).squareRoot()
            let a = 2 * Double.pi * uniform()
            out[i] = Float(r * Foundation.cos(a))
            if i + 1 < n { out[i + 1] = Float(r * Foundation.sin(a)) }
            i += 2
        }
    }

    /// A uniformly distributed rotation (Shoemake's unit quaternion method).
    public mutating func rotation() -> Matrix3 {
        let u1 = uniform(), u2 = 2 * Double.pi * uniform(), u3 = 2 * Double.pi * uniform()
        let a = (1 - u1).squareRoot(), b = u1.squareRoot()
        let w = a * Foundation.sin(u2), x = a * Foundation.cos(u2)
        let y = b * Foundation.sin(u3), z = b * Foundation.cos(u3)
        return Matrix3(rows: [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ])
    }

    /// A unit vector uniformly distributed on the sphere.
    public mutating func unitVector() -> Vector3 {
        let z = uniform(-1, 1)
        let phi = 2 * Double.pi * uniform()
        let r = (1 - z * z).squareRoot()
        return Vector3(r * Foundation.cos(phi), r * Foundation.sin(phi), z)
    }
}

import Foundation

/// The seeded random stream of one perturbation of one lesion: SplitMix64 (Steele, Lea & Flood 2014) seeded by
/// an FNV-1a hash of the run's seed, the patient, the lesion and the perturbation's name. The same inputs give
/// the same numbers whatever the order or thread the lesions run in, and on every platform (the
/// distributions are written out here, not taken from the standard library).
public struct PerturbationRandom: Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// The stream for `keys` (patient id, lesion id, perturbation name) under a run seed.
    public init(seed: UInt64, keys: [String]) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        for key in keys {
            for b in key.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            h = (h ^ 0xff) &* 0x100_0000_01b3  // a separator, so ("ab", "c") differs from ("a", "bc")
        }
        state = h
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform on [0, 1).
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Standard normal by the Box-Muller transform (one value per call; the pair's second is dropped
    /// so that the stream position does not depend on how many values were asked for before).
    public mutating func normal() -> Double {
        let u1 = 1 - uniform()  // (0, 1]
        let u2 = uniform()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }
}

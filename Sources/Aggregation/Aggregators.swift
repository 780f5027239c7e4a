import Foundation

/// One lesion's value (a signature score or any feature) with the facts aggregators weigh by.
public struct LesionValue: Sendable, Hashable {
    public var lesionID: String
    public var value: Double
    /// Lesion volume in mL.
    public var volume: Double
    public var irradiated: Bool

    public init(lesionID: String, value: Double, volume: Double, irradiated: Bool = false) {
        self.lesionID = lesionID
        self.value = value
        self.volume = volume
        self.irradiated = irradiated
    }
}

/// Cohort-level settings that make patient values comparable across patients.
public struct AggregationContext: Sendable, Hashable, Codable {
    /// Lower edge of the first entropy bin: every patient's histogram uses the same edges.
    public var entropyOrigin: Double
    /// Width of the entropy bins, on the score's scale.
    public var entropyBinWidth: Double
    /// Cut-off for `fraction_below` (e.g. the cohort's 25th percentile of lesion scores).
    public var cutoff: Double

    public init(entropyOrigin: Double, entropyBinWidth: Double, cutoff: Double) {
        self.entropyOrigin = entropyOrigin
        self.entropyBinWidth = entropyBinWidth
        self.cutoff = cutoff
    }

    /// Bins of `binCount` equal widths spanning the cohort's values, and the cohort's 25th percentile as cut-off.
    public static func fitted(toCohortValues values: [Double], binCount: Int = 10) -> AggregationContext {
        let finite = values.filter(\.isFinite).sorted()
        guard let lo = finite.first, let hi = finite.last else {
            return AggregationContext(entropyOrigin: 0, entropyBinWidth: 1, cutoff: 0)
        }
        let width = hi > lo ? (hi - lo) / Double(binCount) * (1 + 1e-9) : 1
        return AggregationContext(entropyOrigin: lo, entropyBinWidth: width, cutoff: quantile(finite, 0.25))
    }
}

/// Ways of turning a patient's lesion values into one patient value.
///
/// The raw value is the aggregator's stable name in stores, CSV files and reports.
/// Every aggregator ignores lesions whose value is NaN; a patient with no finite value gets NaN.
/// The spread aggregators (`sd`, `range`, `entropy`) describe differences between lesions, which a patient with
/// a single (finite) lesion value does not have: they are NaN (undefined) for such a patient rather than 0, so
/// that a comparison leaves the patient out of those methods (its `n` shows it) instead of treating "one lesion"
/// as "perfectly homogeneous".
public enum Aggregator: String, CaseIterable, Sendable, Codable {
    /// Arithmetic mean of the lesion values.
    case mean
    /// The lowest value: for a CD8 score, the least-infiltrated lesion (Sun et al. 2020).
    case min
    /// The highest value.
    case max
    /// Population standard deviation, sqrt(Σ(x − x̄)²/n); NaN (undefined) for one lesion.
    case sd
    /// max − min; NaN (undefined) for one lesion.
    case range
    /// Shannon entropy in bits, −Σ p_b log2 p_b, of the histogram of the patient's values over bins
    /// fixed on the cohort's scale (`AggregationContext`), so that patients are comparable; NaN (undefined) for
    /// one lesion. Two lesions in the same bin give 0.
    case entropy
    /// Σ v_k x_k / Σ v_k with lesion volumes v_k.
    case volumeWeightedMean = "volume_weighted_mean"
    /// Volume-weighted mean of the three largest lesions (all lesions when fewer): best C-index in Chang et al. 2021.
    case volumeWeightedMeanLargest3 = "volume_weighted_mean_largest3"
    /// The value of the largest lesion.
    case largestLesion = "largest_lesion"
    /// The value of the smallest lesion.
    case smallestLesion = "smallest_lesion"
    /// Number of lesions.
    case lesionCount = "lesion_count"
    /// Total lesion volume in mL (tumour burden).
    case totalVolume = "total_volume"
    /// Share of lesions whose value is below the cohort cut-off.
    case fractionBelow = "fraction_below"
    /// Mean over irradiated lesions only (Korpics et al. 2020); NaN when none is irradiated.
    case irradiatedMean = "irradiated_mean"

    /// The aggregators a patient-level score needs by default (at least those the demo reports).
    public static let standard: [Aggregator] = [.mean, .min, .max, .sd, .entropy, .volumeWeightedMean]

    /// The patient value from the patient's lesions.
    public func aggregate(_ lesions: [LesionValue], context: AggregationContext) -> Double {
        let valid = lesions.filter { $0.value.isFinite }
        switch self {
        case .lesionCount: return Double(lesions.count)
        case .totalVolume: return lesions.reduce(0) { $0 + $1.volume }
        default: break
        }
        guard !valid.isEmpty else { return .nan }
        if isSpread && valid.count < 2 { return .nan }
        let xs = valid.map(\.value)
        switch self {
        case .mean: return xs.reduce(0, +) / Double(xs.count)
        case .min: return xs.min()!
        case .max: return xs.max()!
        case .sd:
            let m = xs.reduce(0, +) / Double(xs.count)
            return (xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count)).squareRoot()
        case .range: return xs.max()! - xs.min()!
        case .entropy: return Self.entropy(xs, context: context)
        case .volumeWeightedMean: return Self.weightedMean(valid)
        case .volumeWeightedMeanLargest3: return Self.weightedMean(Array(Self.bySize(valid).prefix(3)))
        case .largestLesion: return Self.bySize(valid).first!.value
        case .smallestLesion: return Self.bySize(valid).last!.value
        case .fractionBelow: return Double(xs.filter { $0 < context.cutoff }.count) / Double(xs.count)
        case .irradiatedMean:
            let irr = valid.filter(\.irradiated).map(\.value)
            return irr.isEmpty ? .nan : irr.reduce(0, +) / Double(irr.count)
        case .lesionCount, .totalVolume: fatalError("handled above")
        }
    }

    /// Whether the aggregator measures the spread between a patient's lesions (`sd`, `range`, `entropy`), which is
    /// undefined (NaN) for a patient with fewer than two finite lesion values.
    public var isSpread: Bool { self == .sd || self == .range || self == .entropy }

    /// Lesions from largest to smallest; ties keep manifest order so results are stable.
    static func bySize(_ ls: [LesionValue]) -> [LesionValue] {
        ls.enumerated().sorted { a, b in
            a.element.volume != b.element.volume ? a.element.volume > b.element.volume : a.offset < b.offset
        }.map(\.element)
    }

    static func weightedMean(_ ls: [LesionValue]) -> Double {
        let w = ls.reduce(0) { $0 + $1.volume }
        guard w > 0 else { return ls.reduce(0) { $0 + $1.value } / Double(ls.count) }
        return ls.reduce(0) { $0 + $1.value * $1.volume } / w
    }

    /// Shannon entropy (bits) of the histogram of `xs` on the cohort's bins.
    ///
    /// The terms −p log2 p are summed over the bin counts in ascending order, so the result is a function of the
    /// multiset of counts alone: it is the same in every process (a `Dictionary`'s iteration order is seeded per
    /// process) and two patients whose histograms are permutations of each other get bit-identical entropies, so
    /// that their tie in a C-index or AUC is a true tie and not broken by rounding.
    static func entropy(_ xs: [Double], context: AggregationContext) -> Double {
        let bins = xs.map { ((($0 - context.entropyOrigin) / context.entropyBinWidth).rounded(.down)) }.sorted()
        var counts: [Int] = []
        var start = 0
        for i in 1...bins.count where i == bins.count || bins[i] != bins[start] {
            counts.append(i - start)
            start = i
        }
        let n = Double(xs.count)
        var h = 0.0
        for c in counts.sorted() {
            let p = Double(c) / n
            h -= p * log2(p)
        }
        return h == 0 ? 0 : h  // avoid -0
    }
}

/// Linear-interpolation quantile (type 7, as numpy's default) of sorted values.
public func quantile(_ sorted: [Double], _ q: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let h = Double(sorted.count - 1) * q
    let lo = Int(h.rounded(.down)), hi = Swift.min(lo + 1, sorted.count - 1)
    return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
}

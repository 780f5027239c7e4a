import Foundation

/// Reproducible bootstrap resamples of n subjects, each given as how often every subject is drawn,
/// so that statistics over pre-sorted data need no re-sorting. Resample b depends only on the seed and b.
public struct BootstrapResampler: Sendable {
    public let subjectCount: Int
    public let seed: UInt64

    public init(subjectCount: Int, seed: UInt64) {
        self.subjectCount = subjectCount
        self.seed = seed
    }

    /// Draw counts of resample `b` (n draws with replacement); they sum to n.
    public func weights(resample b: Int) -> [Double] {
        var rng = SeededGenerator(seed: seed, stream: UInt64(b))
        var w = [Double](repeating: 0, count: subjectCount)
        for _ in 0..<subjectCount { w[rng.int(below: subjectCount)] += 1 }
        return w
    }

    /// Percentile interval of bootstrap draws (NaN draws ignored; type 7 quantiles).
    public static func percentileInterval(_ draws: [Double], level: Double) -> ConfidenceInterval {
        let sorted = draws.filter(\.isFinite).sorted()
        return ConfidenceInterval(lower: sortedQuantile(sorted, (1 - level) / 2),
                                  upper: sortedQuantile(sorted, 1 - (1 - level) / 2), level: level)
    }

    /// Runs `body(b)` for every resample on all cores; results in resample order.
    public static func map<T>(resamples: Int, _ body: (Int) -> T) -> [T] {
        guard resamples > 0 else { return [] }
        var out = [T?](repeating: nil, count: resamples)
        let chunk = Swift.max(1, resamples / (4 * ProcessInfo.processInfo.activeProcessorCount))
        let chunks = (resamples + chunk - 1) / chunk
        out.withUnsafeMutableBufferPointer { buffer in
            let base = buffer
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                for b in (c * chunk)..<Swift.min(resamples, (c + 1) * chunk) { base[b] = body(b) }
            }
        }
        return out.map { $0! }
    }
}

/// Harrell's C of several risk scores on the same subjects, with paired bootstrap resamples so that
/// differences between scores get intervals too.
///
/// A score that is NaN for some subjects is evaluated on the subjects it scores: each resample draws
/// subjects, and every score is computed over the drawn subjects it has a value for. A difference between two
/// scores is computed on the subjects both score (paired), never between C-indices of different patients.
public struct BootstrapConcordance: Sendable {
    /// C of each score on all the subjects it scores.
    public let observed: [Concordance]
    /// Subjects with a finite value, per score.
    public let subjectCounts: [Int]
    /// draws[m][b]: C of score m on resample b.
    public let draws: [[Double]]
    public let level: Double
    let data: SurvivalData
    let risks: [[Double]]
    let resampler: BootstrapResampler
    let resamples: Int

    /// Evaluates every score of `risks` (higher = expected to fail sooner; NaN = no value) on `resamples` resamples.
    public init(_ data: SurvivalData, risks: [[Double]], resamples: Int, seed: UInt64, level: Double = 0.95) throws {
        let members = risks.map { r in r.indices.filter { r[$0].isFinite } }
        let evaluators = try zip(risks, members).map { r, idx in
            try ConcordanceEvaluator(data.subset(idx), risk: idx.map { r[$0] })
        }
        observed = evaluators.map { $0.concordance() }
        subjectCounts = members.map(\.count)
        let complete = members.map { $0.count == data.count }
        let resampler = BootstrapResampler(subjectCount: data.count, seed: seed)
        let perResample = BootstrapResampler.map(resamples: resamples) { b -> [Double] in
            let w = resampler.weights(resample: b)
            return evaluators.indices.map { m in
                evaluators[m].concordance(weights: complete[m] ? w : members[m].map { w[$0] }).index
            }
        }
        draws = risks.indices.map { m in perResample.map { $0[m] } }
        self.level = level
        self.data = data
        self.risks = risks
        self.resampler = resampler
        self.resamples = resamples
    }

    /// C of score `m` with its percentile interval.
    public func estimate(_ m: Int) -> Estimate {
        Estimate(value: observed[m].index, interval: BootstrapResampler.percentileInterval(draws[m], level: level))
    }

    /// The subjects both score `a` and score `b` have a value for.
    public func commonSubjects(_ a: Int, _ b: Int) -> [Int] {
        risks[a].indices.filter { risks[a][$0].isFinite && risks[b][$0].isFinite }
    }

    /// C(a) − C(b) on the subjects both scores have a value for (`commonSubjects`), with the percentile interval
    /// of the paired differences over the same resamples as the single estimates and a two-sided bootstrap
    /// p-value (twice the smaller share of differences on either side of 0).
    ///
    /// When both scores cover the same subjects this is the difference of their `observed` C-indices; when one
    /// lacks some subjects (e.g. `irradiated_mean`), both are recomputed on the common subjects, so the difference
    /// compares the two scores on the same patients.
    public func difference(_ a: Int, _ b: Int) -> Estimate {
        let common = commonSubjects(a, b)
        let observedDifference: Double
        var d: [Double]
        if common.count == subjectCounts[a] && common.count == subjectCounts[b] {
            observedDifference = observed[a].index - observed[b].index
            d = zip(draws[a], draws[b]).map { $0 - $1 }
        } else {
            let sub = data.subset(common)
            guard let ea = try? ConcordanceEvaluator(sub, risk: common.map { risks[a][$0] }),
                  let eb = try? ConcordanceEvaluator(sub, risk: common.map { risks[b][$0] }) else {
                return .undefined(level: level)
            }
            observedDifference = ea.concordance().index - eb.concordance().index
            d = BootstrapResampler.map(resamples: resamples) { r -> Double in
                let w = resampler.weights(resample: r)
                let wc = common.map { w[$0] }
                return ea.concordance(weights: wc).index - eb.concordance(weights: wc).index
            }
        }
        d = d.filter(\.isFinite)
        let below = Double(d.filter { $0 <= 0 }.count), above = Double(d.filter { $0 >= 0 }.count)
        let p = d.isEmpty ? Double.nan : Swift.min(1, 2 * Swift.min(below, above) / Double(d.count))
        return Estimate(value: observedDifference, interval: BootstrapResampler.percentileInterval(d, level: level), pValue: p)
    }
}

/// Linear-interpolation quantile (type 7, numpy's default) of sorted values; NaN when empty.
public func sortedQuantile(_ sorted: [Double], _ q: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let h = Double(sorted.count - 1) * q
    let lo = Int(h.rounded(.down)), hi = Swift.min(lo + 1, sorted.count - 1)
    return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
}

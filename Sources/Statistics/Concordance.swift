import Foundation

/// Harrell's concordance index of a risk score against right-censored survival, with its pair counts.
///
/// A pair is comparable when the subject with the shorter time had the event. At equal times a death
/// and a censoring are comparable (the censored subject outlived the death); two deaths are not
/// (as lifelines' `concordance_index`).
/// A comparable pair is concordant when the earlier death has the higher risk; equal risks count ½.
public struct Concordance: Sendable, Hashable {
    /// (concordant + ½ tied) / comparable; NaN without comparable pairs.
    public var index: Double
    public var concordant: Double
    public var tiedRisk: Double
    public var comparable: Double
}

/// Computes Harrell's C quickly (O(n log n)) and repeatedly for resampling weights over the same subjects.
public struct ConcordanceEvaluator: Sendable {
    let order: [Int]
    /// Start of each block of equal times in `order`, plus the end.
    let blocks: [Int]
    let events: [Bool]
    /// Dense 1-based rank of each subject's risk.
    let rank: [Int]
    let levels: Int

    /// Prepares `risk` (higher = expected to fail sooner) against `data`.
    public init(_ data: SurvivalData, risk: [Double]) throws {
        guard risk.count == data.count else {
            throw StatisticsError("concordance: \(risk.count) risk values for \(data.count) subjects")
        }
        if let bad = risk.firstIndex(where: { !$0.isFinite }) {
            throw StatisticsError("concordance: the risk of subject \(bad) is \(risk[bad])")
        }
        order = data.ascendingOrder
        var b = [0]
        for k in 1..<Swift.max(1, order.count) where data.times[order[k]] != data.times[order[k - 1]] { b.append(k) }
        b.append(order.count)
        blocks = b
        events = data.events
        let distinct = Array(Set(risk)).sorted()
        let position = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, $0 + 1) })
        rank = risk.map { position[$0]! }
        levels = distinct.count
    }

    /// The index over all subjects once.
    public func concordance() -> Concordance { concordance(weights: nil) }

    /// The index when subject i counts `weights[i]` times (a bootstrap resample); pairs weigh w_i w_j.
    public func concordance(weights: [Double]?) -> Concordance { concordance(weights: weights, riskOf: nil) }

    /// The index when subject s carries the risk of subject `riskOf[s]` (a permutation of the risks against the
    /// outcomes, for permutation tests) and counts `weights[s]` times; no re-sorting is needed.
    public func concordance(weights: [Double]?, riskOf permutation: [Int]?) -> Concordance {
        let rank = permutation.map { p in p.map { self.rank[$0] } } ?? self.rank
        var tree = [Double](repeating: 0, count: levels + 1)
        var poolTotal = 0.0
        var concordant = 0.0, tied = 0.0, comparable = 0.0
        func prefix(_ r: Int) -> Double {
            var s = 0.0, i = r
            while i > 0 { s += tree[i]; i -= i & -i }
            return s
        }
        func add(_ r: Int, _ w: Double) {
            var i = r
            while i <= levels { tree[i] += w; i += i & -i }
        }
        func compare(_ s: Int, _ w: Double) {
            let r = rank[s]
            let atOrBelow = prefix(r), below = prefix(r - 1)
            comparable += w * poolTotal
            concordant += w * (poolTotal - atOrBelow)
            tied += w * (atOrBelow - below)
        }
        for b in 0..<(blocks.count - 1) {
            let range = blocks[b]..<blocks[b + 1]
            // Deaths at this time against earlier deaths; then they join the pool; then the censorings
            // at this time are compared with every death up to and including this time.
            for k in range where events[order[k]] {
                let s = order[k], w = weights?[s] ?? 1
                if w > 0 { compare(s, w) }
            }
            for k in range where events[order[k]] {
                let s = order[k], w = weights?[s] ?? 1
                if w > 0 { add(rank[s], w); poolTotal += w }
            }
            for k in range where !events[order[k]] {
                let s = order[k], w = weights?[s] ?? 1
                if w > 0 { compare(s, w) }
            }
        }
        return Concordance(index: comparable > 0 ? (concordant + 0.5 * tied) / comparable : .nan,
                           concordant: concordant, tiedRisk: tied, comparable: comparable)
    }
}

extension Concordance {
    /// Harrell's C of `risk` (higher = expected to fail sooner) against `data`.
    public static func harrell(_ data: SurvivalData, risk: [Double]) throws -> Concordance {
        try ConcordanceEvaluator(data, risk: risk).concordance()
    }
}

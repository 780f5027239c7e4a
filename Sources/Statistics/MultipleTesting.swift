import Foundation

/// Adjustments of a family of p-values for multiplicity.
public enum MultipleTesting {
    /// Holm's (1979) step-down adjusted p-values, in the input order.
    ///
    /// With the m finite p-values sorted ascending, p₍ᵢ₎ becomes max over j ≤ i of min(1, (m − j + 1) p₍ⱼ₎).
    /// Rejecting where the adjusted value is below α controls the family-wise error rate at α under any
    /// dependence between the tests. NaN (a test that could not be done) stays NaN and is not counted in m.
    /// Equal p-values keep their input order, which does not change the adjusted values.
    public static func holm(_ p: [Double]) -> [Double] {
        let finite = p.indices.filter { p[$0].isFinite }
        let order = finite.sorted { p[$0] < p[$1] || (p[$0] == p[$1] && $0 < $1) }
        let m = Double(order.count)
        var out = [Double](repeating: .nan, count: p.count)
        var running = 0.0
        for (rank, i) in order.enumerated() {
            running = Swift.max(running, Swift.min(1, (m - Double(rank)) * p[i]))
            out[i] = running
        }
        return out
    }
}

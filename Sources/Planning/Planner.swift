import Foundation

/// What the planner needs to know about one lesion.
public struct PlanningLesion: Sendable, Hashable {
    public var lesionID: String
    public var score: Double
    /// Percentile (0–100) of the score among the reference cohort's lesions.
    public var percentile: Double
    public var volumeML: Double
    public var location: String
    public var irradiated: Bool
    public init(lesionID: String, score: Double, percentile: Double, volumeML: Double, location: String, irradiated: Bool) {
        self.lesionID = lesionID; self.score = score; self.percentile = percentile
        self.volumeML = volumeML; self.location = location; self.irradiated = irradiated
    }
}

/// The recommendation for one lesion: category, rank within it (1 = first) and the reason in numbers.
public struct LesionPlan: Sendable, Hashable, Codable {
    public var lesionID: String
    public var category: TargetCategory
    public var rank: Int
    public var rationale: String
}

public enum Planner {
    /// Plans one patient's lesions. Within SBRT the coldest lesion ranks first; within low-dose RT
    /// the highest score first; within no RT the highest score first. Ties keep manifest order.
    public static func plan(_ lesions: [PlanningLesion], policy: PlanningPolicy) -> [LesionPlan] {
        func f(_ x: Double) -> String { String(format: "%.2f", x) }
        func pct(_ x: Double) -> String { x.isFinite ? String(Int(x.rounded())) : "unknown" }
        var category: [TargetCategory] = []
        var reason: [String] = []
        for l in lesions {
            let basis = "score \(f(l.score)), cohort percentile \(pct(l.percentile))"
            if !l.score.isFinite {
                category.append(.noRT); reason.append("no score (features missing): no recommendation")
            } else if policy.excludeIrradiated && l.irradiated {
                category.append(.noRT); reason.append("already irradiated; \(basis)")
            } else if policy.excludedLocations.contains(l.location) {
                category.append(.noRT); reason.append("location \(l.location) excluded by policy; \(basis)")
            } else if l.percentile <= policy.ablativeMaxPercentile {
                if let lo = policy.minSBRTVolumeML, l.volumeML < lo {
                    category.append(.lowDoseRT)
                    reason.append("immune-cold (\(basis) ≤ P\(Int(policy.ablativeMaxPercentile))) but \(f(l.volumeML)) mL is below the SBRT minimum \(f(lo)) mL")
                } else if let hi = policy.maxSBRTVolumeML, l.volumeML > hi {
                    category.append(.lowDoseRT)
                    reason.append("immune-cold (\(basis) ≤ P\(Int(policy.ablativeMaxPercentile))) but \(f(l.volumeML)) mL exceeds the SBRT maximum \(f(hi)) mL")
                } else {
                    category.append(.ablativeSBRT)
                    reason.append("immune-cold: \(basis) ≤ P\(Int(policy.ablativeMaxPercentile))")
                }
            } else if l.percentile >= policy.spareMinPercentile {
                category.append(.noRT); reason.append("likely responder: \(basis) ≥ P\(Int(policy.spareMinPercentile)); spare")
            } else {
                category.append(.lowDoseRT)
                reason.append("intermediate: P\(Int(policy.ablativeMaxPercentile)) < \(basis) < P\(Int(policy.spareMinPercentile))")
            }
        }
        // Cap SBRT targets: keep the coldest.
        let sbrt = lesions.indices.filter { category[$0] == .ablativeSBRT }
            .sorted { lesions[$0].score != lesions[$1].score ? lesions[$0].score < lesions[$1].score : $0 < $1 }
        for (n, i) in sbrt.enumerated() where n >= policy.maxSBRTTargets {
            category[i] = .lowDoseRT
            reason[i] += "; beyond the cap of \(policy.maxSBRTTargets) SBRT target\(policy.maxSBRTTargets == 1 ? "" : "s")"
        }
        var rank = [Int](repeating: 0, count: lesions.count)
        for c in TargetCategory.allCases {
            let members = lesions.indices.filter { category[$0] == c }.sorted { a, b in
                let (x, y) = (lesions[a].score, lesions[b].score)
                let (fx, fy) = (x.isFinite ? x : -.infinity, y.isFinite ? y : -.infinity)
                if fx == fy { return a < b }
                return c == .ablativeSBRT ? fx < fy : fx > fy
            }
            for (n, i) in members.enumerated() { rank[i] = n + 1 }
        }
        return lesions.indices.map {
            LesionPlan(lesionID: lesions[$0].lesionID, category: category[$0], rank: rank[$0], rationale: reason[$0])
        }
    }

    /// Percentile (0–100) of `value` in `reference`: share of reference values below it, ties counting half.
    public static func percentile(of value: Double, in reference: [Double]) -> Double {
        let finite = reference.filter(\.isFinite)
        guard value.isFinite, !finite.isEmpty else { return .nan }
        let below = finite.filter { $0 < value }.count
        let equal = finite.filter { $0 == value }.count
        return 100 * (Double(below) + 0.5 * Double(equal)) / Double(finite.count)
    }
}

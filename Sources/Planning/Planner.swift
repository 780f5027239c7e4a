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
    /// MIL attention weight of the lesion within its patient (nil: none computed).
    public var attention: Double?

    public init(lesionID: String, score: Double, percentile: Double, volumeML: Double, location: String,
                irradiated: Bool, attention: Double? = nil) {
        self.lesionID = lesionID; self.score = score; self.percentile = percentile
        self.volumeML = volumeML; self.location = location; self.irradiated = irradiated
        self.attention = attention
    }
}

/// The recommendation for one lesion: category, rank within it (1 = first) and the reason in numbers.
public struct LesionPlan: Sendable, Hashable, Codable {
    public var lesionID: String
    public var category: TargetCategory
    public var rank: Int
    public var rationale: String

    public init(lesionID: String, category: TargetCategory, rank: Int, rationale: String) {
        self.lesionID = lesionID; self.category = category; self.rank = rank; self.rationale = rationale
    }
}

/// A policy that cannot be applied to the given lesions: a cut-off the signature lacks, or
/// attention weights the policy needs but the lesions do not have.
public struct PlanningError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public enum Planner {
    /// Plans one patient's lesions under `policy`; `cutoffs` are the signature file's cut-offs by name.
    ///
    /// Throws when the policy names a cut-off not in `cutoffs`, when its cut-offs are out of order,
    /// or when it uses attention and a scored lesion has no attention weight.
    public static func plan(_ lesions: [PlanningLesion], policy: PlanningPolicy,
                            cutoffs: [String: Double]) throws -> [LesionPlan] {
        let rules = try Rules(policy: policy, cutoffs: cutoffs)
        if policy.usesAttention {
            let missing = lesions.filter { $0.score.isFinite && $0.attention == nil }.map(\.lesionID)
            if !missing.isEmpty {
                throw PlanningError("policy '\(policy.name)' uses MIL attention weights, but lesion\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) ha\(missing.count == 1 ? "s" : "ve") none")
            }
        }
        var category: [TargetCategory] = []
        var reason: [String] = []
        for l in lesions {
            let (c, r) = rules.categorise(l)
            category.append(c); reason.append(r)
        }
        // Cap SBRT targets: keep the first in SBRT rank order.
        let sbrt = ordered(lesions.indices.filter { category[$0] == .ablativeSBRT }, lesions, policy.ranking.ablativeSBRT)
        for (n, i) in sbrt.enumerated() where n >= policy.maxSBRTTargets {
            category[i] = .lowDoseRT
            reason[i] += "; beyond the cap of \(policy.maxSBRTTargets) SBRT target\(policy.maxSBRTTargets == 1 ? "" : "s") per patient"
        }
        var rank = [Int](repeating: 0, count: lesions.count)
        for c in TargetCategory.allCases {
            let members = ordered(lesions.indices.filter { category[$0] == c }, lesions, policy.ranking.order(for: c))
            for (n, i) in members.enumerated() { rank[i] = n + 1 }
        }
        return lesions.indices.map {
            LesionPlan(lesionID: lesions[$0].lesionID, category: category[$0], rank: rank[$0], rationale: reason[$0])
        }
    }

    /// Plans with a policy that needs neither signature cut-offs nor attention weights. A policy that
    /// does gives every lesion "no RT" with the reason; use `plan(_:policy:cutoffs:)` for those.
    public static func plan(_ lesions: [PlanningLesion], policy: PlanningPolicy) -> [LesionPlan] {
        do {
            return try plan(lesions, policy: policy, cutoffs: [:])
        } catch {
            return lesions.enumerated().map {
                LesionPlan(lesionID: $1.lesionID, category: .noRT, rank: $0 + 1, rationale: "no recommendation: \(error)")
            }
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

    /// `indices` sorted by `order`; lesions without the value last; ties in manifest order.
    static func ordered(_ indices: [Int], _ lesions: [PlanningLesion], _ order: RankOrder) -> [Int] {
        func key(_ l: PlanningLesion) -> Double? {
            let v: Double?
            switch order {
            case .scoreAscending: v = l.score
            case .scoreDescending: v = -l.score
            case .volumeAscending: v = l.volumeML
            case .volumeDescending: v = -l.volumeML
            case .attentionDescending: v = l.attention.map { -$0 }
            }
            return v.flatMap { $0.isFinite ? $0 : nil }
        }
        return indices.sorted { a, b in
            switch (key(lesions[a]), key(lesions[b])) {
            case let (x?, y?): return x != y ? x < y : a < b
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return a < b
            }
        }
    }
}

/// A policy with its boundaries resolved to numbers, deciding one lesion at a time.
struct Rules {
    enum Boundary {
        case percentile(Double)
        case score(name: String, value: Double)
    }

    let policy: PlanningPolicy
    let ablative: Boundary
    let spare: Boundary

    init(policy: PlanningPolicy, cutoffs: [String: Double]) throws {
        let problems = policy.validate()
        guard problems.isEmpty else { throw PolicyError(source: "policy '\(policy.name)'", problems: problems) }
        func resolve(_ t: PlanningThreshold?, _ key: String) throws -> Boundary {
            switch t {
            case .percentile(let p)?: return .percentile(p)
            case .cutoff(let name)?:
                guard let v = cutoffs[name], v.isFinite else {
                    let known = cutoffs.keys.sorted()
                    throw PlanningError("policy '\(policy.name)': \(key) names the cut-off '\(name)', which the signature does not define (its cut-offs: \(known.isEmpty ? "none" : known.joined(separator: ", ")))")
                }
                return .score(name: name, value: v)
            case nil:
                throw PlanningError("policy '\(policy.name)' has no \(key) boundary")
            }
        }
        self.policy = policy
        ablative = try resolve(policy.ablativeThreshold, "ablative_max_cutoff")
        spare = try resolve(policy.spareThreshold, "spare_min_cutoff")
        if case .score(let a, let av) = ablative, case .score(let s, let sv) = spare, av > sv {
            throw PlanningError("policy '\(policy.name)': the ablative cut-off \(a) (\(f(av))) is above the spare cut-off \(s) (\(f(sv)))")
        }
    }

    /// Category and rationale before the per-patient SBRT cap.
    func categorise(_ l: PlanningLesion) -> (TargetCategory, String) {
        let attention = l.attention.map { ", attention \(f($0))" } ?? ""
        let basis = "score \(f(l.score)), cohort percentile \(pct(l.percentile))\(attention)"
        guard l.score.isFinite else { return (.noRT, "no score (features missing): no recommendation") }
        if policy.excludeIrradiated && l.irradiated { return (.noRT, "already irradiated; \(basis)") }
        if policy.excludedLocations.contains(l.location) {
            return (.noRT, "location \(l.location) excluded by policy; \(basis)")
        }
        if let cold = test(l, ablative, atMost: true) {
            let why = "immune-cold: \(cold)\(attention)"
            if let lo = policy.minSBRTVolumeML, l.volumeML < lo {
                return (.lowDoseRT, "\(why), but \(f(l.volumeML)) mL is below the SBRT minimum \(f(lo)) mL")
            }
            if let hi = policy.maxSBRTVolumeML, l.volumeML > hi {
                return (.lowDoseRT, "\(why), but \(f(l.volumeML)) mL exceeds the SBRT maximum \(f(hi)) mL")
            }
            if let w = policy.attention?.minSBRTWeight, let a = l.attention, a < w {
                return (.lowDoseRT, "\(why), but attention \(f(a)) is below the SBRT minimum \(f(w))")
            }
            return (.ablativeSBRT, why)
        }
        if let hot = test(l, spare, atMost: false) {
            return (.noRT, "likely responder: \(hot)\(attention); spare")
        }
        return (.lowDoseRT, "intermediate: \(between(l))\(attention)")
    }

    /// The comparison that places `l` at or beyond `b`, in words with its numbers; nil when it does not.
    private func test(_ l: PlanningLesion, _ b: Boundary, atMost: Bool) -> String? {
        let op = atMost ? "≤" : "≥"
        switch b {
        case .percentile(let p):
            guard l.percentile.isFinite, atMost ? l.percentile <= p : l.percentile >= p else { return nil }
            return "score \(f(l.score)), cohort percentile \(pct(l.percentile)) \(op) P\(pct(p))"
        case .score(let name, let v):
            guard atMost ? l.score <= v : l.score >= v else { return nil }
            return "score \(f(l.score)) \(op) cut-off \(name) (\(f(v))); cohort percentile \(pct(l.percentile))"
        }
    }

    private func between(_ l: PlanningLesion) -> String {
        func side(_ b: Boundary) -> String {
            switch b {
            case .percentile(let p): return "P\(pct(p))"
            case .score(let name, let v): return "\(name) (\(f(v)))"
            }
        }
        let usesScore: Bool
        switch (ablative, spare) {
        case (.percentile, .percentile): usesScore = false
        default: usesScore = true
        }
        let middle = usesScore ? "score \(f(l.score)) (cohort percentile \(pct(l.percentile)))"
                               : "score \(f(l.score)), cohort percentile \(pct(l.percentile))"
        return "\(side(ablative)) < \(middle) < \(side(spare))"
    }
}

private func f(_ x: Double) -> String { String(format: "%.2f", x) }
private func pct(_ x: Double) -> String {
    guard x.isFinite else { return "unknown" }
    return x == x.rounded() ? String(Int(x)) : String(format: "%.1f", x)
}

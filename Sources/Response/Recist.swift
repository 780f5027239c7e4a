import Foundation

/// One lesion followed over a patient's scans: what RECIST needs to know about it and its measurement at
/// each time point it was contoured.
///
/// Time points are days from the baseline scan (0 = baseline, negative = pre-baseline, positive = follow-up).
/// A lesion seen at baseline that has no measurement at a follow-up the patient was scanned at is taken as
/// disappeared (0 mm) at that follow-up: a lesion that is gone has no contour to extract. A lesion first
/// seen after baseline is a new lesion.
public struct TrackedLesion: Sendable {
    public var lesionID: String
    /// The organ for the "at most 2 targets per organ" rule (LesionMap's `location`, e.g. `lung`);
    /// all lymph nodes count as one organ (RECIST 1.1 update, Schwartz et al. 2016).
    public var organ: String
    /// Lymph nodes are measured by their short axis (RECIST 1.1 §3.1).
    public var isLymphNode: Bool
    /// Inside a radiotherapy field (the abscopal assessments use the lesions outside every field).
    public var irradiated: Bool
    /// Slice thickness of the baseline scan in mm; RECIST 1.1 §3.1.1: the measurable minimum is 10 mm or
    /// twice the slice thickness when slices are thicker than 5 mm. nil = 10 mm.
    public var sliceThicknessMM: Double?
    /// Measurement per time point (days).
    public var measurements: [Double: LesionMeasurement]

    public init(lesionID: String, organ: String, isLymphNode: Bool, irradiated: Bool = false,
                sliceThicknessMM: Double? = nil, measurements: [Double: LesionMeasurement]) {
        self.lesionID = lesionID
        self.organ = organ
        self.isLymphNode = isLymphNode
        self.irradiated = irradiated
        self.sliceThicknessMM = sliceThicknessMM
        self.measurements = measurements
    }

    /// The diameter RECIST follows: the short axis of a lymph node, the long axis of anything else.
    public func diameter(_ m: LesionMeasurement) -> Double { isLymphNode ? m.shortAxisMM : m.longAxisMM }

    /// The RECIST diameter at time point `t`; 0 when the lesion has no measurement there (disappeared).
    public func diameter(at t: Double) -> Double { measurements[t].map(diameter) ?? 0 }

    public var isBaselineLesion: Bool { measurements[0] != nil }
}

/// What a baseline lesion is for RECIST 1.1 (§3.1, §3.3).
public enum BaselineRole: String, Sendable, Codable {
    /// Measurable and selected (at most 5, at most 2 per organ, largest first).
    case target
    /// Followed qualitatively: non-measurable lesions (long axis < 10 mm), pathological nodes of 10 to
    /// < 15 mm short axis, and measurable lesions beyond the target limits.
    case nonTarget = "non_target"
    /// A lymph node of short axis < 10 mm: not pathological, not followed.
    case normalNode = "normal_node"
    /// First seen after baseline.
    case new
}

/// Per-lesion category at one follow-up: RECIST 1.1 thresholds applied to the one lesion, and `NEW`.
public enum LesionCategory: String, Sendable, Codable, CaseIterable {
    /// Disappeared (a lymph node: short axis < 10 mm, when it was pathological, ≥ 10 mm, at baseline).
    case complete = "CR"
    /// At least 30% smaller than at baseline.
    case partial = "PR"
    /// Neither PR nor PD.
    case stable = "SD"
    /// At least 20% and at least 5 mm larger than its smallest size so far (nadir, baseline included).
    case progressive = "PD"
    /// A lesion first seen after baseline.
    case new = "NEW"

    public var isResponse: Bool { self == .complete || self == .partial }
    public var isProgression: Bool { self == .progressive || self == .new }
}

/// Time-point response of RECIST 1.1 (Eisenhauer 2009, tables 1 and 2).
public enum OverallResponse: String, Sendable, Codable, CaseIterable {
    case complete = "CR", partial = "PR", stable = "SD", progressive = "PD"
    /// Only non-target disease, neither gone nor progressing (table 2).
    case nonCRNonPD = "NON-CR/NON-PD"
    /// Not evaluable: no measurable or followed disease at baseline.
    case notEvaluable = "NE"

    public var isResponse: Bool { self == .complete || self == .partial }
}

/// RECIST 1.1 thresholds (Eisenhauer et al. 2009, Eur J Cancer 45:228-247), in mm and fractions.
public enum RecistRules {
    /// Measurable non-nodal lesion: long axis ≥ 10 mm (or 2 × slice thickness when slices exceed 5 mm).
    public static let measurableMM = 10.0
    /// Measurable (target-eligible) lymph node: short axis ≥ 15 mm.
    public static let nodeMeasurableMM = 15.0
    /// Pathological lymph node: short axis ≥ 10 mm; smaller nodes are normal (and count as CR at follow-up).
    public static let nodePathologicalMM = 10.0
    public static let maxTargets = 5
    public static let maxTargetsPerOrgan = 2
    /// PR: sum of diameters at least 30% below the baseline sum.
    public static let partialFraction = 0.7
    /// PD: sum at least 20% above the nadir and at least 5 mm above it.
    public static let progressionFraction = 1.2
    public static let progressionAbsoluteMM = 5.0

    /// The measurable minimum for a non-nodal lesion on a scan of the given slice thickness.
    public static func measurableMinimum(sliceThicknessMM: Double?) -> Double {
        guard let t = sliceThicknessMM, t > 5 else { return measurableMM }
        return max(measurableMM, 2 * t)
    }

    /// A lesion's baseline role before target selection (measurable or not, or a normal node).
    public static func baselineRole(_ l: TrackedLesion) -> (role: BaselineRole, measurable: Bool) {
        guard let m = l.measurements[0] else { return (.new, false) }
        if l.isLymphNode {
            if m.shortAxisMM >= nodeMeasurableMM { return (.nonTarget, true) }
            if m.shortAxisMM >= nodePathologicalMM { return (.nonTarget, false) }
            return (.normalNode, false)
        }
        return (.nonTarget, m.longAxisMM >= measurableMinimum(sliceThicknessMM: l.sliceThicknessMM))
    }

    /// Baseline roles of every lesion: targets chosen among the measurable ones, largest RECIST diameter
    /// first (short axis for nodes), at most `maxTargetsPerOrgan` per organ and `maxTargets` in all.
    /// Tie-break (documented): equal diameters are taken in ascending `lesionID` order.
    public static func roles(_ lesions: [TrackedLesion]) -> [String: BaselineRole] {
        var roles: [String: BaselineRole] = [:]
        var measurable: [TrackedLesion] = []
        for l in lesions {
            let (role, isMeasurable) = baselineRole(l)
            roles[l.lesionID] = role
            if isMeasurable { measurable.append(l) }
        }
        measurable.sort {
            let a = $0.diameter(at: 0), b = $1.diameter(at: 0)
            return a != b ? a > b : $0.lesionID < $1.lesionID
        }
        var perOrgan: [String: Int] = [:]
        var chosen = 0
        for l in measurable where chosen < maxTargets {
            let organ = l.isLymphNode ? "lymph_node" : l.organ
            guard perOrgan[organ, default: 0] < maxTargetsPerOrgan else { continue }
            perOrgan[organ, default: 0] += 1
            roles[l.lesionID] = .target
            chosen += 1
        }
        return roles
    }

    /// One lesion's category at a follow-up, from its diameter now, at baseline and its nadir before now.
    /// Order: CR, then PD, then PR, else SD. CR: gone (0 mm, no contour), whatever the site, or a node that was
    /// pathological (≥ 10 mm short axis) at baseline and is under 10 mm now. (A node that was normal at baseline
    /// and disappeared is gone too: CR, not a −100 % PR.)
    public static func lesionCategory(now: Double, baseline: Double, nadir: Double, isLymphNode: Bool) -> LesionCategory {
        if now <= 0 { return .complete }
        if isLymphNode && baseline >= nodePathologicalMM && now < nodePathologicalMM { return .complete }
        if isProgression(now: now, nadir: nadir) { return .progressive }
        if isPartial(now: now, baseline: baseline) { return .partial }
        return .stable
    }

    /// +20% and +5 mm from the nadir (RECIST 1.1 §4.3.1). Thresholds are inclusive; comparisons allow
    /// 1e-9 mm so that exactly +20% (e.g. 36 vs 30) counts despite binary rounding of 1.2.
    public static func isProgression(now: Double, nadir: Double) -> Bool {
        now >= progressionFraction * nadir - 1e-9 && now - nadir >= progressionAbsoluteMM - 1e-9
    }

    /// −30% from the baseline (inclusive, same 1e-9 mm allowance).
    public static func isPartial(now: Double, baseline: Double) -> Bool {
        baseline > 0 && now <= partialFraction * baseline + 1e-9
    }

    /// Whether a lesion first seen at a follow-up counts as a new lesion: a node must be pathological
    /// (short axis ≥ 10 mm), anything else must be there at all.
    public static func countsAsNew(_ l: TrackedLesion, at t: Double) -> Bool {
        guard let m = l.measurements[t] else { return false }
        return l.isLymphNode ? m.shortAxisMM >= nodePathologicalMM : m.longAxisMM > 0
    }

    /// RECIST 1.1 overall response from target, non-target and new-lesion status (tables 1 and 2).
    /// `target` nil = no target lesions; `nonTarget` nil = no non-target lesions.
    public static func overall(target: OverallResponse?, nonTarget: OverallResponse?, newLesions: Bool,
                               nonTargetProgression: Bool) -> OverallResponse {
        if newLesions || nonTargetProgression || target == .progressive || nonTarget == .progressive { return .progressive }
        guard let target else {
            // Table 2: non-target disease only.
            switch nonTarget {
            case .complete?: return .complete
            case nil: return .notEvaluable
            default: return .nonCRNonPD
            }
        }
        switch target {
        case .complete: return (nonTarget == nil || nonTarget == .complete) ? .complete : .partial
        case .partial: return .partial
        case .stable: return .stable
        default: return .notEvaluable
        }
    }
}

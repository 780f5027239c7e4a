import Foundation

/// Everything known about one patient's lesions over time.
public struct PatientTimeline: Sendable {
    public var patientID: String
    public var lesions: [TrackedLesion]
    /// Follow-up time points at which a reader judged unequivocal progression of non-target disease
    /// (RECIST 1.1 §4.3.2). This is a radiologist's judgement, not derived from contours; empty = none.
    public var nonTargetProgression: Set<Double>

    public init(patientID: String, lesions: [TrackedLesion], nonTargetProgression: Set<Double> = []) {
        self.patientID = patientID
        self.lesions = lesions
        self.nonTargetProgression = nonTargetProgression
    }

    /// Every time point at which some lesion was measured, ascending.
    public var timepoints: [Double] { Array(Set(lesions.flatMap { $0.measurements.keys })).sorted() }
}

/// One lesion at one time point.
public struct LesionResponse: Sendable {
    public var lesionID: String
    public var timepoint: Double
    /// The contour's measurement; `.zero` with `present == false` for a baseline lesion that has no contour
    /// at a follow-up (disappeared).
    public var measurement: LesionMeasurement
    public var present: Bool
    public var role: BaselineRole
    public var isLymphNode: Bool
    public var irradiated: Bool
    /// The diameter RECIST follows (short axis for nodes, long axis otherwise), mm.
    public var recistDiameterMM: Double
    /// Percent change of `recistDiameterMM` from baseline and from the lesion's nadir (its smallest RECIST
    /// diameter at baseline and the follow-ups before this one); NaN for new lesions and before follow-up.
    public var changeFromBaselinePct: Double
    public var changeFromNadirPct: Double
    /// Percent volume change from baseline; NaN for new lesions.
    public var volumeChangePct: Double
    /// Category at a follow-up; nil at baseline and pre-baseline scans.
    public var category: LesionCategory?
}

/// One patient at one follow-up time point.
public struct PatientResponse: Sendable {
    public var timepoint: Double
    /// Sum of the RECIST diameters of the target lesions (short axis for nodes), mm.
    public var sumDiametersMM: Double
    public var changeFromBaselinePct: Double
    /// Change from the smallest sum so far (baseline included, this time point excluded).
    public var changeFromNadirPct: Double
    /// Target-lesion response (nil: no targets) and non-target response (nil: no non-targets).
    public var target: OverallResponse?
    public var nonTarget: OverallResponse?
    /// Ids of new lesions present at this time point.
    public var newLesions: [String]
    /// RECIST 1.1 time-point response.
    public var recist: OverallResponse
    /// iRECIST (Seymour et al. 2017, Lancet Oncol 18:e143): iCR, iPR, iSD, iUPD (unconfirmed progression)
    /// or iCPD (progression confirmed at the next assessment), or iNE / iNN (non-CR/non-PD).
    public var irecist: String
    /// A response or stable disease right after iUPD: a pseudoprogression candidate.
    public var pseudoprogression: Bool
    /// Some lesions respond (CR/PR) while others progress (PD or NEW), per-lesion categories.
    public var dissociated: Bool
    /// Tumour growth rates (% per month) before (pre-baseline -> baseline) and after (baseline -> this
    /// time point), their ratio, and their difference; NaN when not computable.
    public var tgrPre: Double
    public var tgrPost: Double
    public var tgrRatio: Double
    public var tgrDelta: Double
    /// Hyperprogression (Champiat et al. 2017): RECIST PD at the first follow-up and TGR ratio ≥ 2;
    /// nil when there is no pre-baseline scan or this is not the first follow-up.
    public var hyperprogression: Bool?
    /// Abscopal (out-of-field) response, only for patients with at least one irradiated lesion (nil otherwise):
    /// any non-irradiated baseline lesion (RECIST diameter) at least 30% smaller than at baseline, whatever its
    /// size (the definition as the review states it: "a reduction in the size of one non-irradiated metastasis
    /// by ≥30%") ...
    public var abscopalAnyLesion: Bool?
    /// ... and RECIST 1.1 applied to the non-irradiated lesions alone (targets selected among them), CR or PR.
    public var abscopalRecist: Bool?
    /// That out-of-field RECIST 1.1 response (nil: no measurable non-irradiated lesion, or no irradiated one).
    public var outOfFieldRecist: OverallResponse?
}

/// The assessment of one patient.
public struct PatientAssessment: Sendable {
    public var patientID: String
    public var lesions: [LesionResponse]
    public var timepoints: [PatientResponse]
}

public enum ResponseError: Error, CustomStringConvertible, Equatable {
    case noBaseline(patient: String, timepoints: [Double])

    public var description: String {
        switch self {
        case let .noBaseline(p, t):
            let list = t.map { ResponseAssessment.format($0) }.joined(separator: ", ")
            return "patient \(p): follow-up without a baseline scan (time points \(list) days, none at 0)"
        }
    }
}

/// RECIST 1.1, iRECIST, dissociated response, hyperprogression and abscopal response of one patient.
public enum ResponseAssessment {
    /// Days per month for growth rates (365.25 / 12).
    public static let daysPerMonth = 30.4375
    /// Hyperprogression threshold on TGR_post / TGR_pre (Champiat et al. 2017, Clin Cancer Res 23:1920).
    public static let hyperprogressionRatio = 2.0

    static func format(_ t: Double) -> String {
        t == t.rounded() ? String(Int(t)) : String(t)
    }

    /// Tumour growth rate in % per month between two sums of diameters `d0` at `t0` and `d1` at `t1` (days):
    /// TGR = 100 (exp(TG) − 1), TG = 3 ln(D1 / D0) / Δt, Δt in months (volume taken as diameter cubed;
    /// Ferté et al. 2014, as used by Champiat et al. 2017 and Ferrara et al. 2018, JAMA Oncol 4:1543).
    /// NaN when a sum is not positive or Δt is not.
    public static func tumourGrowthRate(from d0: Double, at t0: Double, to d1: Double, at t1: Double) -> Double {
        let dt = (t1 - t0) / daysPerMonth
        guard d0 > 0, d1 > 0, dt > 0 else { return .nan }
        return 100 * (exp(3 * log(d1 / d0) / dt) - 1)
    }

    /// RECIST 1.1 at each follow-up for a set of lesions (all of a patient's, or the non-irradiated ones).
    struct RecistStep {
        var sum: Double
        var nadirBefore: Double
        var baselineSum: Double
        var target: OverallResponse?
        var nonTarget: OverallResponse?
        var newLesions: [String]
        var newSum: Double
        var overall: OverallResponse
    }

    static func recist(_ lesions: [TrackedLesion], roles: [String: BaselineRole], followUps: [Double],
                       nonTargetProgression: Set<Double>) -> [RecistStep] {
        let targets = lesions.filter { roles[$0.lesionID] == .target }
        let nonTargets = lesions.filter { roles[$0.lesionID] == .nonTarget }
        let newOnes = lesions.filter { roles[$0.lesionID] == .new }
        let baselineSum = targets.reduce(0) { $0 + $1.diameter(at: 0) }
        var nadir = baselineSum
        var steps: [RecistStep] = []
        for t in followUps {
            let sum = targets.reduce(0) { $0 + $1.diameter(at: t) }
            var target: OverallResponse? = nil
            if !targets.isEmpty {
                let allGone = targets.allSatisfy {
                    $0.isLymphNode ? $0.diameter(at: t) < RecistRules.nodePathologicalMM : $0.diameter(at: t) <= 0
                }
                if allGone { target = .complete }
                else if RecistRules.isProgression(now: sum, nadir: nadir) { target = .progressive }
                else if RecistRules.isPartial(now: sum, baseline: baselineSum) { target = .partial }
                else { target = .stable }
            }
            var nonTarget: OverallResponse? = nil
            if !nonTargets.isEmpty {
                let allGone = nonTargets.allSatisfy {
                    $0.isLymphNode ? $0.diameter(at: t) < RecistRules.nodePathologicalMM : $0.diameter(at: t) <= 0
                }
                nonTarget = allGone ? .complete : .nonCRNonPD
            }
            let news = newOnes.filter { RecistRules.countsAsNew($0, at: t) }
            let overall = RecistRules.overall(target: target, nonTarget: nonTarget, newLesions: !news.isEmpty,
                                              nonTargetProgression: nonTargetProgression.contains(t))
            steps.append(RecistStep(sum: sum, nadirBefore: nadir, baselineSum: baselineSum, target: target,
                                    nonTarget: nonTarget, newLesions: news.map(\.lesionID),
                                    newSum: news.reduce(0) { $0 + $1.diameter(at: t) }, overall: overall))
            nadir = min(nadir, sum)
        }
        return steps
    }

    /// iRECIST over the RECIST steps: the first PD is iUPD; at the next assessment it is confirmed (iCPD) by a
    /// further increase of ≥ 5 mm in the target sum or in the sum of new lesions, by more new lesions, or by
    /// non-target progression; a response or stable disease instead resets it (a pseudoprogression
    /// candidate); PD without further increase stays iUPD. Once confirmed, iCPD stays.
    static func irecist(_ steps: [RecistStep], followUps: [Double], nonTargetProgression: Set<Double>)
        -> [(label: String, pseudo: Bool)] {
        var out: [(String, Bool)] = []
        var pending: RecistStep? = nil
        var confirmed = false
        for (step, t) in zip(steps, followUps) {
            if confirmed { out.append(("iCPD", false)); continue }
            if let u = pending {
                let further = step.sum - u.sum >= RecistRules.progressionAbsoluteMM - 1e-9
                    || step.newSum - u.newSum >= RecistRules.progressionAbsoluteMM - 1e-9
                    || !Set(step.newLesions).subtracting(u.newLesions).isEmpty
                    || nonTargetProgression.contains(t)
                if further { confirmed = true; out.append(("iCPD", false)); continue }
                if step.overall != .progressive {
                    pending = nil
                    out.append((label(step.overall), true))
                    continue
                }
                out.append(("iUPD", false))
                continue
            }
            if step.overall == .progressive { pending = step; out.append(("iUPD", false)) }
            else { out.append((label(step.overall), false)) }
        }
        return out
    }

    static func label(_ r: OverallResponse) -> String {
        switch r {
        case .complete: return "iCR"
        case .partial: return "iPR"
        case .stable: return "iSD"
        case .progressive: return "iUPD"
        case .nonCRNonPD: return "iNN"
        case .notEvaluable: return "iNE"
        }
    }

    /// Assesses one patient. Throws when the patient has follow-ups but no baseline (time point 0).
    public static func assess(_ p: PatientTimeline) throws -> PatientAssessment {
        let times = p.timepoints
        guard times.contains(0) else { throw ResponseError.noBaseline(patient: p.patientID, timepoints: times) }
        let followUps = times.filter { $0 > 0 }
        let roles = RecistRules.roles(p.lesions)
        let steps = recist(p.lesions, roles: roles, followUps: followUps, nonTargetProgression: p.nonTargetProgression)
        let immune = irecist(steps, followUps: followUps, nonTargetProgression: p.nonTargetProgression)

        // Per-lesion rows.
        var rows: [LesionResponse] = []
        var categories: [Double: [LesionCategory]] = [:]
        for l in p.lesions {
            let role = roles[l.lesionID] ?? .new
            let base = l.measurements[0]
            var nadir = base.map(l.diameter) ?? .nan
            for t in times {
                let m = l.measurements[t]
                if m == nil && !(t > 0 && base != nil) { continue }
                let measurement = m ?? .zero
                let d = l.diameter(measurement)
                var row = LesionResponse(lesionID: l.lesionID, timepoint: t, measurement: measurement, present: m != nil,
                                         role: role, isLymphNode: l.isLymphNode, irradiated: l.irradiated,
                                         recistDiameterMM: d, changeFromBaselinePct: .nan, changeFromNadirPct: .nan,
                                         volumeChangePct: .nan, category: nil)
                if let base {
                    let d0 = l.diameter(base)
                    if t >= 0 {
                        row.changeFromBaselinePct = d0 > 0 ? 100 * (d - d0) / d0 : .nan
                        row.volumeChangePct = base.volumeML > 0 ? 100 * (measurement.volumeML - base.volumeML) / base.volumeML : .nan
                        row.changeFromNadirPct = nadir > 0 ? 100 * (d - nadir) / nadir : .nan
                    }
                    if t > 0 {
                        let c = RecistRules.lesionCategory(now: d, baseline: d0, nadir: nadir, isLymphNode: l.isLymphNode)
                        row.category = c
                        if role != .normalNode { categories[t, default: []].append(c) }
                        nadir = min(nadir, d)
                    }
                } else if t > 0 {
                    row.category = .new
                    if RecistRules.countsAsNew(l, at: t) { categories[t, default: []].append(.new) }
                }
                rows.append(row)
            }
        }

        // Growth rates: the latest pre-baseline scan, baseline and the first follow-up (target sums).
        let targets = p.lesions.filter { roles[$0.lesionID] == .target }
        let pre = times.last(where: { $0 < 0 })
        let baselineSum = steps.first?.baselineSum ?? targets.reduce(0) { $0 + $1.diameter(at: 0) }
        let tgrPre = pre.map { t in
            tumourGrowthRate(from: targets.reduce(0) { $0 + $1.diameter(at: t) }, at: t, to: baselineSum, at: 0)
        } ?? .nan

        // Abscopal: lesions outside every radiotherapy field, only when something was irradiated.
        let anyIrradiated = p.lesions.contains { $0.irradiated && $0.isBaselineLesion }
        let outside = p.lesions.filter { !$0.irradiated }
        let outsideRoles = RecistRules.roles(outside)
        let outsideSteps = recist(outside, roles: outsideRoles, followUps: followUps, nonTargetProgression: [])
        let outsideBaseline = outside.filter { $0.isBaselineLesion && $0.diameter(at: 0) > 0 }

        var patientRows: [PatientResponse] = []
        for (n, (step, t)) in zip(steps, followUps).enumerated() {
            let cats = categories[t] ?? []
            let tgrPost = tumourGrowthRate(from: baselineSum, at: 0, to: step.sum, at: t)
            var ratio = Double.nan
            if tgrPre.isFinite && tgrPre > 0 && tgrPost.isFinite { ratio = tgrPost / tgrPre }
            var hyper: Bool? = nil
            if pre != nil && n == 0 {
                hyper = step.overall == .progressive && ratio.isFinite && ratio >= hyperprogressionRatio
            }
            var anyLesion: Bool? = nil, outsideRecist: Bool? = nil, outsideResponse: OverallResponse? = nil
            if anyIrradiated {
                anyLesion = outsideBaseline.contains {
                    RecistRules.isPartial(now: $0.diameter(at: t), baseline: $0.diameter(at: 0))
                }
                if outsideRoles.values.contains(.target) {
                    outsideResponse = outsideSteps[n].overall
                    outsideRecist = outsideSteps[n].overall.isResponse
                }
            }
            patientRows.append(PatientResponse(
                timepoint: t, sumDiametersMM: step.sum,
                changeFromBaselinePct: step.baselineSum > 0 ? 100 * (step.sum - step.baselineSum) / step.baselineSum : .nan,
                changeFromNadirPct: step.nadirBefore > 0 ? 100 * (step.sum - step.nadirBefore) / step.nadirBefore : .nan,
                target: step.target, nonTarget: step.nonTarget, newLesions: step.newLesions, recist: step.overall,
                irecist: immune[n].label, pseudoprogression: immune[n].pseudo,
                dissociated: cats.contains { $0.isResponse } && cats.contains { $0.isProgression },
                tgrPre: tgrPre, tgrPost: tgrPost, tgrRatio: ratio,
                tgrDelta: tgrPre.isFinite && tgrPost.isFinite ? tgrPost - tgrPre : .nan,
                hyperprogression: hyper, abscopalAnyLesion: anyLesion, abscopalRecist: outsideRecist,
                outOfFieldRecist: outsideResponse))
        }
        return PatientAssessment(patientID: p.patientID, lesions: rows, timepoints: patientRows)
    }
}

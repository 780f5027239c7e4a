import Foundation
import Cohort
import FeatureStore
import Reporting

/// The response timelines of a store's patients with follow-up scans, for the patient reports' "Response over
/// time" section (issue 15 item 4).
///
/// One source of truth: the assessment is `lesionmap response`'s (`CohortResponse`), never re-derived here. A
/// patient's timeline comes from the store's `response/lesions` and `response/patients` tables when they hold
/// exactly the patient's current /lesions rows (same lesions, time points and diameters); otherwise (response not
/// run, or run before the store was re-extracted) from `CohortResponse.assess` on the store as it is, and the
/// section says which. Scores are the signature's `scores/<name>` rows at every time point (`lesionmap score`
/// scores follow-up rows too). Patients without follow-up rows get no timeline.
struct StoreResponseTimelines {
    private var timelines: [String: ResponseTimeline] = [:]
    /// Why a patient with follow-up rows has no timeline (the assessment's problem naming patient, lesion, time point).
    private var problems: [String: String] = [:]

    static let storedSource = "the store's response/lesions and response/patients tables (lesionmap response)"
    static let computedSource = "computed from the store's per-lesion diameters when this report was made (lesionmap response has not been run on this store)"
    static let staleSource = "computed from the store's per-lesion diameters when this report was made (the stored response tables no longer match the store's lesions: run lesionmap response again)"

    /// An empty set (no patient has a timeline).
    init() {}

    /// The timelines of every patient of `contents` with follow-up rows, with the scores of `signatureName`.
    init(_ contents: StoreContents, signatureName: String) {
        guard contents.hasFollowUp, let pids = try? contents.lesions.texts("patient_id"),
              let lids = try? contents.lesions.texts("lesion_id") else { return }
        let lesions = contents.lesions
        let times = contents.lesionTimepoints
        let diameters = (try? lesions.numbers("diameter_mm")) ?? [Double](repeating: .nan, count: lesions.rowCount)
        let locations = (try? lesions.texts("location")) ?? [String](repeating: "", count: lesions.rowCount)
        var followed: [String] = []
        var current: [String: [String: Double]] = [:]
        var location: [String: String] = [:]
        for i in pids.indices {
            if times[i] != 0 && !times[i].isNaN && !followed.contains(pids[i]) { followed.append(pids[i]) }
            current[pids[i], default: [:]][Self.key(lids[i], times[i])] = diameters[i]
            if location[pids[i] + "\u{0}" + lids[i]] == nil { location[pids[i] + "\u{0}" + lids[i]] = locations[i] }
        }
        guard !followed.isEmpty else { return }
        var score: [String: Double] = [:]
        if let s = try? CohortScoring.scores(contents, signatureName: signatureName).scores, s.count == pids.count {
            for i in pids.indices { score[pids[i] + "\u{0}" + Self.key(lids[i], times[i])] = s[i] }
        }

        var stored: (lesions: Table, patients: Table)?
        if let l = contents.tables[CohortResponse.lesionsPath]?.table, let pt = contents.tables[CohortResponse.patientsPath]?.table {
            stored = (l, pt)
        }
        var fresh: Result<CohortResponse.Outcome, Error>?
        for p in followed {
            var tables = stored
            var source = Self.storedSource
            if let s = stored, (try? Self.presentRows(of: p, in: s.lesions)) != current[p] {
                tables = nil
                source = Self.staleSource
            } else if stored == nil {
                source = Self.computedSource
            }
            if tables == nil {
                if fresh == nil { fresh = Result { try CohortResponse.assess(contents) } }
                switch fresh! {
                case .success(let o):
                    if let problem = o.problems.first(where: { Self.names(p, $0) }) {
                        problems[p] = problem
                        continue
                    }
                    tables = (o.lesions, o.patients)
                case .failure(let e):
                    problems[p] = ErrorText.plain(e)
                    continue
                }
            }
            do {
                timelines[p] = try Self.timeline(of: p, lesions: tables!.lesions, patients: tables!.patients, source: source,
                                                 location: { location[p + "\u{0}" + $0] ?? "" },
                                                 score: { score[p + "\u{0}" + Self.key($0, $1)] ?? .nan })
            } catch {
                problems[p] = "patient \(p): the response tables cannot be read: \(ErrorText.plain(error))"
            }
        }
    }

    /// The patient's timeline (nil: no follow-up, or not assessable) and, when it has follow-ups but could not be
    /// assessed, a warning saying why.
    func timeline(of patientID: String) -> (timeline: ResponseTimeline?, warning: String?) {
        (timelines[patientID], problems[patientID].map { "Response over time not shown: " + $0 })
    }

    static func key(_ lesionID: String, _ day: Double) -> String { lesionID + "\u{0}" + String(day) }

    /// Whether an assessment problem is about `patientID` (problems start with "patient <id>").
    static func names(_ patientID: String, _ problem: String) -> Bool {
        problem.hasPrefix("patient \(patientID):") || problem.hasPrefix("patient \(patientID),")
    }

    /// The patient's rows of a `response/lesions` table that have a contour (`present` 1): lesion and time point
    /// to the long-axis diameter, to compare with /lesions.
    static func presentRows(of patientID: String, in t: Table) throws -> [String: Double] {
        let pids = try t.texts("patient_id"), lids = try t.texts("lesion_id"), times = try t.numbers("timepoint")
        let present = try t.numbers("present"), diameters = try t.numbers("diameter_mm")
        var out: [String: Double] = [:]
        for i in pids.indices where pids[i] == patientID && present[i] == 1 { out[key(lids[i], times[i])] = diameters[i] }
        return out
    }

    /// One patient's timeline from the two response tables (columns as `CohortResponse` writes them).
    static func timeline(of p: String, lesions t: Table, patients pt: Table, source: String,
                         location: (String) -> String, score: (String, Double) -> Double) throws -> ResponseTimeline {
        let pids = try t.texts("patient_id"), lids = try t.texts("lesion_id"), times = try t.numbers("timepoint")
        let recist = try t.numbers("recist_diameter_mm"), present = try t.numbers("present")
        let categories = try t.texts("category"), roles = try t.texts("role"), irradiated = try t.numbers("irradiated")
        let fromBaseline = try t.numbers("diameter_change_pct"), fromNadir = try t.numbers("diameter_change_from_nadir_pct")
        var order: [String] = []
        var points: [String: [TimelinePoint]] = [:]
        var role: [String: String] = [:], rt: [String: Bool] = [:]
        var baselineSum = 0.0
        for i in pids.indices where pids[i] == p {
            let l = lids[i]
            if points[l] == nil { order.append(l) }
            role[l] = roles[i]
            rt[l] = (rt[l] ?? false) || irradiated[i] == 1
            points[l, default: []].append(TimelinePoint(
                day: times[i], diameterMM: recist[i], present: present[i] == 1,
                score: present[i] == 1 ? score(l, times[i]) : .nan, category: categories[i],
                changeFromBaselinePct: fromBaseline[i], changeFromNadirPct: fromNadir[i]))
            if times[i] == 0 && roles[i] == "target" { baselineSum += recist[i] }
        }
        let vp = try pt.texts("patient_id"), vt = try pt.numbers("timepoint"), sums = try pt.numbers("sum_diameters_mm")
        let sumChange = try pt.numbers("sum_change_pct"), sumNadir = try pt.numbers("sum_change_from_nadir_pct")
        let overall = try pt.texts("recist"), immune = try pt.texts("irecist"), news = try pt.texts("new_lesions")
        let any = try pt.numbers("abscopal_any_lesion"), byRecist = try pt.numbers("abscopal_recist")
        let outOfField = try pt.texts("out_of_field_recist"), pseudo = try pt.numbers("pseudoprogression")
        let dissociated = try pt.numbers("dissociated"), hyper = try pt.numbers("hyperprogression")
        func flag(_ x: Double) -> Bool? { x.isFinite ? x == 1 : nil }
        let visits = vp.indices.filter { vp[$0] == p }.map { i in
            TimelineVisit(day: vt[i], sumDiametersMM: sums[i], sumChangePct: sumChange[i], sumChangeFromNadirPct: sumNadir[i],
                          recist: overall[i], irecist: immune[i],
                          newLesions: news[i].split(separator: ";").map(String.init),
                          abscopalAnyLesion: flag(any[i]), abscopalRecist: flag(byRecist[i]), outOfFieldRecist: outOfField[i],
                          pseudoprogression: pseudo[i] == 1, dissociated: dissociated[i] == 1, hyperprogression: flag(hyper[i]))
        }
        return ResponseTimeline(
            lesions: order.map { TimelineLesion(lesionID: $0, location: location($0), irradiated: rt[$0] ?? false,
                                                role: role[$0] ?? "", points: points[$0]!) },
            visits: visits, baselineSumMM: baselineSum, source: source)
    }
}

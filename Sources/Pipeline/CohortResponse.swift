import Foundation
import FeatureStore
import Cohort
import ImagingCore
import Response

/// `lesionmap response`: RECIST 1.1, iRECIST, dissociated response, hyperprogression and abscopal response of
/// every patient of a store, from the diameters the extraction recorded per lesion row and time point
/// (/lesions `diameter_mm`, `short_axis_mm`, `volume_ml`, `timepoint`; see `Response.LesionMeasurement`).
///
/// Written into the store as `response/lesions` (one row per lesion and time point, disappeared lesions
/// included) and `response/patients` (one row per patient and follow-up), and optionally as CSV.
/// A patient whose rows cannot be assessed (follow-up without baseline, a lesion measured twice at one
/// time point, a missing diameter) is reported by name and left out; the others go on.
public enum CohortResponse {
    public static let lesionsPath = "response/lesions"
    public static let patientsPath = "response/patients"

    public struct Outcome: Sendable {
        public var lesions: Table
        public var patients: Table
        /// Patients assessed (with or without follow-ups).
        public var assessed: Int
        /// Patients left out, with why (patient, lesion and time point named).
        public var problems: [String]
        /// Patient time points where both abscopal definitions were evaluable, and where they disagree.
        public var abscopalEvaluable: Int
        public var abscopalDisagreements: Int
        /// Patients (not time points) with at least one disagreement.
        public var patientsDisagreeing: [String]
    }

    /// The /lesions `diameter_mm` (long axis) and `short_axis_mm` of a lesion mask, as `LesionMeasurement`
    /// defines them (world mm on the mask's own grid; 0 for an empty mask).
    static func diameters(of mask: Mask, boundingBox: IndexBox?? = nil) -> (long: Double, short: Double) {
        let m = LesionMeasurement.measure(mask, boundingBox: boundingBox ?? mask.boundingBox)
        return (m.longAxisMM, m.shortAxisMM)
    }

    /// Assesses every patient of the store, writes the two tables into it and, when asked, the CSV files.
    @discardableResult
    public static func run(store: URL, lesionsCSV: URL? = nil, patientsCSV: URL? = nil) throws -> Outcome {
        var contents = try StoreContents.read(from: store)
        let outcome = try assess(contents)
        let definition = "RECIST 1.1 (Eisenhauer 2009) from per-lesion diameters measured on the masks (long axis; short axis for lymph nodes); iRECIST (Seymour 2017); hyperprogression: PD at the first follow-up and TGR ratio >= 2 (Champiat 2017), TGR = 100 (exp(3 ln(D_t/D_0)/months) - 1); abscopal (Sun 2022): any non-irradiated lesion -30% vs RECIST 1.1 on the non-irradiated lesions"
        contents.tables[lesionsPath] = StoreTable(table: outcome.lesions, attributes: ["definition": definition])
        contents.tables[patientsPath] = StoreTable(table: outcome.patients, attributes: [
            "definition": definition, "problems": outcome.problems.joined(separator: "\n"),
        ])
        try contents.write(to: store)
        if let lesionsCSV { try TableCSV.write(outcome.lesions, to: lesionsCSV) }
        if let patientsCSV { try TableCSV.write(outcome.patients, to: patientsCSV) }
        return outcome
    }

    /// The timelines of the store's patients (store order) and the problems of the patients left out.
    public static func timelines(_ contents: StoreContents) throws -> (timelines: [PatientTimeline], problems: [String]) {
        let t = contents.lesions
        guard t.rowCount > 0 else { throw PipelineError("the store holds no lesions: run `lesionmap extract` first") }
        for column in ["diameter_mm", "short_axis_mm"] where t[column] == nil {
            throw PipelineError("the store's /lesions has no '\(column)' column (extracted before LesionMap measured diameters): run `lesionmap extract` again")
        }
        let patients = try t.texts("patient_id"), ids = try t.texts("lesion_id"), locations = try t.texts("location")
        let times = t["timepoint"] != nil ? try t.numbers("timepoint") : [Double](repeating: 0, count: t.rowCount)
        let long = try t.numbers("diameter_mm"), short = try t.numbers("short_axis_mm"), volume = try t.numbers("volume_ml")
        let irradiated = try t.numbers("irradiated")
        let sliceZ = t["spacing_z"] != nil ? try t.numbers("spacing_z") : [Double](repeating: .nan, count: t.rowCount)
        var order: [String] = []
        var rowsByPatient: [String: [Int]] = [:]
        for (i, p) in patients.enumerated() {
            if rowsByPatient[p] == nil { order.append(p) }
            rowsByPatient[p, default: []].append(i)
        }
        var out: [PatientTimeline] = []
        var problems: [String] = []
        patients: for p in order {
            var lesions: [String: TrackedLesion] = [:]
            var lesionOrder: [String] = []
            for i in rowsByPatient[p]! {
                let id = ids[i], tp = times[i]
                let day = ResponseAssessmentFormatting.day(tp)
                guard tp.isFinite else {
                    problems.append("patient \(p), lesion \(id): the time point is not a number"); continue patients
                }
                guard long[i].isFinite, short[i].isFinite, volume[i].isFinite else {
                    problems.append("patient \(p), lesion \(id), time point \(day): no diameter in the store (diameter_mm or short_axis_mm is empty)")
                    continue patients
                }
                let m = LesionMeasurement(longAxisMM: long[i], shortAxisMM: short[i], volumeML: volume[i])
                if var l = lesions[id] {
                    guard l.measurements[tp] == nil else {
                        problems.append("patient \(p), lesion \(id), time point \(day): two rows of the same lesion at one time point")
                        continue patients
                    }
                    l.measurements[tp] = m
                    l.irradiated = l.irradiated || irradiated[i] == 1
                    if tp == 0 { l.sliceThicknessMM = sliceZ[i].isFinite ? sliceZ[i] : nil }
                    lesions[id] = l
                } else {
                    lesionOrder.append(id)
                    lesions[id] = TrackedLesion(lesionID: id, organ: locations[i], isLymphNode: locations[i] == "lymph_node",
                                                irradiated: irradiated[i] == 1,
                                                sliceThicknessMM: tp == 0 && sliceZ[i].isFinite ? sliceZ[i] : nil,
                                                measurements: [tp: m])
                }
            }
            out.append(PatientTimeline(patientID: p, lesions: lesionOrder.map { lesions[$0]! }))
        }
        return (out, problems)
    }

    /// Assesses every patient; nothing is written.
    public static func assess(_ contents: StoreContents) throws -> Outcome {
        var (timelines, problems) = try timelines(contents)
        var assessments: [PatientAssessment] = []
        for tl in timelines {
            do { assessments.append(try ResponseAssessment.assess(tl)) } catch { problems.append("\(error)") }
        }
        var evaluable = 0, disagreements = 0
        var disagreeing: [String] = []
        for a in assessments {
            var any = false
            for t in a.timepoints {
                guard let x = t.abscopalAnyLesion, let y = t.abscopalRecist else { continue }
                evaluable += 1
                if x != y { disagreements += 1; any = true }
            }
            if any { disagreeing.append(a.patientID) }
        }
        return Outcome(lesions: try lesionTable(assessments), patients: try patientTable(assessments),
                       assessed: assessments.count, problems: problems, abscopalEvaluable: evaluable,
                       abscopalDisagreements: disagreements, patientsDisagreeing: disagreeing)
    }

    static func flag(_ b: Bool?) -> Double { b.map { $0 ? 1 : 0 } ?? .nan }

    /// `response/lesions`: patient_id, lesion_id, timepoint, diameter_mm (long axis), short_axis_mm,
    /// recist_diameter_mm (short axis for nodes, long axis otherwise), volume_ml, diameter_change_pct (of the
    /// RECIST diameter from baseline), diameter_change_from_nadir_pct, volume_change_pct, category (CR, PR, SD,
    /// PD, NEW; empty at baseline and before), role (target, non_target, normal_node, new), is_target, is_new,
    /// irradiated, present (0 = no contour at this follow-up: disappeared).
    static func lesionTable(_ assessments: [PatientAssessment]) throws -> Table {
        let rows = assessments.flatMap { a in a.lesions.map { (a.patientID, $0) } }
        var t = Table()
        try t.append("patient_id", .text(rows.map(\.0)))
        try t.append("lesion_id", .text(rows.map(\.1.lesionID)))
        try t.append("timepoint", .number(rows.map(\.1.timepoint)))
        try t.append("diameter_mm", .number(rows.map(\.1.measurement.longAxisMM)))
        try t.append("short_axis_mm", .number(rows.map(\.1.measurement.shortAxisMM)))
        try t.append("recist_diameter_mm", .number(rows.map(\.1.recistDiameterMM)))
        try t.append("volume_ml", .number(rows.map(\.1.measurement.volumeML)))
        try t.append("diameter_change_pct", .number(rows.map(\.1.changeFromBaselinePct)))
        try t.append("diameter_change_from_nadir_pct", .number(rows.map(\.1.changeFromNadirPct)))
        try t.append("volume_change_pct", .number(rows.map(\.1.volumeChangePct)))
        try t.append("category", .text(rows.map { $0.1.category?.rawValue ?? "" }))
        try t.append("role", .text(rows.map(\.1.role.rawValue)))
        try t.append("is_target", .number(rows.map { $0.1.role == .target ? 1 : 0 }))
        try t.append("is_new", .number(rows.map { $0.1.role == .new ? 1 : 0 }))
        try t.append("irradiated", .number(rows.map { $0.1.irradiated ? 1 : 0 }))
        try t.append("present", .number(rows.map { $0.1.present ? 1 : 0 }))
        return t
    }

    /// `response/patients`: one row per patient and follow-up: patient_id, timepoint, sum_diameters_mm,
    /// sum_change_pct, sum_change_from_nadir_pct, target_response, non_target_response, new_lesions (ids, ";"),
    /// recist, irecist, pseudoprogression, dissociated, tgr_pre, tgr_post, tgr_ratio, tgr_delta,
    /// hyperprogression, abscopal_any_lesion, abscopal_recist, out_of_field_recist (flags 1/0, empty = not
    /// assessed).
    static func patientTable(_ assessments: [PatientAssessment]) throws -> Table {
        let rows = assessments.flatMap { a in a.timepoints.map { (a.patientID, $0) } }
        var t = Table()
        try t.append("patient_id", .text(rows.map(\.0)))
        try t.append("timepoint", .number(rows.map(\.1.timepoint)))
        try t.append("sum_diameters_mm", .number(rows.map(\.1.sumDiametersMM)))
        try t.append("sum_change_pct", .number(rows.map(\.1.changeFromBaselinePct)))
        try t.append("sum_change_from_nadir_pct", .number(rows.map(\.1.changeFromNadirPct)))
        try t.append("target_response", .text(rows.map { $0.1.target?.rawValue ?? "" }))
        try t.append("non_target_response", .text(rows.map { $0.1.nonTarget?.rawValue ?? "" }))
        try t.append("new_lesions", .text(rows.map { $0.1.newLesions.joined(separator: ";") }))
        try t.append("recist", .text(rows.map(\.1.recist.rawValue)))
        try t.append("irecist", .text(rows.map(\.1.irecist)))
        try t.append("pseudoprogression", .number(rows.map { $0.1.pseudoprogression ? 1 : 0 }))
        try t.append("dissociated", .number(rows.map { $0.1.dissociated ? 1 : 0 }))
        try t.append("tgr_pre", .number(rows.map(\.1.tgrPre)))
        try t.append("tgr_post", .number(rows.map(\.1.tgrPost)))
        try t.append("tgr_ratio", .number(rows.map(\.1.tgrRatio)))
        try t.append("tgr_delta", .number(rows.map(\.1.tgrDelta)))
        try t.append("hyperprogression", .number(rows.map { flag($0.1.hyperprogression) }))
        try t.append("abscopal_any_lesion", .number(rows.map { flag($0.1.abscopalAnyLesion) }))
        try t.append("abscopal_recist", .number(rows.map { flag($0.1.abscopalRecist) }))
        try t.append("out_of_field_recist", .text(rows.map { $0.1.outOfFieldRecist?.rawValue ?? "" }))
        return t
    }

    // MARK: derived endpoints for validate-lesions and compare

    /// Per lesion (`patientID`, `lesionID`): 1 when it responded (CR or PR) at its patient's first follow-up, 0
    /// when it did not (SD or PD); lesions without a follow-up (or new ones) are absent. `contents` must be the
    /// whole store (every time point), not its baseline view.
    public static func firstFollowUpResponse(_ contents: StoreContents) throws -> [LesionKey: Double] {
        let outcome = try assess(contents)
        let t = outcome.lesions
        let pids = try t.texts("patient_id"), lids = try t.texts("lesion_id"), times = try t.numbers("timepoint")
        let cats = try t.texts("category")
        var first: [String: Double] = [:]
        for i in pids.indices where times[i] > 0 { first[pids[i]] = min(first[pids[i]] ?? .infinity, times[i]) }
        var label: [LesionKey: Double] = [:]
        for i in pids.indices where times[i] == first[pids[i]] {
            guard let c = LesionCategory(rawValue: cats[i]), c != .new else { continue }
            label[LesionKey(patientID: pids[i], lesionID: lids[i])] = c.isResponse ? 1 : 0
        }
        return label
    }

    /// A lesion across time points.
    public struct LesionKey: Hashable, Sendable {
        public var patientID: String
        public var lesionID: String
        public init(patientID: String, lesionID: String) { self.patientID = patientID; self.lesionID = lesionID }
    }

    /// `firstFollowUpResponse` per row of `rows` (a lesions table: the store's /lesions or its baseline view):
    /// NaN for rows that are not baseline rows (`timepoint` ≠ 0) or have no label.
    public static func lesionResponseLabels(_ contents: StoreContents, rows: Table? = nil) throws -> [Double] {
        let label = try firstFollowUpResponse(contents)
        let l = rows ?? contents.lesions
        let sp = try l.texts("patient_id"), sl = try l.texts("lesion_id")
        let st = l["timepoint"] != nil ? try l.numbers("timepoint") : [Double](repeating: 0, count: l.rowCount)
        return sp.indices.map { st[$0] == 0 ? label[LesionKey(patientID: sp[$0], lesionID: sl[$0])] ?? .nan : .nan }
    }

    /// The store's patients table with `best_response` (best RECIST 1.1 time-point response over the
    /// follow-ups: CR, then PR, SD, NON-CR/NON-PD counted as SD, PD) and `abscopal_response` (1 when RECIST
    /// 1.1 on the non-irradiated lesions was CR or PR at some follow-up, 0 when evaluable and never, empty
    /// otherwise) replaced by the ones derived from the follow-up scans.
    public static func patientsWithDerivedEndpoints(_ contents: StoreContents) throws -> Table {
        let outcome = try assess(contents)
        let t = outcome.patients
        let ids = try t.texts("patient_id"), recist = try t.texts("recist"), abscopal = try t.numbers("abscopal_recist")
        let rank: [String: Int] = ["CR": 0, "PR": 1, "SD": 2, "NON-CR/NON-PD": 2, "PD": 3]
        var best: [String: String] = [:]
        var absc: [String: Double] = [:]
        for i in ids.indices {
            let r = recist[i] == "NON-CR/NON-PD" ? "SD" : recist[i]
            if let k = rank[r], k < (best[ids[i]].flatMap { rank[$0] } ?? 99) { best[ids[i]] = r }
            if abscopal[i].isFinite { absc[ids[i]] = max(absc[ids[i]] ?? 0, abscopal[i]) }
        }
        var patients = contents.patients
        let pids = try patients.texts("patient_id")
        try patients.set("best_response", .text(pids.map { best[$0] ?? "" }))
        try patients.set("abscopal_response", .number(pids.map { absc[$0] ?? .nan }))
        return patients
    }
}

enum ResponseAssessmentFormatting {
    static func day(_ t: Double) -> String {
        guard t.isFinite else { return "\(t)" }
        return t == t.rounded() ? String(Int(t)) : String(t)
    }
}

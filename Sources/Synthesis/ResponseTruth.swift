import Foundation

/// A small reference implementation of RECIST 1.1 (Eisenhauer et al., Eur J Cancer 2009;45:228-247) used only to
/// write the truth files of synthetic follow-up (`truth_followup.csv`, `truth_followup_patients.csv`). The
/// project's RECIST lives in the Response target; this one exists so the truth does not depend on it.
///
/// Measure of a lesion: the short axis for lymph nodes, the longest axial diameter otherwise (RECIST 1.1 §3.1,
/// §4.2), both of the continuous shape on the scan's slices (`ShapeSurface`). A vanished lesion measures 0.
///
/// Per-lesion category at a follow-up (RECIST 1.1 thresholds applied to one lesion), in this order: CR when the
/// lesion vanished, or, for a lymph node at least 10 mm short axis at baseline, when its short axis is now below
/// 10 mm (RECIST 1.1: nodes < 10 mm are normal); PD when it is ≥ +20 % and ≥ +5 mm above its nadir (smallest
/// measure at baseline and earlier follow-ups, as RECIST 1.1 judges progression); PR when it is ≤ −30 % from
/// baseline; SD otherwise; `NEW` for a lesion absent at baseline. (`category_vs_baseline` in the truth file
/// judges PD against the baseline instead of the nadir.)
///
/// Patient response at a follow-up (RECIST 1.1 tables 1 and 2):
/// - measurable at baseline: longest diameter ≥ 10 mm, or twice the slice thickness when slices are thicker than
///   5 mm; lymph nodes short axis ≥ 15 mm; nodes under 10 mm short axis are normal and not followed;
/// - target lesions: measurable ones, largest measure first (ties by lesion id), at most 2 per site (`location`;
///   all lymph nodes are one site) and 5 in all; the other followed baseline lesions are non-targets;
/// - sum = the targets' measures; nadir = the smallest sum at baseline and earlier follow-ups;
/// - PD: a new lesion is present, or sum ≥ 1.2 nadir and sum − nadir ≥ 5 mm;
/// - CR: every target and non-target lesion vanished (lymph nodes: below 10 mm short axis);
/// - PR: the targets are CR but a non-target remains, or sum ≤ 0.7 × baseline sum;
/// - SD: otherwise. Without targets: CR when every non-target is gone, `NON-CR/NON-PD` when some remain, `NE` when
///   nothing is followed.
/// Unequivocal progression of non-target lesions is not judged (it is a reader's call in RECIST).
///
/// Out-of-field (abscopal) response, the two definitions of Sun et al. 2022 (J Immunother Cancer, response
/// assessment section), over the patient's non-irradiated baseline lesions:
/// - `abscopal_any_lesion` = 1 when at least one of them (whatever its size) has a measure change ≤ −30 % (a
///   vanished one counts);
/// - `abscopal_recist` = 1 when RECIST 1.1 applied to the non-irradiated lesions alone (targets chosen among
///   them; new lesions, all out of field, count) is CR or PR.
/// Both are empty when the patient has no non-irradiated baseline lesion (abscopal_recist also when none of them
/// is measurable).
public enum SyntheticRECIST {
    /// One lesion's measurements at one time point.
    public struct Measurement: Sendable {
        public var lesionID: String
        public var location: SyntheticLocation
        public var irradiated: Bool
        public var isNew: Bool
        public var present: Bool
        public var longAxis: Double
        public var shortAxis: Double

        public init(lesionID: String, location: SyntheticLocation, irradiated: Bool, isNew: Bool, present: Bool,
                    longAxis: Double, shortAxis: Double) {
            self.lesionID = lesionID
            self.location = location
            self.irradiated = irradiated
            self.isNew = isNew
            self.present = present
            self.longAxis = longAxis
            self.shortAxis = shortAxis
        }

        public var isLymphNode: Bool { location == .lymphNode }
        /// The RECIST measure: short axis for lymph nodes, long axis otherwise (0 when vanished).
        public var measure: Double { present ? (isLymphNode ? shortAxis : longAxis) : 0 }
        /// Measurable at baseline: long axis ≥ 10 mm (2 × the slice thickness above 5 mm slices), lymph nodes
        /// short axis ≥ 15 mm.
        public func measurable(sliceThickness: Double) -> Bool {
            present && (isLymphNode ? shortAxis >= 15 : longAxis >= max(10, sliceThickness > 5 ? 2 * sliceThickness : 0))
        }
        /// Followed at all: a lymph node under 10 mm short axis at baseline is normal.
        public var followed: Bool { present && (!isLymphNode || shortAxis >= 10) }
        /// Gone in the RECIST sense: vanished, or a lymph node under 10 mm short axis.
        public var normal: Bool { !present || (isLymphNode && shortAxis < 10) }
    }

    /// Per-lesion category of `now` against the same lesion's `baseline` (nil for a new lesion) and its `nadir`
    /// (smallest measure at baseline and earlier follow-ups). With `nadir` nil, progression is judged against
    /// the baseline.
    public static func lesionCategory(baseline: Measurement?, nadir: Double? = nil, now: Measurement) -> String {
        guard let baseline, !now.isNew else { return "NEW" }
        if !now.present { return "CR" }
        if now.isLymphNode && baseline.shortAxis >= 10 && now.shortAxis < 10 { return "CR" }
        let b = baseline.measure, m = now.measure, low = nadir ?? b
        if m >= 1.2 * low - 1e-9 && m - low >= 5 - 1e-9 { return "PD" }
        if b > 0 && m <= 0.7 * b + 1e-9 { return "PR" }
        return "SD"
    }

    /// Target lesion ids among `baseline` (measurable ones, largest first, ≤ 2 per site, ≤ 5).
    public static func targets(_ baseline: [Measurement], sliceThickness: Double = 0) -> [String] {
        let ordered = baseline.filter { $0.measurable(sliceThickness: sliceThickness) }.sorted {
            $0.measure != $1.measure ? $0.measure > $1.measure : $0.lesionID < $1.lesionID
        }
        var perSite = [SyntheticLocation: Int]()
        var out = [String]()
        for m in ordered where out.count < 5 && perSite[m.location, default: 0] < 2 {
            perSite[m.location, default: 0] += 1
            out.append(m.lesionID)
        }
        return out
    }

    /// Patient assessment at one follow-up.
    public struct Assessment: Sendable {
        public var targets: [String]
        public var sum: Double
        public var baselineSum: Double
        public var nadir: Double
        public var newLesions: Int
        /// CR, PR, SD, PD or NE.
        public var response: String
    }

    /// RECIST 1.1 over `series` (index 0 = baseline; each time point lists the lesions considered, by id; new
    /// lesions carry `isNew`). Returns one assessment per follow-up (series[1...]).
    public static func assess(_ series: [[Measurement]], sliceThickness: Double = 0) -> [Assessment] {
        guard let baseline = series.first else { return [] }
        let targetIDs = targets(baseline, sliceThickness: sliceThickness)
        let nonTargetIDs = Set(baseline.filter(\.followed).map(\.lesionID)).subtracting(targetIDs)
        func sum(_ ms: [Measurement]) -> Double {
            let byID = Dictionary(ms.map { ($0.lesionID, $0) }, uniquingKeysWith: { a, _ in a })
            return targetIDs.reduce(0) { $0 + (byID[$1]?.measure ?? 0) }
        }
        let baselineSum = sum(baseline)
        var nadir = baselineSum
        var out = [Assessment]()
        for ms in series.dropFirst() {
            let s = sum(ms)
            let newLesions = ms.filter { $0.isNew && $0.present }.count
            let byID = Dictionary(ms.map { ($0.lesionID, $0) }, uniquingKeysWith: { a, _ in a })
            let response: String
            if newLesions > 0 || (s >= 1.2 * nadir - 1e-9 && s - nadir >= 5 - 1e-9 && !targetIDs.isEmpty) {
                response = "PD"
            } else if targetIDs.isEmpty {
                let remaining = nonTargetIDs.filter { !(byID[$0]?.normal ?? true) }
                response = nonTargetIDs.isEmpty ? "NE" : (remaining.isEmpty ? "CR" : "NON-CR/NON-PD")
            } else if targetIDs.allSatisfy({ byID[$0]?.normal ?? true }) {
                response = nonTargetIDs.allSatisfy({ byID[$0]?.normal ?? true }) ? "CR" : "PR"
            } else if s <= 0.7 * baselineSum + 1e-9 {
                response = "PR"
            } else {
                response = "SD"
            }
            out.append(Assessment(targets: targetIDs, sum: s, baselineSum: baselineSum, nadir: nadir,
                                  newLesions: newLesions, response: response))
            nadir = min(nadir, s)
        }
        return out
    }

    /// Both abscopal definitions at every follow-up: (any lesion, RECIST on non-irradiated lesions, that RECIST
    /// category); nil where undefined.
    public static func abscopal(_ series: [[Measurement]], sliceThickness: Double = 0)
        -> [(any: Bool?, recist: Bool?, category: String?)] {
        guard let baseline = series.first else { return [] }
        let outOfField = baseline.filter { !$0.irradiated }
        let ids = Set(outOfField.map(\.lesionID))
        let restricted = series.map { ms in ms.filter { ids.contains($0.lesionID) || $0.isNew } }
        let recist = outOfField.contains(where: { $0.measurable(sliceThickness: sliceThickness) })
            ? assess(restricted, sliceThickness: sliceThickness) : []
        var out = [(any: Bool?, recist: Bool?, category: String?)]()
        for (k, ms) in series.dropFirst().enumerated() {
            var any: Bool? = nil
            if !outOfField.isEmpty {
                let byID = Dictionary(ms.map { ($0.lesionID, $0) }, uniquingKeysWith: { a, _ in a })
                any = outOfField.contains { b in
                    let m = byID[b.lesionID]
                    guard b.measure > 0 else { return false }
                    return ((m?.measure ?? 0) - b.measure) / b.measure <= -0.3
                }
            }
            let category = recist.isEmpty ? nil : recist[k].response
            out.append((any, category.map { $0 == "CR" || $0 == "PR" }, category))
        }
        return out
    }
}

import Foundation

/// One lesion at one time point of a patient's response timeline, as `lesionmap response` assessed it
/// (the store's `response/lesions` row) with the lesion's signature score at that time point.
public struct TimelinePoint: Sendable, Equatable {
    /// Days from the baseline scan (0 = baseline; negative = before baseline).
    public var day: Double
    /// The diameter RECIST 1.1 follows: the short axis for lymph nodes, the longest axial diameter otherwise, mm
    /// (0 for a baseline lesion without a contour at this follow-up).
    public var diameterMM: Double
    /// false: the lesion had no contour at this follow-up (disappeared).
    public var present: Bool
    /// The signature score of the lesion's row at this time point (NaN when not scored or disappeared).
    public var score: Double
    /// Per-lesion category at a follow-up (CR, PR, SD, PD, NEW); "" at baseline and before.
    public var category: String
    /// Percent change of `diameterMM` from baseline and from the lesion's nadir; NaN for new lesions and at baseline.
    public var changeFromBaselinePct: Double
    public var changeFromNadirPct: Double

    public init(day: Double, diameterMM: Double, present: Bool, score: Double, category: String,
                changeFromBaselinePct: Double, changeFromNadirPct: Double) {
        self.day = day; self.diameterMM = diameterMM; self.present = present; self.score = score
        self.category = category; self.changeFromBaselinePct = changeFromBaselinePct
        self.changeFromNadirPct = changeFromNadirPct
    }
}

/// One lesion over a patient's time points.
public struct TimelineLesion: Sendable, Equatable {
    public var lesionID: String
    public var location: String
    public var irradiated: Bool
    /// RECIST 1.1 role from the baseline: `target`, `non_target`, `normal_node` or `new` (no baseline contour).
    public var role: String
    /// Ascending by day; a new lesion starts at the first time point it was seen.
    public var points: [TimelinePoint]

    public init(lesionID: String, location: String, irradiated: Bool, role: String, points: [TimelinePoint]) {
        self.lesionID = lesionID; self.location = location; self.irradiated = irradiated; self.role = role
        self.points = points.sorted { $0.day < $1.day }
    }

    public var isNew: Bool { role == "new" }
    public func point(at day: Double) -> TimelinePoint? { points.first { $0.day == day } }
}

/// A patient at one follow-up time point (the store's `response/patients` row).
public struct TimelineVisit: Sendable, Equatable {
    public var day: Double
    /// Sum of the target lesions' RECIST diameters, mm, and its change from baseline and from the nadir, %.
    public var sumDiametersMM: Double
    public var sumChangePct: Double
    public var sumChangeFromNadirPct: Double
    /// RECIST 1.1 time-point response (CR, PR, SD, PD, NON-CR/NON-PD, NE) and iRECIST (iCR ... iUPD, iCPD).
    public var recist: String
    public var irecist: String
    /// Ids of the new lesions present at this time point.
    public var newLesions: [String]
    /// Abscopal (out-of-field) response by the two definitions of Sun et al. 2022: any non-irradiated lesion
    /// at least 30% smaller, and RECIST 1.1 CR/PR on the non-irradiated lesions; nil when not assessed (no
    /// irradiated lesion, or no measurable non-irradiated one).
    public var abscopalAnyLesion: Bool?
    public var abscopalRecist: Bool?
    /// The out-of-field RECIST 1.1 response behind `abscopalRecist` ("" when not assessed).
    public var outOfFieldRecist: String
    public var pseudoprogression: Bool
    public var dissociated: Bool
    /// Hyperprogression (TGR ratio ≥ 2 with PD at the first follow-up); nil when not assessable.
    public var hyperprogression: Bool?

    public init(day: Double, sumDiametersMM: Double, sumChangePct: Double, sumChangeFromNadirPct: Double, recist: String,
                irecist: String, newLesions: [String], abscopalAnyLesion: Bool?, abscopalRecist: Bool?,
                outOfFieldRecist: String, pseudoprogression: Bool, dissociated: Bool, hyperprogression: Bool?) {
        self.day = day; self.sumDiametersMM = sumDiametersMM; self.sumChangePct = sumChangePct
        self.sumChangeFromNadirPct = sumChangeFromNadirPct; self.recist = recist; self.irecist = irecist
        self.newLesions = newLesions; self.abscopalAnyLesion = abscopalAnyLesion; self.abscopalRecist = abscopalRecist
        self.outOfFieldRecist = outOfFieldRecist; self.pseudoprogression = pseudoprogression
        self.dissociated = dissociated; self.hyperprogression = hyperprogression
    }
}

/// A patient's response over time for the report's "Response over time" section: every lesion's RECIST
/// diameter and signature score at every time point, per-lesion categories, and the patient's RECIST 1.1,
/// iRECIST and abscopal response per follow-up. Only built for patients with follow-up scans.
public struct ResponseTimeline: Sendable, Equatable {
    public var lesions: [TimelineLesion]
    /// One per follow-up, ascending.
    public var visits: [TimelineVisit]
    /// Sum of the target lesions' RECIST diameters at baseline, mm.
    public var baselineSumMM: Double
    /// Where the assessment comes from (the stored response tables, or computed when the report was made), in words.
    public var source: String

    public init(lesions: [TimelineLesion], visits: [TimelineVisit], baselineSumMM: Double, source: String) {
        self.lesions = lesions; self.visits = visits.sorted { $0.day < $1.day }
        self.baselineSumMM = baselineSumMM; self.source = source
    }

    /// Every time point of the timeline (baseline, follow-ups, and any pre-baseline scan), ascending.
    public var days: [Double] { Array(Set(lesions.flatMap { $0.points.map(\.day) } + visits.map(\.day))).sorted() }
}

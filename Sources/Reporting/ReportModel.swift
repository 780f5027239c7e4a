/// Everything a cohort report shows, as plain values (the report never reads files itself).
public struct CohortReportModel: Sendable {
    public var title: String
    public var softwareVersion: String
    public var createdUTC: String
    public var signatureID: String
    public var signatureStatus: String
    public var signatureDirection: String
    public var policyName: String
    /// Extraction settings, as recorded in the store.
    public var settingsJSON: String
    public var patients: [PatientReportModel]
    /// Patients that could not be processed, with the reason.
    public var failures: [(patientID: String, message: String)]
    /// Score cut-offs drawn on plots (name, value).
    public var cutoffs: [(name: String, value: Double)]

    public init(title: String, softwareVersion: String, createdUTC: String, signatureID: String, signatureStatus: String,
                signatureDirection: String, policyName: String, settingsJSON: String, patients: [PatientReportModel],
                failures: [(patientID: String, message: String)], cutoffs: [(name: String, value: Double)]) {
        self.title = title; self.softwareVersion = softwareVersion; self.createdUTC = createdUTC
        self.signatureID = signatureID; self.signatureStatus = signatureStatus; self.signatureDirection = signatureDirection
        self.policyName = policyName; self.settingsJSON = settingsJSON; self.patients = patients
        self.failures = failures; self.cutoffs = cutoffs
    }

    /// Every lesion score of the cohort (the reference distribution on plots).
    public var allScores: [Double] { patients.flatMap { $0.lesions.map(\.score) }.filter(\.isFinite) }
}

public struct PatientReportModel: Sendable {
    public var patientID: String
    public var kvp: Double?
    public var lesions: [LesionReportRow]
    /// Patient-level aggregates: name, value, cohort percentile.
    public var aggregates: [(name: String, value: Double, percentile: Double)]
    public var warnings: [String]

    public init(patientID: String, kvp: Double?, lesions: [LesionReportRow],
                aggregates: [(name: String, value: Double, percentile: Double)], warnings: [String]) {
        self.patientID = patientID; self.kvp = kvp; self.lesions = lesions; self.aggregates = aggregates
        self.warnings = warnings
    }
}

public struct LesionReportRow: Sendable {
    public var lesionID: String
    public var location: String
    public var volumeML: Double
    public var score: Double
    public var percentile: Double
    /// Category label, its stable key (for colour) and rank.
    public var category: String
    public var categoryKey: String
    public var rank: Int
    public var rationale: String

    public init(lesionID: String, location: String, volumeML: Double, score: Double, percentile: Double,
                category: String, categoryKey: String, rank: Int, rationale: String) {
        self.lesionID = lesionID; self.location = location; self.volumeML = volumeML; self.score = score
        self.percentile = percentile; self.category = category; self.categoryKey = categoryKey; self.rank = rank
        self.rationale = rationale
    }
}

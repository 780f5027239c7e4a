import Foundation

/// The signature behind the scores, as reports state it.
public struct SignatureInfo: Sendable {
    public var id: String
    public var direction: String
    public var estimates: String
    /// The validation status stated in the signature file.
    public var validationStatus: String
    public var fileHash: String
    public var cutoffs: [(name: String, value: Double, source: String)]

    public init(id: String, direction: String, estimates: String, validationStatus: String, fileHash: String,
                cutoffs: [(name: String, value: Double, source: String)]) {
        self.id = id; self.direction = direction; self.estimates = estimates; self.validationStatus = validationStatus
        self.fileHash = fileHash; self.cutoffs = cutoffs
    }
}

/// The planning policy behind the categories.
public struct PolicyInfo: Sendable {
    public var name: String
    public var description: String
    /// The policy as stored with the plans.
    public var json: String
    /// Category boundaries in score units (e.g. the cohort's 25th percentile), drawn on score plots.
    public var boundaries: [(name: String, value: Double)]

    public init(name: String, description: String, json: String, boundaries: [(name: String, value: Double)]) {
        self.name = name; self.description = description; self.json = json; self.boundaries = boundaries
    }
}

/// Software, settings and time of a report.
public struct Provenance: Sendable {
    public var software: String
    public var createdUTC: String
    /// When the features were extracted (the store's creation time).
    public var storeCreatedUTC: String
    /// One line per preprocessing choice ("3D", "resampled to 1 x 1 x 1 mm (linear)", ...).
    public var preprocessing: [String]
    public var settingsJSON: String
    public var settingsHash: String

    public init(software: String, createdUTC: String, storeCreatedUTC: String, preprocessing: [String],
                settingsJSON: String, settingsHash: String) {
        self.software = software; self.createdUTC = createdUTC; self.storeCreatedUTC = storeCreatedUTC
        self.preprocessing = preprocessing; self.settingsJSON = settingsJSON; self.settingsHash = settingsHash
    }
}

/// One lesion's line in a report.
public struct LesionReportRow: Sendable {
    public var lesionID: String
    public var location: String
    public var volumeML: Double
    /// Maximum 3D diameter in mm (NaN when unknown).
    public var maxDiameterMM: Double
    public var score: Double
    public var percentile: Double
    /// Stable category key (`ablative_sbrt`, `low_dose_rt`, `no_rt`), used for colours and labels.
    public var categoryKey: String
    public var rank: Int
    public var rationale: String
    /// MIL attention weight (nil: none in the store).
    public var attention: Double?
    public var irradiated: Bool
    /// Lesion response recorded in the manifest ("" when none).
    public var response: String
    /// The lesion's standard PET measures (store columns `suv_max` ... `tlg`), nil when it has no PET image.
    public var pet: LesionPETMeasures? = nil

    public init(lesionID: String, location: String, volumeML: Double, maxDiameterMM: Double = .nan, score: Double,
                percentile: Double, categoryKey: String, rank: Int, rationale: String, attention: Double? = nil,
                irradiated: Bool = false, response: String = "") {
        self.lesionID = lesionID; self.location = location; self.volumeML = volumeML
        self.maxDiameterMM = maxDiameterMM; self.score = score; self.percentile = percentile
        self.categoryKey = categoryKey; self.rank = rank; self.rationale = rationale; self.attention = attention
        self.irradiated = irradiated; self.response = response
    }

    public var categoryLabel: String { categoryLabels[categoryKey] ?? categoryKey }
    public var colour: String { categoryColours[categoryKey] ?? "#555" }
}

/// The standard PET measures of a lesion as extraction stores them (`PETUptake`: body-weight SUV on the PET
/// image's original grid, never rounded), for the patient report.
public struct LesionPETMeasures: Sendable, Equatable {
    public var suvMax: Double
    public var suvMean: Double
    /// Highest mean SUV of a 1 cm³ sphere (PERCIST 1.0, QIBA).
    public var suvPeak: Double
    /// Metabolic tumour volume of the contour on the PET grid, ml.
    public var mtvML: Double
    /// Total lesion glycolysis, suvMean x mtvML.
    public var tlg: Double

    public init(suvMax: Double, suvMean: Double, suvPeak: Double, mtvML: Double, tlg: Double) {
        self.suvMax = suvMax; self.suvMean = suvMean; self.suvPeak = suvPeak; self.mtvML = mtvML; self.tlg = tlg
    }
}

/// A patient-level metric with its percentile among the cohort's patients.
public struct PatientMetric: Sendable {
    public var key: String
    public var label: String
    public var value: Double
    public var percentile: Double

    public init(key: String, label: String, value: Double, percentile: Double) {
        self.key = key; self.label = label; self.value = value; self.percentile = percentile
    }
}

/// The images of a patient report: projections of the whole scan and one image per lesion, and for a
/// patient with a PET of the same study (`image_pt`) the same views of the PET with the lesions' carried masks.
public struct PatientViews: Sendable {
    public var coronal: ImagePanel
    public var axial: ImagePanel
    /// Per-lesion axial images, by lesion id.
    public var lesions: [String: ImagePanel]
    /// The PET's coronal and axial maximum-intensity projections (nil: no PET).
    public var pet: (coronal: ImagePanel, axial: ImagePanel)?
    /// Per-lesion axial PET images, by lesion id (empty: no PET).
    public var petLesions: [String: ImagePanel]

    public init(coronal: ImagePanel, axial: ImagePanel, lesions: [String: ImagePanel],
                pet: (coronal: ImagePanel, axial: ImagePanel)? = nil, petLesions: [String: ImagePanel] = [:]) {
        self.coronal = coronal; self.axial = axial; self.lesions = lesions
        self.pet = pet; self.petLesions = petLesions
    }
}

/// Everything a per-patient report shows, as plain values (the report never reads files itself).
public struct PatientReportModel: Sendable {
    public var patientID: String
    public var scanDate: String?
    public var kvp: Double?
    /// Scanner description (manufacturer and model), when recorded.
    public var scanner: String?
    public var lesions: [LesionReportRow]
    public var metrics: [PatientMetric]
    /// Every scored lesion of the reference cohort (the distribution on plots).
    public var cohortScores: [Double]
    public var signature: SignatureInfo
    public var policy: PolicyInfo
    public var provenance: Provenance
    /// Nil when the images could not be shown; `imageNote` then says why.
    public var views: PatientViews?
    public var imageNote: String?
    public var warnings: [String]
    /// Where the lesions' MIL attention weights come from (nil: none).
    public var attentionSource: String?
    /// The patient's response over the follow-up scans; nil when the patient has none (no section is shown).
    public var timeline: ResponseTimeline? = nil

    public init(patientID: String, scanDate: String?, kvp: Double?, scanner: String?, lesions: [LesionReportRow],
                metrics: [PatientMetric], cohortScores: [Double], signature: SignatureInfo, policy: PolicyInfo,
                provenance: Provenance, views: PatientViews?, imageNote: String?, warnings: [String],
                attentionSource: String? = nil) {
        self.attentionSource = attentionSource
        self.patientID = patientID; self.scanDate = scanDate; self.kvp = kvp; self.scanner = scanner
        self.lesions = lesions; self.metrics = metrics; self.cohortScores = cohortScores; self.signature = signature
        self.policy = policy; self.provenance = provenance; self.views = views; self.imageNote = imageNote
        self.warnings = warnings
    }
}

/// One patient's line in the cohort report.
public struct PatientSummary: Sendable {
    public var patientID: String
    public var kvp: Double?
    public var lesions: [LesionReportRow]
    /// Relative link to the patient's report, when written.
    public var reportLink: String?

    public init(patientID: String, kvp: Double?, lesions: [LesionReportRow], reportLink: String?) {
        self.patientID = patientID; self.kvp = kvp; self.lesions = lesions; self.reportLink = reportLink
    }
}

/// One aggregator's row of a comparison table (`comparison/<signature>/<endpoint>`): its numbers by column.
public struct ComparisonRow: Sendable {
    public var aggregator: String
    public var values: [String: Double]
    /// Text columns (kind, worse_when, note, ...).
    public var texts: [String: String]
    public init(aggregator: String, values: [String: Double], texts: [String: String] = [:]) {
        self.aggregator = aggregator; self.values = values; self.texts = texts
    }
    public subscript(_ column: String) -> Double { values[column] ?? .nan }
}

/// The comparison of aggregators for one endpoint, as `lesionmap compare` stored it.
public struct ComparisonTable: Sendable {
    public var endpoint: String
    /// Numeric columns in stored order.
    public var columns: [String]
    public var rows: [ComparisonRow]
    /// What the ranking can and cannot show (the table's `interpretation` attribute), shown under the table.
    public var interpretation: String?
    public init(endpoint: String, columns: [String], rows: [ComparisonRow], interpretation: String? = nil) {
        self.endpoint = endpoint; self.columns = columns; self.rows = rows; self.interpretation = interpretation
    }
}

/// A survival curve: the step function S(t) with censoring marks.
public struct SurvivalCurve: Sendable {
    public var label: String
    public var colour: String
    /// (time, survival just after time), ascending; starts at (0, 1).
    public var steps: [(time: Double, survival: Double)]
    /// (time, survival) where subjects were censored.
    public var censored: [(time: Double, survival: Double)]
    public var subjects: Int
    public var events: Int

    public init(label: String, colour: String, steps: [(time: Double, survival: Double)],
                censored: [(time: Double, survival: Double)], subjects: Int, events: Int) {
        self.label = label; self.colour = colour; self.steps = steps; self.censored = censored
        self.subjects = subjects; self.events = events
    }
}

/// Kaplan-Meier curves of one aggregator split at its median, with the log-rank p.
public struct SurvivalPanel: Sendable {
    public var endpoint: String
    public var aggregator: String
    public var curves: [SurvivalCurve]
    public var logRankP: Double
    public init(endpoint: String, aggregator: String, curves: [SurvivalCurve], logRankP: Double) {
        self.endpoint = endpoint; self.aggregator = aggregator; self.curves = curves; self.logRankP = logRankP
    }
}

/// A line of a chart: (x, y, lower, upper) points.
public struct ChartSeries: Sendable {
    public var label: String
    public var colour: String
    public var points: [(x: Double, y: Double, low: Double, high: Double)]
    public init(label: String, colour: String, points: [(x: Double, y: Double, low: Double, high: Double)]) {
        self.label = label; self.colour = colour; self.points = points
    }
}

/// The how-many-lesions curve: discrimination as a function of how many lesions per patient are analysed.
public struct LesionCountCurve: Sendable {
    public var endpoint: String
    public var xLabel: String
    public var yLabel: String
    public var series: [ChartSeries]
    public var note: String
    public init(endpoint: String, xLabel: String, yLabel: String, series: [ChartSeries], note: String) {
        self.endpoint = endpoint; self.xLabel = xLabel; self.yLabel = yLabel; self.series = series; self.note = note
    }
}

/// Lesion-level validation: lesion scores against the lesions' own recorded responses.
public struct LesionValidation: Sendable {
    /// Scores per response category (CR, PR, SD, PD), in that order.
    public var groups: [(label: String, scores: [Double])]
    /// Statistics in words and numbers ("AUC for CR/PR vs SD/PD 0.71 (0.62-0.80), n = 120").
    public var summary: [String]
    public init(groups: [(label: String, scores: [Double])], summary: [String]) {
        self.groups = groups; self.summary = summary
    }
}

/// Everything a cohort report shows, as plain values.
public struct CohortReportModel: Sendable {
    public var title: String
    public var signature: SignatureInfo
    public var policy: PolicyInfo
    public var provenance: Provenance
    public var patients: [PatientSummary]
    /// Patients that could not be processed, with the reason.
    public var failures: [(patientID: String, message: String)]
    public var comparisons: [ComparisonTable]
    public var survival: [SurvivalPanel]
    public var lesionCountCurves: [LesionCountCurve]
    public var lesionValidation: LesionValidation?
    /// Shown instead of the outcome sections when `lesionmap compare` has not been run.
    public var statisticsNote: String?
    /// For a harmonised store (`lesionmap harmonise`): one feature by batch before and after ComBat.
    public var harmonisation: HarmonisationPicture? = nil
    /// Feature robustness under perturbation, when an ICC table is given (`report --cohort --icc`).
    public var robustness: RobustnessPanel? = nil
    /// The images the lesions' features come from: how many (baseline) lesions have each combination of
    /// modalities (store column `modalities`, e.g. "CT,PT"), most frequent first; empty for a store without it.
    public var modalities: [(modalities: String, lesions: Int)] = []

    /// "PET/CT", "CT", "MR" ...: the cohort's imaging in one word, from `modalities` (nil when unknown).
    public var imagingName: String? {
        let all = Set(modalities.flatMap { $0.modalities.split(separator: ",").map(String.init) })
        guard !all.isEmpty else { return nil }
        if all == ["CT", "PT"] { return "PET/CT" }
        if all == ["MR", "PT"] { return "PET/MR" }
        return all.sorted().map { $0 == "PT" ? "PET" : $0 }.joined(separator: ", ")
    }

    public init(title: String, signature: SignatureInfo, policy: PolicyInfo, provenance: Provenance,
                patients: [PatientSummary], failures: [(patientID: String, message: String)],
                comparisons: [ComparisonTable], survival: [SurvivalPanel], lesionCountCurves: [LesionCountCurve],
                lesionValidation: LesionValidation?, statisticsNote: String?) {
        self.title = title; self.signature = signature; self.policy = policy; self.provenance = provenance
        self.patients = patients; self.failures = failures; self.comparisons = comparisons; self.survival = survival
        self.lesionCountCurves = lesionCountCurves; self.lesionValidation = lesionValidation
        self.statisticsNote = statisticsNote
    }

    /// Every lesion score of the cohort (the reference distribution on plots).
    public var allScores: [Double] { patients.flatMap { $0.lesions.map(\.score) }.filter(\.isFinite) }
}

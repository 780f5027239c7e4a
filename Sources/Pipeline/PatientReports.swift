import Foundation
import Harmonisation
import ImagingCore
import Cohort
import Radiomics
import FeatureStore
import Signatures
import Aggregation
import Planning
import Reporting
import Statistics

/// What reports read from a store with scores, aggregates and plans, read once per run.
///
/// Optional inputs, from `lesionmap compare` and `lesionmap validate-lesions`: comparison tables
/// `comparison/<signature>/<endpoint>`, lesion-subset tables, held-out MIL attention, lesion-level validation.
struct ReportSource {
    let contents: StoreContents
    let lesions: StoreLesions
    let signatureName: String
    /// The signature file, for its cut-offs; without it the stored score attributes describe the signature.
    let signature: Signature?
    let scoreAttributes: [String: String]
    let scores: [Double]
    let percentiles: [Double]
    let categories: [String]
    let ranks: [Int]
    let rationales: [String]
    let policyName: String
    let policyJSON: String
    let policy: PlanningPolicy?
    let aggregatePatients: [String]
    let aggregates: [String: [Double]]
    let attention: [Double?]
    /// Where the attention weights come from (nil: none in the store).
    let attentionSource: String?
    let diameters: [Double]
    let responses: [String]
    /// Each lesion row's PET measures (`suv_max` ... `tlg`), nil where it has none (no PET image, or a store
    /// written before the columns existed).
    let pet: [LesionPETMeasures?]
    let settings: ModalitySettings?
    /// Response over the follow-up scans of the patients that have them (the patient reports' timeline section).
    let timelines: StoreResponseTimelines

    init(store: URL, signature: Signature) throws {
        try self.init(store: store, signatureName: signature.name, signature: signature)
    }

    init(store: URL, signatureName name: String, signature: Signature?) throws {
        contents = try StoreContents.read(from: store)
        lesions = try StoreLesions(contents)
        signatureName = name
        self.signature = signature
        guard let planTable = contents.tables[CohortPlanning.path(name)] else {
            throw PipelineError("the store \(store.path) has no plans for '\(name)': run `lesionmap plan` first")
        }
        guard let aggTable = contents.tables[CohortAggregation.path(name)] else {
            throw PipelineError("the store \(store.path) has no aggregates for '\(name)': run `lesionmap score` first")
        }
        scoreAttributes = contents.tables["scores/" + pathComponent(name)]?.attributes ?? [:]
        let plan = planTable.table
        guard plan.rowCount == lesions.lesionIDs.count, try plan.texts("lesion_id") == lesions.lesionIDs else {
            throw PipelineError("the plans for '\(name)' in \(store.path) do not match its lesions: re-run `lesionmap plan`")
        }
        scores = try plan.numbers("score")
        percentiles = try plan.numbers("percentile")
        categories = try plan.texts("category")
        ranks = try plan.numbers("rank").map { $0.isFinite ? Int($0) : 0 }
        rationales = try plan.texts("rationale")
        policyName = planTable.attributes["policy_name"] ?? "unrecorded"
        policyJSON = planTable.attributes["policy_json"] ?? "{}"
        policy = try? JSONDecoder().decode(PlanningPolicy.self, from: Data(policyJSON.utf8))
        aggregatePatients = try aggTable.table.texts("patient_id")
        var agg: [String: [Double]] = [:]
        for (column, values) in aggTable.table.columns { if let v = values.numbers { agg[column] = v } }
        aggregates = agg
        var weights = [Double?](repeating: nil, count: lesions.lesionIDs.count)
        let attentionSource = Self.attentionTable(contents, signatureName: name)
        self.attentionSource = attentionSource?.source
        if let t = attentionSource?.table {
            var index: [String: Int] = [:]
            for i in lesions.lesionIDs.indices { index[lesions.patientIDs[i] + "\u{0}" + lesions.lesionIDs[i]] = i }
            for (p, (l, w)) in zip(try t.texts("patient_id"), zip(try t.texts("lesion_id"), try t.numbers("attention"))) {
                if let i = index[p + "\u{0}" + l], w.isFinite { weights[i] = w }
            }
        }
        attention = weights
        diameters = contents.contourModalityFeature("morphology.diam")
        responses = (try? contents.lesions.texts("lesion_response")) ?? [String](repeating: "", count: lesions.lesionIDs.count)
        settings = try? ModalitySettings.decode(Data(contents.attributes.settingsJSON.utf8))
        pet = Self.petMeasures(contents.lesions)
        timelines = StoreResponseTimelines(contents, signatureName: name)
    }

    /// The PET measures of every lesion row: a row has them when its `suv_max` is a number.
    static func petMeasures(_ t: Table) -> [LesionPETMeasures?] {
        let columns = PETUptake.columns.map { (try? t.numbers($0)) ?? [Double](repeating: .nan, count: t.rowCount) }
        return (0..<t.rowCount).map { i in
            columns[0][i].isFinite ? LesionPETMeasures(suvMax: columns[0][i], suvMean: columns[1][i], suvPeak: columns[2][i],
                                                      mtvML: columns[3][i], tlg: columns[4][i]) : nil
        }
    }

    var patientIDs: [String] { lesions.rowsByPatient.map(\.patientID) }

    /// MIL attention weights, with where they came from: the held-out attention that `lesionmap compare`
    /// stores in `comparison/<signature>/<endpoint>_attention` (endpoint pfs, os, response, abscopal in that
    /// order; method mil_attention before mil_gated_attention).
    static func attentionTable(_ contents: StoreContents, signatureName: String) -> (table: Table, source: String)? {
        for endpoint in ComparisonEndpoint.allCases {
            let path = "comparison/" + pathComponent(signatureName) + "/" + endpoint.rawValue + "_attention"
            guard let t = contents.tables[path]?.table, t["patient_id"] != nil, t["lesion_id"] != nil,
                  t["attention"]?.numbers != nil, let methods = try? t.texts("method") else { continue }
            for method in ["mil_attention", "mil_gated_attention"] {
                let rows = methods.indices.filter { methods[$0] == method }
                if !rows.isEmpty { return (t.rows(rows), "held-out \(method) weights for \(endpoint.rawValue) (lesionmap compare)") }
            }
        }
        return nil
    }

    func rows(of patientID: String) -> [Int]? { lesions.rowsByPatient.first { $0.patientID == patientID }?.rows }

    func row(_ i: Int) -> LesionReportRow {
        var r = LesionReportRow(lesionID: lesions.lesionIDs[i], location: lesions.locations[i], volumeML: lesions.volumes[i],
                                maxDiameterMM: diameters[i], score: scores[i], percentile: percentiles[i],
                                categoryKey: categories[i], rank: ranks[i], rationale: rationales[i], attention: attention[i],
                                irradiated: lesions.irradiated[i], response: responses[i])
        r.pet = i < pet.count ? pet[i] : nil
        return r
    }

    var signatureInfo: SignatureInfo {
        SignatureInfo(id: signatureID, direction: signature?.direction ?? scoreAttributes["direction"] ?? "unrecorded",
                      estimates: signature?.estimates ?? scoreAttributes["estimates"] ?? "unrecorded",
                      validationStatus: scoreAttributes["validation_status"] ?? signature?.validationStatus ?? "unrecorded",
                      fileHash: scoreAttributes["signature_file_hash"] ?? "unrecorded",
                      cutoffs: (signature?.cutoffs ?? []).map { ($0.name, $0.value, $0.source) })
    }

    /// The signature's `name@version`.
    var signatureID: String {
        signature?.id ?? scoreAttributes["signature_id"] ?? signatureName
    }

    /// The policy with its category boundaries in score units (percentiles of this cohort's scores).
    var policyInfo: PolicyInfo {
        let sorted = scores.filter(\.isFinite).sorted()
        var boundaries: [(name: String, value: Double)] = []
        if let p = policy {
            for (t, what) in [(p.ablativeThreshold, "SBRT ≤"), (p.spareThreshold, "spare ≥")] {
                switch t {
                case .percentile(let q)?:
                    let v = quantile(sorted, q / 100)
                    boundaries.append(("\(what) P\(Int(q)) (\(String(format: "%.2f", v)))", v))
                case .cutoff(let name)?:
                    if let c = signature?.cutoff(named: name) { boundaries.append(("\(what) \(name) (\(String(format: "%.2f", c.value)))", c.value)) }
                case nil: break
                }
            }
        }
        var shown = policy
        shown?.description = nil
        let compact = shown?.json() ?? policyJSON
        return PolicyInfo(name: policyName, description: policy?.description ?? "", json: compact,
                          boundaries: boundaries.count == 2 ? boundaries : [])
    }

    func provenance(now: String) -> Provenance {
        let a = contents.attributes
        return Provenance(software: LesionMapVersion.software, createdUTC: now, storeCreatedUTC: a.createdUTC,
                          preprocessing: settings.map(Self.describe) ?? ["as recorded in the store (unreadable by this version)"],
                          settingsJSON: a.settingsJSON, settingsHash: a.settingsHash)
    }

    /// The preprocessing choices in words; per-modality settings one line per modality, prefixed with it.
    static func describe(_ settings: ModalitySettings) -> [String] {
        switch settings {
        case .everyModality(let s): return describe(s)
        case .perModality:
            return settings.all.map { m, s in "\(m!): " + describe(s, unit: Modality.unit(m!)).joined(separator: ", ") }
        }
    }

    /// The preprocessing choices in words, intensities in `unit`.
    static func describe(_ s: ExtractionSettings, unit: String = "HU") -> [String] {
        var out = ["\(s.mode.rawValue) computation"]
        if let r = s.resampling {
            let sp = r.spacing.map { String(format: "%g", $0) }.joined(separator: " x ")
            out.append("resampled \(r.inPlaneOnly ? "in-plane " : "")to \(sp) mm (\(r.interpolation.rawValue))")
        } else {
            out.append("original voxel grid")
        }
        let rs = s.resegmentation
        if rs.lowerBound != nil || rs.upperBound != nil {
            out.append("re-segmentation [\(rs.lowerBound.map { String(format: "%g", $0) } ?? "-inf"), \(rs.upperBound.map { String(format: "%g", $0) } ?? "inf")] \(unit)")
        }
        if let sigma = rs.outlierSigma { out.append("outliers beyond \(String(format: "%g", sigma)) SD removed") }
        switch s.discretisation {
        case .fixedBinSize(let w): out.append("fixed bin width \(String(format: "%g", w)) \(unit)")
        case .fixedBinNumber(let n): out.append("\(n) fixed bins")
        }
        if let ring = s.ring {
            var r = "\(String(format: "%g", ring.widthMM)) mm peritumoral ring"
            if ring.excludeOtherLesions { r += " excluding other lesions" }
            if let air = ring.excludeBelowIntensity { r += " and voxels below \(String(format: "%g", air)) \(unit)" }
            out.append(r)
        } else {
            out.append("no peritumoral ring")
        }
        out.append("\(s.families.count) IBSI feature families")
        return out
    }

    /// Patient-level metrics shown in patient reports: (aggregate column, label).
    static let metricColumns: [(String, String)] = [
        ("min", "Minimum lesion score (least infiltrated lesion)"), ("mean", "Mean lesion score"),
        ("max", "Maximum lesion score (most infiltrated lesion)"), ("sd", "SD of lesion scores"),
        ("entropy", "Entropy of lesion scores (bits, cohort-fixed bins)"),
        ("volume_weighted_mean", "Volume-weighted mean lesion score"),
    ]

    func metrics(of patientID: String) -> [PatientMetric] {
        guard let pi = aggregatePatients.firstIndex(of: patientID) else { return [] }
        return Self.metricColumns.compactMap { key, label in
            guard let col = aggregates[key] else { return nil }
            return PatientMetric(key: key, label: label, value: col[pi], percentile: Planner.percentile(of: col[pi], in: col))
        }
    }
}

/// Per-patient tumour-board reports (HTML, PDF through headless Chromium) and plan JSON files.
public enum PatientReporting {
    /// Whether to render PDFs next to the HTML files.
    public enum PDFMode: Sendable {
        case never
        /// When Chromium is found (`chromium` / `chromium-browser` on the PATH, or `LESIONMAP_CHROMIUM`).
        case whenAvailable
        /// Fail when Chromium is missing.
        case required
    }

    /// The files written for one patient.
    public struct Written: Sendable {
        public var patientID: String
        public var html: URL
        public var pdf: URL?
        public var planJSON: URL
    }

    /// The report model of one patient. With `cohortFolder` (the manifest folder the store was
    /// extracted from) the patient's images are re-loaded for the lesion map and lesion images.
    public static func model(store: URL, signature: Signature, patientID: String, cohortFolder: URL?) throws -> PatientReportModel {
        let source = try ReportSource(store: store, signature: signature)
        let cohort = try cohortFolder.map { try CohortManifest.load($0) }
        return try model(source, patientID: patientID, cohort: cohort, now: StoreAttributes.nowUTC())
    }

    static func model(_ source: ReportSource, patientID: String, cohort: Cohort?, now: String) throws -> PatientReportModel {
        guard let rows = source.rows(of: patientID) else {
            let known = source.patientIDs
            throw PipelineError("patient '\(patientID)' is not in the store (it has \(known.count) patients: \(known.prefix(8).joined(separator: ", "))\(known.count > 8 ? ", ..." : ""))")
        }
        let lesionRows = rows.map(source.row)
        var kvp = rows.map { source.lesions.kvps[$0] }.first { $0.isFinite }
        var scanDate: String?, scanner: String?
        var views: PatientViews?
        var note: String?
        var warnings: [String] = []
        if let cohort {
            if var entry = cohort.patient(patientID) {
                // The lesion map and images show the baseline scan, as the plans do; follow-up rows (drawn on other
                // scans, some with ids only matching assigns) are left out: the timeline section shows them.
                entry.lesions = entry.lesions.filter { $0.timepoint == 0 }
                do {
                    let patient = try PatientLoader().load(entry, relativeTo: cohort.folder)
                    warnings += patient.warnings
                    let built = try PatientImages.views(patient, rows: lesionRows, settings: source.settings)
                    views = built.views
                    warnings += built.warnings
                    let scan = patient.scans[built.scanIndex]
                    scanDate = scan.metadata.scanDate
                    kvp = kvp ?? scan.metadata.kvp
                    let s = [scan.metadata.manufacturer, scan.metadata.model].compactMap { $0 }.joined(separator: " ")
                    scanner = s.isEmpty ? nil : s
                } catch {
                    note = "the patient's images could not be loaded: \(ErrorText.plain(error))"
                }
            } else {
                note = "patient \(patientID) is not in the manifest \(cohort.folder.lastPathComponent)"
            }
        } else {
            note = "the cohort folder was not given (lesionmap report --manifest DIR), so the images were not re-loaded"
        }
        let response = source.timelines.timeline(of: patientID)
        if let w = response.warning { warnings.append(w) }
        var m = PatientReportModel(
            patientID: patientID, scanDate: scanDate, kvp: kvp, scanner: scanner, lesions: lesionRows,
            metrics: source.metrics(of: patientID), cohortScores: source.scores.filter(\.isFinite),
            signature: source.signatureInfo, policy: source.policyInfo, provenance: source.provenance(now: now),
            views: views, imageNote: note, warnings: warnings, attentionSource: source.attentionSource)
        m.timeline = response.timeline
        return m
    }

    /// What a batch of patient reports wrote, and the patients that failed (each alone: the batch goes on).
    public struct Batch: Sendable {
        public var written: [Written] = []
        public var failed: [PatientFailure] = []
        public var succeeded: Bool { failed.isEmpty }
    }

    /// Writes `<name>.html`, `<name>.plan.json` and (per `pdf`) `<name>.pdf` for each patient (all when
    /// `patientIDs` is nil) into `directory`, every file atomically; names follow `PatientFileNames` over the
    /// store's patients. A patient that fails (not in the store, a file that cannot be written, a PDF that
    /// does not render) is reported in `failed` with the reason and the others are still written.
    public static func write(store: URL, signature: Signature, patientIDs: [String]? = nil, cohortFolder: URL?,
                             to directory: URL, pdf: PDFMode = .whenAvailable, quiet: Bool = false) throws -> Batch {
        let source = try ReportSource(store: store, signature: signature)
        let cohort = try cohortFolder.map { try CohortManifest.load($0) }
        let chromium = pdf == .never ? nil : HeadlessChromium.find()
        if pdf == .required && chromium == nil {
            throw PipelineError("a PDF was asked for, but Chromium was not found (install chromium, or set LESIONMAP_CHROMIUM)")
        }
        let ids = patientIDs ?? source.patientIDs
        try createOutputFolder(directory, what: "report folder")
        let names = fileNames(source.patientIDs)
        let nameOf = Dictionary(zip(source.patientIDs, names), uniquingKeysWith: { a, _ in a })
        let bar = ProgressBar(label: "reports", total: ids.count, quiet: quiet)
        let now = StoreAttributes.nowUTC()
        var batch = Batch()
        for id in ids {
            do {
                let m = try model(source, patientID: id, cohort: cohort, now: now)
                let name = nameOf[id] ?? PatientFileNames.name(id)
                let html = directory.appendingPathComponent(name + ".html")
                try write(Data(PatientReport.html(m).utf8), to: html)
                let json = directory.appendingPathComponent(name + ".plan.json")
                try write(try PlanJSON.document(source, patientID: id).jsonData(), to: json)
                batch.written.append(Written(patientID: id, html: html, pdf: nil, planJSON: json))
                bar.advance("\(id): \(m.lesions.count) lesions\(m.views == nil ? " (no images)" : "")")
            } catch {
                batch.failed.append(PatientFailure(patientID: id, message: ErrorText.plain(error)))
                bar.message("FAILED \(id): \(ErrorText.plain(error))")
                bar.advance("\(id) failed")
            }
        }
        if let chromium {
            // Chromium processes run two at a time; each failure is reported with its patient.
            let written = batch.written
            let results = PDFResults(count: written.count)
            DispatchQueue.concurrentPerform(iterations: written.count) { n in
                let target = written[n].html.deletingPathExtension().appendingPathExtension("pdf")
                do {
                    try chromium.printPDF(written[n].html, to: target)
                    results.set(n, .success(target))
                } catch {
                    results.set(n, .failure(error))
                }
            }
            for n in written.indices {
                switch results.get(n) {
                case .success(let url)?: batch.written[n].pdf = url
                case .failure(let e)?:
                    batch.failed.append(PatientFailure(patientID: written[n].patientID, message: "PDF rendering failed: " + ErrorText.plain(e)))
                case nil: break
                }
            }
        }
        return batch
    }

    /// Writes a file atomically, with a plain error naming it.
    static func write(_ data: Data, to url: URL) throws {
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw PipelineError(ErrorText.plain(error))
        }
    }

    /// Creates an output folder (and its parents), with a plain error when a file is in the way or it cannot be made.
    static func createOutputFolder(_ url: URL, what: String) throws {
        let kind = InputFile.kind(url)
        guard kind == .directory || kind == .missing else {
            throw PipelineError("\(url.path): the \(what) is \(kind.phrase); give a folder")
        }
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw PipelineError("cannot create the \(what): " + ErrorText.plain(error))
        }
    }

    /// File names for the store's patient ids (`PatientFileNames.names`).
    static func fileNames(_ ids: [String]) -> [String] { PatientFileNames.names(ids) }

    /// Results of concurrent PDF rendering, one slot per patient.
    private final class PDFResults: @unchecked Sendable {
        private var slots: [Result<URL, Error>?]
        private let lock = NSLock()
        init(count: Int) { slots = Array(repeating: nil, count: count) }
        func set(_ n: Int, _ r: Result<URL, Error>) { lock.lock(); slots[n] = r; lock.unlock() }
        func get(_ n: Int) -> Result<URL, Error>? { lock.lock(); defer { lock.unlock() }; return slots[n] }
    }
}

/// Plans as JSON documents (`lesionmap-plan/1`), one per patient.
public enum PlanJSON {
    /// What `write` wrote, and the patients that failed (each alone: the batch goes on).
    public struct Batch: Sendable {
        public var files: [(patientID: String, url: URL)] = []
        public var failed: [PatientFailure] = []
        public var succeeded: Bool { failed.isEmpty }
    }

    /// Writes `<name>.plan.json` (names per `PatientFileNames`) for every patient of the store's plans for
    /// `signatureName` into `directory` (for `lesionmap plan --json DIR`). A patient whose file cannot be
    /// written or whose plan is missing is reported in `failed`; the others are written.
    public static func write(store: URL, signatureName: String, to directory: URL) throws -> Batch {
        let source = try ReportSource(store: store, signatureName: signatureName, signature: nil)
        try PatientReporting.createOutputFolder(directory, what: "plan folder")
        let ids = source.patientIDs
        var batch = Batch()
        for (id, name) in zip(ids, PatientReporting.fileNames(ids)) {
            let url = directory.appendingPathComponent(name + ".plan.json")
            do {
                try PatientReporting.write(try document(source, patientID: id).jsonData(), to: url)
                batch.files.append((id, url))
            } catch {
                batch.failed.append(PatientFailure(patientID: id, message: ErrorText.plain(error)))
            }
        }
        return batch
    }

    static func document(_ source: ReportSource, patientID: String) throws -> PatientPlanDocument {
        let rows = source.rows(of: patientID) ?? []
        let lesions = try rows.map { i -> PatientPlanDocument.Lesion in
            if source.categories[i].isEmpty {
                throw PipelineError("no plan for lesion \(source.lesions.lesionIDs[i]) (lesionmap plan failed for this patient: \(source.rationales[i]))")
            }
            guard let category = TargetCategory(rawValue: source.categories[i]) else {
                throw PipelineError("patient \(patientID), lesion \(source.lesions.lesionIDs[i]): unknown category '\(source.categories[i])' in the stored plan")
            }
            return PatientPlanDocument.Lesion(
                lesionID: source.lesions.lesionIDs[i], location: source.lesions.locations[i],
                volumeML: source.lesions.volumes[i], irradiated: source.lesions.irradiated[i], score: source.scores[i],
                percentile: source.percentiles[i], attention: source.attention[i], category: category,
                rank: source.ranks[i], rationale: source.rationales[i])
        }
        return PatientPlanDocument(patientID: patientID, signatureID: source.signatureID, policyName: source.policyName,
                                   policyJSON: source.policyJSON, lesions: lesions, software: LesionMapVersion.software)
    }
}

/// The lesion map and per-lesion images of a loaded patient.
enum PatientImages {
    static func views(_ patient: Patient, rows: [LesionReportRow], settings: ModalitySettings?) throws
        -> (views: PatientViews, scanIndex: Int, warnings: [String]) {
        var warnings: [String] = []
        let byID = Dictionary(rows.map { ($0.lesionID, $0) }, uniquingKeysWith: { a, _ in a })
        for l in patient.lesions where byID[l.id] == nil {
            warnings.append("lesion \(l.id) of the manifest is not in the store's plans; not drawn")
        }
        for r in rows where !patient.lesions.contains(where: { $0.id == r.lesionID }) {
            warnings.append("lesion \(r.lesionID) of the store is no longer in the manifest; no image")
        }
        guard !patient.scans.isEmpty else { throw PipelineError("patient \(patient.id) has no image") }
        // The projections show the contour scan holding most lesions; a further image a lesion was carried onto
        // (`image_pt`) is not a contour scan: the PET gets views of its own below.
        let furtherScans = Set(patient.lesions.flatMap { $0.furtherImages.map(\.scanIndex) })
        let counts = patient.scans.indices.map { s in patient.lesions.filter { $0.scanIndex == s }.count }
        let main = counts.indices.max { counts[$0] < counts[$1] }!
        let contourScans = patient.scans.indices.filter { !furtherScans.contains($0) }.count
        if contourScans > 1 {
            warnings.append("the patient has \(contourScans) images; the projections show the one with \(counts[main]) of \(patient.lesions.count) lesions")
        }
        func overlay(_ l: Lesion, ring: Mask?) -> LesionOverlay {
            let row = byID[l.id]
            let window: DisplayWindow = l.location == .lung ? .lung : (l.location == .bone ? .bone : .softTissue)
            return LesionOverlay(lesionID: l.id, label: l.id, colour: row?.colour ?? "#bbbbbb", mask: l.mask, ring: ring,
                                 window: window)
        }
        var lesionPanels: [String: ImagePanel] = [:]
        for (s, scan) in patient.scans.enumerated() {
            let members = patient.lesions.filter { $0.scanIndex == s }
            for l in members {
                var others = Mask(grid: scan.image.grid, repeating: false)
                for o in members where o.id != l.id { others = others.union(o.mask) }
                let ring = settings?.settings(for: scan.metadata.modality)?.ring
                    .flatMap { ringMask(l.mask, others: others, image: scan.image, settings: $0) }
                let otherOverlays = members.filter { $0.id != l.id }.map { overlay($0, ring: nil) }
                if let panel = LesionViews.axialSlice(scan.image, lesion: overlay(l, ring: ring), others: otherOverlays) {
                    lesionPanels[l.id] = panel
                }
            }
        }
        let mainLesions = patient.lesions.filter { $0.scanIndex == main }.map { overlay($0, ring: nil) }
        let image = patient.scans[main].image
        var views = PatientViews(coronal: LesionViews.coronalMIP(image, lesions: mainLesions),
                                 axial: LesionViews.axialMIP(image, lesions: mainLesions), lesions: lesionPanels)
        if let pet = petViews(patient, overlay: overlay, settings: settings) {
            views.pet = (pet.coronal, pet.axial)
            views.petLesions = pet.lesions
        }
        return (views, main, warnings)
    }

    /// The PET views of a patient whose lesions were carried onto a PT image (`image_pt`): coronal and axial
    /// MIPs in SUV with every carried lesion outlined, and one axial PET slice per lesion with its carried mask,
    /// its ring as extracted on the PET (the PT settings' ring) and the other lesions on that slice. The PT
    /// image most lesions were carried onto is shown; nil when no lesion has one.
    static func petViews(_ patient: Patient, overlay: (Lesion, Mask?) -> LesionOverlay, settings: ModalitySettings?)
        -> (coronal: ImagePanel, axial: ImagePanel, lesions: [String: ImagePanel])? {
        var carried: [Int: [(lesion: Lesion, mask: Mask)]] = [:]
        for l in patient.lesions {
            for f in l.furtherImages where patient.scans[f.scanIndex].metadata.modality == "PT" {
                carried[f.scanIndex, default: []].append((l, f.mask))
            }
        }
        guard let best = carried.max(by: { ($0.value.count, $1.key) < ($1.value.count, $0.key) }) else { return nil }
        let scan = patient.scans[best.key], members = best.value
        func petOverlay(_ l: Lesion, _ mask: Mask, ring: Mask?) -> LesionOverlay {
            var o = overlay(l, ring)
            o.mask = mask
            o.window = .suv
            return o
        }
        let ringSettings = settings?.settings(for: "PT")?.ring
        var panels: [String: ImagePanel] = [:]
        for (l, mask) in members {
            var others = Mask(grid: scan.image.grid, repeating: false)
            for o in members where o.lesion.id != l.id { others = others.union(o.mask) }
            let ring = ringSettings.flatMap { ringMask(mask, others: others, image: scan.image, settings: $0) }
            let otherOverlays = members.filter { $0.lesion.id != l.id }.map { petOverlay($0.lesion, $0.mask, ring: nil) }
            if let panel = LesionViews.axialSlice(scan.image, lesion: petOverlay(l, mask, ring: ring), others: otherOverlays,
                                                  modality: "PET") {
                panels[l.id] = panel
            }
        }
        let all = members.map { petOverlay($0.lesion, $0.mask, ring: nil) }
        return (LesionViews.coronalMIP(scan.image, lesions: all, modality: "PET", window: .suv),
                LesionViews.axialMIP(scan.image, lesions: all, modality: "PET", window: .suv), panels)
    }
}

extension PatientImages {
    /// The lesion's peritumoral ring as extracted (same settings), computed in a box around the
    /// lesion and placed back on the full grid.
    static func ringMask(_ lesion: Mask, others: Mask, image: Volume<Float>, settings: ExtractionSettings.RingSettings) -> Mask? {
        guard let box = lesion.boundingBox else { return nil }
        let sp = image.grid.spacing
        let margin = Index3(Int((settings.widthMM / sp.x).rounded(.up)) + 1, Int((settings.widthMM / sp.y).rounded(.up)) + 1,
                            Int((settings.widthMM / sp.z).rounded(.up)) + 1)
        let crop = box.expanded(by: margin, within: image.grid.size)
        let ring = PeritumoralRing.mask(lesion: lesion.cropped(to: crop), otherLesions: others.cropped(to: crop),
                                        image: image.cropped(to: crop), settings: settings)
        var full = Mask(grid: image.grid, repeating: false)
        let n = crop.size
        for k in 0..<n.nz {
            for j in 0..<n.ny {
                for i in 0..<n.nx where ring.voxels[(k * n.ny + j) * n.nx + i] {
                    full[crop.lower.i + i, crop.lower.j + j, crop.lower.k + k] = true
                }
            }
        }
        return full
    }
}

/// The cohort report's model: every lesion's plan, the aggregation comparison stored by
/// `lesionmap compare`, Kaplan-Meier curves per aggregator, the how-many-lesions curve and the
/// lesion-level validation, all from the store.
enum CohortReportBuilder {
    static func model(_ source: ReportSource, title: String, patientReportDirectory: String?, now: String) throws -> CohortReportModel {
        let ids = source.patientIDs
        let names = PatientReporting.fileNames(ids)
        let patients = zip(ids, names).map { id, name in
            let rows = source.rows(of: id) ?? []
            return PatientSummary(patientID: id, kvp: rows.map { source.lesions.kvps[$0] }.first { $0.isFinite },
                                  lesions: rows.map(source.row),
                                  reportLink: patientReportDirectory.map { $0 + "/" + name + ".html" })
        }
        let failures = try source.contents.failureList().map { (patientID: $0.patientID, message: "\($0.stage): \($0.message)") }
        let comparisons = try comparisonTables(source)
        let outcomes = try endpoints(source)
        var note: String?
        if comparisons.isEmpty {
            note = "No aggregation comparison in the store yet: run `lesionmap compare STORE --endpoint pfs --lesion-subsets` (and os) for the comparison table, the forest plot of hazard ratios, the C-index chart and the how-many-lesions curve."
        }
        if outcomes.isEmpty {
            note = (note.map { $0 + " " } ?? "") + "The store holds no survival outcomes (pfs_months/pfs_event, os_months/os_event in patients.csv), so no survival curves are drawn."
        }
        var model = CohortReportModel(
            title: title, signature: source.signatureInfo, policy: source.policyInfo, provenance: source.provenance(now: now),
            patients: patients, failures: failures, comparisons: comparisons,
            survival: outcomes.flatMap { survivalPanels(source, $0) },
            lesionCountCurves: lesionCountCurves(source),
            lesionValidation: lesionValidation(source), statisticsNote: note)
        model.harmonisation = try harmonisationPicture(source.contents)
        if let column = try? source.contents.lesions.texts("modalities") {
            var counts: [String: Int] = [:]
            for (_, rows) in source.lesions.rowsByPatient { for r in rows where !column[r].isEmpty { counts[column[r], default: 0] += 1 } }
            model.modalities = counts.map { ($0.key, $0.value) }.sorted { ($0.1, $1.0) > ($1.1, $0.0) }
        }
        return model
    }

    /// For a harmonised store, the feature with the largest batch effect by batch, before and after ComBat.
    static func harmonisationPicture(_ contents: StoreContents) throws -> HarmonisationPicture? {
        guard let h = try StoreHarmonisation.beforeAndAfter(contents) else { return nil }
        let share = String(format: "%.0f", 100 * h.batchShare)
        return HarmonisationPicture(
            feature: h.feature, batchColumn: h.batchColumn, method: h.method,
            batches: h.batches.indices.map { (h.batches[$0], h.before[$0], h.after[$0]) },
            note: "Shown: \(h.feature), the harmonised feature with the largest batch effect (batch explained \(share) % of its standardised variance before harmonisation), one point per lesion; the values before are recovered from the stored ones with the recorded batch model. \(h.harmonisedCount) features harmonised\(h.unchangedCount > 0 ? ", \(h.unchangedCount) left unchanged (constant, with missing values, or of a region left unharmonised)" : "").")
    }

    /// Where `lesionmap compare` stores its tables for this signature: `comparison/<signature>/`.
    static func comparisonPrefix(_ source: ReportSource) -> String { "comparison/" + pathComponent(source.signatureName) + "/" }

    /// The tables `comparison/<signature>/<endpoint>` (pfs, os, response, abscopal), by endpoint.
    static func comparisonTables(_ source: ReportSource) throws -> [ComparisonTable] {
        try ComparisonEndpoint.allCases.compactMap { endpoint in
            let stored = source.contents.tables[comparisonPrefix(source) + endpoint.rawValue]
            guard let t = stored?.table, t["aggregator"] != nil else { return nil }
            let aggregators = try t.texts("aggregator")
            let numeric = t.columns.filter { $0.column.numbers != nil }
            let text = t.columns.filter { $0.name != "aggregator" && $0.column.texts != nil }
            let rows = aggregators.enumerated().map { n, a in
                ComparisonRow(aggregator: a, values: Dictionary(uniqueKeysWithValues: numeric.map { ($0.name, $0.column.numbers![n]) }),
                              texts: Dictionary(uniqueKeysWithValues: text.map { ($0.name, $0.column.texts![n]) }))
            }
            return ComparisonTable(endpoint: endpoint.rawValue, columns: numeric.map(\.name), rows: rows,
                                   interpretation: stored?.attributes["interpretation"])
        }
    }

    /// A survival endpoint over the patients that have it: their survival data and aggregate row indices.
    struct Endpoint {
        var name: String
        var data: SurvivalData
        /// Row of each subject in the aggregates table.
        var rows: [Int]
    }

    static func endpoints(_ source: ReportSource) throws -> [Endpoint] {
        let t = source.contents.patients
        guard let ids = try? t.texts("patient_id") else { return [] }
        var out: [Endpoint] = []
        for name in ["pfs", "os"] {
            guard let times = try? t.numbers(name + "_months"), let events = try? t.numbers(name + "_event") else { continue }
            var tt: [Double] = [], ee: [Bool] = [], rows: [Int] = []
            for (r, id) in source.aggregatePatients.enumerated() {
                guard let i = ids.firstIndex(of: id), times[i].isFinite, events[i].isFinite else { continue }
                tt.append(times[i]); ee.append(events[i] == 1); rows.append(r)
            }
            guard tt.count >= 4, ee.contains(true) else { continue }
            out.append(Endpoint(name: name, data: try SurvivalData(times: tt, events: ee), rows: rows))
        }
        return out
    }

    /// Kaplan-Meier curves of each standard aggregator, patients split at its median (high = above,
    /// as `lesionmap compare` splits them), with the log-rank p.
    static func survivalPanels(_ source: ReportSource, _ e: Endpoint) -> [SurvivalPanel] {
        Aggregator.standard.compactMap { a -> SurvivalPanel? in
            guard let column = source.aggregates[a.rawValue] else { return nil }
            let members = e.rows.indices.filter { column[e.rows[$0]].isFinite }
            guard members.count >= 4 else { return nil }
            let values = members.map { column[e.rows[$0]] }
            let median = sortedQuantile(values.sorted(), 0.5)
            let high = values.map { $0 > median }
            let data = e.data.subset(members)
            guard high.contains(true), high.contains(false) else { return nil }
            let curves = [(false, "≤ median", "#c0392b"), (true, "> median", "#2471a3")].map { group, label, colour in
                let sub = data.subset(data.times.indices.filter { high[$0] == group })
                let km = KaplanMeier(sub)
                var steps: [(time: Double, survival: Double)] = [(0, 1)]
                steps += km.steps.map { ($0.time, $0.survival) }
                let censored = sub.times.indices.filter { !sub.events[$0] }.map { (sub.times[$0], km.survival(at: sub.times[$0])) }
                return SurvivalCurve(label: "\(label) \(String(format: "%.2f", median))", colour: colour, steps: steps,
                                     censored: censored, subjects: sub.count, events: sub.eventCount)
            }
            let p = (try? LogRankTest.test(data, groups: high.map { $0 ? 1 : 0 }).test.pValue) ?? .nan
            return SurvivalPanel(endpoint: e.name, aggregator: a.rawValue, curves: curves, logRankP: p)
        }
    }

    /// The lesion-subset tables `comparison/<signature>/<endpoint>_lesion_subsets` of `lesionmap compare
    /// --lesion-subsets` as curves of the standard aggregators.
    static func lesionCountCurves(_ source: ReportSource) -> [LesionCountCurve] {
        let colours: [String: String] = ["min": "#c0392b", "mean": "#1d2327", "max": "#2471a3", "sd": "#8e44ad",
                                         "entropy": "#16a085", "volume_weighted_mean": "#d68910"]
        return ComparisonEndpoint.allCases.compactMap { endpoint -> LesionCountCurve? in
            guard let stored = source.contents.tables[comparisonPrefix(source) + endpoint.rawValue + "_lesion_subsets"] else { return nil }
            let t = stored.table
            let d = endpoint.isSurvival ? "c" : "auc", mean = endpoint.isSurvival ? "c_index_mean" : "auc_mean"
            guard let names = try? t.texts("aggregator"), let k = try? t.numbers("k"), let m = try? t.numbers(mean),
                  let lo = try? t.numbers(d + "_low"), let hi = try? t.numbers(d + "_high") else { return nil }
            let series = Aggregator.standard.map(\.rawValue).compactMap { a -> ChartSeries? in
                // Spread aggregators (sd, entropy) are undefined with one lesion per patient: no point at k = 1.
                let rows = names.indices.filter { names[$0] == a && m[$0].isFinite }.sorted { k[$0] < k[$1] }
                guard !rows.isEmpty else { return nil }
                return ChartSeries(label: a, colour: colours[a] ?? "#555", points: rows.map { (k[$0], m[$0], lo[$0], hi[$0]) })
            }
            guard !series.isEmpty else { return nil }
            let repeats = stored.attributes["repeats"].map { " over \($0) random draws" } ?? ""
            return LesionCountCurve(
                endpoint: endpoint.rawValue, xLabel: "lesions analysed per patient (k, chosen at random)",
                yLabel: endpoint.isSurvival ? "Harrell's C (\(endpoint.rawValue.uppercased()))" : "AUC (\(endpoint.rawValue))",
                series: series,
                note: "From lesionmap compare --lesion-subsets: each aggregator computed from k randomly chosen lesions per patient (all lesions of patients with k or fewer); line: mean\(repeats), shaded: central 95% of the draws (lesion-selection variability, not sampling error). Where a curve flattens, more lesions add little.")
        }
    }

    /// Lesion scores against lesion responses: the `validation/<signature>/lesion_response` table of
    /// `lesionmap validate-lesions` when stored, else the overall AUC computed here.
    static func lesionValidation(_ source: ReportSource) -> LesionValidation? {
        let order = ["CR", "PR", "SD", "PD"]
        let indices = source.responses.indices.filter { order.contains(source.responses[$0]) && source.scores[$0].isFinite }
        guard !indices.isEmpty else { return nil }
        let groups = order.map { r in (label: r, scores: indices.filter { source.responses[$0] == r }.map { source.scores[$0] }) }
        var summary: [String] = []
        func ci(_ v: Double, _ lo: Double, _ hi: Double) -> String {
            String(format: "%.2f (95%% CI %.2f–%.2f)", v, lo, hi)
        }
        if let t = source.contents.tables["validation/" + pathComponent(source.signatureName) + "/lesion_response"]?.table,
           let group = try? t.texts("group"), let n = try? t.numbers("n"), let pos = try? t.numbers("positives"),
           let auc = try? t.numbers("auc"), let lo = try? t.numbers("auc_low"), let hi = try? t.numbers("auc_high") {
            for i in group.indices {
                summary.append(auc[i].isFinite
                    ? "\(group[i]): AUC of the score for response (CR/PR vs SD/PD) \(ci(auc[i], lo[i], hi[i])), \(Int(pos[i])) responding of \(Int(n[i])) lesions"
                    : "\(group[i]): AUC not estimable (\(Int(n[i])) lesions)")
            }
            summary.append("From lesionmap validate-lesions (DeLong intervals).")
        } else {
            let labels = indices.map { ["CR", "PR"].contains(source.responses[$0]) }
            if labels.contains(true), labels.contains(false),
               let roc = try? ROC.analyse(labels: labels, scores: indices.map { source.scores[$0] }) {
                summary.append("all lesions: AUC of the score for response (CR/PR vs SD/PD) \(ci(roc.auc, roc.interval.lower, roc.interval.upper)), DeLong, \(roc.positives) responding of \(indices.count) lesions")
            }
            summary.append("Per-location AUCs: run lesionmap validate-lesions on the store.")
        }
        summary.append("Direction fixed in advance: a higher score (more infiltrated) is expected to respond; AUC 0.5 = no information. Irradiated lesions are included.")
        return LesionValidation(groups: groups, summary: summary)
    }
}

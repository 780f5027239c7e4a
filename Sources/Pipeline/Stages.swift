import Foundation
import Radiomics
import FeatureStore
import Signatures
import Aggregation
import Planning
import Reporting
import Cohort

/// Failures of the stages after extraction, naming the store and what is missing.
public struct PipelineError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A name safe as one HDF5 path component: letters, digits, `-`, `_` and `.`; anything else becomes `_`.
func pathComponent(_ s: String) -> String {
    String(s.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" })
}

/// Lesion facts every downstream stage reads from the store.
struct StoreLesions {
    var patientIDs: [String]
    var lesionIDs: [String]
    var locations: [String]
    var volumes: [Double]
    var irradiated: [Bool]
    var kvps: [Double]
    /// Days from baseline of every row (0 where the store has no `timepoint`).
    var timepoints: [Double]

    init(_ contents: StoreContents) throws {
        let t = contents.lesions
        guard t.rowCount > 0 else { throw PipelineError("the store holds no lesions: run `lesionmap extract` first") }
        patientIDs = try t.texts("patient_id")
        lesionIDs = try t.texts("lesion_id")
        locations = try t.texts("location")
        volumes = try t.numbers("volume_ml")
        irradiated = try t.numbers("irradiated").map { $0 == 1 }
        kvps = try t.numbers("kvp")
        timepoints = contents.lesionTimepoints
    }

    /// A baseline row (time point 0; a store without time points is all baseline).
    func isBaseline(_ i: Int) -> Bool { timepoints[i] == 0 || timepoints[i].isNaN }

    /// Baseline row indices grouped by patient, in store order: the single-time-point stages (aggregation, plans,
    /// comparisons, reports) describe the baseline; follow-up rows (`lesionmap delta`, `response`) are left out.
    var rowsByPatient: [(patientID: String, rows: [Int])] {
        var out: [(String, [Int])] = []
        for (i, p) in patientIDs.enumerated() where isBaseline(i) {
            if out.last?.0 == p { out[out.count - 1].1.append(i) } else { out.append((p, [i])) }
        }
        return out
    }
}

/// Applies signatures to every lesion of a store.
public enum CohortScoring {
    /// Store path of a signature's lesion scores.
    public static func scoresPath(_ signature: Signature) -> String { "scores/" + pathComponent(signature.name) }

    /// Every feature matrix's names and rows side by side, as signatures and exports name them
    /// (`<modality>.<region>.…`, e.g. `ct.tumour.…`, `pt.ring.…`).
    static func featureTable(_ contents: StoreContents) -> (names: [String], rows: [[Double]]) {
        var names: [String] = []
        var rows = [[Double]](repeating: [], count: contents.lesions.rowCount)
        for region in contents.features.keys.sorted() {
            let m = contents.features[region]!
            names += m.names.map { region + "." + $0 }
            for r in 0..<m.rowCount { rows[r] += m.row(r) }
        }
        return (names, rows)
    }

    /// Scores every lesion with `signature` and writes `scores/<name>` into the store (atomically).
    ///
    /// A store extracted with settings per modality (`--preset ct=default,pt=pet-default`) is scored
    /// modality by modality: the lesions of each modality whose settings are the signature's
    /// preprocessing get a score, the others none (NaN), as a signature made on CT features says
    /// nothing about PET features. When no modality's settings are the signature's, scoring is refused
    /// listing each modality's differences.
    @discardableResult
    public static func run(store: URL, signature: Signature, fileHash: String, source: String) throws -> [Double] {
        var contents = try StoreContents.read(from: store)
        let lesions = try StoreLesions(contents)
        let (names, rows) = featureTable(contents)
        let settingsJSON = contents.attributes.settingsJSON
        let settings = try JSONValue.parse(settingsJSON)
        let harmonisation = CohortHarmonisation.signatureStamp(contents)
        // Which scorer scores each lesion (nil: no score).
        let scorerOf: (Int) -> SignatureScorer?
        if case .perModality(let map)? = try? ModalitySettings.decode(Data(settingsJSON.utf8)),
           !signature.preprocessing.differences(from: settings).isEmpty {
            var scorers: [String: SignatureScorer] = [:]
            var problems: [String] = []
            for m in map.keys.sorted() {
                let own = try JSONValue.parse(try ModalitySettings.everyModality(map[m]!).json())
                do {
                    scorers[m] = try SignatureScorer(signature: signature, featureNames: names, settings: own, source: source,
                                                     harmonisation: harmonisation,
                                                     resolve: { FeatureColumnName.qualified($0, legacyModality: m) })
                } catch let e as SignatureError {
                    problems += e.problems.map { "for \(m): \($0)" }
                }
            }
            guard !scorers.isEmpty else {
                throw PipelineError("signature \(source) cannot be used: the store's settings are per modality (\(map.keys.sorted().joined(separator: ", "))) and the signature's preprocessing is none of them:\n"
                                    + problems.map { "  - " + $0 }.joined(separator: "\n"))
            }
            let modalities = (try? contents.lesions.texts("modality")) ?? []
            scorerOf = { i in i < modalities.count ? scorers[modalities[i].uppercased()] : nil }
        } else {
            let scorer = try SignatureScorer(signature: signature, featureNames: names, settings: settings, source: source,
                                             harmonisation: harmonisation, resolve: { FeatureColumnName.qualified($0) })
            scorerOf = { _ in scorer }
        }
        let scores = rows.indices.map { i in
            scorerOf(i)?.score(row: rows[i], location: lesions.locations[i], kvp: lesions.kvps[i].isFinite ? lesions.kvps[i] : nil) ?? .nan
        }
        var t = Table()
        try t.append("patient_id", .text(lesions.patientIDs))
        try t.append("lesion_id", .text(lesions.lesionIDs))
        // Every /lesions row is scored, follow-up time points too (`lesionmap delta` compares them with baseline).
        if let timepoints = contents.lesions["timepoint"]?.numbers { try t.append("timepoint", .number(timepoints)) }
        try t.append("score", .number(scores))
        contents.tables[scoresPath(signature)] = StoreTable(table: t, attributes: [
            "signature_id": signature.id, "signature_file_hash": fileHash, "signature_name": signature.name,
            "direction": signature.direction, "validation_status": signature.validationStatus,
            "estimates": signature.estimates,
        ])
        try contents.write(to: store)
        return scores
    }

    /// The scores of a signature from a store, aligned with its lesion rows.
    static func scores(_ contents: StoreContents, signatureName: String) throws -> (scores: [Double], attributes: [String: String]) {
        let path = "scores/" + pathComponent(signatureName)
        guard let t = contents.tables[path] else {
            throw PipelineError("the store has no scores for signature '\(signatureName)': run `lesionmap score` first")
        }
        return (try t.table.numbers("score"), t.attributes)
    }
}

/// Patient-level aggregation of lesion scores.
public enum CohortAggregation {
    public static func path(_ signatureName: String) -> String { "aggregates/" + pathComponent(signatureName) }

    /// Aggregates the scores of `signatureName` per patient with `aggregators` and writes `aggregates/<name>`.
    @discardableResult
    public static func run(store: URL, signatureName: String, aggregators: [Aggregator] = Aggregator.allCases) throws
        -> (patients: [String], values: [Aggregator: [Double]], context: AggregationContext) {
        var contents = try StoreContents.read(from: store)
        let lesions = try StoreLesions(contents)
        let (scores, _) = try CohortScoring.scores(contents, signatureName: signatureName)
        // Aggregates describe the baseline: cohort bins and patients' lesions from the baseline rows only.
        let context = AggregationContext.fitted(toCohortValues: scores.indices.filter { lesions.isBaseline($0) }.map { scores[$0] })
        let groups = lesions.rowsByPatient
        var values: [Aggregator: [Double]] = [:]
        for a in aggregators {
            values[a] = groups.map { g in
                a.aggregate(g.rows.map { LesionValue(lesionID: lesions.lesionIDs[$0], value: scores[$0],
                                                     volume: lesions.volumes[$0], irradiated: lesions.irradiated[$0]) },
                            context: context)
            }
        }
        var t = Table()
        try t.append("patient_id", .text(groups.map(\.patientID)))
        for a in aggregators { try t.append(a.rawValue, .number(values[a]!)) }
        contents.tables[path(signatureName)] = StoreTable(table: t, attributes: [
            "signature_name": signatureName,
            "entropy_bin_origin": String(context.entropyOrigin), "entropy_bin_width": String(context.entropyBinWidth),
            "fraction_below_cutoff": String(context.cutoff),
            "definition": "entropy: Shannon entropy (bits) of the patient's lesion-score histogram on cohort-fixed bins; sd: population SD; sd, range and entropy are NaN (undefined) for a patient with one scored lesion",
        ])
        try contents.write(to: store)
        return (groups.map(\.patientID), values, context)
    }
}

/// Lesion-level radiotherapy categories for every patient.
public enum CohortPlanning {
    public static func path(_ signatureName: String) -> String { "plans/" + pathComponent(signatureName) }

    /// The plans of a cohort: one per lesion in store order (nil for the lesions of a patient that could not
    /// be planned), and the patients that failed.
    public struct Outcome: Sendable {
        public var plans: [LesionPlan?]
        public var failed: [PatientFailure]
        public var succeeded: Bool { failed.isEmpty }
        /// The lesions that were planned.
        public var planned: [LesionPlan] { plans.compactMap { $0 } }
    }

    /// Plans every patient from the scores of `signatureName`, percentiles taken in this cohort.
    ///
    /// A patient that cannot be planned (e.g. a policy using MIL attention, and a patient without attention
    /// weights) fails alone: its lesions are stored with an empty category and rank and the reason as their
    /// rationale, and it is listed in `failed`. A policy that is wrong for every patient is an error.
    ///
    /// - Parameters:
    ///   - cutoffs: the signature file's cut-offs by name, for policies whose boundaries name them.
    ///   Held-out MIL attention stored by `lesionmap compare` is passed to the planner when present.
    @discardableResult
    public static func run(store: URL, signatureName: String, policy: PlanningPolicy,
                           cutoffs: [String: Double] = [:]) throws -> Outcome {
        var contents = try StoreContents.read(from: store)
        let lesions = try StoreLesions(contents)
        let (scores, _) = try CohortScoring.scores(contents, signatureName: signatureName)
        var attention: [String: Double] = [:]
        if let (t, _) = ReportSource.attentionTable(contents, signatureName: signatureName) {
            let p = try t.texts("patient_id"), l = try t.texts("lesion_id"), a = try t.numbers("attention")
            for i in p.indices { attention[p[i] + "\u{1}" + l[i]] = a[i] }
        }
        // Policy problems that concern every patient stop here, before any patient is planned.
        _ = try Planner.plan([], policy: policy, cutoffs: cutoffs)
        if policy.usesAttention && attention.isEmpty {
            throw PipelineError("policy '\(policy.name)' uses MIL attention weights, but the store holds none for '\(signatureName)': run `lesionmap compare STORE --endpoint pfs` (or os, response, abscopal) first")
        }
        var plans = [LesionPlan?](repeating: nil, count: scores.count)
        var percentiles = [Double](repeating: .nan, count: scores.count)
        var failed: [PatientFailure] = []
        var reasons = [String](repeating: "", count: scores.count)
        // Percentiles among the cohort's baseline lesions (the rows that are planned).
        let baselineScores = scores.indices.filter { lesions.isBaseline($0) }.map { scores[$0] }
        for i in scores.indices where !lesions.isBaseline(i) { reasons[i] = "follow-up time point: plans are made at baseline" }
        for g in lesions.rowsByPatient {
            let input = g.rows.map { i -> PlanningLesion in
                percentiles[i] = Planner.percentile(of: scores[i], in: baselineScores)
                return PlanningLesion(lesionID: lesions.lesionIDs[i], score: scores[i], percentile: percentiles[i],
                                      volumeML: lesions.volumes[i], location: lesions.locations[i],
                                      irradiated: lesions.irradiated[i],
                                      attention: attention[lesions.patientIDs[i] + "\u{1}" + lesions.lesionIDs[i]])
            }
            do {
                for (i, p) in zip(g.rows, try Planner.plan(input, policy: policy, cutoffs: cutoffs)) { plans[i] = p }
            } catch {
                let message = ErrorText.plain(error)
                failed.append(PatientFailure(patientID: g.patientID, message: message))
                for i in g.rows { reasons[i] = "no plan: " + message }
            }
        }
        var t = Table()
        try t.append("patient_id", .text(lesions.patientIDs))
        try t.append("lesion_id", .text(lesions.lesionIDs))
        // Plans are made at baseline; follow-up rows keep their score, with no category.
        if let timepoints = contents.lesions["timepoint"]?.numbers { try t.append("timepoint", .number(timepoints)) }
        try t.append("score", .number(scores))
        try t.append("percentile", .number(percentiles))
        try t.append("category", .text(plans.map { $0?.category.rawValue ?? "" }))
        try t.append("rank", .number(plans.map { $0.map { Double($0.rank) } ?? .nan }))
        try t.append("rationale", .text(plans.indices.map { plans[$0]?.rationale ?? reasons[$0] }))
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        contents.tables[path(signatureName)] = StoreTable(table: t, attributes: [
            "policy_name": policy.name, "policy_json": String(decoding: try enc.encode(policy), as: UTF8.self),
        ])
        try contents.write(to: store)
        return Outcome(plans: plans, failed: failed)
    }
}

/// Builds the cohort report from a store that has scores, aggregates and plans (and, when
/// `lesionmap compare` has run, its comparison tables).
public enum CohortReporting {
    /// The report model; patient names link to `<patientReportDirectory>/<patient>.html` (nil: no links).
    /// With `iccTable` (from `lesionmap robustness --csv`), the report shows the ICC distribution per family.
    public static func model(store: URL, signature: Signature, title: String,
                             patientReportDirectory: String? = "patients", iccTable: URL? = nil) throws -> CohortReportModel {
        var m = try CohortReportBuilder.model(ReportSource(store: store, signature: signature), title: title,
                                              patientReportDirectory: patientReportDirectory, now: StoreAttributes.nowUTC())
        if let iccTable {
            m.robustness = RobustnessPanel(icc: try ICCRestriction.readTable(iccTable).icc, source: iccTable.lastPathComponent)
        }
        return m
    }

    /// Writes the cohort report to `output` atomically; patient links point at `patients/` beside it.
    public static func write(store: URL, signature: Signature, title: String, to output: URL,
                             patientReportDirectory: String? = "patients", iccTable: URL? = nil) throws {
        let html = CohortReport.html(try model(store: store, signature: signature, title: title,
                                               patientReportDirectory: patientReportDirectory, iccTable: iccTable))
        try FileManager.default.createDirectory(at: output.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(html.utf8).write(to: output, options: .atomic)
    }
}

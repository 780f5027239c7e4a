import Foundation
import FeatureStore
import Aggregation
import Statistics
import MultipleInstance

/// The outcome a comparison of aggregation methods is judged on.
public enum ComparisonEndpoint: String, CaseIterable, Sendable {
    /// Progression-free survival (pfs_months, pfs_event).
    case pfs
    /// Overall survival (os_months, os_event).
    case os
    /// Best response CR or PR (vs SD or PD).
    case response
    /// abscopal_response = 1.
    case abscopal

    public var isSurvival: Bool { self == .pfs || self == .os }
}

/// A way of turning a patient's lesions into one patient value or risk.
public enum ComparisonMethod: Hashable, Sendable {
    /// A fixed aggregator of the lesion values.
    case aggregator(Aggregator)
    /// Chang et al.'s rule for a feature (shape/size summed, others averaged or volume-weighted).
    case chang(ChangAggregation)
    /// Attention MIL over lesion feature vectors, evaluated out of sample by repeated k-fold cross-validation.
    case mil(AttentionPooling)

    /// The name in tables and CSV files: the aggregator's name, `chang_unweighted`, `chang_volume_weighted`,
    /// `mil_attention` or `mil_gated_attention`.
    public var name: String {
        switch self {
        case .aggregator(let a): return a.rawValue
        case .chang(let c): return c.rawValue
        case .mil(.attention): return "mil_attention"
        case .mil(.gated): return "mil_gated_attention"
        }
    }

    /// Learned methods are evaluated on held-out predictions; fixed ones on all patients.
    public var isLearned: Bool {
        if case .mil = self { return true }
        return false
    }

    /// Every fixed aggregator followed by both MIL poolings.
    public static let standard: [ComparisonMethod] =
        Aggregator.allCases.map { .aggregator($0) } + [.mil(.attention), .mil(.gated)]

    /// The method called `name`, if any.
    public init?(name: String) {
        guard let m = (Aggregator.allCases.map { ComparisonMethod.aggregator($0) }
            + ChangAggregation.allCases.map { ComparisonMethod.chang($0) }
            + AttentionPooling.allCases.map { ComparisonMethod.mil($0) }).first(where: { $0.name == name }) else { return nil }
        self = m
    }
}

/// One patient as the comparison sees it: lesion values, optional lesion feature vectors (for MIL) and the
/// endpoint's outcome.
public struct ComparisonPatient: Sendable {
    public enum Outcome: Sendable, Hashable {
        case survival(time: Double, event: Bool)
        case binary(Bool)
    }

    public var id: String
    public var lesions: [LesionValue]
    /// One vector per lesion (same order as `lesions`), or empty when MIL is not run.
    public var lesionFeatures: [[Double]]
    /// nil when the patient lacks the endpoint.
    public var outcome: Outcome?

    public init(id: String, lesions: [LesionValue], lesionFeatures: [[Double]] = [], outcome: Outcome?) {
        self.id = id
        self.lesions = lesions
        self.lesionFeatures = lesionFeatures
        self.outcome = outcome
    }
}

/// Settings of a comparison. Defaults: every fixed aggregator and both MIL poolings, 1,000 bootstrap
/// resamples, 95 % intervals, MIL 5-fold cross-validation repeated 3 times.
public struct ComparisonOptions: Sendable {
    public var methods: [ComparisonMethod]
    public var bootstrapResamples: Int
    /// Seeds the bootstrap and MIL (folds, inner splits, initialisation).
    public var seed: UInt64
    public var level: Double
    public var milFolds: Int
    public var milRepeats: Int
    public var milOptions: MILOptions
    /// The feature the lesion values are, for Chang's rule (nil for signature scores).
    public var featureName: String?

    public init(methods: [ComparisonMethod] = ComparisonMethod.standard, bootstrapResamples: Int = 1000, seed: UInt64 = 1,
                level: Double = 0.95, milFolds: Int = 5, milRepeats: Int = 3, milOptions: MILOptions = MILOptions(),
                featureName: String? = nil) {
        self.methods = methods
        self.bootstrapResamples = bootstrapResamples
        self.seed = seed
        self.level = level
        self.milFolds = milFolds
        self.milRepeats = milRepeats
        self.milOptions = milOptions
        self.featureName = featureName
    }
}

/// How one method did: association (hazard or odds ratios), discrimination (C-index or AUC) with intervals,
/// the difference to the best method, and its rank.
public struct MethodComparison: Sendable {
    public var method: ComparisonMethod
    /// Patients with a value and the endpoint.
    public var patients: Int
    /// Events (survival) or positives (binary) among them.
    public var events: Int
    /// Hazard ratio (survival) or odds ratio (binary) per unit of the patient value, with Wald p.
    public var perUnit: Estimate?
    public var perSD: Estimate?
    public var likelihoodRatioP: Double?
    public var medianSplit: Estimate?
    /// Log-rank p of the median split (survival only).
    public var medianSplitLogRankP: Double?
    public var quartiles: Estimate?
    public var quartilesLogRankP: Double?
    /// +1: higher values go with the worse outcome (survival) or the positive one (binary); −1: lower values do.
    public var orientation: Double
    /// Harrell's C (survival; bootstrap percentile interval) or ROC AUC (binary; DeLong interval) of orientation × value.
    public var discrimination: Estimate
    /// Discrimination minus that of the best-ranked method (paired bootstrap for C, DeLong for AUC), with p.
    public var differenceToBest: Estimate?
    /// 1 = best discrimination.
    public var rank: Int
    /// What could not be computed and why.
    public var notes: [String]
}

/// Attention of one lesion under a MIL method, from the held-out models.
public struct LesionAttention: Sendable, Hashable {
    public var patientID: String
    public var lesionID: String
    public var method: String
    public var value: Double
    /// Mean held-out attention weight over the repeats; a patient's weights sum to 1.
    public var attention: Double
    /// 1 = the lesion the patient's risk draws on most.
    public var rankInPatient: Int
}

/// The ranked comparison of methods on one endpoint.
public struct EndpointComparison: Sendable {
    public var endpoint: ComparisonEndpoint
    /// Patients with the endpoint (and at least one lesion).
    public var patients: Int
    /// Ranked, best first.
    public var rows: [MethodComparison]
    public var attention: [LesionAttention]
    public var level: Double
    public var bootstrapResamples: Int
}

/// Compares aggregation methods on patients' lesion values and one endpoint.
public enum AggregatorComparison {
    /// Runs every method of `options` on `patients` and ranks them by discrimination.
    ///
    /// Fixed aggregators are evaluated on all patients with a value; their direction (the sign of the Cox or
    /// logistic coefficient) is chosen on the same data. MIL risks are out of sample (repeated stratified
    /// k-fold cross-validation; each bag's held-out risk is standardised by its fold model's training risks
    /// and averaged over repeats) and keep the model's direction.
    public static func compare(_ patients: [ComparisonPatient], endpoint: ComparisonEndpoint,
                               options: ComparisonOptions = ComparisonOptions()) throws -> EndpointComparison {
        let context = AggregationContext.fitted(toCohortValues: patients.flatMap { $0.lesions.map(\.value) })
        let eligible = patients.filter { p in
            guard let o = p.outcome, !p.lesions.isEmpty else { return false }
            switch o {
            case .survival(let t, _): return endpoint.isSurvival && t.isFinite && t >= 0
            case .binary: return !endpoint.isSurvival
            }
        }
        guard eligible.count >= 4 else {
            throw PipelineError("only \(eligible.count) patients have the endpoint \(endpoint.rawValue) and lesions; a comparison needs at least 4")
        }
        var values: [[Double]] = []
        var notes: [[String]] = []
        var attention: [LesionAttention] = []
        for method in options.methods {
            var note: [String] = []
            switch method {
            case .aggregator(let a):
                values.append(eligible.map { a.aggregate($0.lesions, context: context) })
            case .chang(let rule):
                guard let feature = options.featureName else {
                    throw PipelineError("\(method.name) aggregates a feature: give the feature's name (compare --feature)")
                }
                values.append(eligible.map { rule.aggregate($0.lesions, featureName: feature) })
            case .mil(let pooling):
                do {
                    let cv = try crossValidatedMIL(eligible, pooling: pooling, endpoint: endpoint, options: options)
                    values.append(cv.risk)
                    attention += cv.attention
                } catch {
                    note.append("MIL: \(error)")
                    values.append([Double](repeating: .nan, count: eligible.count))
                }
            }
            notes.append(note)
        }
        var rows = endpoint.isSurvival
            ? try survivalRows(eligible, values: values, notes: notes, options: options)
            : try binaryRows(eligible, values: values, notes: notes, options: options)
        rows.sort { a, b in
            let x = a.discrimination.value, y = b.discrimination.value
            if x.isNaN != y.isNaN { return !x.isNaN }
            return x > y || (x == y && a.rank < b.rank)
        }
        for i in rows.indices { rows[i].rank = i + 1 }
        return EndpointComparison(endpoint: endpoint, patients: eligible.count, rows: rows, attention: attention,
                                level: options.level, bootstrapResamples: options.bootstrapResamples)
    }

    /// Out-of-sample MIL risks (NaN for patients without usable lesion features) and held-out attention.
    static func crossValidatedMIL(_ patients: [ComparisonPatient], pooling: AttentionPooling, endpoint: ComparisonEndpoint,
                                  options: ComparisonOptions) throws -> (risk: [Double], attention: [LesionAttention]) {
        let usable = patients.indices.filter { i in
            let p = patients[i]
            return p.lesionFeatures.count == p.lesions.count && !p.lesionFeatures.isEmpty
        }
        guard !usable.isEmpty else { throw PipelineError("no patient has lesion feature vectors") }
        let bags = try MILBags(usable.map { patients[$0].lesionFeatures }, names: usable.map { patients[$0].id })
        let target: MILTarget
        if endpoint.isSurvival {
            target = .survival(try SurvivalData(
                times: usable.map { if case .survival(let t, _)? = patients[$0].outcome { return t } else { return .nan } },
                events: usable.map { if case .survival(_, let e)? = patients[$0].outcome { return e } else { return false } }))
        } else {
            target = .binary(usable.map { if case .binary(let y)? = patients[$0].outcome { return y } else { return false } })
        }
        var milOptions = options.milOptions
        milOptions.pooling = pooling
        milOptions.seed = options.seed
        let cv = try MILCrossValidation.run(bags, target: target, folds: options.milFolds, repeats: options.milRepeats,
                                            options: milOptions)
        var risk = [Double](repeating: .nan, count: patients.count)
        var attention: [LesionAttention] = []
        let name = ComparisonMethod.mil(pooling).name
        for (k, i) in usable.enumerated() {
            risk[i] = cv.risk[k]
            let weights = cv.attention[k]
            let order = weights.indices.sorted { weights[$0] > weights[$1] || (weights[$0] == weights[$1] && $0 < $1) }
            var rank = [Int](repeating: 0, count: weights.count)
            for (r, j) in order.enumerated() { rank[j] = r + 1 }
            for (j, lesion) in patients[i].lesions.enumerated() {
                attention.append(LesionAttention(patientID: patients[i].id, lesionID: lesion.lesionID, method: name,
                                                 value: lesion.value, attention: weights[j], rankInPatient: rank[j]))
            }
        }
        return (risk, attention)
    }

    static func survivalRows(_ patients: [ComparisonPatient], values: [[Double]], notes: [[String]],
                             options: ComparisonOptions) throws -> [MethodComparison] {
        let data = try SurvivalData(
            times: patients.map { if case .survival(let t, _)? = $0.outcome { return t } else { return .nan } },
            events: patients.map { if case .survival(_, let e)? = $0.outcome { return e } else { return false } })
        var rows: [MethodComparison] = []
        var risks: [[Double]] = []
        for (m, method) in options.methods.enumerated() {
            let idx = values[m].indices.filter { values[m][$0].isFinite }
            let sub = data.subset(idx)
            var row = MethodComparison(method: method, patients: idx.count, events: sub.eventCount, orientation: 1,
                                    discrimination: .undefined(level: options.level), rank: m, notes: notes[m])
            var risk = [Double](repeating: .nan, count: patients.count)
            if idx.count >= 2 && sub.eventCount > 0 {
                let a = try SurvivalAssociation.analyse(idx.map { values[m][$0] }, sub, level: options.level,
                                                        orientation: method.isLearned ? 1 : nil)
                row.perUnit = a.perUnit?.ratioEstimate
                row.perSD = a.perSD
                row.likelihoodRatioP = a.likelihoodRatioTest?.pValue
                row.medianSplit = a.medianSplit?.coefficient?.ratioEstimate
                row.medianSplitLogRankP = a.medianSplit?.logRankP
                row.quartiles = a.quartiles?.coefficient?.ratioEstimate
                row.quartilesLogRankP = a.quartiles?.logRankP
                row.orientation = a.orientation
                row.notes += a.problems
                for i in idx { risk[i] = a.orientation * values[m][i] }
            } else {
                row.notes.append("too few patients with a value or no event")
            }
            rows.append(row)
            risks.append(risk)
        }
        let boot = try BootstrapConcordance(data, risks: risks, resamples: options.bootstrapResamples,
                                            seed: options.seed, level: options.level)
        for m in rows.indices where rows[m].patients >= 2 && rows[m].events > 0 {
            rows[m].discrimination = boot.estimate(m)
        }
        if let best = bestIndex(rows) {
            for m in rows.indices where !rows[m].discrimination.value.isNaN {
                rows[m].differenceToBest = boot.difference(m, best)
            }
        }
        return rows
    }

    static func binaryRows(_ patients: [ComparisonPatient], values: [[Double]], notes: [[String]],
                           options: ComparisonOptions) throws -> [MethodComparison] {
        let labels = patients.map { if case .binary(let y)? = $0.outcome { return y } else { return false } }
        var rows: [MethodComparison] = []
        var scores: [[Double]] = []
        for (m, method) in options.methods.enumerated() {
            let idx = values[m].indices.filter { values[m][$0].isFinite }
            let sub = idx.map { labels[$0] }
            let positives = sub.filter { $0 }.count
            var row = MethodComparison(method: method, patients: idx.count, events: positives, orientation: 1,
                                    discrimination: .undefined(level: options.level), rank: m, notes: notes[m])
            var score = [Double](repeating: .nan, count: patients.count)
            if positives > 0 && positives < idx.count {
                let a = try BinaryAssociation.analyse(idx.map { values[m][$0] }, sub, level: options.level,
                                                      orientation: method.isLearned ? 1 : nil)
                row.perUnit = a.perUnit?.ratioEstimate
                row.perSD = a.perSD
                row.likelihoodRatioP = a.likelihoodRatioTest?.pValue
                row.medianSplit = a.medianSplit?.coefficient?.ratioEstimate
                row.quartiles = a.quartiles?.coefficient?.ratioEstimate
                row.orientation = a.orientation
                row.discrimination = a.roc.estimate
                row.notes += a.problems
                for i in idx { score[i] = a.orientation * values[m][i] }
            } else {
                row.notes.append("the patients with a value do not have both outcomes")
            }
            rows.append(row)
            scores.append(score)
        }
        if let best = bestIndex(rows) {
            for m in rows.indices where !rows[m].discrimination.value.isNaN {
                // DeLong's paired test on the patients both methods score.
                let common = labels.indices.filter { scores[m][$0].isFinite && scores[best][$0].isFinite }
                rows[m].differenceToBest = try? ROC.compare(
                    labels: common.map { labels[$0] }, scoresA: common.map { scores[m][$0] },
                    scoresB: common.map { scores[best][$0] }, level: options.level)
            }
        }
        return rows
    }

    /// The row with the highest discrimination (first on ties), if any is defined.
    static func bestIndex(_ rows: [MethodComparison]) -> Int? {
        rows.indices.filter { !rows[$0].discrimination.value.isNaN }
            .max { rows[$0].discrimination.value < rows[$1].discrimination.value || (rows[$0].discrimination.value == rows[$1].discrimination.value && $0 > $1) }
    }
}

extension EndpointComparison {
    /// Column names of the comparison table and CSV for this endpoint (hr_* for survival, or_* for binary).
    public var columnNames: [String] { table.columnNames }

    /// One row per method, ranked: the store table `comparison/<signature>/<endpoint>` and the CSV.
    public var table: Table {
        let survival = endpoint.isSurvival
        let ratio = survival ? "hr" : "or"
        var t = Table()
        func number(_ name: String, _ f: (MethodComparison) -> Double?) {
            try! t.append(name, .number(rows.map { f($0) ?? .nan }))
        }
        try! t.append("aggregator", .text(rows.map(\.method.name)))
        try! t.append("kind", .text(rows.map { $0.method.isLearned ? "learned_out_of_sample" : "fixed" }))
        number("n") { Double($0.patients) }
        number(survival ? "events" : "positives") { Double($0.events) }
        number(ratio) { $0.perUnit?.value }
        number(ratio + "_low") { $0.perUnit?.interval.lower }
        number(ratio + "_high") { $0.perUnit?.interval.upper }
        number(ratio + "_per_sd") { $0.perSD?.value }
        number(ratio + "_per_sd_low") { $0.perSD?.interval.lower }
        number(ratio + "_per_sd_high") { $0.perSD?.interval.upper }
        number("p") { $0.perUnit?.pValue }
        number("lr_p") { $0.likelihoodRatioP }
        number(ratio + "_median_split") { $0.medianSplit?.value }
        number(ratio + "_median_split_low") { $0.medianSplit?.interval.lower }
        number(ratio + "_median_split_high") { $0.medianSplit?.interval.upper }
        if survival { number("logrank_p_median_split") { $0.medianSplitLogRankP } }
        number(ratio + "_q4_vs_q1") { $0.quartiles?.value }
        number(ratio + "_q4_vs_q1_low") { $0.quartiles?.interval.lower }
        number(ratio + "_q4_vs_q1_high") { $0.quartiles?.interval.upper }
        if survival { number("logrank_p_q4_vs_q1") { $0.quartilesLogRankP } }
        try! t.append(survival ? "worse_when" : "positive_when", .text(rows.map { $0.orientation > 0 ? "higher" : "lower" }))
        let d = survival ? "c" : "auc"
        number(survival ? "c_index" : "auc") { $0.discrimination.value }
        number(d + "_low") { $0.discrimination.interval.lower }
        number(d + "_high") { $0.discrimination.interval.upper }
        number(d + "_diff_vs_best") { $0.differenceToBest?.value }
        number(d + "_diff_low") { $0.differenceToBest?.interval.lower }
        number(d + "_diff_high") { $0.differenceToBest?.interval.upper }
        number(d + "_diff_p") { $0.differenceToBest?.pValue }
        number("rank") { Double($0.rank) }
        try! t.append("note", .text(rows.map { $0.notes.joined(separator: "; ") }))
        return t
    }

    /// The lesion attention table (`comparison/<signature>/<endpoint>_attention`).
    public var attentionTable: Table {
        var t = Table()
        try! t.append("patient_id", .text(attention.map(\.patientID)))
        try! t.append("lesion_id", .text(attention.map(\.lesionID)))
        try! t.append("method", .text(attention.map(\.method)))
        try! t.append("value", .number(attention.map(\.value)))
        try! t.append("attention", .number(attention.map(\.attention)))
        try! t.append("rank_in_patient", .number(attention.map { Double($0.rankInPatient) }))
        return t
    }

    /// A fixed-width text table for the terminal, best first.
    public var text: String {
        let survival = endpoint.isSurvival
        func f(_ x: Double?, _ digits: Int = 2) -> String {
            guard let x, x.isFinite else { return "-" }
            return String(format: "%.\(digits)f", x)
        }
        func p(_ x: Double?) -> String {
            guard let x, x.isFinite else { return "-" }
            return x < 0.001 ? "<0.001" : String(format: "%.3f", x)
        }
        func ci(_ e: Estimate?, _ digits: Int = 2) -> String {
            guard let e, e.value.isFinite else { return "-" }
            return "\(f(e.value, digits)) [\(f(e.interval.lower, digits)), \(f(e.interval.upper, digits))]"
        }
        let r = survival ? "HR" : "OR", d = survival ? "C-index" : "AUC"
        let level = Int((self.level * 100).rounded())
        var header = ["rank", "method", "n", survival ? "events" : "pos", "\(r)/unit [\(level)% CI]", "\(r)/SD [CI]", "p",
                      "\(r) median split"]
        if survival { header.append("logrank p") }
        header += ["\(d) [\(level)% CI]", "diff vs best [CI]"]
        var lines = [header]
        for row in rows {
            var line = [String(row.rank), row.method.name, String(row.patients), String(row.events),
                        ci(row.perUnit, 3), ci(row.perSD), p(row.perUnit?.pValue), ci(row.medianSplit)]
            if survival { line.append(p(row.medianSplitLogRankP)) }
            line += [ci(row.discrimination, 3), ci(row.differenceToBest, 3)]
            lines.append(line)
        }
        let widths = header.indices.map { c in lines.map { $0[c].count }.max()! }
        let body = lines.map { line in
            line.enumerated().map { c, s in c == 1 ? s.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                : String(repeating: " ", count: widths[c] - s.count) + s }.joined(separator: "  ")
        }
        let how = survival
            ? "C-index: Harrell's C of the value oriented by its Cox sign; \(bootstrapResamples) bootstrap resamples"
            : "AUC with DeLong intervals; value oriented by its logistic sign"
        return (["endpoint \(endpoint.rawValue): \(patients) patients; \(how); learned methods out of sample"] + body)
            .joined(separator: "\n")
    }
}

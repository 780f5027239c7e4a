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
/// resamples, 1,000 outcome permutations, 95 % intervals, MIL 5-fold cross-validation repeated 3 times.
public struct ComparisonOptions: Sendable {
    public var methods: [ComparisonMethod]
    /// Bootstrap resamples for the C-index intervals, the paired differences and the optimism correction.
    public var bootstrapResamples: Int
    /// Outcome permutations for the selection-adjusted permutation p-values (0 = none).
    public var permutations: Int
    /// Seeds the bootstrap and MIL (folds, inner splits, initialisation).
    public var seed: UInt64
    public var level: Double
    public var milFolds: Int
    public var milRepeats: Int
    public var milOptions: MILOptions
    /// The feature the lesion values are, for Chang's rule (nil for signature scores).
    public var featureName: String?

    public init(methods: [ComparisonMethod] = ComparisonMethod.standard, bootstrapResamples: Int = 1000,
                permutations: Int = 1000, seed: UInt64 = 1,
                level: Double = 0.95, milFolds: Int = 5, milRepeats: Int = 3, milOptions: MILOptions = MILOptions(),
                featureName: String? = nil) {
        self.methods = methods
        self.bootstrapResamples = bootstrapResamples
        self.permutations = permutations
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
    /// `perUnit`'s Wald p adjusted by Holm's method over every row of the table with a p (one family per endpoint).
    public var holmP: Double?
    public var perSD: Estimate?
    public var likelihoodRatioP: Double?
    /// `likelihoodRatioP` adjusted by Holm's method over every row with one (its own family).
    public var holmLikelihoodRatioP: Double?
    public var medianSplit: Estimate?
    /// Log-rank p of the median split (survival only).
    public var medianSplitLogRankP: Double?
    public var quartiles: Estimate?
    public var quartilesLogRankP: Double?
    /// The direction in which `discrimination` is computed: the risk (score) is orientation × value. For fixed
    /// methods the sign of their own Cox or logistic coefficient on these data; for learned methods +1 (the
    /// model's own out-of-sample risk, never flipped).
    public var orientation: Double
    /// What the data say: +1 when higher values go with the worse outcome (survival) or the positive one (binary),
    /// −1 when lower values do; the sign of the fitted Cox or logistic coefficient for every row, learned ones
    /// included (`worse_when` / `positive_when`). nil when nothing was fitted.
    public var direction: Double?
    /// Harrell's C (survival; bootstrap percentile interval) or ROC AUC (binary; DeLong interval) of orientation × value.
    public var discrimination: Estimate
    /// Fixed methods: the mean optimism of choosing the direction on the data (Harrell's bootstrap: in each
    /// resample the direction is re-fitted, and the optimism is its C on the resample minus its C on the original
    /// patients). nil for learned methods, whose C is already out of sample.
    public var optimism: Double?
    /// `discrimination` minus `optimism`: the optimism-corrected C-index (or AUC) of a fixed method.
    public var optimismCorrected: Double?
    /// Fixed methods: the permutation p-value of this method's C (or AUC) adjusted for choosing the direction and
    /// for choosing the best of the fixed methods: the share of outcome permutations in which the best oriented C
    /// of any fixed method reaches this one's (Westfall-Young single-step maxT). For the best fixed method it is
    /// the p-value of "the best method beats chance". nil for learned methods (see `EndpointComparison`).
    public var permutationP: Double?
    /// Discrimination minus that of the best-ranked method on the patients both have a value for (paired
    /// bootstrap for C, DeLong for AUC), with p.
    public var differenceToBest: Estimate?
    /// Patients the difference to the best method is computed on (those both methods have a value for).
    public var differenceToBestPatients: Int?
    /// 1 = best discrimination.
    public var rank: Int
    /// What could not be computed and why.
    public var notes: [String]
}

extension MethodComparison {
    /// "higher" or "lower" from `direction` (the fitted sign), "" when nothing was fitted.
    public var directionWord: String {
        guard let direction else { return "" }
        return direction > 0 ? "higher" : "lower"
    }
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
    /// Outcome permutations behind `MethodComparison.permutationP` (0 = not run).
    public var permutations: Int = 0

    /// The fixed method with the highest discrimination (the "winner" the permutation test is about), if any.
    public var bestFixedRow: MethodComparison? {
        rows.first { !$0.method.isLearned && $0.discrimination.value.isFinite }
    }
}

/// Compares aggregation methods on patients' lesion values and one endpoint.
public enum AggregatorComparison {
    /// Runs every method of `options` on `patients` and ranks them by discrimination.
    ///
    /// Fixed aggregators are evaluated on all patients with a value; their direction (the sign of the Cox or
    /// logistic coefficient) is chosen on the same data, which makes their C optimistic: the optimism is
    /// estimated by Harrell's bootstrap (direction re-fitted in every resample) and subtracted. MIL risks are out
    /// of sample (repeated stratified k-fold cross-validation; each bag's held-out risk is standardised by its
    /// fold model's training risks and averaged over repeats) and keep the model's direction.
    ///
    /// Choosing the best of many methods is a second source of optimism that neither corrects: the permutation
    /// test (`options.permutations` outcome permutations; in each, every fixed method's direction is re-fitted
    /// and the best C taken) gives each fixed method a p-value adjusted for both choices. Learned methods are
    /// left out of it because each permutation would need the MIL cross-validation run again (by default
    /// 2 poolings × 5 folds × 3 repeats of training per permutation); their C is out of sample but not
    /// adjusted for being one of several methods. Wald p-values get Holm's adjustment over all rows.
    /// Spread aggregators (`sd`, `range`, `entropy`) are undefined for patients with one lesion, who are left out
    /// of those methods (their `n` is smaller; a note says how many).
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
                if a.isSpread {
                    let single = eligible.filter { $0.lesions.filter(\.value.isFinite).count == 1 }.count
                    if single > 0 {
                        note.append("\(single) patient\(single == 1 ? "" : "s") with one lesion: \(a.rawValue) undefined (no spread between lesions), left out of this row's n")
                    }
                }
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
        let holm = MultipleTesting.holm(rows.map { $0.perUnit?.pValue ?? .nan })
        let holmLR = MultipleTesting.holm(rows.map { $0.likelihoodRatioP ?? .nan })
        for i in rows.indices {
            rows[i].holmP = holm[i].isFinite ? holm[i] : nil
            rows[i].holmLikelihoodRatioP = holmLR[i].isFinite ? holmLR[i] : nil
        }
        return EndpointComparison(endpoint: endpoint, patients: eligible.count, rows: rows, attention: attention,
                                level: options.level, bootstrapResamples: options.bootstrapResamples,
                                permutations: rows.contains { $0.permutationP != nil } ? options.permutations : 0)
    }

    /// The selection-adjusted permutation p-values of the fixed methods `fixed` (indices into the rows) with
    /// observed oriented discrimination `observed[m]`: `orientedDiscrimination(m, σ)` is method m's C (or AUC)
    /// with its direction re-fitted when patient s carries the value of patient σ[s] (a permutation of the values
    /// against the outcomes, the same as permuting the outcomes). In each of `permutations` permutations the
    /// maximum over the fixed methods is taken; p_m = (1 + #{max ≥ observed[m]}) / (1 + permutations).
    static func selectionPermutationP(fixed: [Int], observed: [Double], patients: Int, permutations: Int, seed: UInt64,
                                      orientedDiscrimination: @escaping @Sendable (Int, [Int]) -> Double) -> [Int: Double] {
        guard permutations > 0, !fixed.isEmpty else { return [:] }
        let maxima = BootstrapResampler.map(resamples: permutations) { r -> Double in
            var rng = SeededGenerator(seed: seed ^ 0x5045_524D_5554_4521, stream: UInt64(r))
            let sigma = rng.shuffled(Array(0..<patients))
            return fixed.map { orientedDiscrimination($0, sigma) }.filter(\.isFinite).max() ?? .nan
        }.filter(\.isFinite)
        var out: [Int: Double] = [:]
        for m in fixed {
            // A tolerance for rounding: C-indices of tied pair counts are equal rationals.
            let reached = maxima.filter { $0 >= observed[m] - 1e-12 }.count
            out[m] = Double(1 + reached) / Double(1 + maxima.count)
        }
        return out
    }

    /// Harrell's bootstrap optimism of a fixed method's in-sample direction: for each resample b, with the
    /// direction o_b re-fitted on the resample, (C of o_b × value on the resample) − (C of o_b × value on the
    /// original patients). `rawOnResample(b, weights)` is the C (or AUC) of +value on resample b; `rawOriginal`
    /// that on the original patients. Mean over the resamples where it is defined; nil when none is.
    static func meanOptimism(resamples: Int, resampler: BootstrapResampler, members: [Int], rawOriginal: Double,
                             orientation: @escaping @Sendable ([Double]) -> Double,
                             rawOnResample: @escaping @Sendable (Int, [Double]) -> Double) -> Double? {
        let optimism = BootstrapResampler.map(resamples: resamples) { b -> Double in
            let w = resampler.weights(resample: b)
            let wm = members.map { w[$0] }
            let raw = rawOnResample(b, wm)
            guard raw.isFinite else { return .nan }
            let o = orientation(wm)
            return (o > 0 ? raw : 1 - raw) - (o > 0 ? rawOriginal : 1 - rawOriginal)
        }.filter(\.isFinite)
        return optimism.isEmpty ? nil : optimism.reduce(0, +) / Double(optimism.count)
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
                row.direction = a.perUnit.map { $0.coefficient < 0 ? -1 : 1 } ?? (method.isLearned ? nil : a.orientation)
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
                rows[m].differenceToBestPatients = boot.commonSubjects(m, best).count
            }
        }
        let fixed = rows.indices.filter { !options.methods[$0].isLearned && rows[$0].discrimination.value.isFinite }
        // Optimism of the in-sample direction (Harrell's bootstrap), on the same resamples as the intervals.
        let resampler = BootstrapResampler(subjectCount: data.count, seed: options.seed)
        for m in fixed {
            let idx = values[m].indices.filter { values[m][$0].isFinite }
            let x = idx.map { values[m][$0] }
            let sign = Orientation.SurvivalSign(data.subset(idx), values: x)
            let o = rows[m].orientation, draws = boot.draws[m]
            let c = rows[m].discrimination.value
            if let optimism = meanOptimism(
                resamples: options.bootstrapResamples, resampler: resampler, members: idx,
                rawOriginal: o > 0 ? c : 1 - c, orientation: { sign.orientation(weights: $0) },
                rawOnResample: { b, _ in o > 0 ? draws[b] : 1 - draws[b] }) {
                rows[m].optimism = optimism
                rows[m].optimismCorrected = c - optimism
            }
        }
        // Selection-adjusted permutation p-values of the fixed methods.
        var evaluators: [Int: (ConcordanceEvaluator, Orientation.SurvivalSign)] = [:]
        for m in fixed {
            let filled = values[m].map { $0.isFinite ? $0 : 0 }
            evaluators[m] = (try ConcordanceEvaluator(data, risk: filled), Orientation.SurvivalSign(data, values: filled))
        }
        let frozen = evaluators, vals = values
        let p = selectionPermutationP(
            fixed: fixed, observed: rows.map(\.discrimination.value), patients: data.count,
            permutations: options.permutations, seed: options.seed) { m, sigma in
                let (evaluator, sign) = frozen[m]!
                let x = sigma.map { vals[m][$0] }
                let w = x.map { $0.isFinite ? 1.0 : 0.0 }
                let raw = evaluator.concordance(weights: w, riskOf: sigma).index
                return sign.orientation(values: x, weights: w) > 0 ? raw : 1 - raw
            }
        for m in fixed { rows[m].permutationP = p[m] }
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
                row.direction = a.perUnit.map { $0.coefficient < 0 ? -1 : 1 } ?? (method.isLearned ? nil : a.orientation)
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
                rows[m].differenceToBestPatients = common.count
            }
        }
        let fixed = rows.indices.filter { !options.methods[$0].isLearned && rows[$0].discrimination.value.isFinite }
        var evaluators: [Int: AUCEvaluator] = [:]
        for m in fixed {
            let idx = values[m].indices.filter { values[m][$0].isFinite }
            evaluators[m] = try AUCEvaluator(scores: idx.map { values[m][$0] })
        }
        let frozen = evaluators
        // Optimism of the in-sample direction (Harrell's bootstrap, the AUC analogue).
        let resampler = BootstrapResampler(subjectCount: patients.count, seed: options.seed)
        for m in fixed {
            let idx = values[m].indices.filter { values[m][$0].isFinite }
            let x = idx.map { values[m][$0] }, y = idx.map { labels[$0] }
            let evaluator = frozen[m]!
            let auc = rows[m].discrimination.value
            let o = rows[m].orientation
            if let optimism = meanOptimism(
                resamples: options.bootstrapResamples, resampler: resampler, members: idx,
                rawOriginal: o > 0 ? auc : 1 - auc,
                orientation: { Orientation.binary(labels: y, values: x, weights: $0) },
                rawOnResample: { _, w in evaluator.auc(labels: y, weights: w) }) {
                rows[m].optimism = optimism
                rows[m].optimismCorrected = auc - optimism
            }
        }
        // Selection-adjusted permutation p-values: the labels are permuted over all patients, each method keeps
        // the patients it has a value for.
        let members = values.map { v in v.indices.filter { v[$0].isFinite } }
        let vals = values
        let p = selectionPermutationP(
            fixed: fixed, observed: rows.map(\.discrimination.value), patients: patients.count,
            permutations: options.permutations, seed: options.seed) { m, sigma in
                let y = members[m].map { labels[sigma[$0]] }
                let raw = frozen[m]!.auc(labels: y)
                guard raw.isFinite else { return .nan }
                return Orientation.binary(labels: y, values: members[m].map { vals[m][$0] }) > 0 ? raw : 1 - raw
            }
        for m in fixed { rows[m].permutationP = p[m] }
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
        number("p_holm") { $0.holmP }
        number("lr_p") { $0.likelihoodRatioP }
        number("lr_p_holm") { $0.holmLikelihoodRatioP }
        number(ratio + "_median_split") { $0.medianSplit?.value }
        number(ratio + "_median_split_low") { $0.medianSplit?.interval.lower }
        number(ratio + "_median_split_high") { $0.medianSplit?.interval.upper }
        if survival { number("logrank_p_median_split") { $0.medianSplitLogRankP } }
        number(ratio + "_q4_vs_q1") { $0.quartiles?.value }
        number(ratio + "_q4_vs_q1_low") { $0.quartiles?.interval.lower }
        number(ratio + "_q4_vs_q1_high") { $0.quartiles?.interval.upper }
        if survival { number("logrank_p_q4_vs_q1") { $0.quartilesLogRankP } }
        try! t.append(survival ? "worse_when" : "positive_when", .text(rows.map { $0.directionWord }))
        let d = survival ? "c" : "auc"
        number(survival ? "c_index" : "auc") { $0.discrimination.value }
        number(d + "_low") { $0.discrimination.interval.lower }
        number(d + "_high") { $0.discrimination.interval.upper }
        number(survival ? "c_index_corrected" : "auc_corrected") { $0.optimismCorrected }
        number(d + "_optimism") { $0.optimism }
        number(d + "_perm_p") { $0.permutationP }
        number(d + "_diff_vs_best") { $0.differenceToBest?.value }
        number(d + "_diff_low") { $0.differenceToBest?.interval.lower }
        number(d + "_diff_high") { $0.differenceToBest?.interval.upper }
        number(d + "_diff_p") { $0.differenceToBest?.pValue }
        number(d + "_diff_n") { $0.differenceToBestPatients.map(Double.init) }
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

    /// A fixed-width text table for the terminal, best first, with the notes and what the ranking can show.
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
                      "p Holm", "\(r) median split"]
        if survival { header.append("logrank p") }
        header += [survival ? "worse when" : "pos. when", "\(d) [\(level)% CI]", "corrected", "perm p",
                   "diff vs best [CI]", "diff n"]
        var lines = [header]
        for row in rows {
            var line = [String(row.rank), row.method.name, String(row.patients), String(row.events),
                        ci(row.perUnit, 3), ci(row.perSD), p(row.perUnit?.pValue), p(row.holmP), ci(row.medianSplit)]
            if survival { line.append(p(row.medianSplitLogRankP)) }
            line += [row.directionWord.isEmpty ? "-" : row.directionWord, ci(row.discrimination, 3),
                     f(row.optimismCorrected, 3), p(row.permutationP), ci(row.differenceToBest, 3),
                     row.differenceToBestPatients.map(String.init) ?? "-"]
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
        let notes = rows.filter { !$0.notes.isEmpty }.map { "  \($0.method.name): \($0.notes.joined(separator: "; "))" }
        return (["endpoint \(endpoint.rawValue): \(patients) patients; \(how); learned methods out of sample"] + body
                + (notes.isEmpty ? [] : ["notes:"] + notes) + ["", interpretation])
            .joined(separator: "\n")
    }

    /// What the ranking can and cannot show, with this comparison's figures: printed under the table, stored as
    /// the table's `interpretation` attribute and shown in the cohort report.
    public var interpretation: String {
        let survival = endpoint.isSurvival
        let d = survival ? "C-index" : "AUC"
        let fixedCount = rows.filter { !$0.method.isLearned && $0.discrimination.value.isFinite }.count
        let learnedCount = rows.filter { $0.method.isLearned && $0.discrimination.value.isFinite }.count
        func p(_ x: Double) -> String { x < 0.001 ? "p < 0.001" : String(format: "p = %.3f", x) }
        var s = "How to read the ranking: \(rows.count) methods were compared on the same \(patients) patients and ranked by their \(d). "
        s += "The fixed aggregators' directions were chosen on these patients, and the method ranked first is the one that fits this particular sample best, partly by chance, so its \(d) is optimistic (winner's curse). "
        s += "The corrected \(d) removes the optimism of choosing the direction, not that of choosing the winner. "
        if let best = bestFixedRow, let perm = best.permutationP, permutations > 0 {
            s += "Whether the best fixed aggregator (\(best.method.name), \(d) \(String(format: "%.3f", best.discrimination.value))) beats chance, allowing for both choices among the \(fixedCount) fixed aggregators: permutation \(p(perm)) (\(permutations) outcome permutations). "
            if perm >= 1 - level {
                s += "This is compatible with no aggregator being associated with \(endpoint.rawValue): the ranking, and any p < 0.05 or interval excluding 0.5 of a single row, should not be read as evidence for one aggregation. "
            } else {
                s += "So at least one aggregation is associated with \(endpoint.rawValue), but the order of methods whose difference to the best has an interval including 0 is not established. "
            }
        } else {
            s += "No permutation test was run, so whether the best method beats chance after its selection is not known. "
        }
        s += "p Holm: the \(survival ? "Cox" : "logistic") Wald p-values (p) adjusted over the \(rows.filter { $0.holmP != nil }.count) rows of this table (family-wise error). "
        if learnedCount > 0 {
            s += "Learned (MIL) rows are evaluated out of sample and are not part of the permutation test (it would need their cross-validated training redone for every permutation)."
        }
        return s.trimmingCharacters(in: .whitespaces)
    }
}

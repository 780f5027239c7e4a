import Foundation
import FeatureStore
import Aggregation
import Statistics

/// How many lesions are enough: the discrimination of each aggregator when only k randomly chosen lesions per
/// patient are analysed (all lesions of patients with k or fewer), for k = 1 ... the largest lesion count.
public struct LesionSubsetResult: Sendable {
    public struct Row: Sendable, Hashable {
        public var aggregator: Aggregator
        public var k: Int
        public var repeats: Int
        /// Patients with the endpoint and a value (in the first repeat).
        public var patients: Int
        /// Patients who have more than k lesions, i.e. whose value depends on the draw.
        public var patientsAboveK: Int
        /// Mean C-index (survival) or AUC (binary) over the repeats, and the central `level` range of the repeats.
        public var mean: Double
        public var low: Double
        public var high: Double
        /// With every lesion.
        public var allLesions: Double
    }

    public var endpoint: ComparisonEndpoint
    public var rows: [Row]
    public var level: Double

    /// The table `comparison/<signature>/<endpoint>_lesion_subsets` and its CSV: one row per aggregator and k.
    public var table: Table {
        let d = endpoint.isSurvival ? "c" : "auc"
        var t = Table()
        try! t.append("aggregator", .text(rows.map(\.aggregator.rawValue)))
        try! t.append("k", .number(rows.map { Double($0.k) }))
        try! t.append("repeats", .number(rows.map { Double($0.repeats) }))
        try! t.append("n", .number(rows.map { Double($0.patients) }))
        try! t.append("patients_above_k", .number(rows.map { Double($0.patientsAboveK) }))
        try! t.append(endpoint.isSurvival ? "c_index_mean" : "auc_mean", .number(rows.map(\.mean)))
        try! t.append(d + "_low", .number(rows.map(\.low)))
        try! t.append(d + "_high", .number(rows.map(\.high)))
        try! t.append(d + "_all_lesions", .number(rows.map(\.allLesions)))
        return t
    }

    /// A compact text table: one line per aggregator, mean discrimination by k.
    public var text: String {
        let ks = Array(Set(rows.map(\.k))).sorted()
        let names = rows.map(\.aggregator).reduce(into: [Aggregator]()) { if !$0.contains($1) { $0.append($1) } }
        let width = names.map(\.rawValue.count).max() ?? 8
        var lines = ["\(endpoint.isSurvival ? "C-index" : "AUC") with k randomly chosen lesions per patient (mean over repeats)",
                     "k".padding(toLength: width, withPad: " ", startingAt: 0) + ks.map { String(format: "%7d", $0) }.joined()
                        + "     all"]
        for a in names {
            let mine = rows.filter { $0.aggregator == a }
            lines.append(a.rawValue.padding(toLength: width, withPad: " ", startingAt: 0)
                         + ks.map { k in mine.first { $0.k == k && $0.mean.isFinite }.map { String(format: "%7.3f", $0.mean) } ?? "      -" }.joined()
                         + String(format: "%8.3f", mine.first?.allLesions ?? .nan))
        }
        return lines.joined(separator: "\n")
    }
}

/// Runs the lesion-subset analysis.
public enum LesionSubsetAnalysis {
    /// For every k and repeat the same lesions are drawn for every aggregator (paired), from a stream seeded by
    /// `seed`, k and the repeat. Spread aggregators (`sd`, `range`, `entropy`) are undefined for one lesion, so
    /// at k = 1 they have no value (NaN, shown as "-"). Each aggregator keeps the direction it has with all lesions (the sign of its Cox
    /// or logistic coefficient), so a poor subset is not flipped into a good one.
    public static func run(_ patients: [ComparisonPatient], endpoint: ComparisonEndpoint,
                           aggregators: [Aggregator] = Aggregator.allCases, repeats: Int = 50, seed: UInt64 = 1,
                           level: Double = 0.95) throws -> LesionSubsetResult {
        guard repeats >= 1 else { throw PipelineError("the lesion-subset analysis needs at least one repeat") }
        let context = AggregationContext.fitted(toCohortValues: patients.flatMap { $0.lesions.map(\.value) })
        let eligible = patients.filter { p in
            guard let o = p.outcome, !p.lesions.isEmpty else { return false }
            if case .survival = o { return endpoint.isSurvival }
            return !endpoint.isSurvival
        }
        guard eligible.count >= 4 else {
            throw PipelineError("only \(eligible.count) patients have the endpoint \(endpoint.rawValue) and lesions")
        }
        let measure = try Discrimination(eligible, endpoint: endpoint)
        let full = aggregators.map { a in eligible.map { a.aggregate($0.lesions, context: context) } }
        let orientation = full.map { measure.orientation($0) }
        let allLesions = zip(full, orientation).map { measure.value($0.0, orientation: $0.1) }
        let maxK = eligible.map(\.lesions.count).max()!
        var rows: [LesionSubsetResult.Row] = []
        for k in 1...maxK {
            let draws = BootstrapResampler.map(resamples: repeats) { r -> [Double] in
                var rng = SeededGenerator(seed: seed, stream: UInt64(k) << 32 | UInt64(r))
                let subsets = eligible.map { p in
                    p.lesions.count <= k ? p.lesions : Array(rng.shuffled(p.lesions).prefix(k))
                }
                return aggregators.indices.map { m in
                    measure.value(subsets.map { aggregators[m].aggregate($0, context: context) }, orientation: orientation[m])
                }
            }
            let above = eligible.filter { $0.lesions.count > k }.count
            for (m, a) in aggregators.enumerated() {
                let values = draws.map { $0[m] }.filter(\.isFinite)
                let band = BootstrapResampler.percentileInterval(values, level: level)
                rows.append(LesionSubsetResult.Row(
                    aggregator: a, k: k, repeats: repeats, patients: full[m].filter(\.isFinite).count, patientsAboveK: above,
                    mean: values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count),
                    low: band.lower, high: band.upper, allLesions: allLesions[m]))
            }
        }
        return LesionSubsetResult(endpoint: endpoint, rows: rows, level: level)
    }

    /// Harrell's C or the AUC of patient values, over the patients with a finite value.
    struct Discrimination {
        let survival: SurvivalData?
        let labels: [Bool]

        init(_ patients: [ComparisonPatient], endpoint: ComparisonEndpoint) throws {
            if endpoint.isSurvival {
                survival = try SurvivalData(
                    times: patients.map { if case .survival(let t, _)? = $0.outcome { return t } else { return .nan } },
                    events: patients.map { if case .survival(_, let e)? = $0.outcome { return e } else { return false } })
                labels = []
            } else {
                survival = nil
                labels = patients.map { if case .binary(let y)? = $0.outcome { return y } else { return false } }
            }
        }

        /// +1 or −1: the sign of the Cox (or logistic) coefficient of the values; +1 when it cannot be fitted.
        func orientation(_ values: [Double]) -> Double {
            let idx = values.indices.filter { values[$0].isFinite }
            let x = idx.map { values[$0] }
            let b: Double?
            if let survival {
                b = try? CoxRegression.fit(survival.subset(idx), covariate: x).coefficients[0].coefficient
            } else {
                b = try? LogisticRegression.fit(labels: idx.map { labels[$0] }, covariates: [x]).coefficients[0].coefficient
            }
            return (b ?? 0) < 0 ? -1 : 1
        }

        func value(_ values: [Double], orientation: Double) -> Double {
            let idx = values.indices.filter { values[$0].isFinite }
            let scores = idx.map { orientation * values[$0] }
            if let survival {
                return (try? Concordance.harrell(survival.subset(idx), risk: scores).index) ?? .nan
            }
            return (try? ROC.analyse(labels: idx.map { labels[$0] }, scores: scores).auc) ?? .nan
        }
    }
}

extension CohortComparison {
    /// Runs the lesion-subset analysis on a store's lesions, writes `comparison/<source>/<endpoint>_lesion_subsets`
    /// into the store and, when asked, the CSV.
    @discardableResult
    public static func runLesionSubsets(store: URL, source: ComparisonSource, endpoint: ComparisonEndpoint,
                                        aggregators: [Aggregator] = Aggregator.allCases, repeats: Int = 50,
                                        seed: UInt64 = 1, level: Double = 0.95, csv: URL? = nil) throws -> LesionSubsetResult {
        var contents = try StoreContents.read(from: store)
        let input = try patients(contents, source: source, endpoint: endpoint, milFeatures: nil, includeLogVolume: false)
        let result = try LesionSubsetAnalysis.run(input.patients, endpoint: endpoint, aggregators: aggregators,
                                                  repeats: repeats, seed: seed, level: level)
        contents.tables[path(source, endpoint) + "_lesion_subsets"] = StoreTable(table: result.table, attributes: [
            "endpoint": endpoint.rawValue, "source": sourceDescription(source), "repeats": String(repeats),
            "seed": String(seed),
            "definition": "for each aggregator and k: the \(endpoint.isSurvival ? "Harrell's C" : "ROC AUC") when only k randomly chosen lesions per patient are aggregated (all lesions of patients with k or fewer); mean and central \(Int((level * 100).rounded())) % range over the repeats (lesion-selection variability, not sampling error); the direction of each aggregator is the one it has with all lesions",
        ])
        try contents.write(to: store)
        if let csv { try TableCSV.write(result.table, to: csv) }
        return result
    }
}

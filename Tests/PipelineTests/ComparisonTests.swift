import XCTest
import Foundation
import Aggregation
import Statistics
import MultipleInstance
import FeatureStore
import Cohort
import Synthesis
import TestSupport
@testable import Pipeline

/// Latent synthetic patients (no images) as comparison input: lesion value = hidden infiltration read with
/// noise (SD 0.05), lesion features = [that read-out, one noise feature, log volume].
func latentComparisonPatients(patients: Int, seed: UInt64, driver: SyntheticOutcomeDriver,
                              endpoint: ComparisonEndpoint = .pfs) throws -> (patients: [ComparisonPatient], truth: [SyntheticPatient]) {
    let cohort = try SyntheticPlanner.cohort(SynthesisOptions(patients: patients, seed: seed, outcomeDriver: driver))
    var rng = SeededGenerator(seed: seed)
    let input = cohort.map { p -> ComparisonPatient in
        let values = p.lesions.map { $0.infiltration + 0.05 * rng.normal() }
        let lesions = zip(p.lesions, values).map { l, v in
            LesionValue(lesionID: l.id, value: v, volume: l.shape.nominalVolume / 1000, irradiated: l.irradiated)
        }
        let features = zip(p.lesions, values).map { l, v in [v, rng.normal(), Foundation.log(l.shape.nominalVolume / 1000)] }
        let outcome: ComparisonPatient.Outcome
        switch endpoint {
        case .pfs: outcome = .survival(time: p.outcome.pfsMonths, event: p.outcome.pfsEvent)
        case .os: outcome = .survival(time: p.outcome.osMonths, event: p.outcome.osEvent)
        case .response: outcome = .binary(p.outcome.bestResponse == .CR || p.outcome.bestResponse == .PR)
        case .abscopal: outcome = .binary(p.outcome.abscopalResponse ?? false)
        }
        return ComparisonPatient(id: p.id, lesions: lesions, lesionFeatures: features, outcome: outcome)
    }
    return (input, cohort)
}

final class ComparisonTests: XCTestCase {
    let fixed = ComparisonOptions(methods: Aggregator.allCases.map { .aggregator($0) }, bootstrapResamples: 200, seed: 3)

    func rank(_ r: EndpointComparison, _ a: Aggregator) -> MethodComparison {
        r.rows.first { $0.method == .aggregator(a) }!
    }

    func testMinimumDrivenCohortRanksMinAboveMeanAndMax() throws {
        let (patients, _) = try latentComparisonPatients(patients: 300, seed: 17, driver: .minimum)
        let r = try AggregatorComparison.compare(patients, endpoint: .pfs, options: fixed)
        print(r.text)
        let minRow = rank(r, .min), meanRow = rank(r, .mean), maxRow = rank(r, .max)
        XCTAssertLessThan(minRow.rank, meanRow.rank)
        XCTAssertLessThan(minRow.rank, maxRow.rank)
        XCTAssertGreaterThan(minRow.discrimination.value, meanRow.discrimination.value + 0.02)
        XCTAssertEqual(minRow.patients, 300)
        // Lower minimum infiltration = higher hazard.
        XCTAssertEqual(minRow.orientation, -1)
        XCTAssertLessThan(try XCTUnwrap(minRow.perUnit).value, 1)
        XCTAssertLessThan(try XCTUnwrap(minRow.perUnit).pValue!, 1e-6)
        XCTAssertTrue(minRow.discrimination.interval.contains(minRow.discrimination.value))
        // The best row's difference to itself is 0; the others' differences are paired bootstrap estimates.
        XCTAssertEqual(r.rows[0].differenceToBest?.value, 0)
        let d = try XCTUnwrap(meanRow.differenceToBest)
        XCTAssertEqual(d.value, meanRow.discrimination.value - r.rows[0].discrimination.value, accuracy: 1e-12)
        XCTAssertLessThan(d.interval.lower, d.value)
        XCTAssertEqual(r.rows.map(\.rank), Array(1...r.rows.count))
    }

    func testMeanDrivenCohortRanksMeanAboveMinAndMax() throws {
        let (patients, _) = try latentComparisonPatients(patients: 300, seed: 17, driver: .mean)
        let r = try AggregatorComparison.compare(patients, endpoint: .pfs, options: fixed)
        print(r.text)
        let meanRow = rank(r, .mean)
        XCTAssertLessThan(meanRow.rank, rank(r, .min).rank)
        XCTAssertLessThan(meanRow.rank, rank(r, .max).rank)
        XCTAssertGreaterThan(meanRow.discrimination.value, rank(r, .min).discrimination.value + 0.02)
    }

    func testBinaryEndpointUsesOddsRatiosAndDeLongAUC() throws {
        let (patients, _) = try latentComparisonPatients(patients: 200, seed: 4, driver: .minimum, endpoint: .response)
        let options = ComparisonOptions(methods: [.aggregator(.mean), .aggregator(.min), .aggregator(.max)], seed: 1)
        let r = try AggregatorComparison.compare(patients, endpoint: .response, options: options)
        let t = r.table
        XCTAssertEqual(Array(t.columnNames.prefix(6)), ["aggregator", "kind", "n", "positives", "or", "or_low"])
        XCTAssertTrue(t.columnNames.contains("auc") && t.columnNames.contains("auc_low") && t.columnNames.contains("auc_diff_p"))
        XCTAssertFalse(t.columnNames.contains("c_index"))
        let best = r.rows[0]
        let labels = patients.map { if case .binary(let y)? = $0.outcome { return y } else { return false } }
        guard case .aggregator(let a) = best.method else { return XCTFail("a fixed aggregator ranks first") }
        let anyContext = AggregationContext(entropyOrigin: 0, entropyBinWidth: 1, cutoff: 0)  // unused by mean/min/max
        let values = patients.map { a.aggregate($0.lesions, context: anyContext) }
        let direct = try ROC.analyse(labels: labels, scores: values.map { best.orientation * $0 })
        XCTAssertEqual(best.discrimination.value, direct.auc, accuracy: 1e-12)
        XCTAssertEqual(best.discrimination.interval.lower, direct.interval.lower, accuracy: 1e-12)
        XCTAssertGreaterThan(best.discrimination.value, 0.6)
    }

    func testLesionSubsetsConvergeToAllLesions() throws {
        let (patients, _) = try latentComparisonPatients(patients: 120, seed: 9, driver: .minimum)
        let r = try LesionSubsetAnalysis.run(patients, endpoint: .pfs, aggregators: [.mean, .min], repeats: 10, seed: 2)
        let maxK = patients.map(\.lesions.count).max()!
        XCTAssertEqual(r.rows.count, 2 * maxK)
        for a in [Aggregator.mean, .min] {
            let rows = r.rows.filter { $0.aggregator == a }
            let last = rows.last!
            XCTAssertEqual(last.k, maxK)
            XCTAssertEqual(last.patientsAboveK, 0)
            XCTAssertEqual(last.mean, last.allLesions, accuracy: 1e-12, "with every lesion every repeat is the full analysis")
            XCTAssertEqual(last.low, last.high, accuracy: 1e-12)
            XCTAssertTrue(rows.allSatisfy { $0.low <= $0.mean + 1e-12 && $0.mean <= $0.high + 1e-12 })
        }
        // For the minimum, one random lesion is clearly worse than all of them.
        let minRows = r.rows.filter { $0.aggregator == .min }
        XCTAssertLessThan(minRows[0].mean, minRows.last!.mean - 0.02)
        print(r.text)
    }

    /// A store built directly (no images): lesions, patients with outcomes, tumour/ring features and scores.
    func makeStore(_ dir: URL, patients count: Int, seed: UInt64) throws -> URL {
        let cohort = try SyntheticPlanner.cohort(SynthesisOptions(patients: count, seed: seed, outcomeDriver: .minimum))
        var rng = SeededGenerator(seed: seed)
        var lesionRows: [(SyntheticPatient, SyntheticLesion)] = []
        for p in cohort { for l in p.lesions { lesionRows.append((p, l)) } }
        var lesions = Table()
        try lesions.append("patient_id", .text(lesionRows.map(\.0.id)))
        try lesions.append("lesion_id", .text(lesionRows.map(\.1.id)))
        try lesions.append("location", .text(lesionRows.map(\.1.location.rawValue)))
        try lesions.append("volume_ml", .number(lesionRows.map { $0.1.shape.nominalVolume / 1000 }))
        try lesions.append("irradiated", .number(lesionRows.map { $0.1.irradiated ? 1 : 0 }))
        try lesions.append("kvp", .number(lesionRows.map { Double($0.0.kvp) }))
        var patients = Table()
        try patients.append("patient_id", .text(cohort.map(\.id)))
        try patients.append("pfs_months", .number(cohort.map(\.outcome.pfsMonths)))
        try patients.append("pfs_event", .number(cohort.map { $0.outcome.pfsEvent ? 1 : 0 }))
        try patients.append("os_months", .number(cohort.map(\.outcome.osMonths)))
        try patients.append("os_event", .number(cohort.map { $0.outcome.osEvent ? 1 : 0 }))
        try patients.append("best_response", .text(cohort.map(\.outcome.bestResponse.rawValue)))
        try patients.append("abscopal_response", .number(cohort.map { $0.outcome.abscopalResponse.map { $0 ? 1 : 0 } ?? .nan }))
        let u = lesionRows.map(\.1.infiltration)
        let tumour = try FeatureMatrix(names: ["intensity.mean", "glcm.contrast", "morph.volume"], rows: lesionRows.indices.map { i in
            [40 + 30 * u[i] + 2 * rng.normal(), rng.normal(), lesionRows[i].1.shape.nominalVolume]
        })
        let ring = try FeatureMatrix(names: ["intensity.mean"], rows: u.map { [10 + 20 * $0 + 5 * rng.normal()] })
        var score = Table()
        try score.append("patient_id", .text(lesionRows.map(\.0.id)))
        try score.append("lesion_id", .text(lesionRows.map(\.1.id)))
        try score.append("score", .number(u.map { $0 + 0.05 * rng.normal() }))
        let contents = StoreContents(attributes: StoreAttributes(settingsJSON: "{}"), patients: patients, lesions: lesions,
                                     features: ["tumour": tumour, "ring": ring],
                                     tables: ["scores/test_sig": StoreTable(table: score, attributes: ["signature_name": "test sig"])])
        let store = dir.appendingPathComponent("compare.h5")
        try contents.write(to: store)
        return store
    }

    func testStoreComparisonWritesTableAttentionAndCSV() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let store = try makeStore(dir, patients: 40, seed: 6)
        let csv = dir.appendingPathComponent("out/compare-pfs.csv")
        let options = ComparisonOptions(methods: [.aggregator(.mean), .aggregator(.min), .aggregator(.max),
                                                  .aggregator(.entropy), .mil(.gated)],
                                        bootstrapResamples: 100, seed: 5, milFolds: 2, milRepeats: 1,
                                        milOptions: MILOptions(maxEpochs: 60))
        let outcome = try CohortComparison.run(store: store, source: .signature("test_sig"), endpoint: .pfs, options: options,
                                               milFeatures: .principalComponents(2), csv: csv)
        XCTAssertEqual(outcome.tablePath, "comparison/test_sig/pfs")
        XCTAssertTrue(outcome.milInput!.hasPrefix("first 2 principal components of 4 standardised tumour and ring features"), outcome.milInput!)
        let contents = try StoreContents.read(from: store)
        let stored = try XCTUnwrap(contents.tables["comparison/test_sig/pfs"])
        XCTAssertEqual(stored.table.rowCount, 5)
        XCTAssertEqual(Set(try stored.table.texts("aggregator")), ["mean", "min", "max", "entropy", "mil_gated_attention"])
        XCTAssertEqual(try stored.table.texts("kind").filter { $0 == "learned_out_of_sample" }.count, 1)
        XCTAssertEqual(try stored.table.numbers("rank"), [1, 2, 3, 4, 5])
        XCTAssertEqual(stored.attributes["endpoint"], "pfs")
        XCTAssertEqual(stored.attributes["n_patients"], "40")
        XCTAssertNotNil(stored.attributes["mil_options_json"])
        XCTAssertEqual(stored.attributes["permutations"], "1000")
        XCTAssertTrue(stored.attributes["interpretation"]?.hasPrefix("How to read the ranking") == true)
        XCTAssertNotNil(stored.attributes["best_fixed_perm_p"])
        let expectedColumns = ["aggregator", "kind", "n", "events", "hr", "hr_low", "hr_high", "hr_per_sd", "hr_per_sd_low",
                               "hr_per_sd_high", "p", "p_holm", "lr_p", "lr_p_holm", "hr_median_split", "hr_median_split_low",
                               "hr_median_split_high", "logrank_p_median_split", "hr_q4_vs_q1", "hr_q4_vs_q1_low",
                               "hr_q4_vs_q1_high", "logrank_p_q4_vs_q1", "worse_when", "c_index", "c_low", "c_high",
                               "c_index_corrected", "c_optimism", "c_perm_p", "c_diff_vs_best",
                               "c_diff_low", "c_diff_high", "c_diff_p", "c_diff_n", "rank", "note"]
        XCTAssertEqual(stored.table.columnNames, expectedColumns)
        let attention = try XCTUnwrap(contents.tables["comparison/test_sig/pfs_attention"]).table
        XCTAssertEqual(attention.rowCount, contents.lesions.rowCount)
        let csvTable = try CSVTable.parse(String(contentsOf: csv, encoding: .utf8))
        XCTAssertEqual(csvTable.header, expectedColumns)
        XCTAssertEqual(csvTable.rows.count, 5)
        let minRow = try XCTUnwrap(csvTable.rows.first { $0.fields[0] == "min" })
        let hr = try XCTUnwrap(Double(minRow.fields[4]))
        XCTAssertEqual(hr, try stored.table.numbers("hr")[try stored.table.texts("aggregator").firstIndex(of: "min")!], accuracy: 1e-12)

        // The lesion-subset table goes next to it; earlier tables survive the rewrite.
        let subsetCSV = dir.appendingPathComponent("out/subsets.csv")
        let subsets = try CohortComparison.runLesionSubsets(store: store, source: .signature("test_sig"), endpoint: .pfs,
                                                            aggregators: [.mean, .min], repeats: 5, seed: 1, csv: subsetCSV)
        let after = try StoreContents.read(from: store)
        XCTAssertNotNil(after.tables["comparison/test_sig/pfs"])
        XCTAssertEqual(after.tables["comparison/test_sig/pfs_lesion_subsets"]?.table.rowCount, subsets.rows.count)
        XCTAssertEqual(try CSVTable.parse(String(contentsOf: subsetCSV, encoding: .utf8)).header,
                       ["aggregator", "k", "repeats", "n", "patients_above_k", "c_index_mean", "c_low", "c_high", "c_all_lesions"])
    }

    func testStoreErrorsNameWhatIsMissing() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let store = try makeStore(dir, patients: 12, seed: 2)
        XCTAssertThrowsError(try CohortComparison.run(store: store, source: .signature("nope"), endpoint: .pfs)) {
            XCTAssertTrue("\($0)".contains("no scores for signature 'nope'"), "\($0)")
        }
        XCTAssertThrowsError(try CohortComparison.run(store: store, source: .feature("tumour.glcm.missing"), endpoint: .os)) {
            XCTAssertTrue("\($0)".contains("no feature 'tumour.glcm.missing'"), "\($0)")
        }
        XCTAssertThrowsError(try CohortComparison.run(store: store, source: .signature("test_sig"), endpoint: .pfs,
                                                      milFeatures: .features(["tumour.glcm.absent"]))) {
            XCTAssertTrue("\($0)".contains("lacks the MIL features tumour.glcm.absent"), "\($0)")
        }
    }

    func testFeatureComparisonAddsChangsRule() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let store = try makeStore(dir, patients: 30, seed: 4)
        let options = ComparisonOptions(methods: [.aggregator(.mean), .chang(.unweighted), .chang(.volumeWeighted)],
                                        bootstrapResamples: 50)
        let outcome = try CohortComparison.run(store: store, source: .feature("tumour.morph.volume"), endpoint: .os,
                                               options: options)
        XCTAssertEqual(outcome.tablePath, "comparison/feature.tumour.morph.volume/os")
        // For a shape feature Chang's rule sums: both variants are the total volume and tie.
        let rows = outcome.result.rows
        let chang = rows.filter { if case .chang = $0.method { return true } else { return false } }
        XCTAssertEqual(chang[0].discrimination.value, chang[1].discrimination.value)
        XCTAssertEqual(chang[0].perUnit?.value, chang[1].perUnit?.value)
    }

    func testCompareCommandPrintsAndWritesCSV() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let store = try makeStore(dir, patients: 30, seed: 8)
        let exe = try compareExecutable()
        let csv = dir.appendingPathComponent("cli.csv")
        let p = Process()
        p.executableURL = exe
        p.arguments = ["compare", store.path, "--endpoint", "abscopal", "--signature-name", "test_sig", "--csv", csv.path,
                       "--methods", "mean,min,max", "--bootstrap", "50", "--permutations", "200"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("endpoint abscopal"), text)
        XCTAssertTrue(text.contains("AUC"), text)
        XCTAssertTrue(text.contains("How to read the ranking"), text)
        XCTAssertTrue(text.contains("p Holm") && text.contains("perm p"), text)
        XCTAssertEqual(try CSVTable.parse(String(contentsOf: csv, encoding: .utf8)).rows.count, 3)

        let bad = Process()
        bad.executableURL = exe
        bad.arguments = ["compare", store.path, "--endpoint", "dfs"]
        bad.standardOutput = FileHandle.nullDevice
        bad.standardError = FileHandle.nullDevice
        try bad.run()
        bad.waitUntilExit()
        XCTAssertNotEqual(bad.terminationStatus, 0)
    }

    /// Issue 12, item 7, end to end: `lesionmap compare` on entropy (whose patients tie often) run in separate
    /// processes with random hash seeds writes the same table, bit for bit.
    func testCompareIsIdenticalAcrossProcesses() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let store = try makeStore(dir, patients: 60, seed: 12)
        let exe = try compareExecutable()
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_DETERMINISTIC_HASHING"] = nil
        var tables: [String] = []
        for run in 0..<4 {
            let csv = dir.appendingPathComponent("entropy-\(run).csv")
            let p = Process()
            p.executableURL = exe
            p.environment = environment
            p.arguments = ["compare", store.path, "--endpoint", "pfs", "--signature-name", "test_sig", "--csv", csv.path,
                           "--methods", "entropy,sd,range", "--bootstrap", "20", "--permutations", "20"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0)
            tables.append(try String(contentsOf: csv, encoding: .utf8))
        }
        XCTAssertEqual(Set(tables).count, 1, "the comparison differs between processes:\n" + Set(tables).joined(separator: "\n---\n"))
    }

    /// The `lesionmap` binary beside the test bundle (or `LESIONMAP_BIN`).
    func compareExecutable() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["LESIONMAP_BIN"] { return URL(fileURLWithPath: path) }
        let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = (0..<4).map { up in
            (0..<up).reduce(bundleDir) { d, _ in d.deletingLastPathComponent() }.appendingPathComponent("lesionmap")
        }
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) { return found }
        if SharedData.isCI { XCTFail("lesionmap executable not built next to the tests") }
        throw XCTSkip("lesionmap executable not built next to the tests (run `swift build --build-tests` first)")
    }
}

/// Speed figures (not assertions on time). Run with
/// `LESIONMAP_BENCHMARK=1 swift test -c release --filter ComparisonBenchmarks`.
final class ComparisonBenchmarks: XCTestCase {
    /// 1,000 patients with 1-20 lesions each (uniform), infiltration as in the synthetic cohorts, outcomes driven by
    /// the least-infiltrated lesion (Weibull PFS, uniform censoring), and 10 lesion features.
    static func largeCohort(seed: UInt64 = 1) throws -> [ComparisonPatient] {
        var rng = SeededGenerator(seed: seed)
        return try (0..<1000).map { i in
            let n = 1 + rng.int(below: 20)
            let mu = 0.2 + 0.6 * rng.uniform(), tau = 0.3 + 1.7 * rng.uniform()
            let u = (0..<n).map { _ in 1 / (1 + Foundation.exp(-(Foundation.log(mu / (1 - mu)) + tau * rng.normal()))) }
            let eta = 4 * (0.33 - u.min()!)
            let t = 9 * Foundation.pow(-Foundation.log(1 - rng.uniform()) / Foundation.exp(eta), 1 / 1.3)
            let c = 6 + 24 * rng.uniform()
            let lesions = u.enumerated().map { k, x in
                LesionValue(lesionID: "L\(k + 1)", value: x + 0.05 * rng.normal(), volume: Foundation.exp(rng.normal()),
                            irradiated: k == 0)
            }
            let features = lesions.map { l in [l.value, Foundation.log(l.volume)] + (0..<8).map { _ in rng.normal() } }
            guard t.isFinite else { throw PipelineError("bad simulated time") }
            return ComparisonPatient(id: "B\(i)", lesions: lesions, lesionFeatures: features,
                                     outcome: .survival(time: Swift.min(t, c), event: t <= c))
        }
    }

    func testBenchmarkFixedAggregatorsAndMIL() throws {
        guard ProcessInfo.processInfo.environment["LESIONMAP_BENCHMARK"] == "1" else {
            throw XCTSkip("set LESIONMAP_BENCHMARK=1 (and use -c release) to run the comparison benchmark")
        }
        let patients = try Self.largeCohort()
        let lesions = patients.reduce(0) { $0 + $1.lesions.count }
        let start = Date()
        let fixed = try AggregatorComparison.compare(
            patients, endpoint: .pfs,
            options: ComparisonOptions(methods: Aggregator.allCases.map { .aggregator($0) }, bootstrapResamples: 1000))
        let fixedSeconds = Date().timeIntervalSince(start)
        print(fixed.text)
        print(String(format: "BENCHMARK fixed aggregators: %d patients, %d lesions, %d aggregators, Cox + splits + C-index + 1000 paired bootstrap resamples: %.2f s on %d cores",
                     patients.count, lesions, fixed.rows.count, fixedSeconds, ProcessInfo.processInfo.activeProcessorCount))

        let bags = try MILBags(patients.map(\.lesionFeatures))
        let data = try SurvivalData(times: patients.map { if case .survival(let t, _)? = $0.outcome { return t } else { return 0 } },
                                    events: patients.map { if case .survival(_, let e)? = $0.outcome { return e } else { return false } })
        let milStart = Date()
        let cv = try MILCrossValidation.run(bags, target: .survival(data), folds: 5, repeats: 1, options: MILOptions(pooling: .gated))
        let milSeconds = Date().timeIntervalSince(milStart)
        let c = try Concordance.harrell(data, risk: cv.risk).index
        print(String(format: "BENCHMARK MIL gated attention, 5-fold CV x 1 repeat on %d patients / %d lesions / 10 features: %.2f s (epochs per fold %@), out-of-sample C %.3f",
                     patients.count, lesions, milSeconds, cv.reports.map { String($0.epochs) }.joined(separator: ","), c))

        // The synthetic cohort of the tests (300 patients, minimum driver) with both MIL poolings, 5-fold x 3 repeats.
        let (latent, truth) = try latentComparisonPatients(patients: 300, seed: 17, driver: .minimum)
        let withMIL = try AggregatorComparison.compare(latent, endpoint: .pfs, options: ComparisonOptions(bootstrapResamples: 1000))
        print(withMIL.text)
        for method in ["mil_attention", "mil_gated_attention"] {
            var share = 0.0, top = 0.0, uniform = 0.0, n = 0.0
            for p in truth where p.lesions.count >= 2 {
                let rows = withMIL.attention.filter { $0.patientID == p.id && $0.method == method }
                let driver = p.lesions.min { $0.infiltration < $1.infiltration }!.id
                guard let d = rows.first(where: { $0.lesionID == driver }) else { continue }
                share += d.attention
                top += d.rankInPatient == 1 ? 1 : 0
                uniform += 1 / Double(p.lesions.count)
                n += 1
            }
            print(String(format: "BENCHMARK %@: held-out attention on the least-infiltrated lesion %.3f (uniform %.3f), most attended in %.1f %% of %d patients with 2+ lesions",
                         method, share / n, uniform / n, 100 * top / n, Int(n)))
        }

        let subsetStart = Date()
        let subsets = try LesionSubsetAnalysis.run(patients, endpoint: .pfs, aggregators: [.mean, .min, .max], repeats: 20)
        print(subsets.text)
        print(String(format: "BENCHMARK lesion subsets (3 aggregators, k = 1...20, 20 repeats): %.2f s", Date().timeIntervalSince(subsetStart)))
    }
}

import XCTest
import Foundation
import ImagingCore
import Cohort
import FeatureStore
import Radiomics
import Synthesis
import TestSupport
@testable import Pipeline

/// Issue 15 "must show", through the real chain: a synthetic cohort with 2 follow-ups (`synth --timepoints 2`), its
/// follow-up rows turned into expanding rows (empty `lesion_id` and `roi`: one row per follow-up label map) so that
/// `extract --match auto` names every follow-up lesion by position, `CohortExtraction` (what `extract` runs) measuring
/// the diameters, `CohortResponse` (what `response` runs), and the generator's truth (`truth_followup.csv`,
/// `truth_followup_patients.csv`): diameters within one in-plane voxel diagonal, per-lesion categories (confusion
/// table printed, >= 95 % asserted), patient RECIST 1.1, and the two abscopal definitions with the number of patient
/// follow-ups and patients where they disagree.
///
/// Runtime: features are restricted to morphology and first-order intensity without a ring (the response reads only
/// the diameters, which do not depend on the feature settings), so the debug-build time is the synthesis and the
/// loading of 36 scans. Grid: 2.2 x 2.25 x 6 mm (120 x 96 x 32 voxels), coarser than the synth default (1.5 x 1.5 x 4
/// mm, `LESIONMAP_RESPONSE_TRUTH_GRID=default`).
final class ResponseSyntheticTruthTests: XCTestCase {
    /// Morphology and first-order intensity of the tumour only: enough for a store, quick in debug builds.
    static let chainSettings: ExtractionSettings = {
        var s = ExtractionSettings.clinicalDefault
        s.resampling = nil
        s.ring = nil
        s.families = [.morphology, .intensity]
        return s
    }()

    func testResponseThroughExtractionAgainstSyntheticFollowUpTruth() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let fine = ProcessInfo.processInfo.environment["LESIONMAP_RESPONSE_TRUTH_GRID"] == "default"
        let options = SynthesisOptions(patients: 12, seed: 1, gridSize: fine ? SynthesisOptions.defaultGridSize : [120, 96, 32],
                                       timepoints: 2)
        let cohortDir = dir.appendingPathComponent("cohort")
        _ = try SyntheticCohort.generate(options, into: cohortDir)
        try Self.expandFollowUpRows(in: cohortDir)

        let store = dir.appendingPathComponent("followup.h5")
        let summary = try CohortExtraction.run(cohort: try CohortManifest.load(cohortDir), store: store,
                                               settings: Self.chainSettings, loader: PatientLoader(matchAutomatically: true))
        XCTAssertTrue(summary.succeeded, summary.text(allWarnings: true))
        let outcome = try CohortResponse.run(store: store)
        XCTAssertTrue(outcome.problems.isEmpty, "\(outcome.problems)")

        let truth = try Self.table(cohortDir.appendingPathComponent(SyntheticCohort.followUpTruthFile))
        let r = outcome.lesions
        let ids = Self.truthIDs(patients: try r.texts("patient_id"), lesions: try r.texts("lesion_id"),
                                timepoints: try r.numbers("timepoint"), truth: truth)
        let comparison = SyntheticResponseComparison(
            truth: truth, patients: try r.texts("patient_id"), lesions: ids, timepoints: try r.numbers("timepoint"),
            diameters: try r.numbers("diameter_mm"), categories: try r.texts("category"),
            voxelDiagonal: (options.grid.spacing.x * options.grid.spacing.x + options.grid.spacing.y * options.grid.spacing.y).squareRoot())
        print(comparison.text)
        XCTAssertTrue(comparison.missing.isEmpty, "truth rows without a response row: \(comparison.missing)")
        XCTAssertGreaterThan(comparison.compared, 80)
        XCTAssertGreaterThanOrEqual(Double(comparison.agree) / Double(comparison.compared), 0.95, comparison.text)
        XCTAssertEqual(comparison.withinDiagonal, comparison.measured, comparison.text)
        for c in ["CR", "PR", "SD", "PD", "NEW"] { XCTAssertTrue(comparison.categoriesSeen.contains(c), "no \(c) lesion") }

        // Patients: RECIST 1.1 and the two abscopal definitions, side by side.
        let pt = try Self.table(cohortDir.appendingPathComponent(SyntheticCohort.followUpPatientTruthFile))
        let pp = pt.column("patient_id"), ptt = pt.column("timepoint").map { Double($0)! }, pRecist = pt.column("recist")
        let o = outcome.patients
        let op = try o.texts("patient_id"), ot = try o.numbers("timepoint"), oRecist = try o.texts("recist")
        var patientAgree = 0, patientCompared = 0
        for i in pp.indices where ptt[i] > 0 {
            guard let j = op.indices.first(where: { op[$0] == pp[i] && ot[$0] == ptt[i] }) else { continue }
            patientCompared += 1
            if pRecist[i] == oRecist[j] { patientAgree += 1 }
        }
        print("patient RECIST 1.1 agreement \(patientAgree)/\(patientCompared); abscopal definitions both evaluable at "
              + "\(outcome.abscopalEvaluable) patient follow-ups, disagreeing at \(outcome.abscopalDisagreements) "
              + "(\(outcome.patientsDisagreeing.count) patients: \(outcome.patientsDisagreeing.joined(separator: ", ")))")
        XCTAssertEqual(patientCompared, 12 * 2)
        XCTAssertGreaterThanOrEqual(Double(patientAgree) / Double(patientCompared), 0.9)
        XCTAssertGreaterThan(outcome.abscopalEvaluable, 0)
    }

    /// Rewrites a synthetic follow-up manifest so that each follow-up scan is one expanding row (empty `lesion_id`,
    /// `roi` and `location`): its lesions get their ids from `--match auto`, not from the generator.
    static func expandFollowUpRows(in cohort: URL) throws {
        let url = cohort.appendingPathComponent(CohortManifest.lesionsFile)
        let t = try CSVTable.parse(String(contentsOf: url, encoding: .utf8))
        let h = t.header
        func at(_ name: String) -> Int { h.firstIndex(of: name)! }
        var rows: [[String]] = []
        var seen: Set<String> = []
        for row in t.rows.map(\.fields) {
            guard row[at("timepoint")] != "0" else { rows.append(row); continue }
            guard seen.insert(row[at("mask")]).inserted else { continue }
            var r = row
            for c in ["lesion_id", "roi", "location", "irradiated", "lesion_response"] { r[at(c)] = "" }
            rows.append(r)
        }
        try Data(CSVTable.render(header: h, rows: rows).utf8).write(to: url)
    }

    /// Our lesion ids in the truth's naming: matched lesions carry their baseline id already; new lesions, `N1`,
    /// `N2`, ... in order of appearance, stand for the patient's truth new lesions in order of appearance (time
    /// point, then label).
    static func truthIDs(patients: [String], lesions: [String], timepoints: [Double], truth: SimpleTable) -> [String] {
        var truthNew: [String: [String]] = [:]
        let tp = truth.column("patient_id"), tl = truth.column("lesion_id"), tn = truth.column("new")
        for i in tp.indices where tn[i] == "1" && !(truthNew[tp[i]] ?? []).contains(tl[i]) { truthNew[tp[i], default: []].append(tl[i]) }
        var ours: [String: [String]] = [:]
        let order = lesions.indices.sorted { timepoints[$0] < timepoints[$1] }
        for i in order where lesions[i].hasPrefix("N") && !(ours[patients[i]] ?? []).contains(lesions[i]) {
            ours[patients[i], default: []].append(lesions[i])
        }
        return lesions.indices.map { i in
            guard let k = ours[patients[i]]?.firstIndex(of: lesions[i]), let names = truthNew[patients[i]], k < names.count
            else { return lesions[i] }
            return names[k]
        }
    }

    static func table(_ url: URL) throws -> SimpleTable {
        let t = try CSVTable.parse(String(contentsOf: url, encoding: .utf8))
        return SimpleTable(header: t.header, rows: t.rows.map(\.fields))
    }
}

/// A CSV file's header and rows.
struct SimpleTable {
    var header: [String]
    var rows: [[String]]
    func column(_ name: String) -> [String] {
        let i = header.firstIndex(of: name)!
        return rows.map { $0[i] }
    }
}

/// Per-lesion rows of `response/lesions` against `truth_followup.csv`: diameters of present lesions within one in-plane
/// voxel diagonal, and the confusion table of categories at the follow-ups.
struct SyntheticResponseComparison {
    var confusion: [String: [String: Int]] = [:]
    var agree = 0, compared = 0, withinDiagonal = 0, measured = 0
    var worst = 0.0
    var missing: [String] = []
    var categoriesSeen: Set<String> = []
    var misses: [String] = []
    var text = ""

    init(truth: SimpleTable, patients: [String], lesions: [String], timepoints: [Double], diameters: [Double],
         categories: [String], voxelDiagonal: Double) {
        var index: [String: Int] = [:]
        for i in patients.indices { index["\(patients[i])|\(lesions[i])|\(timepoints[i])"] = i }
        categoriesSeen = Set(categories)
        let tp = truth.column("patient_id"), tl = truth.column("lesion_id"), tt = truth.column("timepoint").map { Double($0)! }
        let tPresent = truth.column("present"), tDiameter = truth.column("diameter_mm").map { Double($0)! }
        let tCategory = truth.column("category"), tMeasure = truth.column("recist_measure_mm")
        for i in tp.indices {
            let key = "\(tp[i])|\(tl[i])|\(tt[i])"
            guard let j = index[key] else { if tPresent[i] == "1" || tt[i] > 0 { missing.append(key) }; continue }
            if tPresent[i] == "1" {
                let d = abs(diameters[j] - tDiameter[i])
                measured += 1
                worst = max(worst, d)
                if d <= voxelDiagonal { withinDiagonal += 1 }
            }
            guard tt[i] > 0, !tCategory[i].isEmpty else { continue }
            confusion[tCategory[i], default: [:]][categories[j], default: 0] += 1
            compared += 1
            if tCategory[i] == categories[j] { agree += 1 } else {
                misses.append("\(key): truth \(tCategory[i]) (RECIST measure \(tMeasure[i]) mm), measured \(categories[j])")
            }
        }
        let cats = ["CR", "PR", "SD", "PD", "NEW"]
        func cell(_ s: String) -> String { s.padding(toLength: 6, withPad: " ", startingAt: 0) }
        text = "per-lesion categories at the follow-ups (rows: truth, columns: lesionmap response)\n      "
            + cats.map(cell).joined() + "\n"
        for a in cats { text += cell(a) + cats.map { cell(String(confusion[a]?[$0] ?? 0)) }.joined() + "\n" }
        text += "agreement \(agree)/\(compared) = \(String(format: "%.1f", 100 * Double(agree) / Double(max(compared, 1)))) %\n"
        text += misses.map { "  " + $0 + "\n" }.joined()
        text += "diameters within one in-plane voxel diagonal (\(String(format: "%.2f", voxelDiagonal)) mm) of the truth: "
            + "\(withinDiagonal)/\(measured), largest difference \(String(format: "%.2f", worst)) mm"
    }
}

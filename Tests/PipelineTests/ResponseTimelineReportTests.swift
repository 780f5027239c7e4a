import XCTest
import Foundation
import Cohort
import FeatureStore
import Reporting
import Synthesis
import TestSupport
@testable import Pipeline

/// Issue 15 item 4, the report timeline, end to end: `synth --timepoints 2` (3 patients, one of them stripped
/// to its baseline rows) -> `extract --match auto` -> `score` -> `plan` -> `report`, before and after
/// `lesionmap response`: the patients with follow-ups get a "Response over time" section with one line per
/// lesion of the response table in each plot and exactly the categories and patient responses the response
/// tables hold; the baseline-only patient gets no section; the PDF prints it. (An extension of `ReportTests` for
/// its signature and tool helpers.)
extension ReportTests {
    func testResponseTimelineSectionMatchesTheResponseTables() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let folder = dir.appendingPathComponent("cohort")
        _ = try SyntheticCohort.generate(SynthesisOptions(patients: 3, seed: 11, gridSize: [88, 72, 32], timepoints: 2), into: folder)
        // SYN002 keeps its baseline rows only.
        let csv = folder.appendingPathComponent("lesions.csv")
        let manifest = try CSVTable.parse(String(contentsOf: csv, encoding: .utf8))
        let (p, t) = (manifest.header.firstIndex(of: "patient_id")!, manifest.header.firstIndex(of: "timepoint")!)
        let kept = manifest.rows.map(\.fields).filter { $0[p] != "SYN002" || ($0[t].isEmpty || $0[t] == "0") }
        XCTAssertLessThan(kept.count, manifest.rows.count)
        try CSVTable.render(header: manifest.header, rows: kept).write(to: csv, atomically: true, encoding: .utf8)

        let store = dir.appendingPathComponent("s.h5")
        let summary = try CohortExtraction.run(cohort: try CohortManifest.load(folder), store: store, settings: testSettings,
                                               loader: PatientLoader(matchAutomatically: true))
        XCTAssertTrue(summary.succeeded, summary.text(allWarnings: true))
        let signature = ReportTests.signature
        try CohortScoring.run(store: store, signature: signature, fileHash: "0", source: "test")
        try CohortAggregation.run(store: store, signatureName: signature.name)
        try CohortPlanning.run(store: store, signatureName: signature.name, policy: .standard)

        // Before `lesionmap response`: the section is computed with CohortResponse and says so.
        let before = try PatientReporting.write(store: store, signature: signature, cohortFolder: folder,
                                                to: dir.appendingPathComponent("before"), pdf: .never, quiet: true)
        XCTAssertTrue(before.succeeded, "\(before.failed)")
        let beforeHTML = try before.written.map { try String(contentsOf: $0.html, encoding: .utf8) }
        XCTAssertTrue(beforeHTML[0].contains(htmlEscape(StoreResponseTimelines.computedSource)))

        let outcome = try CohortResponse.run(store: store)
        XCTAssertEqual(outcome.problems, [])
        let contents = try StoreContents.read(from: store)
        let lt = try XCTUnwrap(contents.tables[CohortResponse.lesionsPath]?.table)
        let pt = try XCTUnwrap(contents.tables[CohortResponse.patientsPath]?.table)
        let lp = try lt.texts("patient_id"), ll = try lt.texts("lesion_id"), ltp = try lt.numbers("timepoint")
        let cat = try lt.texts("category"), isNew = try lt.numbers("is_new"), irr = try lt.numbers("irradiated")
        let pp = try pt.texts("patient_id"), ptp = try pt.numbers("timepoint"), recist = try pt.texts("recist")
        let irecist = try pt.texts("irecist"), anyLesion = try pt.numbers("abscopal_any_lesion")
        // Seed 11: SYN001 has a new lesion (L08, from day 60); irradiated lesions too.
        XCTAssertTrue(lp.indices.contains { lp[$0] == "SYN001" && isNew[$0] == 1 }, "the chain covers a new lesion")
        XCTAssertTrue(irr.contains(1), "the chain covers an irradiated lesion")

        let chromium = HeadlessChromium.find()
        if chromium == nil && SharedData.isCI { XCTFail("Chromium not found; CI must print the reports") }
        let batch = try PatientReporting.write(store: store, signature: signature, cohortFolder: folder,
                                               to: dir.appendingPathComponent("after"), pdf: chromium == nil ? .never : .required,
                                               quiet: true)
        XCTAssertTrue(batch.succeeded, "\(batch.failed)")
        XCTAssertEqual(batch.written.map(\.patientID), ["SYN001", "SYN002", "SYN003"])
        for (w, old) in zip(batch.written, beforeHTML) {
            let html = try String(contentsOf: w.html, encoding: .utf8)
            let id = w.patientID
            guard id != "SYN002" else {
                XCTAssertFalse(html.contains("Response over time"), "baseline-only patient: no section")
                XCTAssertFalse(html.contains("class=\"trajectory\""))
                XCTAssertFalse(old.contains("Response over time"))
                continue
            }
            XCTAssertTrue(html.contains("<h2 class=\"pagebreak\">Response over time</h2>"), id)
            XCTAssertTrue(html.contains(htmlEscape(StoreResponseTimelines.storedSource)), id)
            XCTAssertFalse(html.contains("Response over time not shown"), id)
            let rows = lp.indices.filter { lp[$0] == id }
            let lesions = Array(Set(rows.map { ll[$0] }))
            XCTAssertGreaterThan(lesions.count, 1)
            // One line per lesion of the response table in the diameter plot, irradiated and new ones marked.
            let plot = try section(html, from: "id=\"diameter-plot\"", to: "</svg>")
            XCTAssertEqual(plot.components(separatedBy: "<g class=\"trajectory\"").count - 1, lesions.count, id)
            for l in lesions {
                let r = rows.first { ll[$0] == l }!
                XCTAssertTrue(plot.contains("data-lesion=\"\(htmlEscape(l))\" data-irradiated=\"\(Int(irr[r]))\" data-new=\"\(Int(isNew[r]))\""), "\(id) \(l)")
            }
            XCTAssertEqual(try section(html, from: "id=\"score-plot\"", to: "</svg>").components(separatedBy: "<g class=\"trajectory\"").count - 1,
                           lesions.count, id)
            // Every follow-up category of the response table, and no other.
            let expected = rows.filter { !cat[$0].isEmpty }.map { "\(ll[$0])@\(Int(ltp[$0]))=\(cat[$0])" }.sorted()
            // Captured as `ID" data-timepoint="DAY" data-category="CAT`, split at the quotes.
            let cells = try matches("data-lesion=\"([^\"]*\" data-timepoint=\"[^\"]*\" data-category=\"[^\"]*)\"", in: html)
                .map { $0.components(separatedBy: "\"") }.map { "\(decode($0[0]))@\($0[2])=\($0[4])" }.sorted()
            XCTAssertEqual(cells, expected, id)
            // Patient RECIST 1.1, iRECIST and abscopal response per follow-up.
            for i in pp.indices where pp[i] == id {
                let flag = anyLesion[i].isFinite ? String(Int(anyLesion[i])) : ""
                XCTAssertTrue(html.contains("<tr class=\"visit\" data-timepoint=\"\(Int(ptp[i]))\" data-recist=\"\(htmlEscape(recist[i]))\" data-irecist=\"\(irecist[i])\" data-abscopal-any=\"\(flag)\""),
                              "\(id) day \(ptp[i]) \(recist[i])")
            }
            // The same assessment as the one computed before `lesionmap response` ran.
            XCTAssertEqual(try matches("data-category=\"([^\"]*)\"", in: old), try matches("data-category=\"([^\"]*)\"", in: html), id)
            // Kept for looking at (LESIONMAP_TEST_ARTIFACTS, else a temporary folder).
            let kept = artifacts.appendingPathComponent("timeline-\(id).html")
            try? FileManager.default.removeItem(at: kept)
            try FileManager.default.copyItem(at: w.html, to: kept)
            if let pdf = w.pdf {
                let keptPDF = artifacts.appendingPathComponent("timeline-\(id).pdf")
                try? FileManager.default.removeItem(at: keptPDF)
                try FileManager.default.copyItem(at: pdf, to: keptPDF)
                let text = try output(try requireTool("pdftotext"), [pdf.path, "-"])
                XCTAssertTrue(text.contains("Response over time"), "\(id) PDF")
                XCTAssertTrue(text.contains("For research use only"), "\(id) PDF")
            }
        }
    }

    /// The text between the first `start` and the next `end`.
    func section(_ s: String, from start: String, to end: String) throws -> String {
        let a = try XCTUnwrap(s.range(of: start), start)
        let rest = s[a.upperBound...]
        let b = try XCTUnwrap(rest.range(of: end), end)
        return String(rest[..<b.lowerBound])
    }
}

/// Where a report's timeline comes from (`StoreResponseTimelines`), on the hand-made store of `ResponseStoreTests`
/// (an extension for its `store` and `rows`): computed when `lesionmap response` has not run, the stored tables once
/// it has, computed again (and said) when /lesions changed after it ran; a patient that cannot be assessed gets a
/// warning naming it and no timeline; a baseline-only patient gets neither.
extension ResponseStoreTests {
    func testReportTimelineSourceFollowsTheStoredResponseTables() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let url = try store(rows, in: dir, patients: ["P1", "P2", "P3", "P4"])
        func timelines() throws -> StoreResponseTimelines {
            StoreResponseTimelines(try StoreContents.read(from: url), signatureName: "none")
        }
        var t = try timelines()
        XCTAssertEqual(t.timeline(of: "P1").timeline?.source, StoreResponseTimelines.computedSource)
        XCTAssertNil(t.timeline(of: "P1").warning)
        XCTAssertNil(t.timeline(of: "P2").timeline, "baseline only: no timeline")
        XCTAssertNil(t.timeline(of: "P2").warning, "baseline only: nothing to warn about")
        XCTAssertNil(t.timeline(of: "P3").timeline)
        let warning = try XCTUnwrap(t.timeline(of: "P3").warning)
        XCTAssertTrue(warning.hasPrefix("Response over time not shown: patient P3") && warning.contains("without a baseline"), warning)

        // P1 as the response tables hold it: lesions in store order, N1's short axis, X1 new at 120, PR then PD.
        let p1 = try XCTUnwrap(t.timeline(of: "P1").timeline)
        XCTAssertEqual(p1.lesions.map(\.lesionID), ["L1", "L2", "N1", "X1"])
        XCTAssertEqual(p1.lesions.map(\.irradiated), [true, false, false, false])
        XCTAssertEqual(p1.lesions[2].points.map(\.diameterMM), [16, 9, 9], "short axis for the node")
        XCTAssertEqual(p1.lesions[3].role, "new")
        XCTAssertEqual(p1.lesions[3].points.map(\.day), [120])
        XCTAssertEqual(p1.lesions[3].points.map(\.category), ["NEW"])
        XCTAssertEqual(p1.visits.map(\.recist), ["PR", "PD"])
        XCTAssertEqual(p1.visits[1].newLesions, ["X1"])
        XCTAssertEqual(p1.baselineSumMM, 66)
        XCTAssertEqual(p1.days, [0, 60, 120])
        // P4's lesion C disappeared at 90: a point at 0 mm without a contour.
        let c = try XCTUnwrap(t.timeline(of: "P4").timeline?.lesions.first { $0.lesionID == "C" })
        XCTAssertEqual(c.points.map(\.present), [true, false])
        XCTAssertEqual(c.points.last?.diameterMM, 0)

        try CohortResponse.run(store: url)
        t = try timelines()
        XCTAssertEqual(t.timeline(of: "P1").timeline?.source, StoreResponseTimelines.storedSource)
        // The stored tables and the computed ones agree (NaN fields compared as text).
        let stored = try XCTUnwrap(t.timeline(of: "P1").timeline)
        XCTAssertEqual("\(stored.lesions)", "\(p1.lesions)")
        XCTAssertEqual("\(stored.visits)", "\(p1.visits)")

        // /lesions changes after `response` ran (L2 re-measured at 60): P1 is assessed afresh, P4 still read.
        var contents = try StoreContents.read(from: url)
        var diameters = try contents.lesions.numbers("diameter_mm")
        diameters[4] = 19
        try contents.lesions.set("diameter_mm", .number(diameters))
        try contents.write(to: url)
        t = try timelines()
        let fresh = try XCTUnwrap(t.timeline(of: "P1").timeline)
        XCTAssertEqual(fresh.source, StoreResponseTimelines.staleSource)
        XCTAssertEqual(fresh.lesions[1].point(at: 60)?.diameterMM, 19)
        XCTAssertEqual(fresh.lesions[1].point(at: 60)?.category, "SD")
        XCTAssertEqual(t.timeline(of: "P4").timeline?.source, StoreResponseTimelines.storedSource)
    }
}

import XCTest
import Foundation
import FeatureStore
import ImagingCore
import Cohort
import TestSupport
@testable import Pipeline

/// `lesionmap response` on stores built in the test (one /lesions row per lesion and time point, with the
/// diameters the extraction records).
final class ResponseStoreTests: XCTestCase {
    /// (patient, lesion, timepoint, location, irradiated, long axis, short axis)
    typealias Row = (String, String, Double, String, Bool, Double, Double)

    func store(_ rows: [Row], in dir: URL, patients: [String]) throws -> URL {
        var lesions = Table()
        try lesions.append("patient_id", .text(rows.map(\.0)))
        try lesions.append("lesion_id", .text(rows.map(\.1)))
        try lesions.append("timepoint", .number(rows.map(\.2)))
        try lesions.append("location", .text(rows.map(\.3)))
        try lesions.append("irradiated", .number(rows.map { $0.4 ? 1 : 0 }))
        try lesions.append("volume_ml", .number(rows.map { $0.5 * $0.5 * $0.5 / 2000 }))
        try lesions.append("spacing_z", .number(rows.map { _ in 2 }))
        try lesions.append("kvp", .number(rows.map { _ in 120 }))
        try lesions.append("diameter_mm", .number(rows.map(\.5)))
        try lesions.append("short_axis_mm", .number(rows.map(\.6)))
        var p = Table()
        try p.append("patient_id", .text(patients))
        try p.append("best_response", .text(patients.map { _ in "SD" }))
        try p.append("abscopal_response", .number(patients.map { _ in 0 }))
        let contents = StoreContents(attributes: StoreAttributes(settingsJSON: "{}"), patients: p, lesions: lesions)
        let url = dir.appendingPathComponent("response.h5")
        try contents.write(to: url)
        return url
    }

    let rows: [Row] = [
        // P1: irradiated lung lesion shrinks, out-of-field liver lesion -40%, node to 9 mm short axis;
        // follow-ups at 60 and 120 days; at 120 a new lesion appears.
        ("P1", "L1", 0, "lung", true, 30, 20), ("P1", "L2", 0, "liver", false, 20, 12),
        ("P1", "N1", 0, "lymph_node", false, 24, 16),
        ("P1", "L1", 60, "lung", true, 15, 10), ("P1", "L2", 60, "liver", false, 12, 8),
        ("P1", "N1", 60, "lymph_node", false, 14, 9),
        ("P1", "L1", 120, "lung", true, 15, 10), ("P1", "L2", 120, "liver", false, 12, 8),
        ("P1", "N1", 120, "lymph_node", false, 14, 9), ("P1", "X1", 120, "bone", false, 14, 9),
        // P2: baseline only.
        ("P2", "A", 0, "lung", false, 25, 15),
        // P3: follow-up without baseline: reported, the others go on.
        ("P3", "B", 60, "lung", false, 25, 15),
        // P4: one lesion disappears (no row at 90), the other is stable.
        ("P4", "C", 0, "liver", false, 40, 30), ("P4", "D", 0, "lung", false, 20, 10),
        ("P4", "D", 90, "lung", false, 21, 10),
    ]

    func testResponseTablesAndCSVs() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let url = try store(rows, in: dir, patients: ["P1", "P2", "P3", "P4"])
        let lesionsCSV = dir.appendingPathComponent("out/lesions.csv"), patientsCSV = dir.appendingPathComponent("out/patients.csv")
        let o = try CohortResponse.run(store: url, lesionsCSV: lesionsCSV, patientsCSV: patientsCSV)
        XCTAssertEqual(o.assessed, 3)
        XCTAssertEqual(o.problems.count, 1)
        XCTAssertTrue(o.problems[0].contains("patient P3") && o.problems[0].contains("without a baseline"), o.problems[0])

        let contents = try StoreContents.read(from: url)
        let lt = try XCTUnwrap(contents.tables[CohortResponse.lesionsPath]?.table)
        let pt = try XCTUnwrap(contents.tables[CohortResponse.patientsPath]?.table)
        for c in ["patient_id", "lesion_id", "timepoint", "diameter_mm", "volume_ml", "diameter_change_pct", "category",
                  "short_axis_mm", "diameter_change_from_nadir_pct", "volume_change_pct", "is_target", "is_new", "irradiated"] {
            XCTAssertTrue(lt.columnNames.contains(c), c)
        }
        for c in ["patient_id", "timepoint", "sum_diameters_mm", "recist", "abscopal_any_lesion", "abscopal_recist",
                  "dissociated", "pseudoprogression", "hyperprogression"] {
            XCTAssertTrue(pt.columnNames.contains(c), c)
        }
        // P1 at 60: targets L1 30 + L2 20 + N1 16 (short axis) = 66 -> 15 + 12 + 9 = 36 (-45%): PR (the node is
        // below 10 mm but the lung and liver lesions remain). At 120 the new bone lesion X1 makes it PD.
        let pids = try pt.texts("patient_id"), recist = try pt.texts("recist"), sums = try pt.numbers("sum_diameters_mm")
        let p1 = pids.indices.filter { pids[$0] == "P1" }
        XCTAssertEqual(p1.map { recist[$0] }, ["PR", "PD"])
        XCTAssertEqual(sums[p1[0]], 36)
        // Abscopal: out of field L2 20 -> 12 (-40%) and N1 16 -> 9: any-lesion yes; RECIST on L2 + N1: 36 -> 21
        // (-41.7%) PR, then PD with the new lesion at 120.
        let anyLesion = try pt.numbers("abscopal_any_lesion"), absRecist = try pt.numbers("abscopal_recist")
        XCTAssertEqual(p1.map { anyLesion[$0] }, [1, 1])
        XCTAssertEqual(p1.map { absRecist[$0] }, [1, 0])
        XCTAssertEqual(o.abscopalDisagreements, 1)
        XCTAssertEqual(o.patientsDisagreeing, ["P1"])
        // P4: C has no row at 90: present 0, CR; D 20 -> 21: SD; targets 60 -> 21: PR.
        let lp = try lt.texts("patient_id"), ll = try lt.texts("lesion_id"), ltp = try lt.numbers("timepoint")
        let cats = try lt.texts("category"), present = try lt.numbers("present")
        let c90 = try XCTUnwrap(lp.indices.first { lp[$0] == "P4" && ll[$0] == "C" && ltp[$0] == 90 })
        XCTAssertEqual(cats[c90], "CR")
        XCTAssertEqual(present[c90], 0)
        XCTAssertEqual(recist[try XCTUnwrap(pids.firstIndex(of: "P4"))], "PR")
        // New lesion row.
        let x = try XCTUnwrap(lp.indices.first { ll[$0] == "X1" })
        XCTAssertEqual(cats[x], "NEW")
        XCTAssertEqual(try lt.numbers("is_new")[x], 1)
        // P2 (baseline only) has lesion rows but no follow-up rows.
        XCTAssertTrue(lp.contains("P2"))
        XCTAssertFalse(pids.contains("P2"))

        // CSVs: the columns first, flags as 1/0/empty.
        let lcsv = try String(contentsOf: lesionsCSV, encoding: .utf8)
        XCTAssertTrue(lcsv.hasPrefix("patient_id,lesion_id,timepoint,diameter_mm,short_axis_mm,recist_diameter_mm,volume_ml,diameter_change_pct,"), lcsv)
        let pcsv = try String(contentsOf: patientsCSV, encoding: .utf8).split(separator: "\n")
        XCTAssertTrue(pcsv[0].hasPrefix("patient_id,timepoint,sum_diameters_mm,"))
        XCTAssertTrue(pcsv[0].contains("recist") && pcsv[0].contains("abscopal_any_lesion,abscopal_recist"))
        XCTAssertEqual(pcsv.count, 1 + pt.rowCount)
        XCTAssertTrue(pcsv[1].hasPrefix("P1,60,36,"), String(pcsv[1]))
    }

    func testDerivedEndpointsForValidationAndComparison() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let url = try store(rows.filter { $0.0 != "P3" }, in: dir, patients: ["P1", "P2", "P4"])
        let contents = try StoreContents.read(from: url)
        // Per store row: baseline rows get the category at the first follow-up (CR/PR = 1).
        let labels = try CohortResponse.lesionResponseLabels(contents)
        XCTAssertEqual(labels.count, contents.lesions.rowCount)
        let ids = try contents.lesions.texts("lesion_id"), times = try contents.lesions.numbers("timepoint")
        func label(_ id: String) -> Double { labels[ids.indices.first { ids[$0] == id && times[$0] == 0 }!] }
        XCTAssertEqual(label("L1"), 1)   // 30 -> 15: PR
        XCTAssertEqual(label("N1"), 1)   // 16 -> 9 mm short axis: CR
        XCTAssertEqual(label("D"), 0)    // 20 -> 21: SD
        XCTAssertEqual(label("C"), 1)    // disappeared: CR
        XCTAssertTrue(label("A").isNaN)  // P2 has no follow-up
        XCTAssertTrue(labels[ids.indices.first { times[$0] == 60 }!].isNaN, "follow-up rows carry no label")

        let patients = try CohortResponse.patientsWithDerivedEndpoints(contents)
        XCTAssertEqual(try patients.texts("best_response"), ["PR", "", "PR"])
        let abscopal = try patients.numbers("abscopal_response")
        XCTAssertEqual(abscopal[0], 1)
        XCTAssertTrue(abscopal[1].isNaN && abscopal[2].isNaN, "no irradiated lesion: not evaluable")
    }

    func testStoreWithoutDiametersIsRefusedClearly() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        var lesions = Table()
        try lesions.append("patient_id", .text(["P1"]))
        try lesions.append("lesion_id", .text(["L1"]))
        try lesions.append("location", .text(["lung"]))
        try lesions.append("irradiated", .number([0]))
        try lesions.append("volume_ml", .number([1]))
        let url = dir.appendingPathComponent("old.h5")
        try StoreContents(attributes: StoreAttributes(settingsJSON: "{}"), lesions: lesions).write(to: url)
        XCTAssertThrowsError(try CohortResponse.run(store: url)) { e in
            XCTAssertTrue("\(e)".contains("diameter_mm") && "\(e)".contains("lesionmap extract"), "\(e)")
        }
    }

    /// `extract` records diameter_mm and short_axis_mm per lesion row. Checked against a brute force written
    /// here: the largest distance between the middles of any two in-plane boundary voxel faces of a slice (faces
    /// between a voxel of the lesion and one outside; no hull: the middles of a row's or column's end faces span it,
    /// and every other boundary face lies between them), over the slices
    /// (the synthetic grids are axial, identity direction).
    func testExtractionRecordsDiametersCheckedByBruteForce() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let folder = try smallCohort(dir, patients: 2)
        let cohort = try CohortManifest.load(folder)
        let url = dir.appendingPathComponent("s.h5")
        _ = try CohortExtraction.run(cohort: cohort, store: url, settings: testSettings)
        let contents = try StoreContents.read(from: url)
        let long = try contents.lesions.numbers("diameter_mm"), short = try contents.lesions.numbers("short_axis_mm")
        var row = 0
        for entry in cohort.patients {
            let patient = try PatientLoader().load(entry, relativeTo: cohort.folder)
            for lesion in patient.lesions {
                let g = lesion.mask.grid
                XCTAssertEqual(g.direction, .identity)
                var best = 0.0
                for k in 0..<g.size.nz {
                    var faces: [(Double, Double)] = []
                    func inside(_ i: Int, _ j: Int) -> Bool { g.contains(i, j, k) && lesion.mask[i, j, k] }
                    for j in 0..<g.size.ny { for i in 0..<g.size.nx where inside(i, j) {
                        for (di, dj) in [(-1, 0), (1, 0), (0, -1), (0, 1)] where !inside(i + di, j + dj) {
                            faces.append(((Double(i) + 0.5 * Double(di)) * g.spacing.x, (Double(j) + 0.5 * Double(dj)) * g.spacing.y))
                        }
                    } }
                    for a in faces.indices { for b in a..<faces.count {
                        let dx = faces[a].0 - faces[b].0, dy = faces[a].1 - faces[b].1
                        best = max(best, (dx * dx + dy * dy).squareRoot())
                    } }
                }
                XCTAssertEqual(long[row], best, accuracy: 1e-9, "\(entry.id) \(lesion.id)")
                XCTAssertGreaterThan(short[row], 0)
                XCTAssertLessThanOrEqual(short[row], long[row] + 1e-9)
                row += 1
            }
        }
        XCTAssertEqual(row, contents.lesions.rowCount)
        // A baseline-only store: lesion rows, no follow-up rows, nothing refused.
        let o = try CohortResponse.run(store: url)
        XCTAssertEqual(o.patients.rowCount, 0)
        XCTAssertEqual(o.lesions.rowCount, contents.lesions.rowCount)
        XCTAssertTrue(o.problems.isEmpty, "\(o.problems)")
    }


    /// validate-lesions --response-from-followup: baseline lesions labelled by their category at the first
    /// follow-up; follow-up rows carry no label.
    func testLesionLevelValidationOnFollowUpResponse() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let kept = rows.filter { $0.0 != "P3" }
        let url = try store(kept, in: dir, patients: ["P1", "P2", "P4"])
        var contents = try StoreContents.read(from: url)
        var scores = Table()
        try scores.append("patient_id", .text(kept.map(\.0)))
        try scores.append("lesion_id", .text(kept.map(\.1)))
        try scores.append("score", .number(kept.indices.map { Double($0) }))
        contents.tables["scores/s"] = StoreTable(table: scores)
        try contents.write(to: url)
        let result = try LesionLevelValidation.run(store: url, signatureName: "s", label: .followUpResponse)
        let all = try XCTUnwrap(result.first { $0.group == "all" })
        // Labelled: P1 L1 (PR), L2 (PR), N1 (CR); P4 C (CR, disappeared), D (SD). P2 has no follow-up.
        XCTAssertEqual(all.n, 5)
        XCTAssertEqual(all.positives, 4)
        // Scores are the row numbers: L1 0, L2 1, N1 2, C 11, D 12 -> the one non-responder scores highest: AUC 0.
        XCTAssertEqual(try XCTUnwrap(all.auc).value, 0, accuracy: 1e-12)
        XCTAssertNotNil(try StoreContents.read(from: url).tables["validation/s/followup_response"])
    }

}

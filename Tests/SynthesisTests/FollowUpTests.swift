import Foundation
import ImageIO
import ImagingCore
import Synthesis
import TestSupport
import XCTest

/// `lesionmap synth --timepoints N`: follow-up scans, ids, measured sizes against the truth files, categories.
final class FollowUpTests: XCTestCase {
    /// 3 x 3 x 6 mm voxels: coarse enough for a fast test, fine enough to measure lesions of 8 mm and more.
    static let grid = [88, 72, 32]

    /// Longest axial diameter of one label, measured independently of the generator: in every axial slice, the
    /// largest distance between the centres of two voxels of the label (world mm); the largest over slices.
    private func measuredDiameter(_ mask: LabelMap, label: Int32) -> Double {
        let g = mask.grid
        var best = 0.0
        for k in 0..<g.size.nz {
            var pts = [(Double, Double)]()
            for j in 0..<g.size.ny {
                for i in 0..<g.size.nx where mask.voxels[g.linearIndex(i, j, k)] == label {
                    pts.append((Double(i) * g.spacing.x, Double(j) * g.spacing.y))
                }
            }
            for a in pts.indices {
                for b in a..<pts.count {
                    let dx = pts[a].0 - pts[b].0, dy = pts[a].1 - pts[b].1
                    best = max(best, (dx * dx + dy * dy).squareRoot())
                }
            }
        }
        return best
    }

    /// Centroid (world mm) of a label's voxels.
    private func centroid(_ mask: LabelMap, label: Int32) -> Vector3 {
        let g = mask.grid
        var s = Vector3.zero, n = 0.0
        for k in 0..<g.size.nz {
            for j in 0..<g.size.ny {
                for i in 0..<g.size.nx where mask.voxels[g.linearIndex(i, j, k)] == label {
                    s = s + g.world(at: Index3(i, j, k)); n += 1
                }
            }
        }
        return (1 / max(n, 1)) * s
    }

    func testFollowUpScansIdsDiametersAndCategories() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let options = SynthesisOptions(patients: 12, seed: 3, gridSize: Self.grid, timepoints: 2)
        let summary = try SyntheticCohort.generate(options, into: dir)
        let lesions = try readCSV(dir.appendingPathComponent("lesions.csv"))
        let truth = try readCSV(dir.appendingPathComponent("truth_followup.csv"))
        let patientTruth = try readCSV(dir.appendingPathComponent("truth_followup_patients.csv"))
        let baselineTruth = try readCSV(dir.appendingPathComponent("truth.csv"))
        XCTAssertEqual(baselineTruth.count, summary.lesions, "truth.csv stays the baseline truth")
        XCTAssertEqual(Set(lesions.map { $0["timepoint"]! }), ["0", "60", "120"])
        XCTAssertEqual(patientTruth.count, 12 * 3)

        // Every manifest row is a present truth row with the same location and irradiation, and vice versa.
        let key = { (r: [String: String]) in "\(r["patient_id"]!)/\(r["lesion_id"]!)/\(r["timepoint"]!)" }
        let truthByKey = Dictionary(uniqueKeysWithValues: truth.map { (key($0), $0) })
        XCTAssertEqual(Set(lesions.map(key)), Set(truth.filter { $0["present"] == "1" }.map(key)))
        for row in lesions {
            let t = try XCTUnwrap(truthByKey[key(row)])
            XCTAssertEqual(row["location"], t["location"])
            XCTAssertEqual(row["irradiated"], t["irradiated"])
        }
        // Ids: the same lesion keeps its id, label, site and irradiation at every time point; baseline ids at
        // follow-up exist at baseline unless the lesion is new.
        for pid in Set(lesions.map { $0["patient_id"]! }) {
            let rows = lesions.filter { $0["patient_id"] == pid }
            let baseline = Dictionary(uniqueKeysWithValues: rows.filter { $0["timepoint"] == "0" }.map { ($0["lesion_id"]!, $0) })
            for r in rows where r["timepoint"] != "0" {
                let isNew = truthByKey[key(r)]!["new"] == "1"
                if let b = baseline[r["lesion_id"]!] {
                    XCTAssertFalse(isNew)
                    XCTAssertEqual(b["roi"], r["roi"])
                    XCTAssertEqual(b["location"], r["location"])
                    XCTAssertEqual(b["irradiated"], r["irradiated"])
                    XCTAssertEqual(r["lesion_response"], "")
                } else {
                    XCTAssertTrue(isNew, "\(key(r)) has no baseline row but is not new")
                }
                XCTAssertEqual(r["image"], "images/\(pid)_ct_d\(r["timepoint"] == "60" ? "060" : "120").nii.gz")
            }
        }

        // Diameters measured on the written masks agree with the truth within one voxel diagonal; lesion
        // centroids sit at the truth centre (the patient shift is applied to the image).
        let sp = options.grid.spacing
        let diagonal = (sp.x * sp.x + sp.y * sp.y + sp.z * sp.z).squareRoot()
        let inPlaneDiagonal = (sp.x * sp.x + sp.y * sp.y).squareRoot()
        var worst = 0.0, within = 0, total = 0
        var maskCache = [String: LabelMap]()
        for row in lesions {
            let path = row["mask"]!
            let mask = try maskCache[path] ?? NIfTI.readLabelMap(dir.appendingPathComponent(path))
            maskCache[path] = mask
            let t = truthByKey[key(row)]!
            let trueD = Double(t["diameter_mm"]!)!
            let d = measuredDiameter(mask, label: Int32(row["roi"]!)!)
            worst = max(worst, abs(d - trueD))
            total += 1
            if abs(d - trueD) <= inPlaneDiagonal { within += 1 }
            XCTAssertEqual(d, trueD, accuracy: diagonal, "\(key(row)) diameter")
            let c = centroid(mask, label: Int32(row["roi"]!)!)
            let tc = Vector3(Double(t["center_x_mm"]!)!, Double(t["center_y_mm"]!)!, Double(t["center_z_mm"]!)!)
            XCTAssertLessThan((c - tc).length, max(sp.z, 0.35 * trueD), "\(key(row)) centroid vs truth centre")
        }
        print("follow-up diameters: \(total) lesion scans, worst |mask - truth| = \(String(format: "%.2f", worst)) mm, "
              + "\(within) within the in-plane diagonal \(String(format: "%.2f", inPlaneDiagonal)) mm, all within "
              + "\(String(format: "%.2f", diagonal)) mm")

        // Categories: all of CR, PR, SD, PD and NEW occur; vanished lesions are CR; percent changes match the
        // truth diameters.
        let categories = truth.filter { $0["timepoint"] != "0" }.map { $0["category"]! }
        var counts = [String: Int]()
        for c in categories { counts[c, default: 0] += 1 }
        print("follow-up categories: \(counts.sorted { $0.key < $1.key })")
        for c in ["CR", "PR", "SD", "PD", "NEW"] { XCTAssertGreaterThan(counts[c] ?? 0, 0, "no \(c) lesion") }
        for t in truth where t["present"] == "0" { XCTAssertEqual(t["category"], "CR") }
        let baselineDiameters = Dictionary(uniqueKeysWithValues: truth.filter { $0["timepoint"] == "0" }
            .map { ("\($0["patient_id"]!)/\($0["lesion_id"]!)", Double($0["diameter_mm"]!)!) })
        for t in truth where t["timepoint"] != "0" && t["new"] == "0" {
            let b = baselineDiameters["\(t["patient_id"]!)/\(t["lesion_id"]!)"]!
            guard b > 0 else { continue }
            // Both diameters are written with 2 decimals (±0.005 mm each).
            let d = Double(t["diameter_mm"]!)!
            XCTAssertEqual(Double(t["diameter_change_pct"]!)!, 100 * (d - b) / b, accuracy: 0.5 * (1 + d / b) / b + 0.006)
        }
        // Pseudoprogression: flagged lesions are larger at day 60 than at baseline and smaller at day 120 than at
        // day 60 (they swell, then shrink).
        let flagged = Set(truth.filter { $0["pseudoprogression"] == "1" }.map { "\($0["patient_id"]!)/\($0["lesion_id"]!)" })
        XCTAssertFalse(flagged.isEmpty, "no pseudoprogression in the cohort")
        for id in flagged {
            let scales = ["0", "60", "120"].map { tp in truthByKey["\(id)/\(tp)"].map { Double($0["scale"]!)! } }
            XCTAssertGreaterThan(scales[1]!, 1, id)
            if let later = scales[2], truthByKey["\(id)/120"]!["present"] == "1" { XCTAssertLessThan(later, scales[1]!, id) }
        }
        print("pseudoprogression: \(flagged.count) lesions")
        // Patient responses: every follow-up row has a RECIST response; both abscopal definitions are filled
        // where the patient has a non-irradiated lesion.
        let followUpRows = patientTruth.filter { $0["timepoint"] != "0" }
        XCTAssertTrue(followUpRows.allSatisfy { ["CR", "PR", "SD", "PD", "NON-CR/NON-PD", "NE"].contains($0["recist"]!) })
        XCTAssertTrue(followUpRows.contains { $0["abscopal_any_lesion"] == "1" })
        let disagree = followUpRows.filter { !$0["abscopal_recist"]!.isEmpty && $0["abscopal_any_lesion"] != $0["abscopal_recist"] }
        print("abscopal definitions disagree at \(disagree.count) of \(followUpRows.count) patient follow-ups")
        // Shifts stay within 8 mm per axis and are not all zero.
        let shifts = followUpRows.flatMap { r in ["shift_x_mm", "shift_y_mm", "shift_z_mm"].map { Double(r[$0]!)! } }
        XCTAssertTrue(shifts.allSatisfy { abs($0) <= 8 })
        XCTAssertGreaterThan(shifts.map(abs).max()!, 2)
    }

    func testFollowUpCohortIsDeterministicBySeedAndBaselineUnchanged() throws {
        let root = try SharedData.temporaryDirectory(for: self)
        let small = [66, 54, 24]
        let options = SynthesisOptions(patients: 3, seed: 21, gridSize: small, timepoints: 1)
        try SyntheticCohort.generate(options, into: root.appendingPathComponent("a"))
        try SyntheticCohort.generate(options, into: root.appendingPathComponent("b"))
        var other = options
        other.seed = 22
        try SyntheticCohort.generate(other, into: root.appendingPathComponent("c"))
        let baselineOnly = SynthesisOptions(patients: 3, seed: 21, gridSize: small)
        try SyntheticCohort.generate(baselineOnly, into: root.appendingPathComponent("d"))
        let a = try files(in: root.appendingPathComponent("a"))
        let b = try files(in: root.appendingPathComponent("b"))
        let c = try files(in: root.appendingPathComponent("c"))
        let d = try files(in: root.appendingPathComponent("d"))
        XCTAssertEqual(a, b, "same seed, same files")
        XCTAssertNotEqual(a["truth_followup.csv"], c["truth_followup.csv"])
        XCTAssertTrue(a.keys.contains("images/SYN002_ct_d060.nii.gz"))
        XCTAssertTrue(a.keys.contains("masks/SYN003_lesions_d060.nii.gz"))
        // The baseline scans and baseline truth are those of the baseline-only cohort.
        for name in ["images/SYN001_ct.nii.gz", "masks/SYN003_lesions.nii.gz", "truth.csv", "patients.csv"] {
            XCTAssertEqual(a[name], d[name], name)
        }
        // A baseline-only record has no timepoints key (byte-identical to cohorts written before follow-ups).
        let record = String(decoding: d["synthesis.json"]!, as: UTF8.self)
        XCTAssertFalse(record.contains("timepoints"))
        XCTAssertTrue(String(decoding: a["synthesis.json"]!, as: UTF8.self).contains("\"timepoints\" : 1"))
        XCTAssertFalse(String(decoding: d["lesions.csv"]!, as: UTF8.self).contains("timepoint"))
        // Asking for the same cohort with other follow-ups in the same folder is refused.
        var more = options
        more.timepoints = 2
        XCTAssertThrowsError(try SyntheticCohort.generate(more, into: root.appendingPathComponent("a")))
        XCTAssertThrowsError(try SyntheticCohort.generate(SynthesisOptions(patients: 1, timepoints: 11),
                                                          into: root.appendingPathComponent("e")))
    }

    private func files(in dir: URL) throws -> [String: Data] {
        var out = [String: Data]()
        let fm = FileManager.default
        guard let walker = fm.enumerator(at: dir, includingPropertiesForKeys: [.isRegularFileKey]) else { return out }
        for case let url as URL in walker where (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true {
            out[String(url.path.dropFirst(dir.path.count + 1))] = try Data(contentsOf: url)
        }
        return out
    }

    // MARK: - The reference RECIST behind the truth files

    private func m(_ id: String, _ location: SyntheticLocation, long: Double, short: Double? = nil, present: Bool = true,
                   irradiated: Bool = false, new: Bool = false) -> SyntheticRECIST.Measurement {
        SyntheticRECIST.Measurement(lesionID: id, location: location, irradiated: irradiated, isNew: new,
                                    present: present, longAxis: long, shortAxis: short ?? 0.7 * long)
    }

    func testReferenceTargetSelection() {
        // At most 2 per site, 5 in all, largest first; small lesions and nodes under 15 mm short axis are not measurable.
        let baseline = [m("L01", .lung, long: 30), m("L02", .lung, long: 40), m("L03", .lung, long: 35),
                        m("L04", .liver, long: 9), m("L05", .lymphNode, long: 30, short: 14),
                        m("L06", .lymphNode, long: 20, short: 16), m("L07", .bone, long: 12), m("L08", .adrenal, long: 11),
                        m("L09", .softTissue, long: 25), m("L10", .liver, long: 50)]
        XCTAssertEqual(SyntheticRECIST.targets(baseline), ["L10", "L02", "L03", "L09", "L06"])
    }

    func testReferencePatientResponseUsesNadirAndFiveMillimetres() {
        let base = [m("L01", .lung, long: 12), m("L02", .liver, long: 12)]
        let series = [
            base,
            [m("L01", .lung, long: 9), m("L02", .liver, long: 9)],     // sum 18 vs 24: -25 %: SD
            [m("L01", .lung, long: 11), m("L02", .liver, long: 11)],   // 22 vs nadir 18: +22 % but +4 mm: SD
            [m("L01", .lung, long: 12), m("L02", .liver, long: 12)],   // 24 vs nadir 18: +33 %, +6 mm: PD
            [m("L01", .lung, long: 9), m("L02", .liver, long: 9), m("L11", .bone, long: 5, new: true)],
            [m("L01", .lung, long: 4), m("L02", .liver, long: 4)],     // 8 vs 24: -67 %: PR
        ]
        let a = SyntheticRECIST.assess(series)
        XCTAssertEqual(a.map(\.response), ["SD", "SD", "PD", "PD", "PR"])
        XCTAssertEqual(a.map(\.nadir), [24, 18, 18, 18, 18])
        XCTAssertEqual(a[3].newLesions, 1)
        // Per-lesion: +30 % and +6 mm against baseline is PD; +25 % but +2.5 mm is SD.
        XCTAssertEqual(SyntheticRECIST.lesionCategory(baseline: m("L01", .lung, long: 20), now: m("L01", .lung, long: 26)), "PD")
        XCTAssertEqual(SyntheticRECIST.lesionCategory(baseline: m("L01", .lung, long: 10), now: m("L01", .lung, long: 12.5)), "SD")
        XCTAssertEqual(SyntheticRECIST.lesionCategory(baseline: m("L01", .lung, long: 20), now: m("L01", .lung, long: 14)), "PR")
        XCTAssertEqual(SyntheticRECIST.lesionCategory(baseline: nil, now: m("L11", .bone, long: 5, new: true)), "NEW")
        // Progression per lesion is judged against its nadir: 20 -> 10 -> 15 is PD (+50 %, +5 mm), though only
        // -25 % from baseline; against the baseline it would be SD.
        XCTAssertEqual(SyntheticRECIST.lesionCategory(baseline: m("L01", .lung, long: 20), nadir: 10, now: m("L01", .lung, long: 15)), "PD")
        XCTAssertEqual(SyntheticRECIST.lesionCategory(baseline: m("L01", .lung, long: 20), now: m("L01", .lung, long: 15)), "SD")
        // Slices thicker than 5 mm: measurable from twice the thickness.
        XCTAssertEqual(SyntheticRECIST.targets([m("L01", .lung, long: 11), m("L02", .liver, long: 13)], sliceThickness: 6), ["L02"])
    }

    func testReferenceCompleteResponseAndLymphNodes() {
        let base = [m("L01", .lung, long: 20), m("L02", .lymphNode, long: 25, short: 18), m("L03", .liver, long: 6)]
        // Targets: L01 and the node (short axis 18); L03 (6 mm) is a non-target.
        let gone = [m("L01", .lung, long: 0, present: false), m("L02", .lymphNode, long: 12, short: 9),
                    m("L03", .liver, long: 0, present: false)]
        let nonTargetLeft = [m("L01", .lung, long: 0, present: false), m("L02", .lymphNode, long: 12, short: 9),
                             m("L03", .liver, long: 6)]
        XCTAssertEqual(SyntheticRECIST.assess([base, gone]).map(\.response), ["CR"])
        XCTAssertEqual(SyntheticRECIST.assess([base, nonTargetLeft]).map(\.response), ["PR"])
        // The node counts by its short axis (9 of 18: the sum 9 vs 38), and under 10 mm it is CR per lesion.
        XCTAssertEqual(SyntheticRECIST.assess([base, gone])[0].sum, 9)
        XCTAssertEqual(SyntheticRECIST.lesionCategory(baseline: base[1], now: gone[1]), "CR")
        XCTAssertEqual(SyntheticRECIST.lesionCategory(baseline: base[0], now: gone[0]), "CR")
        // Without targets: non-targets gone = CR, some left = NON-CR/NON-PD; a baseline node under 10 mm short
        // axis is normal and not followed.
        let small = [m("L01", .lung, long: 8), m("L02", .lymphNode, long: 12, short: 8)]
        XCTAssertEqual(SyntheticRECIST.assess([small, [m("L01", .lung, long: 7), m("L02", .lymphNode, long: 14, short: 11)]])
            .map(\.response), ["NON-CR/NON-PD"])
        XCTAssertEqual(SyntheticRECIST.assess([small, [m("L01", .lung, long: 0, present: false),
                                                       m("L02", .lymphNode, long: 14, short: 11)]]).map(\.response), ["CR"])
    }

    func testReferenceAbscopalDefinitionsCanDisagree() {
        // One irradiated lesion; two non-irradiated ones: one shrinks 40 %, the other grows 10 %:
        // "any lesion -30 %" says yes, RECIST on the non-irradiated targets (sum 50 -> 48.5) says SD.
        let base = [m("L01", .lung, long: 30, irradiated: true), m("L02", .liver, long: 20), m("L03", .lung, long: 30)]
        let now = [m("L01", .lung, long: 10, irradiated: true), m("L02", .liver, long: 12), m("L03", .lung, long: 36.5)]
        let r = SyntheticRECIST.abscopal([base, now])
        XCTAssertEqual(r[0].any, true)
        XCTAssertEqual(r[0].recist, false)
        XCTAssertEqual(r[0].category, "SD")
        // Every lesion irradiated: both undefined.
        let all = SyntheticRECIST.abscopal([[m("L01", .lung, long: 30, irradiated: true)], [m("L01", .lung, long: 10, irradiated: true)]])
        XCTAssertNil(all[0].any)
        XCTAssertNil(all[0].recist)
    }
}

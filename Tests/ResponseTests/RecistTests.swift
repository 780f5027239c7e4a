import XCTest
@testable import Response

/// RECIST 1.1 (Eisenhauer et al. 2009), iRECIST (Seymour et al. 2017), hyperprogression (Champiat et al. 2017)
/// and abscopal response (both definitions of Sun et al. 2022) on hand-made lesion histories.
final class RecistTests: XCTestCase {
    /// A lesion with a long axis (or, for nodes, a short axis) per time point; nil entries are omitted.
    func lesion(_ id: String, _ organ: String, _ sizes: [Double: Double], node: Bool = false, irradiated: Bool = false,
                slice: Double? = nil) -> TrackedLesion {
        var m: [Double: LesionMeasurement] = [:]
        for (t, d) in sizes {
            m[t] = node ? LesionMeasurement(longAxisMM: d * 1.5, shortAxisMM: d, volumeML: d * d * d / 1000)
                : LesionMeasurement(longAxisMM: d, shortAxisMM: d / 2, volumeML: d * d * d / 2000)
        }
        return TrackedLesion(lesionID: id, organ: organ, isLymphNode: node, irradiated: irradiated,
                             sliceThicknessMM: slice, measurements: m)
    }

    func assess(_ lesions: [TrackedLesion], nonTargetPD: Set<Double> = []) throws -> PatientAssessment {
        try ResponseAssessment.assess(PatientTimeline(patientID: "P1", lesions: lesions, nonTargetProgression: nonTargetPD))
    }

    // MARK: baseline roles and target selection

    func testTargetSelectionAtMostFiveAndTwoPerOrganLargestFirst() {
        let ls = [
            lesion("L1", "lung", [0: 30]), lesion("L2", "lung", [0: 25]), lesion("L3", "lung", [0: 40]),
            lesion("H1", "liver", [0: 12]), lesion("H2", "liver", [0: 12]), lesion("H3", "liver", [0: 12]),
            lesion("N1", "lymph_node", [0: 16], node: true), lesion("N2", "lymph_node", [0: 12], node: true),
            lesion("N3", "lymph_node", [0: 8], node: true),
            lesion("B1", "bone", [0: 9]), lesion("A1", "adrenal", [0: 11]),
        ]
        let roles = RecistRules.roles(ls)
        // Largest first: L3 40, L1 30, (L2 25: third lung, skipped), N1 16, H1 12, H2 12 (H1/H2/H3 tie: by id)
        // -> 5 targets; H3 and A1 measurable but beyond the limits.
        let targets = ls.map(\.lesionID).filter { roles[$0] == .target }
        XCTAssertEqual(Set(targets), ["L3", "L1", "N1", "H1", "H2"])
        XCTAssertEqual(roles["L2"], .nonTarget)
        XCTAssertEqual(roles["H3"], .nonTarget)
        XCTAssertEqual(roles["A1"], .nonTarget)
        XCTAssertEqual(roles["N2"], .nonTarget, "10-15 mm short axis: pathological, non-target")
        XCTAssertEqual(roles["N3"], .normalNode, "< 10 mm short axis: normal")
        XCTAssertEqual(roles["B1"], .nonTarget, "< 10 mm: non-measurable")
    }

    func testMeasurableThresholds() {
        let table: [(TrackedLesion, BaselineRole, Bool)] = [
            (lesion("a", "lung", [0: 10]), .nonTarget, true),
            (lesion("b", "lung", [0: 9.99]), .nonTarget, false),
            (lesion("c", "lung", [0: 11], slice: 6), .nonTarget, false),  // 6 mm slices: 12 mm minimum
            (lesion("d", "lung", [0: 12], slice: 6), .nonTarget, true),
            (lesion("e", "lymph_node", [0: 15], node: true), .nonTarget, true),
            (lesion("f", "lymph_node", [0: 14.9], node: true), .nonTarget, false),
            (lesion("g", "lymph_node", [0: 10], node: true), .nonTarget, false),
            (lesion("h", "lymph_node", [0: 9.9], node: true), .normalNode, false),
            (lesion("i", "lung", [30: 12]), .new, false),
        ]
        for (l, role, measurable) in table {
            let r = RecistRules.baselineRole(l)
            XCTAssertEqual(r.role, role, l.lesionID)
            XCTAssertEqual(r.measurable, measurable, l.lesionID)
        }
    }

    // MARK: per-lesion categories

    func testLesionCategoryTable() {
        // (now, baseline, nadir, node, expected)
        let table: [(Double, Double, Double, Bool, LesionCategory)] = [
            (0, 20, 20, false, .complete),
            (14, 20, 20, false, .partial),       // -30% exactly
            (14.1, 20, 20, false, .stable),
            (24, 20, 20, false, .stable),        // +20% but +4 mm
            (25, 20, 20, false, .progressive),   // +25%, +5 mm
            (15, 20, 10, false, .progressive),   // from nadir 10: +50%, +5 mm
            (14, 20, 10, false, .partial),       // +40% but +4 mm from nadir: not PD; -30% from baseline: PR
            (9.9, 16, 16, true, .complete),      // node < 10 mm
            (10, 16, 16, true, .partial),        // node 10 mm: not CR; -37.5%
            (9, 9.5, 9.5, true, .stable),        // normal node at baseline never "CR" by the 10 mm rule
            (0, 9.5, 9.5, true, .complete),      // ... but gone (no contour) is gone
            (6, 30, 0, false, .progressive),     // reappeared after disappearing
        ]
        for (now, base, nadir, node, expected) in table {
            XCTAssertEqual(RecistRules.lesionCategory(now: now, baseline: base, nadir: nadir, isLymphNode: node), expected,
                           "now \(now) baseline \(base) nadir \(nadir) node \(node)")
        }
    }

    // MARK: patient RECIST 1.1

    func testPartialResponseThenProgressionFromNadir() throws {
        // Targets L1 30 + L2 20 = 50 at baseline.
        let a = try assess([lesion("L1", "lung", [0: 30, 60: 18, 120: 21, 180: 22]),
                            lesion("L2", "liver", [0: 20, 60: 12, 120: 14, 180: 14])])
        let sums = a.timepoints.map(\.sumDiametersMM)
        XCTAssertEqual(sums, [30, 35, 36])
        // 30 <= 35 (-40%): PR. 35 vs nadir 30: +16.7% -> not PD; 35 <= 0.7 * 50 -> PR. 36 vs nadir 30: +20%, +6 mm -> PD.
        XCTAssertEqual(a.timepoints.map(\.recist), [.partial, .partial, .progressive])
        XCTAssertEqual(a.timepoints[2].changeFromNadirPct, 20, accuracy: 1e-9)
        XCTAssertEqual(a.timepoints[0].changeFromBaselinePct, -40, accuracy: 1e-9)
    }

    func testFiveMillimetreAbsoluteIncrease() throws {
        // Baseline sum 20 (nadir): 24.5 is +22.5% but +4.5 mm -> SD; 25 is +25% and +5 mm -> PD.
        let a = try assess([lesion("L1", "lung", [0: 20, 60: 24.5])])
        XCTAssertEqual(a.timepoints[0].recist, .stable)
        let b = try assess([lesion("L1", "lung", [0: 20, 60: 25])])
        XCTAssertEqual(b.timepoints[0].recist, .progressive)
    }

    func testLymphNodeBelowTenMillimetresCountsAsComplete() throws {
        // Lung target disappears (no contour at follow-up) and the node target shrinks to 9 mm short axis: CR,
        // although the sum of diameters is 9 mm, not 0.
        let a = try assess([lesion("L1", "lung", [0: 20]), lesion("N1", "lymph_node", [0: 16, 60: 9], node: true)])
        XCTAssertEqual(a.timepoints[0].sumDiametersMM, 9)
        XCTAssertEqual(a.timepoints[0].target, .complete)
        XCTAssertEqual(a.timepoints[0].recist, .complete)
        // The disappeared lesion has a row: not present, 0 mm, CR.
        let gone = try XCTUnwrap(a.lesions.first { $0.lesionID == "L1" && $0.timepoint == 60 })
        XCTAssertFalse(gone.present)
        XCTAssertEqual(gone.category, .complete)
        XCTAssertEqual(gone.changeFromBaselinePct, -100)
        // A node at 10 mm is not CR: 10 / 36 -> PR.
        let b = try assess([lesion("L1", "lung", [0: 20]), lesion("N1", "lymph_node", [0: 16, 60: 10], node: true)])
        XCTAssertEqual(b.timepoints[0].recist, .partial)
    }

    func testNewLesionIsProgressionWhateverTheTargetsDo() throws {
        let a = try assess([lesion("L1", "lung", [0: 30, 60: 10]), lesion("N9", "liver", [60: 6])])
        XCTAssertEqual(a.timepoints[0].target, .partial)
        XCTAssertEqual(a.timepoints[0].newLesions, ["N9"])
        XCTAssertEqual(a.timepoints[0].recist, .progressive)
        XCTAssertEqual(a.lesions.first { $0.lesionID == "N9" }?.category, .new)
        // A new lymph node below 10 mm short axis is a normal node, not a new lesion.
        let b = try assess([lesion("L1", "lung", [0: 30, 60: 10]), lesion("N8", "lymph_node", [60: 8], node: true)])
        XCTAssertEqual(b.timepoints[0].recist, .partial)
    }

    func testOverallResponseTables() {
        typealias R = OverallResponse
        // (target, non-target, new, non-target PD) -> overall; RECIST 1.1 tables 1 and 2.
        let table: [(R?, R?, Bool, Bool, R)] = [
            (.complete, .complete, false, false, .complete),
            (.complete, nil, false, false, .complete),
            (.complete, .nonCRNonPD, false, false, .partial),
            (.partial, .nonCRNonPD, false, false, .partial),
            (.stable, .nonCRNonPD, false, false, .stable),
            (.stable, nil, false, true, .progressive),
            (.partial, nil, true, false, .progressive),
            (.progressive, .complete, false, false, .progressive),
            (nil, .complete, false, false, .complete),
            (nil, .nonCRNonPD, false, false, .nonCRNonPD),
            (nil, .nonCRNonPD, true, false, .progressive),
            (nil, nil, false, false, .notEvaluable),
        ]
        for (t, nt, new, ntpd, want) in table {
            XCTAssertEqual(RecistRules.overall(target: t, nonTarget: nt, newLesions: new, nonTargetProgression: ntpd), want,
                           "\(String(describing: t)) \(String(describing: nt)) new \(new) ntpd \(ntpd)")
        }
    }

    func testNonTargetStatusAndUnequivocalProgression() throws {
        // Target L1, non-target B1 (8 mm, non-measurable). B1 still there -> PR (target CR, non-target non-CR).
        let a = try assess([lesion("L1", "lung", [0: 20, 60: 0]), lesion("B1", "bone", [0: 8, 60: 8])])
        XCTAssertEqual(a.timepoints[0].nonTarget, .nonCRNonPD)
        XCTAssertEqual(a.timepoints[0].recist, .partial)
        // Reader-judged non-target progression overrides.
        let b = try assess([lesion("L1", "lung", [0: 20, 60: 19]), lesion("B1", "bone", [0: 8, 60: 8])], nonTargetPD: [60])
        XCTAssertEqual(b.timepoints[0].recist, .progressive)
    }

    func testFollowUpWithoutBaselineIsRefusedNamingThePatient() {
        XCTAssertThrowsError(try assess([lesion("L1", "lung", [60: 20, 120: 22])])) { e in
            XCTAssertEqual(e as? ResponseError, .noBaseline(patient: "P1", timepoints: [60, 120]))
            XCTAssertTrue("\(e)".contains("patient P1"))
            XCTAssertTrue("\(e)".contains("60, 120"))
        }
    }

    // MARK: immune patterns

    func testDissociatedResponse() throws {
        let a = try assess([lesion("L1", "lung", [0: 30, 60: 15]), lesion("L2", "liver", [0: 20, 60: 30])])
        XCTAssertEqual(a.lesions.filter { $0.timepoint == 60 }.compactMap(\.category), [.partial, .progressive])
        XCTAssertTrue(a.timepoints[0].dissociated)
        let b = try assess([lesion("L1", "lung", [0: 30, 60: 15]), lesion("L2", "liver", [0: 20, 60: 19])])
        XCTAssertFalse(b.timepoints[0].dissociated)
        // A new lesion with a responding one is dissociated too.
        let c = try assess([lesion("L1", "lung", [0: 30, 60: 15]), lesion("X", "liver", [60: 12])])
        XCTAssertTrue(c.timepoints[0].dissociated)
    }

    func testPseudoprogressionAndConfirmedProgression() throws {
        // PD (+40%) then PR: iUPD then iPR, a pseudoprogression candidate.
        let a = try assess([lesion("L1", "lung", [0: 25, 60: 35, 120: 15])])
        XCTAssertEqual(a.timepoints.map(\.recist), [.progressive, .partial])
        XCTAssertEqual(a.timepoints.map(\.irecist), ["iUPD", "iPR"])
        XCTAssertEqual(a.timepoints.map(\.pseudoprogression), [false, true])
        // PD then a further 5 mm: iCPD (and stays iCPD).
        let b = try assess([lesion("L1", "lung", [0: 25, 60: 35, 120: 40, 180: 20])])
        XCTAssertEqual(b.timepoints.map(\.irecist), ["iUPD", "iCPD", "iCPD"])
        // PD then PD without a further 5 mm: still unconfirmed.
        let c = try assess([lesion("L1", "lung", [0: 25, 60: 35, 120: 38])])
        XCTAssertEqual(c.timepoints.map(\.irecist), ["iUPD", "iUPD"])
        // iUPD by a new lesion, then another new lesion: confirmed.
        let d = try assess([lesion("L1", "lung", [0: 25, 60: 25, 120: 25]), lesion("X1", "liver", [60: 12, 120: 12]),
                            lesion("X2", "bone", [120: 11])])
        XCTAssertEqual(d.timepoints.map(\.irecist), ["iUPD", "iCPD"])
    }

    func testTumourGrowthRate() {
        // D doubles in one month: TG = 3 ln 2, TGR = 100 (2^3 - 1) = 700 % per month.
        XCTAssertEqual(ResponseAssessment.tumourGrowthRate(from: 10, at: 0, to: 20, at: 30.4375), 700, accuracy: 1e-9)
        XCTAssertEqual(ResponseAssessment.tumourGrowthRate(from: 10, at: 0, to: 10, at: 60), 0, accuracy: 1e-12)
        XCTAssertTrue(ResponseAssessment.tumourGrowthRate(from: 0, at: 0, to: 10, at: 60).isNaN)
    }

    func testHyperprogressionByGrowthRateRatio() throws {
        // Pre-baseline 20 mm at -61 days (2.004 months), baseline 22, follow-up 40 at +61 days.
        let a = try assess([lesion("L1", "lung", [-61: 20, 0: 22, 61: 40])])
        let t = a.timepoints[0]
        let months = 61 / 30.4375
        let pre = 100 * (exp(3 * log(22.0 / 20) / months) - 1)    // 15.3 %/month
        let post = 100 * (exp(3 * log(40.0 / 22) / months) - 1)   // 144.6 %/month
        XCTAssertEqual(t.tgrPre, pre, accuracy: 1e-9)
        XCTAssertEqual(t.tgrPost, post, accuracy: 1e-9)
        XCTAssertEqual(t.tgrRatio, post / pre, accuracy: 1e-9)
        XCTAssertEqual(t.recist, .progressive)
        XCTAssertEqual(t.hyperprogression, true)
        // The same growth after baseline as before: PD perhaps, but ratio 1 -> not hyperprogression.
        let b = try assess([lesion("L1", "lung", [-61: 20, 0: 30, 61: 45])])
        XCTAssertEqual(b.timepoints[0].tgrRatio, 1, accuracy: 1e-9)
        XCTAssertEqual(b.timepoints[0].hyperprogression, false)
        // Without a pre-baseline scan it is not assessed.
        let c = try assess([lesion("L1", "lung", [0: 22, 61: 40])])
        XCTAssertNil(c.timepoints[0].hyperprogression)
        XCTAssertTrue(c.timepoints[0].tgrRatio.isNaN)
    }

    func testAbscopalBothDefinitionsSideBySide() throws {
        // R irradiated; out of field: A shrinks 35%, B and C grow a little. One lesion responds (definition 1),
        // but the out-of-field sum 20+30+30 = 80 -> 13+33+33 = 79 is SD (definition 2): they disagree.
        let a = try assess([lesion("R", "lung", [0: 30, 60: 10], irradiated: true),
                            lesion("A", "liver", [0: 20, 60: 13]), lesion("B", "lung", [0: 30, 60: 33]),
                            lesion("C", "adrenal", [0: 30, 60: 33])])
        XCTAssertEqual(a.timepoints[0].abscopalAnyLesion, true)
        XCTAssertEqual(a.timepoints[0].outOfFieldRecist, .stable)
        XCTAssertEqual(a.timepoints[0].abscopalRecist, false)
        // Both agree when the out-of-field sum falls 30%: 20+30 -> 10+20 (-40%).
        let b = try assess([lesion("R", "lung", [0: 30, 60: 20], irradiated: true),
                            lesion("A", "liver", [0: 20, 60: 10]), lesion("B", "lung", [0: 30, 60: 20])])
        XCTAssertEqual(b.timepoints[0].abscopalAnyLesion, true)
        XCTAssertEqual(b.timepoints[0].abscopalRecist, true)
        // Whole patient: 30+30+20 = 80 -> 20+20+10 = 50 (-37.5%).
        XCTAssertEqual(b.timepoints[0].recist, .partial, "the irradiated lesion counts in the whole-patient RECIST")
        // No irradiated lesion: abscopal response is not defined.
        let c = try assess([lesion("A", "liver", [0: 20, 60: 10])])
        XCTAssertNil(c.timepoints[0].abscopalAnyLesion)
        XCTAssertNil(c.timepoints[0].abscopalRecist)
        // A small (non-measurable) out-of-field lesion shrinking counts for definition 1 (any lesion), while
        // RECIST has no out-of-field target to assess.
        let d = try assess([lesion("R", "lung", [0: 30, 60: 10], irradiated: true), lesion("s", "liver", [0: 8, 60: 2])])
        XCTAssertEqual(d.timepoints[0].abscopalAnyLesion, true)
        XCTAssertNil(d.timepoints[0].abscopalRecist, "no measurable out-of-field target")
        let e = try assess([lesion("R", "lung", [0: 30, 60: 10], irradiated: true), lesion("s", "liver", [0: 8, 60: 6])])
        XCTAssertEqual(e.timepoints[0].abscopalAnyLesion, false)
    }

    func testLesionRowsCarryChangesFromBaselineAndNadir() throws {
        let a = try assess([lesion("L1", "lung", [0: 20, 60: 10, 120: 16])])
        let rows = a.lesions.filter { $0.lesionID == "L1" }
        XCTAssertEqual(rows.map(\.timepoint), [0, 60, 120])
        XCTAssertNil(rows[0].category)
        XCTAssertEqual(rows[1].changeFromBaselinePct, -50, accuracy: 1e-9)
        XCTAssertEqual(rows[2].changeFromBaselinePct, -20, accuracy: 1e-9)
        XCTAssertEqual(rows[2].changeFromNadirPct, 60, accuracy: 1e-9)
        XCTAssertEqual(rows[2].category, .progressive)  // +60% and +6 mm from the nadir 10
        XCTAssertEqual(rows[1].volumeChangePct, -87.5, accuracy: 1e-9)  // volume ~ d^3
    }
}

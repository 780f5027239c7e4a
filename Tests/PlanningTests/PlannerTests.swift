import XCTest
@testable import Planning

final class PlannerTests: XCTestCase {
    func L(_ id: String, _ s: Double, _ p: Double, vol: Double = 5, loc: String = "lung", irr: Bool = false,
           att: Double? = nil) -> PlanningLesion {
        PlanningLesion(lesionID: id, score: s, percentile: p, volumeML: vol, location: loc, irradiated: irr, attention: att)
    }

    /// "id:category:rank" for every lesion, in input order.
    func summary(_ plans: [LesionPlan]) -> [String] { plans.map { "\($0.lesionID):\($0.category.rawValue):\($0.rank)" } }

    func testPercentilePolicyTable() {
        var policy = PlanningPolicy.standard
        policy.maxSBRTTargets = 2
        policy.excludedLocations = ["brain"]
        let lesions = [
            L("a", -1.0, 10), L("b", -2.0, 5), L("c", -1.0, 12),   // three cold; cap 2 keeps b then a (tie a/c: manifest order)
            L("d", 0.0, 50), L("e", 2.0, 90),
            L("f", -3.0, 1, loc: "brain"), L("g", -2.5, 2, irr: true), L("h", -2.2, 3, vol: 0.05),
            L("i", .nan, .nan),
            L("j", -0.5, 25),  // exactly at P25: cold, but beyond the cap
            L("k", 1.0, 75),   // exactly at P75: spared
        ]
        let plans = Planner.plan(lesions, policy: policy)
        XCTAssertEqual(summary(plans), [
            "a:ablative_sbrt:2", "b:ablative_sbrt:1", "c:low_dose_rt:3",
            "d:low_dose_rt:1", "e:no_rt:1",
            "f:no_rt:4", "g:no_rt:3", "h:low_dose_rt:4", "i:no_rt:5",
            "j:low_dose_rt:2", "k:no_rt:2",
        ])
        // Low-dose ranks by score, highest first: d (0.0), j (-0.5), c (-1.0), h (-2.2);
        // no RT: e (2.0), k (1.0), g (-2.5), f (-3.0), then the unscored i.
        XCTAssertTrue(plans[2].rationale.contains("beyond the cap of 2"), plans[2].rationale)
        XCTAssertTrue(plans[9].rationale.contains("percentile 25 ≤ P25") && plans[9].rationale.contains("beyond the cap"), plans[9].rationale)
        XCTAssertTrue(plans[10].rationale.contains("percentile 75 ≥ P75"), plans[10].rationale)
        XCTAssertTrue(plans[5].rationale.contains("location brain excluded"), plans[5].rationale)
        XCTAssertTrue(plans[6].rationale.contains("already irradiated"))
        XCTAssertTrue(plans[7].rationale.contains("0.05 mL is below the SBRT minimum 0.10 mL"), plans[7].rationale)
        XCTAssertTrue(plans[1].rationale.contains("score -2.00") && plans[1].rationale.contains("percentile 5"))
        XCTAssertTrue(plans[3].rationale.contains("P25 < score 0.00, cohort percentile 50 < P75"), plans[3].rationale)
        XCTAssertTrue(plans[8].rationale.contains("no score"))
        for p in plans { XCTAssertFalse(p.rationale.contains("\n")) }
    }

    func testCutoffPolicyWithAttentionTable() throws {
        let policy = PlanningPolicy(
            name: "cutoffs+attention", ablativeMaxCutoff: "q25", spareMinCutoff: "q75", maxSBRTTargets: 2,
            minSBRTVolumeML: nil, maxSBRTVolumeML: 100, excludedLocations: ["bone"], excludeIrradiated: false,
            attention: AttentionRule(minSBRTWeight: 0.1),
            ranking: PlanningRanking(ablativeSBRT: .attentionDescending, lowDoseRT: .volumeDescending, noRT: .scoreDescending))
        let cutoffs = ["q25": 0.3, "q75": 0.6, "median": 0.45]
        let lesions = [
            L("p", 0.30, 40, vol: 8, att: 0.30),   // exactly at q25 -> cold; attention 0.30
            L("q", 0.10, 5, vol: 20, att: 0.35),   // cold, highest attention
            L("r", 0.20, 20, vol: 2, att: 0.30),   // cold, attention tie with p -> p first (manifest order), beyond cap
            L("s", 0.25, 30, vol: 4, att: 0.05),   // cold but attention below 0.1 -> low-dose
            L("t", 0.05, 2, vol: 150, att: 0.10),  // cold but too large -> low-dose
            L("u", 0.45, 55, vol: 1, att: 0.05),   // intermediate
            L("v", 0.60, 80, att: 0.05),   // exactly q75 -> spared
            L("w", 0.01, 1, loc: "bone", att: 0.05),
            L("x", 0.02, 1, vol: 3, irr: true, att: 0.05), // irradiated but not excluded by this policy: cold, attention 0.05 -> low-dose
        ]
        let plans = try Planner.plan(lesions, policy: policy, cutoffs: cutoffs)
        XCTAssertEqual(summary(plans), [
            "p:ablative_sbrt:2", "q:ablative_sbrt:1", "r:low_dose_rt:4",
            "s:low_dose_rt:2", "t:low_dose_rt:1", "u:low_dose_rt:5", "v:no_rt:1", "w:no_rt:2", "x:low_dose_rt:3",
        ])
        // SBRT by attention: q (0.35), then the tie p/r (0.30) in manifest order, so r falls beyond the cap.
        // Low-dose by volume, largest first: t (150 mL), s (4), x (3), r (2), u (1). No RT by score: v, w.
        XCTAssertTrue(plans[0].rationale.contains("score 0.30 ≤ cut-off q25 (0.30)"), plans[0].rationale)
        XCTAssertTrue(plans[0].rationale.contains("attention 0.30"), plans[0].rationale)
        XCTAssertTrue(plans[3].rationale.contains("attention 0.05 is below the SBRT minimum 0.10"), plans[3].rationale)
        XCTAssertTrue(plans[4].rationale.contains("150.00 mL exceeds the SBRT maximum 100.00 mL"), plans[4].rationale)
        XCTAssertTrue(plans[5].rationale.contains("q25 (0.30) < score 0.45 (cohort percentile 55) < q75 (0.60)"), plans[5].rationale)
        XCTAssertTrue(plans[6].rationale.contains("score 0.60 ≥ cut-off q75 (0.60)"), plans[6].rationale)
        XCTAssertTrue(plans[2].rationale.contains("beyond the cap of 2"), plans[2].rationale)
    }

    func testRankingWithTiesAndZeroCap() throws {
        var policy = PlanningPolicy.standard
        policy.maxSBRTTargets = 0
        let lesions = [L("a", -1, 10), L("b", -1, 10), L("c", 0, 50), L("d", 0, 50)]
        let plans = Planner.plan(lesions, policy: policy)
        XCTAssertEqual(summary(plans), ["a:low_dose_rt:3", "b:low_dose_rt:4", "c:low_dose_rt:1", "d:low_dose_rt:2"])
        XCTAssertTrue(plans[0].rationale.contains("beyond the cap of 0 SBRT targets"), plans[0].rationale)
    }

    func testMissingCutoffsAndAttentionAreRefusedClearly() {
        var policy = PlanningPolicy.standard
        policy.ablativeMaxPercentile = nil
        policy.ablativeMaxCutoff = "q10"
        XCTAssertThrowsError(try Planner.plan([L("a", 0, 50)], policy: policy, cutoffs: ["q25": 0.3, "q75": 0.6])) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains("'q10'") && m.contains("q25, q75"), m)
        }
        // The non-throwing entry point gives no recommendation, naming the reason, rather than guessing.
        let fallback = Planner.plan([L("a", 0, 50)], policy: policy)
        XCTAssertEqual(fallback[0].category, .noRT)
        XCTAssertTrue(fallback[0].rationale.contains("q10"), fallback[0].rationale)

        var swapped = PlanningPolicy.standard
        swapped.ablativeMaxPercentile = nil; swapped.ablativeMaxCutoff = "q75"
        swapped.spareMinPercentile = nil; swapped.spareMinCutoff = "q25"
        XCTAssertThrowsError(try Planner.plan([], policy: swapped, cutoffs: ["q25": 0.3, "q75": 0.6])) { e in
            XCTAssertTrue("\(e)".contains("above the spare cut-off"), "\(e)")
        }

        var attention = PlanningPolicy.standard
        attention.attention = AttentionRule(minSBRTWeight: 0.2)
        XCTAssertThrowsError(try Planner.plan([L("a", 0, 50, att: 0.5), L("b", 1, 60), L("c", .nan, .nan)],
                                              policy: attention, cutoffs: [:])) { e in
            XCTAssertTrue("\(e)".contains("lesion b has none"), "\(e)")
        }
    }

    func testInvalidPolicyFilesAreRefusedWithEveryProblem() {
        func problems(_ json: String) -> [String] {
            do {
                _ = try PlanningPolicy.parse(Data(json.utf8), source: "p.json")
                return []
            } catch let e as PolicyError {
                XCTAssertTrue(e.description.hasPrefix("policy p.json is invalid:"))
                return e.problems
            } catch {
                XCTFail("\(error)"); return []
            }
        }
        XCTAssertEqual(problems("[1]"), ["the policy must be a JSON object"])
        XCTAssertTrue(problems("{").first?.hasPrefix("not valid JSON") == true)
        let typo = problems(#"{"name":"x","max_sbrt_target":3,"ablative_max_percentile":25,"spare_min_percentile":75}"#)
        XCTAssertTrue(typo.contains { $0.hasPrefix("unknown key 'max_sbrt_target'") }, "\(typo)")
        XCTAssertTrue(typo.contains("missing required key 'max_sbrt_targets'"), "\(typo)")
        let types = problems(#"{"name":"x","max_sbrt_targets":1.5,"exclude_irradiated":1,"excluded_locations":"lung","ablative_max_percentile":"25","spare_min_percentile":75,"ranking":{"no_rt":"random","boost":"score_ascending"},"attention":{"min_weight":1}}"#)
        XCTAssertEqual(Set(types), [
            "ablative_max_percentile must be a number", "exclude_irradiated must be true or false",
            "excluded_locations must be a list of text values", "max_sbrt_targets must be a whole number",
            "attention: unknown key 'min_weight' (known: min_sbrt_weight)",
            "ranking: unknown category 'boost' (known: ablative_sbrt, low_dose_rt, no_rt)",
            "ranking.no_rt must be one of score_ascending, score_descending, volume_ascending, volume_descending, attention_descending",
        ])
        let values = problems(#"{"name":"x","max_sbrt_targets":-1,"ablative_max_percentile":80,"ablative_max_cutoff":"q25","spare_min_percentile":120,"min_sbrt_volume_ml":5,"max_sbrt_volume_ml":1,"excluded_locations":["lungs"],"attention":{"min_sbrt_weight":2}}"#)
        XCTAssertEqual(Set(values), [
            "give either ablative_max_percentile or ablative_max_cutoff, not both",
            "spare_min_percentile must be within 0...100 (got 120.0)",
            "max_sbrt_targets must not be negative (got -1)",
            "min_sbrt_volume_ml (5.0) exceeds max_sbrt_volume_ml (1.0)",
            "excluded_locations: unknown location 'lungs' (known: lung, liver, lymph_node, head_neck, bone, adrenal, brain, soft_tissue, other)",
            "attention.min_sbrt_weight must be within 0...1 (got 2.0)",
        ])
        XCTAssertEqual(problems(#"{"name":"x","max_sbrt_targets":1}"#),
                       ["give ablative_max_percentile or ablative_max_cutoff", "give spare_min_percentile or spare_min_cutoff"])
        XCTAssertEqual(problems(#"{"name":"x","max_sbrt_targets":1,"ablative_max_cutoff":"q25","spare_min_percentile":75}"#), [])
    }

    func testShippedDefaultFileIsTheStandardPolicy() throws {
        let url = try XCTUnwrap(PlanningPolicy.shippedDefaultURL)
        XCTAssertEqual(try PlanningPolicy.load(url), PlanningPolicy.standard)
        // The stored JSON form reads back to the same policy.
        XCTAssertEqual(try PlanningPolicy.parse(Data(PlanningPolicy.standard.json().utf8), source: "round trip"), .standard)
    }

    func testPercentileAndValidation() {
        XCTAssertEqual(Planner.percentile(of: 2, in: [1, 2, 3, 4]), 37.5)
        var bad = PlanningPolicy.standard
        bad.ablativeMaxPercentile = 80
        bad.maxSBRTTargets = -1
        XCTAssertEqual(bad.validate().count, 2)
    }

    func testPlanDocumentListsTargetsInRankOrder() throws {
        let doc = PatientPlanDocument(
            patientID: "P1", signatureID: "s@1", policyName: "p", policyJSON: "{}",
            lesions: [
                .init(lesionID: "L1", location: "lung", volumeML: 2, irradiated: false, score: 0.1, percentile: 10,
                      attention: nil, category: .ablativeSBRT, rank: 2, rationale: "r"),
                .init(lesionID: "L2", location: "liver", volumeML: .nan, irradiated: false, score: 0.05, percentile: 5,
                      attention: 0.4, category: .ablativeSBRT, rank: 1, rationale: "r"),
                .init(lesionID: "L3", location: "liver", volumeML: 3, irradiated: true, score: .nan, percentile: .nan,
                      attention: nil, category: .noRT, rank: 1, rationale: "r"),
            ], software: "LesionMap test")
        XCTAssertEqual(doc.targets["ablative_sbrt"], ["L2", "L1"])
        XCTAssertEqual(doc.targets["low_dose_rt"], [])
        let back = try JSONDecoder().decode(PatientPlanDocument.self, from: doc.jsonData())
        XCTAssertEqual(back, doc)
        XCTAssertNil(back.lesions[2].score)
    }
}

import XCTest
@testable import Planning

final class PlannerTests: XCTestCase {
    func L(_ id: String, _ s: Double, _ p: Double, vol: Double = 5, loc: String = "lung", irr: Bool = false) -> PlanningLesion {
        PlanningLesion(lesionID: id, score: s, percentile: p, volumeML: vol, location: loc, irradiated: irr)
    }

    func testPolicyTable() {
        var policy = PlanningPolicy.standard
        policy.maxSBRTTargets = 2
        policy.excludedLocations = ["brain"]
        let lesions = [
            L("a", -1.0, 10), L("b", -2.0, 5), L("c", -1.0, 12),   // three cold; cap 2 keeps b then a (tie a/c: manifest order)
            L("d", 0.0, 50), L("e", 2.0, 90),
            L("f", -3.0, 1, loc: "brain"), L("g", -2.5, 2, irr: true), L("h", -2.2, 3, vol: 0.05),
            L("i", .nan, .nan),
        ]
        let plans = Planner.plan(lesions, policy: policy)
        let got = plans.map { "\($0.lesionID):\($0.category.rawValue):\($0.rank)" }
        XCTAssertEqual(got, [
            "a:ablative_sbrt:2", "b:ablative_sbrt:1", "c:low_dose_rt:2",
            "d:low_dose_rt:1", "e:no_rt:1",
            "f:no_rt:3", "g:no_rt:2", "h:low_dose_rt:3", "i:no_rt:4",
        ])
        // Low-dose ranks by score, highest first: d (0.0), c (-1.0), h (-2.2); no RT: e, g, f, then the unscored i.
        XCTAssertTrue(plans[2].rationale.contains("beyond the cap of 2"), plans[2].rationale)
        XCTAssertTrue(plans[5].rationale.contains("brain"))
        XCTAssertTrue(plans[6].rationale.contains("already irradiated"))
        XCTAssertTrue(plans[7].rationale.contains("below the SBRT minimum"))
        XCTAssertTrue(plans[1].rationale.contains("score -2.00") && plans[1].rationale.contains("percentile 5"))
    }

    func testPercentileAndValidation() {
        XCTAssertEqual(Planner.percentile(of: 2, in: [1, 2, 3, 4]), 37.5)
        var bad = PlanningPolicy.standard
        bad.ablativeMaxPercentile = 80
        bad.maxSBRTTargets = -1
        XCTAssertEqual(bad.validate().count, 2)
    }
}

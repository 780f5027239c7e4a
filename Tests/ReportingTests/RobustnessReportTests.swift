import XCTest
@testable import Reporting

final class RobustnessReportTests: XCTestCase {
    /// The cohort report shows the ICC distribution per family (inline SVG), families ordered by median ICC,
    /// only when an ICC table is given.
    func testICCDistributionPerFamily() {
        var model = CohortReportModel(
            title: "t", signature: Fixture.signature, policy: Fixture.policy, provenance: Fixture.provenance,
            patients: [], failures: [], comparisons: [], survival: [], lesionCountCurves: [], lesionValidation: nil,
            statisticsNote: nil)
        XCTAssertFalse(CohortReport.html(model).contains("icc-by-family"))
        model.robustness = RobustnessPanel(icc: [
            "tumour.morphology.volume": 0.99, "tumour.morphology.sphericity": 0.95,
            "tumour.glcm.contrast_3D_comb": 0.4, "tumour.glcm.<b>": 0.7, "tumour.glcm.undefined": .nan,
            "ring.intensity.mean": 0.92,
        ], source: "icc <1>.csv")
        XCTAssertEqual(model.robustness!.families.map(\.family), ["tumour.morphology", "ring.intensity", "tumour.glcm"])
        let html = CohortReport.html(model)
        XCTAssertTrue(html.contains("Feature robustness under perturbation"))
        XCTAssertTrue(html.contains("id=\"icc-by-family\"><svg"))
        XCTAssertTrue(html.contains("3 of 6 features reach ICC 0.90"), html)
        XCTAssertTrue(html.contains("icc &lt;1&gt;.csv"))
        XCTAssertFalse(html.contains("icc <1>"))
        XCTAssertTrue(html.contains("median 0.97 (n = 2)"))
        XCTAssertTrue(html.contains("median 0.55 (n = 2)"), "the undefined ICC is not a point")
        XCTAssertEqual(html.components(separatedBy: "<circle").count - 1, 5)
    }
}

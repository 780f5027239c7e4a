import XCTest
@testable import Reporting

/// The cohort report's before/after picture of a harmonised store.
final class HarmonisationReportTests: XCTestCase {
    func testBeforeAfterPictureIsDrawnOnlyForHarmonisedStores() {
        var model = CohortReportModel(title: "t", signature: Fixture.signature, policy: Fixture.policy, provenance: Fixture.provenance,
                                      patients: [], failures: [], comparisons: [], survival: [], lesionCountCurves: [],
                                      lesionValidation: nil, statisticsNote: nil)
        XCTAssertFalse(CohortReport.html(model).contains("Scanner harmonisation"))
        model.harmonisation = HarmonisationPicture(
            feature: "tumour.intensity.mean", batchColumn: "cov_<scanner>", method: "parametric",
            batches: [("A<1>", [1, 2, 3, 4], [2, 2.5, 3, 3.5]), ("B", [5, 6, 7], [2.4, 3, 3.6])], note: "Shown: a note.")
        let html = CohortReport.html(model)
        XCTAssertTrue(html.contains("<h2>Scanner harmonisation</h2>"))
        XCTAssertTrue(html.contains("batches of <b>cov_&lt;scanner&gt;</b> with ComBat (parametric empirical Bayes"))
        XCTAssertTrue(html.contains("Shown: a note."))
        let section = html.components(separatedBy: "id=\"harmonisation\"")[1].components(separatedBy: "</div></div>")[0]
        XCTAssertEqual(section.components(separatedBy: "<svg").count - 1, 2, "before and after panels")
        XCTAssertTrue(section.contains("before harmonisation") && section.contains("after ComBat (parametric)"))
        XCTAssertTrue(section.contains("A&lt;1&gt; (n = 4)") && section.contains("B (n = 3)"))
        XCTAssertFalse(section.contains("A<1>"), "batch labels are escaped")
        // One box per batch per panel, one point per lesion per panel.
        XCTAssertEqual(section.components(separatedBy: "<rect").count - 1, 4)
        XCTAssertEqual(section.components(separatedBy: "<circle").count - 1, 14)
    }
}

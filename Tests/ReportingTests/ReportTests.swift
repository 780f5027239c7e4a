import XCTest
@testable import Reporting

final class ReportTests: XCTestCase {
    func testEveryLesionHasARowAndStringsAreEscaped() {
        let rows = [
            LesionReportRow(lesionID: "<script>alert(1)</script>", location: "lung", volumeML: 2, score: -1,
                            percentile: 10, category: "Ablative SBRT candidate", categoryKey: "ablative_sbrt", rank: 1,
                            rationale: "immune-cold"),
            LesionReportRow(lesionID: "L2", location: "liver", volumeML: 5, score: 1, percentile: 80,
                            category: "No RT / observe", categoryKey: "no_rt", rank: 1, rationale: "likely responder"),
        ]
        let model = CohortReportModel(
            title: "Demo \"cohort\"", softwareVersion: "0.1.0", createdUTC: "2026-01-01T00:00:00Z", signatureID: "sig@1",
            signatureStatus: "synthetic reference", signatureDirection: "higher = more infiltrated", policyName: "default",
            settingsJSON: "{\"a\":1}",
            patients: [PatientReportModel(patientID: "P&1", kvp: 120, lesions: rows,
                                          aggregates: [("mean", 0, 50), ("min", -1, 10)], warnings: ["w <b>"])],
            failures: [("P2", "cannot read <image>")], cutoffs: [("q25", -0.5)])
        let html = CohortReport.html(model)
        XCTAssertFalse(html.contains("<script>alert"))
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        XCTAssertTrue(html.contains("P&amp;1"))
        XCTAssertTrue(html.contains("cannot read &lt;image&gt;"))
        XCTAssertEqual(html.components(separatedBy: "class=\"lesion-row\"").count - 1, 2)
        XCTAssertTrue(html.contains("For research use only"))
        XCTAssertTrue(html.contains("<svg"))
    }
}

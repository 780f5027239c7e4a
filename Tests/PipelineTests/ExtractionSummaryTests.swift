import XCTest
@testable import Pipeline

/// A cohort whose lesions all draw one warning (a coarse bin width on small synthetic CT lesions gave 92
/// of 224 lesions "fewer than 8 grey levels") must not bury the summary's failures: the summary lists
/// the first warnings and counts the rest; `extract --all-warnings` lists every one.
final class ExtractionSummaryTests: XCTestCase {
    func testSummaryListsTheFirstWarningsAndCountsTheRest() {
        var summary = ExtractionSummary()
        summary.extracted = ["P1", "P2"]
        summary.failed = [(patientID: "P3", message: "cannot read image.nii.gz")]
        summary.warnings = (1...15).map { "patient P1, lesion L\($0): few grey levels" }
        let short = summary.text
        XCTAssertTrue(short.contains("FAILED P3: cannot read image.nii.gz"), short)
        XCTAssertTrue(short.contains("lesion L10: few"), short)
        XCTAssertFalse(short.contains("lesion L11: few"), short)
        XCTAssertTrue(short.hasSuffix("... and 5 more warnings (--all-warnings lists every one)"), short)
        let long = summary.text(allWarnings: true)
        XCTAssertTrue(long.contains("lesion L15: few"), long)
        XCTAssertFalse(long.contains("more warning"), long)
    }

    func testFewWarningsAreAllListed() {
        var summary = ExtractionSummary()
        summary.warnings = ["one", "two"]
        XCTAssertEqual(summary.text, summary.text(allWarnings: true))
    }
}

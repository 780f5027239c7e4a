import XCTest
import TestSupport
@testable import Reporting

/// The patient report's "Response over time" section from a hand-made timeline: one line per lesion in both
/// plots, irradiated and new lesions marked, the categories and patient responses in the tables, every string
/// escaped; no section at all for a patient without follow-up.
final class ResponseTimelineReportTests: XCTestCase {
    static func point(_ day: Double, _ d: Double, _ score: Double, _ cat: String = "", base: Double = .nan,
                      nadir: Double = .nan, present: Bool = true) -> TimelinePoint {
        TimelinePoint(day: day, diameterMM: d, present: present, score: score, category: cat,
                      changeFromBaselinePct: base, changeFromNadirPct: nadir)
    }

    static var timeline: ResponseTimeline {
        ResponseTimeline(
            lesions: [
                TimelineLesion(lesionID: Fixture.evil, location: "lung", irradiated: true, role: "target", points: [
                    point(0, 30, -1), point(60, 15, -0.5, "PR", base: -50, nadir: -50), point(120, 0, .nan, "CR", base: -100, nadir: -100, present: false),
                ]),
                TimelineLesion(lesionID: "L2", location: "liver", irradiated: false, role: "target", points: [
                    point(0, 20, 1), point(60, 12, 0.8, "PR", base: -40, nadir: -40), point(120, 13, 0.9, "PR", base: -35, nadir: 8.3),
                ]),
                TimelineLesion(lesionID: "N1", location: "bone", irradiated: false, role: "new", points: [
                    point(120, 14, 0.2, "NEW"),
                ]),
            ],
            visits: [
                TimelineVisit(day: 60, sumDiametersMM: 27, sumChangePct: -46, sumChangeFromNadirPct: -46, recist: "PR",
                              irecist: "iPR", newLesions: [], abscopalAnyLesion: true, abscopalRecist: true,
                              outOfFieldRecist: "PR", pseudoprogression: false, dissociated: false, hyperprogression: nil),
                TimelineVisit(day: 120, sumDiametersMM: 13, sumChangePct: -74, sumChangeFromNadirPct: -51.9, recist: "PD",
                              irecist: "iUPD", newLesions: ["N1"], abscopalAnyLesion: true, abscopalRecist: nil,
                              outOfFieldRecist: "", pseudoprogression: false, dissociated: true, hyperprogression: nil),
            ],
            baselineSumMM: 50, source: "test <tables>")
    }

    func testSectionHasOneLinePerLesionAndTheCategories() throws {
        var m = Fixture.patient(withImages: false)
        m.timeline = Self.timeline
        let html = PatientReport.html(m)
        XCTAssertFalse(html.contains("<script"))
        XCTAssertTrue(html.contains("<h2 class=\"pagebreak\">Response over time</h2>"))
        XCTAssertTrue(html.contains("test &lt;tables&gt;"))
        // Two plots (diameter, score), each with one group per lesion.
        XCTAssertEqual(html.components(separatedBy: "<g class=\"trajectory\"").count - 1, 6)
        let diameter = try XCTUnwrap(html.range(of: "id=\"diameter-plot\"").map { String(html[$0.upperBound...]) })
        let diameterPlot = String(diameter[..<diameter.range(of: "</svg>")!.lowerBound])
        XCTAssertEqual(diameterPlot.components(separatedBy: "<g class=\"trajectory\"").count - 1, 3)
        XCTAssertTrue(diameterPlot.contains("data-lesion=\"\(htmlEscape(Fixture.evil))\" data-irradiated=\"1\" data-new=\"0\" data-points=\"3\""))
        XCTAssertTrue(diameterPlot.contains("data-lesion=\"N1\" data-irradiated=\"0\" data-new=\"1\" data-points=\"1\""))
        XCTAssertTrue(diameterPlot.contains("N1 · new"), "end label")
        // The disappeared lesion has no score at day 120: two score points.
        XCTAssertTrue(html.contains("data-lesion=\"\(htmlEscape(Fixture.evil))\" data-irradiated=\"1\" data-new=\"0\" data-points=\"2\""))
        // Patient rows and per-lesion categories.
        XCTAssertTrue(html.contains("<tr class=\"visit\" data-timepoint=\"60\" data-recist=\"PR\" data-irecist=\"iPR\" data-abscopal-any=\"1\" data-abscopal-recist=\"1\">"))
        XCTAssertTrue(html.contains("<tr class=\"visit\" data-timepoint=\"120\" data-recist=\"PD\" data-irecist=\"iUPD\" data-abscopal-any=\"1\" data-abscopal-recist=\"\">"))
        XCTAssertTrue(html.contains("dissociated response"))
        let cells = html.components(separatedBy: "class=\"lesion-cat\"").dropFirst().map { String($0.prefix(120)) }
        XCTAssertEqual(cells.count, 5, "2 follow-ups x 2 baseline lesions + N1 at 120")
        XCTAssertTrue(html.contains("data-lesion=\"N1\" data-timepoint=\"120\" data-category=\"NEW\""))
        XCTAssertTrue(html.contains("data-lesion=\"L2\" data-timepoint=\"120\" data-category=\"PR\""))
        XCTAssertTrue(html.contains("-35% vs baseline, +8% vs nadir"))
        XCTAssertTrue(html.contains("<td class=\"muted\">not seen</td>"), "N1 before it appeared")
    }

    func testNoSectionWithoutFollowUp() {
        let m = Fixture.patient(withImages: false)
        XCTAssertNil(m.timeline)
        let html = PatientReport.html(m)
        XCTAssertFalse(html.contains("Response over time"))
        XCTAssertFalse(html.contains("response-over-time"))
        XCTAssertFalse(html.contains("class=\"trajectory\""))
    }
}

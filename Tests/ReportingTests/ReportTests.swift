import XCTest
import ImagingCore
import ZlibSupport
import TestSupport
@testable import Reporting

/// Report models built by hand, so the HTML can be checked without a store.
enum Fixture {
    static let signature = SignatureInfo(id: "sig@1", direction: "higher = more infiltrated", estimates: "CD8 <infiltration>",
                                         validationStatus: "synthetic <reference>", fileHash: "abc",
                                         cutoffs: [("q25", -0.5, "training <q25>")])
    static let policy = PolicyInfo(name: "default <policy>", description: "quartiles & caps", json: "{\"name\":\"<p>\"}",
                                   boundaries: [("SBRT ≤ P25", -0.4), ("spare ≥ P75", 0.6)])
    static let provenance = Provenance(software: "LesionMap test", createdUTC: "2026-01-01T00:00:00Z",
                                       storeCreatedUTC: "2025-12-31T00:00:00Z", preprocessing: ["3D", "<ring>"],
                                       settingsJSON: "{\"a\":\"<b>\"}", settingsHash: "0123456789abcdef0123")
    static let evil = "<script>alert(1)</script>"

    static var rows: [LesionReportRow] {
        [
            LesionReportRow(lesionID: evil, location: "lung", volumeML: 2, maxDiameterMM: 18, score: -1, percentile: 10,
                            categoryKey: "ablative_sbrt", rank: 1, rationale: "immune-cold <b>", attention: 0.7),
            LesionReportRow(lesionID: "L2", location: "liver", volumeML: 5, score: 1, percentile: 80,
                            categoryKey: "no_rt", rank: 1, rationale: "likely responder", attention: 0.3, irradiated: true),
            LesionReportRow(lesionID: "L3", location: "bone", volumeML: 1, score: .nan, percentile: .nan,
                            categoryKey: "no_rt", rank: 2, rationale: "no score"),
        ]
    }

    /// A 40 x 30 x 10 volume with two bright boxes as lesions.
    static func views() -> (Volume<Float>, [LesionOverlay]) {
        let grid = ImageGrid(size: Size3(40, 30, 10), spacing: Vector3(1.5, 1.5, 4))
        var image = Volume<Float>(grid: grid, repeating: -50)
        var a = Mask(grid: grid, repeating: false), b = Mask(grid: grid, repeating: false)
        for k in 3...5 { for j in 10...14 { for i in 5...9 { a[i, j, k] = true; image[i, j, k] = 60 } } }
        for k in 6...8 { for j in 20...22 { for i in 30...33 { b[i, j, k] = true; image[i, j, k] = 80 } } }
        return (image, [LesionOverlay(lesionID: evil, label: evil, colour: "#c0392b", mask: a),
                        LesionOverlay(lesionID: "L2", label: "L2", colour: "#2471a3", mask: b)])
    }

    static func patient(withImages: Bool = true) -> PatientReportModel {
        var views: PatientViews?
        if withImages {
            let (image, overlays) = Fixture.views()
            views = PatientViews(coronal: LesionViews.coronalMIP(image, lesions: overlays),
                                 axial: LesionViews.axialMIP(image, lesions: overlays),
                                 lesions: [evil: LesionViews.axialSlice(image, lesion: overlays[0], others: [overlays[1]])!])
        }
        return PatientReportModel(
            patientID: "P&<1>", scanDate: "20240131", kvp: 120, scanner: "Acme <CT>", lesions: rows,
            metrics: [PatientMetric(key: "min", label: "Minimum <score>", value: -1, percentile: 10),
                      PatientMetric(key: "sd", label: "SD", value: 0.5, percentile: 90)],
            cohortScores: [-2, -1, 0, 1, 2, 0.5], signature: signature, policy: policy, provenance: provenance,
            views: views, imageNote: withImages ? nil : "no <manifest>", warnings: ["w <b>"])
    }
}

final class PatientReportTests: XCTestCase {
    func testEveryLesionHasARowAndEveryStringIsEscaped() {
        let html = PatientReport.html(Fixture.patient())
        XCTAssertFalse(html.contains("<script"), "no script element may reach the report")
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        for raw in ["P&<1>", "Acme <CT>", "immune-cold <b>", "w <b>", "Minimum <score>", "synthetic <reference>",
                    "default <policy>", "CD8 <infiltration>", "training <q25>", "<ring>"] {
            XCTAssertFalse(html.contains(raw), raw)
            XCTAssertTrue(html.contains(htmlEscape(raw)), raw)
        }
        XCTAssertEqual(html.components(separatedBy: "class=\"lesion-row\"").count - 1, 3)
        XCTAssertEqual(html.components(separatedBy: "<img ").count - 1, 3, "two projections and one lesion image")
        XCTAssertEqual(html.components(separatedBy: "class=\"lesion-card\"").count - 1, 3)
        XCTAssertTrue(html.contains("2024-01-31"))
        XCTAssertTrue(html.contains("For research use only"))
        XCTAssertTrue(html.contains("@media print"))
        XCTAssertTrue(html.contains("RESEARCH USE ONLY"))
    }

    func testReportWithoutImagesSaysWhy() {
        let html = PatientReport.html(Fixture.patient(withImages: false))
        XCTAssertFalse(html.contains("<img "))
        XCTAssertTrue(html.contains("Images not shown: no &lt;manifest&gt;"))
    }

    func testCohortReportEscapesAndListsEveryLesion() {
        let model = CohortReportModel(
            title: "Demo \"cohort\" <x>", signature: Fixture.signature, policy: Fixture.policy, provenance: Fixture.provenance,
            patients: [PatientSummary(patientID: "P&1", kvp: 120, lesions: Fixture.rows, reportLink: "patients/P_1.html")],
            failures: [("P2", "cannot read <image>")],
            comparisons: [ComparisonTable(endpoint: "pfs", columns: ["n", "hr_per_sd", "hr_per_sd_low", "hr_per_sd_high", "p", "c_index", "c_low", "c_high"],
                                          rows: [ComparisonRow(aggregator: "min", values: ["n": 20, "hr_per_sd": 0.5, "hr_per_sd_low": 0.3, "hr_per_sd_high": 0.8, "p": 0.004, "c_index": 0.7, "c_low": 0.6, "c_high": 0.8]),
                                                 ComparisonRow(aggregator: "<mean>", values: ["n": 20, "hr_per_sd": 0.9, "hr_per_sd_low": 0.6, "hr_per_sd_high": 1.3, "p": 0.5, "c_index": 0.55, "c_low": 0.45, "c_high": 0.65])])],
            survival: [SurvivalPanel(endpoint: "pfs", aggregator: "min", curves: [
                SurvivalCurve(label: "low", colour: "#c0392b", steps: [(0, 1), (2, 0.5), (5, 0.25)], censored: [(3, 0.5)], subjects: 4, events: 3)],
                logRankP: 0.03)],
            lesionCountCurves: [LesionCountCurve(endpoint: "pfs", xLabel: "k", yLabel: "C", series: [
                ChartSeries(label: "min", colour: "#c0392b", points: [(1, 0.6, 0.5, 0.7), (2, 0.65, 0.55, 0.75)])], note: "n <note>")],
            lesionValidation: LesionValidation(groups: [("CR", [1, 2]), ("PD", [-1])], summary: ["AUC <1>"]), statisticsNote: nil)
        let html = CohortReport.html(model)
        XCTAssertFalse(html.contains("<script"))
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        for raw in ["P&1", "cannot read <image>", "<mean>", "n <note>", "AUC <1>", "Demo \"cohort\" <x>"] {
            XCTAssertFalse(html.contains(raw), raw)
            XCTAssertTrue(html.contains(htmlEscape(raw)), raw)
        }
        XCTAssertEqual(html.components(separatedBy: "class=\"lesion-row\"").count - 1, 3)
        XCTAssertTrue(html.contains("href=\"patients/P_1.html\""))
        XCTAssertTrue(html.contains("log-rank p = 0.03"))
        XCTAssertTrue(html.contains("forest plot"))
        XCTAssertTrue(html.contains("<b>0.700 <span class=\"muted\">(0.600–0.800)</span></b>"), "the best C-index is marked")
    }

    /// Issue 12, item 12: the cohort report shows Holm's p, the optimism-corrected C, the selection-adjusted
    /// permutation p and the sentence on what the ranking can show, when the stored table has them.
    func testComparisonShowsMultiplicityColumnsAndInterpretation() {
        let columns = ["n", "hr_per_sd", "hr_per_sd_low", "hr_per_sd_high", "p", "p_holm", "c_index", "c_low", "c_high",
                       "c_index_corrected", "c_perm_p", "c_diff_p", "rank"]
        let row = ComparisonRow(aggregator: "sd", values: ["n": 40, "hr_per_sd": 1.2, "hr_per_sd_low": 0.9, "hr_per_sd_high": 1.6,
                                                           "p": 0.03, "p_holm": 0.42, "c_index": 0.58, "c_low": 0.51, "c_high": 0.66,
                                                           "c_index_corrected": 0.531, "c_perm_p": 0.37, "c_diff_p": 1, "rank": 1],
                                texts: ["worse_when": "higher", "note": "3 patients with one lesion: sd undefined"])
        let model = CohortReportModel(
            title: "t", signature: Fixture.signature, policy: Fixture.policy, provenance: Fixture.provenance,
            patients: [], failures: [],
            comparisons: [ComparisonTable(endpoint: "pfs", columns: columns, rows: [row],
                                          interpretation: "How to read the ranking: <compatible with chance>")],
            survival: [], lesionCountCurves: [], lesionValidation: nil, statisticsNote: nil)
        let html = CohortReport.html(model)
        XCTAssertTrue(html.contains("p Holm"), "Holm column")
        XCTAssertTrue(html.contains(">0.42<"), "Holm p shown")
        XCTAssertTrue(html.contains("optimism-<br>corrected") && html.contains(">0.531<"))
        XCTAssertTrue(html.contains("permutation p<br>(selection-adjusted)") && html.contains(">0.37<"))
        XCTAssertTrue(html.contains("How to read the ranking: &lt;compatible with chance&gt;"))
        XCTAssertTrue(html.contains("3 patients with one lesion: sd undefined"))
    }

    func testMissingStatisticsAreExplained() {
        let model = CohortReportModel(title: "t", signature: Fixture.signature, policy: Fixture.policy, provenance: Fixture.provenance,
                                      patients: [], failures: [], comparisons: [], survival: [], lesionCountCurves: [],
                                      lesionValidation: nil, statisticsNote: "run lesionmap compare")
        let html = CohortReport.html(model)
        XCTAssertTrue(html.contains("run lesionmap compare"))
        XCTAssertTrue(html.contains("No lesion responses are recorded"))
    }
}

final class ImageTests: XCTestCase {
    /// Decodes our own PNG output: chunk layout, CRCs, and the pixels after undoing the row filters.
    func testPNGRoundTrip() throws {
        let w = 7, h = 5
        let grey = (0..<(w * h)).map { UInt8(($0 * 37) % 256) }
        let rgb = (0..<(3 * w * h)).map { UInt8(($0 * 11) % 256) }
        for (png, channels, pixels) in [(PNG.grey(width: w, height: h, pixels: grey), 1, grey),
                                        (PNG.rgb(width: w, height: h, pixels: rgb), 3, rgb)] {
            let bytes = [UInt8](png)
            XCTAssertEqual(Array(bytes[0..<8]), PNG.signature)
            var offset = 8
            var chunks: [(String, [UInt8])] = []
            while offset < bytes.count {
                let length = Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
                let typeAndData = Data(bytes[(offset + 4)..<(offset + 8 + length)])
                let crc = bytes[(offset + 8 + length)..<(offset + 12 + length)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                XCTAssertEqual(crc, Zlib.crc32(typeAndData))
                chunks.append((String(decoding: typeAndData.prefix(4), as: UTF8.self), Array(typeAndData.dropFirst(4))))
                offset += 12 + length
            }
            XCTAssertEqual(chunks.map(\.0), ["IHDR", "IDAT", "IEND"])
            XCTAssertEqual(Array(chunks[0].1), [0, 0, 0, 7, 0, 0, 0, 5, 8, channels == 1 ? 0 : 2, 0, 0, 0])
            let raw = [UInt8](try Zlib.inflate(Data(chunks[1].1)))
            let stride = w * channels
            XCTAssertEqual(raw.count, (stride + 1) * h)
            var decoded: [UInt8] = []
            for y in 0..<h {
                let filter = raw[y * (stride + 1)]
                for x in 0..<stride {
                    let v = raw[y * (stride + 1) + 1 + x]
                    switch filter {
                    case 0: decoded.append(v)
                    case 2: decoded.append(v &+ decoded[(y - 1) * stride + x])
                    default: XCTFail("unexpected filter \(filter)")
                    }
                }
            }
            XCTAssertEqual(decoded, pixels)
        }
    }

    func testProjectionsAndLesionSliceGeometry() throws {
        let (image, overlays) = Fixture.views()
        let coronal = LesionViews.coronalMIP(image, lesions: overlays)
        XCTAssertEqual([coronal.image.width, coronal.image.height], [40, 10])
        XCTAssertEqual(coronal.image.pixelHeightMM, 4)
        // Superior at the top: slice k = 9 is row 0. Lesion a spans k 3...5 -> rows 4...6, x 5...9.
        let a = coronal.outlines[0].mask
        let rows = Set(a.indices.filter { a[$0] }.map { $0 / 40 }), cols = Set(a.indices.filter { a[$0] }.map { $0 % 40 })
        XCTAssertEqual(rows, [4, 5, 6])
        XCTAssertEqual(cols, Set(5...9))
        XCTAssertEqual(coronal.image.values[5 * 40 + 7], 60, "maximum over the anterior-posterior axis")
        let axial = LesionViews.axialMIP(image, lesions: overlays)
        XCTAssertEqual([axial.image.width, axial.image.height], [40, 30])
        XCTAssertEqual(axial.image.values[21 * 40 + 31], 80)

        let slice = try XCTUnwrap(LesionViews.axialSlice(image, lesion: overlays[0], others: [overlays[1]]))
        // 50 mm minimum field at 1.5 mm: 34 pixels across, limited to the image's 30 rows down.
        XCTAssertEqual([slice.image.width, slice.image.height], [34, 30])
        XCTAssertEqual(slice.outlines.last?.mask.filter { $0 }.count, 25, "the 5 x 5 lesion section on its centroid slice")
        XCTAssertEqual(slice.outlines.count, 1, "the other lesion is not on this slice")
        XCTAssertTrue(slice.caption.contains("z = 16.0 mm"), slice.caption)
    }

    /// A grid stored right-to-left and inferior-to-superior flipped gives the same projection.
    func testFlippedStorageGivesTheSameView() {
        let (image, overlays) = Fixture.views()
        let g = image.grid
        var flippedGrid = g
        flippedGrid.direction = Matrix3(rows: [[-1, 0, 0], [0, 1, 0], [0, 0, -1]])
        flippedGrid.origin = Vector3(Double(g.size.nx - 1) * g.spacing.x, 0, Double(g.size.nz - 1) * g.spacing.z)
        var flipped = Volume<Float>(grid: flippedGrid, repeating: 0)
        var mask = Mask(grid: flippedGrid, repeating: false)
        for k in 0..<g.size.nz { for j in 0..<g.size.ny { for i in 0..<g.size.nx {
            flipped[g.size.nx - 1 - i, j, g.size.nz - 1 - k] = image[i, j, k]
            mask[g.size.nx - 1 - i, j, g.size.nz - 1 - k] = overlays[0].mask[i, j, k]
        } } }
        let original = LesionViews.coronalMIP(image, lesions: [overlays[0]])
        let other = LesionViews.coronalMIP(flipped, lesions: [LesionOverlay(lesionID: "a", label: "a", colour: "#000", mask: mask)])
        XCTAssertEqual(original.image.values, other.image.values)
        XCTAssertEqual(original.outlines[0].mask, other.outlines[0].mask)
    }

    func testOutlinePathFollowsPixelEdges() {
        let image = SliceImage(width: 3, height: 2, pixelWidthMM: 2, pixelHeightMM: 1, values: [Float](repeating: 0, count: 6))
        let panel = ImagePanel(image: image, window: .softTissue, outlines: [], directions: ("R", "L", "A", "P"), caption: "", alt: "")
        // One pixel at (1, 0): a 2 mm x 1 mm square.
        XCTAssertEqual(panel.edgePath([false, true, false, false, false, false]),
                       "M2.00 0.00H4.00M2.00 1.00H4.00M2.00 0.00V1.00M4.00 0.00V1.00")
        // Windowing: -160 HU is black and 240 HU white in the soft-tissue window (40 / 400).
        let ramp = SliceImage(width: 2, height: 1, pixelWidthMM: 1, pixelHeightMM: 1, values: [-160, 240])
        let r = ImagePanel(image: ramp, window: .softTissue, outlines: [], directions: ("", "", "", ""), caption: "", alt: "")
        XCTAssertEqual(r.raster(width: 2, height: 1), [0, 255])
    }

    func testTicks() {
        XCTAssertEqual(niceTicks(0, 1, 5).map { ($0 * 1e9).rounded() / 1e9 }, [0, 0.2, 0.4, 0.6, 0.8, 1])
        XCTAssertEqual(niceTicks(-0.37, 0.92, 5).map { ($0 * 1e9).rounded() / 1e9 }, [-0.2, 0, 0.2, 0.4, 0.6, 0.8])
        XCTAssertEqual(tickLabel(5, ticks: [0, 5, 10]), "5")
        XCTAssertEqual(tickLabel(0.2, ticks: [0, 0.2, 0.4]), "0.2")
        XCTAssertEqual(tickLabel(0.25, ticks: [0, 0.25, 0.5]), "0.25")
        XCTAssertEqual(Axis(lo: 0.5, hi: 3, p0: 0, p1: 100, log: true).ticks(), [0.5, 1, 2])
    }

    func testChromiumIsFoundOnThePath() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let fake = dir.appendingPathComponent("chromium-browser")
        try Data("#!/bin/sh\n".utf8).write(to: fake)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake.path)
        XCTAssertEqual(HeadlessChromium.find(environment: ["PATH": "/nonexistent:" + dir.path])?.executable.path, fake.path)
        XCTAssertNil(HeadlessChromium.find(environment: ["PATH": "/nonexistent"]))
        XCTAssertNil(HeadlessChromium.find(environment: ["PATH": dir.path, "LESIONMAP_CHROMIUM": "/nonexistent/chrome"]))
    }
}


final class PatientReportPETTests: XCTestCase {
    func testPETMeasuresAreShownPerLesionWhenPresent() {
        var m = Fixture.patient(withImages: false)
        XCTAssertFalse(PatientReport.html(m).contains("pet-table"), "no PET table without PET measures")
        m.lesions[1].pet = LesionPETMeasures(suvMax: 20.8347, suvMean: 7.5, suvPeak: 12.25, mtvML: 3.2, tlg: 24)
        let html = PatientReport.html(m)
        XCTAssertTrue(html.contains("<h3>PET uptake</h3>"), html)
        XCTAssertTrue(html.contains("<tr class=\"pet-row\" data-lesion=\"L2\"><td class=\"id\">L2</td><td class=\"num\">20.83</td><td class=\"num\">7.50</td><td class=\"num\">12.25</td><td class=\"num\">3.20</td><td class=\"num\">24.00</td></tr>"), html)
        // The lesions without a PET image are listed with dashes; their ids stay escaped.
        XCTAssertTrue(html.contains("<tr class=\"pet-row\" data-lesion=\"L3\"><td class=\"id\">L3</td>" + String(repeating: "<td class=\"num\">—</td>", count: 5)), html)
        XCTAssertFalse(html.contains("<td class=\"id\">\(Fixture.evil)"), "escaped")
    }
}

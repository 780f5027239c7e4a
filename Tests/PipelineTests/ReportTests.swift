import XCTest
import Foundation
import ImagingCore
import ImageIO
import Cohort
import DICOMIO
import FeatureStore
import Signatures
import Planning
import Reporting
import Synthesis
import TestSupport
@testable import Pipeline

/// Reports, plan JSON and target export on real (small synthetic) cohorts, checked in headless
/// Chromium, with pdftotext, and by reading the exported RTSTRUCT back with LesionMap and pydicom.
final class ReportTests: XCTestCase {
    /// A lesion id that would run script if it reached the page unescaped.
    static let evilID = "<script>document.title='pwned'</script>"

    static let signature: Signature = {
        try! Signature(
            name: "report test", version: "1", estimates: "test infiltration", direction: "higher = more infiltrated",
            validationStatus: "unit test only; not validated", intercept: 0,
            terms: [.init(feature: "ring.intensity.mean", coefficient: 1, mean: 0, sd: 100)],
            covariates: [.init(name: "location", levels: ["lung": 0.5])],
            cutoffs: [.init(name: "q25", value: -0.2, source: "test"), .init(name: "q75", value: 0.6, source: "test")],
            preprocessing: JSONValue.parse(#"{"mode":"3D"}"#), provenance: "test")
    }()

    /// Extraction, scoring, aggregation and planning of `folder` into `store`.
    func runChain(_ folder: URL, store: URL) throws {
        let summary = try CohortExtraction.run(cohort: try CohortManifest.load(folder), store: store, settings: testSettings)
        XCTAssertTrue(summary.succeeded, "\(summary.failed)")
        try CohortScoring.run(store: store, signature: Self.signature, fileHash: "0", source: "test")
        try CohortAggregation.run(store: store, signatureName: Self.signature.name)
        try CohortPlanning.run(store: store, signatureName: Self.signature.name, policy: .standard)
    }

    func requireChromium() throws -> HeadlessChromium {
        if let c = HeadlessChromium.find() { return c }
        let message = "Chromium not found (apt-get install chromium)"
        if SharedData.isCI { XCTFail(message + "; CI must run the browser tests") }
        throw XCTSkip(message)
    }

    func requireTool(_ name: String) throws -> URL {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let url = URL(fileURLWithPath: String(dir)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        let message = "\(name) not found (apt-get install poppler-utils)"
        if SharedData.isCI { XCTFail(message) }
        throw XCTSkip(message)
    }

    /// Runs a tool; its exit status and output (standard error too when `errors`).
    func run(_ tool: URL, _ arguments: [String], errors: Bool = false) throws -> (status: Int32, text: String) {
        let p = Process()
        p.executableURL = tool
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = errors ? pipe : FileHandle.nullDevice
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Runs a tool that must succeed and returns its standard output.
    func output(_ tool: URL, _ arguments: [String]) throws -> String {
        let r = try run(tool, arguments)
        XCTAssertEqual(r.status, 0, "\(tool.lastPathComponent) \(arguments)")
        return r.text
    }

    /// Where screenshots are kept after the test (LESIONMAP_TEST_ARTIFACTS, else a temporary folder).
    var artifacts: URL {
        let env = ProcessInfo.processInfo.environment["LESIONMAP_TEST_ARTIFACTS"]
        let url = env.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("lesionmap-report-artifacts")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Text of HTML as the browser shows it (the entities the DOM serialiser writes, decoded).
    func decode(_ s: String) -> String {
        s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&nbsp;", with: "\u{a0}").replacingOccurrences(of: "&amp;", with: "&")
    }

    func matches(_ pattern: String, in s: String) throws -> [String] {
        let re = try NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators])
        return re.matches(in: s, range: NSRange(s.startIndex..., in: s)).map { m in
            String(s[Range(m.range(at: m.numberOfRanges > 1 ? 1 : 0), in: s)!])
        }
    }

    func testPatientReportsInChromiumHaveEveryLesionAndImageAndPrintToPDF() throws {
        let chromium = try requireChromium()
        let pdftotext = try requireTool("pdftotext"), pdfinfo = try requireTool("pdfinfo")
        let dir = try SharedData.temporaryDirectory(for: self)
        let folder = try smallCohort(dir, patients: 3, seed: 5)
        // One lesion id carries markup and script.
        let lesionsCSV = folder.appendingPathComponent("lesions.csv")
        var lines = try String(contentsOf: lesionsCSV, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var fields = lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        fields[1] = Self.evilID
        lines[1] = fields.joined(separator: ",")
        try lines.joined(separator: "\n").write(to: lesionsCSV, atomically: true, encoding: .utf8)

        let store = dir.appendingPathComponent("s.h5")
        try runChain(folder, store: store)
        let contents = try StoreContents.read(from: store)
        let patientIDs = try contents.lesions.texts("patient_id"), lesionIDs = try contents.lesions.texts("lesion_id")
        XCTAssertTrue(lesionIDs.contains(Self.evilID))

        let reports = dir.appendingPathComponent("reports")
        let cohortHTML = reports.appendingPathComponent("cohort.html")
        try CohortReporting.write(store: store, signature: Self.signature, title: "report test", to: cohortHTML)
        let written = try PatientReporting.write(store: store, signature: Self.signature, cohortFolder: folder,
                                                 to: reports.appendingPathComponent("patients"), pdf: .required, quiet: true).written
        XCTAssertEqual(written.map(\.patientID), ["SYN001", "SYN002", "SYN003"])

        for w in written {
            let expected = zip(patientIDs, lesionIDs).filter { $0.0 == w.patientID }.map(\.1)
            let dom = try chromium.dumpDOM(w.html)
            XCTAssertFalse(dom.contains("<script"), "no script element in \(w.patientID)'s DOM")
            XCTAssertEqual(try matches("<title>(.*?)</title>", in: dom).first.map(decode), "LesionMap report · \(w.patientID)")
            // Every lesion has a row, in store order.
            let rows = try matches("<tr class=\"lesion-row\"[^>]*>\\s*<td class=\"id\">(.*?)</td>", in: dom).map(decode)
            XCTAssertEqual(rows, expected, w.patientID)
            // Every image loaded: two projections and one image per lesion.
            let images = try matches("<img [^>]*>", in: dom)
            XCTAssertEqual(images.count, 2 + expected.count, w.patientID)
            for img in images { XCTAssertTrue(img.contains("data-loaded=\"yes\""), "an image of \(w.patientID) did not load") }
            let screenshot = artifacts.appendingPathComponent("\(w.html.deletingPathExtension().lastPathComponent).png")
            try chromium.screenshot(w.html, to: screenshot, width: 1100, height: 2400)
            let shot = try Data(contentsOf: screenshot)
            XCTAssertEqual(Array(shot.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            XCTAssertGreaterThan(shot.count, 50_000, "a blank screenshot is small")
            print("screenshot of \(w.patientID): \(screenshot.path)")

            let pdf = try XCTUnwrap(w.pdf)
            let info = try output(pdfinfo, [pdf.path])
            let pages = try XCTUnwrap(try matches("Pages:\\s+(\\d+)", in: info).first.flatMap { Int($0) })
            XCTAssertGreaterThanOrEqual(pages, 2, "\(w.patientID): summary, map and table, then the lesion images")
            let text = try output(pdftotext, [pdf.path, "-"])
            for id in expected { XCTAssertTrue(text.contains(id), "\(w.patientID): lesion \(id) not found in the PDF text") }
            XCTAssertTrue(text.contains("For research use only"))

            // The plan JSON lists the same lesions.
            let doc = try JSONDecoder().decode(PatientPlanDocument.self, from: Data(contentsOf: w.planJSON))
            XCTAssertEqual(doc.lesions.map(\.lesionID), expected)
            XCTAssertEqual(doc.patientID, w.patientID)
        }

        let cohortDOM = try chromium.dumpDOM(cohortHTML)
        XCTAssertFalse(cohortDOM.contains("<script"))
        XCTAssertEqual(try matches("<tr class=\"lesion-row\"", in: cohortDOM).count, lesionIDs.count)
        XCTAssertTrue(cohortDOM.contains("statistics-note"), "without `lesionmap compare`, the report says how to get the comparison")
        try chromium.screenshot(cohortHTML, to: artifacts.appendingPathComponent("cohort.png"), width: 1100, height: 3000)

        // Target export needs a DICOM series to reference: a NIfTI cohort is refused clearly.
        let withTargets = try XCTUnwrap(written.map(\.patientID).first { id in
            zip(patientIDs, try! contents.tables["plans/report_test"]!.table.texts("category")).contains { $0.0 == id && $0.1 != "no_rt" }
        })
        XCTAssertThrowsError(try TargetExport.run(store: store, signature: Self.signature, patientID: withTargets,
                                                  cohortFolder: folder, to: dir.appendingPathComponent("t.dcm"))) { e in
            XCTAssertTrue("\(e)".contains("--series"), "\(e)")
        }
    }

    func testTargetNamesAreSafeAndBounded() {
        XCTAssertEqual(TargetExport.roiName(.ablativeSBRT, rank: 1, lesionID: "L3"), "LM_SBRT_1_L3")
        XCTAssertEqual(TargetExport.roiName(.lowDoseRT, rank: 12, lesionID: "a b\\c/ä<"), "LM_LDRT_12_a_b_c___")
        XCTAssertEqual(TargetExport.roiName(.ablativeSBRT, rank: 2, lesionID: String(repeating: "x", count: 100)).count, 64)
    }

    // MARK: - DICOM inputs: identifiers and target export

    /// Identifiers planted in the test DICOM files; none may appear in any output.
    static let planted: [(DICOMTag, String)] = [
        (DICOMTag(0x0010, 0x0010), "PLANTED^SECRETNAME"), (DICOMTag(0x0010, 0x0020), "PLANTEDPID4711"),
        (DICOMTag(0x0010, 0x0030), "19410203"), (DICOMTag(0x0010, 0x1000), "OTHERPLANTEDID"),
        (DICOMTag(0x0008, 0x0050), "ACCPLANT9912"), (DICOMTag(0x0008, 0x0080), "PLANTED INSTITUTE"),
        (DICOMTag(0x0008, 0x0090), "DR^PLANTEDDOC"), (DICOMTag(0x0020, 0x0010), "STUDYPLANT55"),
        (DICOMTag(0x0008, 0x1030), "PLANTED STUDY DESCRIPTION"), (DICOMTag(0x0010, 0x0040), "O"),
    ]

    /// A two-patient cohort of DICOM CT series (with planted identifiers) and RTSTRUCT contours,
    /// made from a small synthetic cohort. Returns the manifest folder.
    func dicomCohort(_ dir: URL) throws -> URL {
        let synthetic = try smallCohort(dir, patients: 2, seed: 9)
        let folder = dir.appendingPathComponent("dicom-cohort")
        var lesionRows = ["patient_id,lesion_id,image,mask,roi,location,irradiated,lesion_response,kvp"]
        let manifest = try CohortManifest.load(synthetic)
        for p in manifest.patients {
            let image = try ImageFile.readImage(synthetic.appendingPathComponent(SyntheticCohort.imagePath(p.id)))
            let labels = try ImageFile.readLabelMap(synthetic.appendingPathComponent(SyntheticCohort.maskPath(p.id)))
            var extra: [DICOMTag: DICOMValue] = [DICOMTag(0x0018, 0x0060): .text("120"),
                                                 DICOMTag(0x0008, 0x0020): .text("20230405"), DICOMTag(0x0008, 0x0021): .text("20230405")]
            for (tag, value) in Self.planted { extra[tag] = .text(value) }
            let seriesFolder = folder.appendingPathComponent("ct/\(p.id)")
            try DICOMWriter.writeSeries(image, to: seriesFolder, extra: extra)
            // The RTSTRUCT copies the series' patient attributes, so it carries the planted identifiers too.
            let series = try DICOMSeriesReader.read(seriesFolder)
            let regions = p.lesions.map { l in ExportRegion(name: "GTV_\(l.lesionID!)", mask: Mask(grid: series.image.grid, voxels: labels.mask(label: Int32(l.roi!)!).voxels)) }
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("rt"), withIntermediateDirectories: true)
            try RTStructWriter.write(regions, referencing: series.reference, grid: series.image.grid,
                                     to: folder.appendingPathComponent("rt/\(p.id).dcm"))
            for l in p.lesions {
                lesionRows.append("\(p.id),\(l.lesionID!),ct/\(p.id),rt/\(p.id).dcm,GTV_\(l.lesionID!),\(l.location.rawValue),\(l.irradiated ? 1 : 0),\(l.response?.rawValue ?? ""),")
            }
        }
        try (lesionRows.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("lesions.csv"), atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(at: synthetic.appendingPathComponent("patients.csv"), to: folder.appendingPathComponent("patients.csv"))
        return folder
    }

    /// The first patient with a recommended target, and its target lesion ids in export order.
    func patientWithTargets(_ store: URL) throws -> (String, [String]) {
        let source = try ReportSource(store: store, signature: Self.signature)
        for id in source.patientIDs {
            let rows = (source.rows(of: id) ?? []).filter { source.categories[$0] != "no_rt" }
                .sorted { (source.categories[$0] != "ablative_sbrt" ? 1 : 0, source.ranks[$0]) < (source.categories[$1] != "ablative_sbrt" ? 1 : 0, source.ranks[$1]) }
            if !rows.isEmpty { return (id, rows.map { source.lesions.lesionIDs[$0] }) }
        }
        throw XCTSkip("no patient with a recommended target in this cohort")
    }

    func testNoDICOMIdentifierReachesAnyOutputAndTargetsReadBack() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let folder = try dicomCohort(dir)
        // The inputs do carry the identifiers (so their absence below means something).
        let inputs = [folder.appendingPathComponent("ct/SYN001/slice0000.dcm"), folder.appendingPathComponent("rt/SYN001.dcm")]
        for f in inputs {
            let data = try Data(contentsOf: f)
            for value in ["PLANTED^SECRETNAME", "PLANTEDPID4711", "19410203"] {
                XCTAssertNotNil(data.range(of: Data(value.utf8)), "\(value) should be in the input \(f.lastPathComponent)")
            }
        }
        let store = dir.appendingPathComponent("out/store.h5")
        try runChain(folder, store: store)
        let out = dir.appendingPathComponent("out")
        try CohortReporting.write(store: store, signature: Self.signature, title: "dicom", to: out.appendingPathComponent("cohort.html"))
        let chromium = HeadlessChromium.find()
        if chromium == nil && SharedData.isCI { XCTFail("Chromium is required under CI") }
        let written = try PatientReporting.write(store: store, signature: Self.signature, cohortFolder: folder,
                                                 to: out.appendingPathComponent("patients"), pdf: chromium == nil ? .never : .required, quiet: true).written
        XCTAssertTrue(written.allSatisfy { (try? String(contentsOf: $0.html, encoding: .utf8))?.contains("2023-04-05") == true },
                      "the scan date is shown")
        _ = try StoreExport.csv(store: store, to: out.appendingPathComponent("export.csv"))
        // Plan JSON from the store alone (as `lesionmap plan` writes it).
        let plans = try PlanJSON.write(store: store, signatureName: Self.signature.name, to: out.appendingPathComponent("plans")).files.map(\.url)
        XCTAssertEqual(plans.map(\.lastPathComponent), ["SYN001.plan.json", "SYN002.plan.json"])
        let doc = try JSONDecoder().decode(PatientPlanDocument.self, from: Data(contentsOf: plans[0]))
        XCTAssertEqual(doc.signatureID, "report test@1")
        XCTAssertEqual(doc.schema, "lesionmap-plan/1")
        XCTAssertEqual(doc.lesions.map(\.lesionID), try CohortManifest.load(folder).patient("SYN001")!.lesions.map { $0.lesionID! })
        let (patient, targets) = try patientWithTargets(store)
        let rt = out.appendingPathComponent("targets/\(patient)_rtstruct.dcm"), seg = out.appendingPathComponent("targets/\(patient)_seg.dcm")
        let result = try TargetExport.run(store: store, signature: Self.signature, patientID: patient, cohortFolder: folder,
                                          to: rt, seg: seg)
        XCTAssertEqual(result.targets.map(\.lesionID), targets)

        // Search every output file (and the PDF text) for every planted identifier.
        var texts: [(String, Data)] = []
        let files = FileManager.default.enumerator(at: out, includingPropertiesForKeys: nil)!.compactMap { $0 as? URL }
            .filter { !$0.hasDirectoryPath }
        XCTAssertGreaterThanOrEqual(files.count, 2 * 3 + 5, "store, csv, cohort report, 2 x (html, json, pdf), rtstruct, seg")
        for f in files { texts.append((f.lastPathComponent, try Data(contentsOf: f))) }
        if let pdftotext = try? requireTool("pdftotext") {
            for w in written { if let pdf = w.pdf { texts.append((pdf.lastPathComponent + " text", Data(try output(pdftotext, [pdf.path, "-"]).utf8))) } }
        }
        for (_, value) in Self.planted where value.count > 2 {
            for needle in [value, value.replacingOccurrences(of: "^", with: " ")] {
                for (name, data) in texts {
                    XCTAssertNil(data.range(of: Data(needle.utf8)), "\(needle) found in \(name)")
                }
            }
        }
        XCTAssertTrue(texts.contains { $0.0 == "\(patient)_rtstruct.dcm" })

        // The RTSTRUCT reads back through LesionMap with exactly the chosen lesions' masks.
        let manifest = try CohortManifest.load(folder)
        let loaded = try PatientLoader().load(manifest.patient(patient)!, relativeTo: folder)
        let series = try DICOMSeriesReader.read(folder.appendingPathComponent("ct/\(patient)"))
        let rois = try RTStructReader.read(rt)
        XCTAssertEqual(rois.map(\.name), result.targets.map(\.roiName))
        for (roi, target) in zip(rois, result.targets) {
            XCTAssertTrue(roi.name.hasPrefix(target.category == .ablativeSBRT ? "LM_SBRT_\(target.rank)_" : "LM_LDRT_\(target.rank)_"), roi.name)
            XCTAssertEqual(roi.color, target.category == .ablativeSBRT ? [192, 57, 43] : [214, 137, 16])
            let mask = try ContourRasterizer.mask(roi, on: series.image.grid)
            let lesion = try XCTUnwrap(loaded.lesions.first { $0.id == target.lesionID })
            XCTAssertEqual(mask.voxels, lesion.mask.voxels, "ROI \(roi.name) differs from lesion \(target.lesionID)")
        }
        try checkWithPydicom(rtstruct: rt, series: folder.appendingPathComponent("ct/\(patient)"),
                             masks: result.targets.map { t in loaded.lesions.first { $0.id == t.lesionID }!.mask },
                             names: result.targets.map(\.roiName), seriesUID: series.reference.seriesInstanceUID, dir: dir)
    }

    /// pydicom reads the RTSTRUCT: names, colours, the referenced series, empty patient attributes,
    /// and contours that fill (even-odd, voxel centres) to exactly the expected masks.
    func checkWithPydicom(rtstruct: URL, series: URL, masks: [Mask], names: [String], seriesUID: String, dir: URL) throws {
        let probe = try run(URL(fileURLWithPath: "/usr/bin/env"), ["python3", "-c", "import pydicom, numpy"])
        guard probe.status == 0 else {
            if SharedData.isCI { XCTFail("pydicom and numpy are required under CI (pip install pydicom)") }
            print("skipping the pydicom check: pydicom is not installed")
            return
        }
        for (n, m) in masks.enumerated() {
            try Data(m.voxels.map { $0 ? 1 : 0 }).write(to: dir.appendingPathComponent("mask\(n).raw"))
        }
        let script = #"""
        import sys, os, json, glob
        import numpy as np, pydicom
        rt_path, series_dir, work, names, uid = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), sys.argv[5]
        cts = [pydicom.dcmread(f) for f in glob.glob(os.path.join(series_dir, "*.dcm"))]
        iop = np.array(cts[0].ImageOrientationPatient, float); X, Y = iop[:3], iop[3:]; N = np.cross(X, Y)
        cts.sort(key=lambda d: float(np.dot(N, np.array(d.ImagePositionPatient, float))))
        rows, cols = int(cts[0].Rows), int(cts[0].Columns)
        dr, dc = (float(v) for v in cts[0].PixelSpacing)
        ipps = [np.array(d.ImagePositionPatient, float) for d in cts]
        heights = np.array([np.dot(N, p) for p in ipps])
        rt = pydicom.dcmread(rt_path)
        assert str(rt.PatientName) == "" and str(rt.PatientID) == "" and str(rt.PatientBirthDate) == "", "patient attributes must be empty"
        ref = rt.ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0].RTReferencedSeriesSequence[0]
        assert ref.SeriesInstanceUID == uid, (ref.SeriesInstanceUID, uid)
        got = [r.ROIName for r in rt.StructureSetROISequence]
        assert got == names, (got, names)
        jj, ii = np.mgrid[0:rows, 0:cols]
        for n, (roi, contours) in enumerate(zip(rt.StructureSetROISequence, rt.ROIContourSequence)):
            mask = np.zeros((len(cts), rows, cols), bool)
            for c in contours.ContourSequence:
                pts = np.array(c.ContourData, float).reshape(-1, 3)
                k = int(np.argmin(abs(heights - np.dot(N, pts[0]))))
                rel = pts - ipps[k]
                px, py = rel @ X / dc, rel @ Y / dr
                inside = np.zeros((rows, cols), bool)
                for a in range(len(px)):
                    x1, y1, x2, y2 = px[a], py[a], px[a - 1], py[a - 1]
                    crosses = (y1 > jj) != (y2 > jj)
                    with np.errstate(divide="ignore", invalid="ignore"):
                        xc = x1 + (jj - y1) * (x2 - x1) / (y2 - y1)
                    inside ^= crosses & (ii < xc)
                mask[k] ^= inside
            expected = np.fromfile(os.path.join(work, f"mask{n}.raw"), np.uint8).reshape(mask.shape).astype(bool)
            assert (mask == expected).all(), f"{roi.ROIName}: {int((mask != expected).sum())} voxels differ"
            print(roi.ROIName, int(mask.sum()), "voxels match")
        """#
        let (status, text) = try run(URL(fileURLWithPath: "/usr/bin/env"),
                                     ["python3", "-c", script, rtstruct.path, series.path, dir.path,
                                      String(decoding: try JSONEncoder().encode(names), as: UTF8.self), seriesUID], errors: true)
        print(text)
        XCTAssertEqual(status, 0, text)
        XCTAssertEqual(text.components(separatedBy: "voxels match").count - 1, names.count, text)
    }
}

import XCTest
import Foundation
import ImagingCore
import ImageIO
import TestSupport
@testable import Cohort

/// Issue 12, items 5 and 11: ids with NUL and other control characters, NUL in any field, line endings,
/// byte-order marks, empty and non-regular manifest files, and no spurious "has no rows" after an invalid row.
final class ManifestHardeningTests: XCTestCase {
    private var dir: URL!
    static let lesionHeader = "patient_id,lesion_id,image,mask,roi,location,irradiated,lesion_response,kvp"

    override func setUpWithError() throws {
        dir = try SharedData.temporaryDirectory(for: self)
        let grid = ImageGrid(size: Size3(8, 8, 4), spacing: Vector3(1, 1, 2))
        let image = Volume<Float>(grid: grid, voxels: (0..<grid.voxelCount).map { Float($0 % 40) })
        var labels = LabelMap(grid: grid, repeating: 0)
        labels[2, 2, 1] = 1; labels[5, 5, 2] = 2
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("img"), withIntermediateDirectories: true)
        try NIfTI.write(image, to: dir.appendingPathComponent("img/ct.nii.gz"))
        try NIfTI.write(labels, to: dir.appendingPathComponent("img/labels.nii.gz"))
    }

    private func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: dir.appendingPathComponent(name))
    }

    private func problems(_ file: String? = nil) -> [ManifestProblem] {
        do {
            _ = try CohortManifest.load(dir)
            XCTFail("the manifest was accepted")
            return []
        } catch let e as ManifestError {
            return e.problems.filter { file == nil || $0.file == file }
        } catch {
            XCTFail("not a ManifestError: \(error)")
            return []
        }
    }

    private func lesionRow(_ patient: String, _ lesion: String, roi: String = "1", location: String = "lung") -> String {
        "\(patient),\(lesion),img/ct.nii.gz,img/labels.nii.gz,\(roi),\(location),0,,120"
    }

    // MARK: item 5

    /// `P\0X` and `P\0Y` were two patients in the manifest and one patient `P` in the store.
    func testNULInPatientAndLesionIdsIsRefusedWithRowAndColumn() throws {
        try write("patients.csv", "patient_id\nP\u{0}X\nP\u{0}Y\nQ\n")
        try write("lesions.csv", [Self.lesionHeader, lesionRow("P\u{0}X", "L1"), lesionRow("P\u{0}Y", "L1"),
                                  lesionRow("Q", "A\u{0}1"), lesionRow("Q", "A\u{0}2", roi: "2")].joined(separator: "\n") + "\n")
        let found = problems()
        for (file, row, column) in [("patients.csv", 2, "patient_id"), ("patients.csv", 3, "patient_id"),
                                    ("lesions.csv", 2, "patient_id"), ("lesions.csv", 3, "patient_id"),
                                    ("lesions.csv", 4, "lesion_id"), ("lesions.csv", 5, "lesion_id")] {
            XCTAssertTrue(found.contains { $0.file == file && $0.row == row && $0.column == column && $0.message.contains("NUL") },
                          "\(file) row \(row) \(column): \(found)")
        }
        XCTAssertFalse(found.contains { $0.message.contains("has no rows") || $0.message.contains("is not in") }, "\(found)")
        let text = ManifestError(problems: found).description
        XCTAssertFalse(text.unicodeScalars.contains("\u{0}"), "messages never carry the NUL itself")
    }

    func testIdentifierRule() {
        let bad: [(String, String)] = [("tab", "P\tA"), ("DEL", "P\u{7F}A"), ("C1 NEL", "P\u{85}A"), ("bell", "P\u{7}A"),
                                       ("RLO", "P\u{202E}A"), ("LRI", "P\u{2066}A"), ("ZWSP", "P\u{200B}A"),
                                       ("LS", "P\u{2028}A"), ("PS", "P\u{2029}A"), ("BOM", "P\u{FEFF}A")]
        for (name, id) in bad {
            XCTAssertNotNil(Identifier.problem(id), name)
            XCTAssertFalse(Identifier.printable(id).unicodeScalars.contains { Identifier.refusedKind($0) != nil }, name)
        }
        for id in ["SYN001", "Müller-3", "患者7", "a b", "x.y_z", "<script>"] { XCTAssertNil(Identifier.problem(id), id) }
        XCTAssertEqual(Identifier.printable("P\u{202E}A"), "P<U+202E>A")
    }

    func testControlFormatAndSeparatorCharactersInIdsAreRefused() throws {
        // In the manifest: patient ids, lesion ids, and a roi that names the lesion (lesion_id empty).
        try write("patients.csv", "patient_id\nP\u{202E}1\nQ\n")
        try write("lesions.csv", [Self.lesionHeader, lesionRow("P\u{202E}1", "L1"), lesionRow("Q", "L\u{2028}1"),
                                  lesionRow("Q", "", roi: "2"), lesionRow("Q", "M\u{7F}", roi: "1"),
                                  lesionRow("Q", "M\u{7F}", roi: "2")].joined(separator: "\n") + "\n")
        let found = problems()
        for (file, row, column, code) in [("patients.csv", 2, "patient_id", "U+202E"), ("lesions.csv", 2, "patient_id", "U+202E"),
                                          ("lesions.csv", 3, "lesion_id", "U+2028"), ("lesions.csv", 5, "lesion_id", "U+007F")] {
            XCTAssertTrue(found.contains { $0.file == file && $0.row == row && $0.column == column && $0.message.contains(code) },
                          "\(file) row \(row) \(column) \(code): \(found)")
        }
        XCTAssertFalse(found.contains { $0.row == 4 }, "roi 2 naming lesion '2' is a valid id: \(found)")
        XCTAssertFalse(found.contains { $0.message.contains("duplicate") }, "a refused id is not reported again as a duplicate: \(found)")
        let shown = ManifestError(problems: found).description.unicodeScalars
        XCTAssertFalse(shown.contains { [.control, .format, .lineSeparator, .paragraphSeparator].contains($0.properties.generalCategory) && $0 != "\n" },
                       "messages show refused characters as U+XXXX only")
    }

    func testNULInAnyOtherTextFieldIsRefused() throws {
        try write("patients.csv", "patient_id,cov_site\nP1,lu\u{0}ng\n")
        try write("lesions.csv", [Self.lesionHeader, lesionRow("P1", "L1", location: "li\u{0}ver")].joined(separator: "\n") + "\n")
        let found = problems()
        XCTAssertTrue(found.contains { $0.file == "patients.csv" && $0.row == 2 && $0.column == "cov_site" && $0.message.contains("NUL") }, "\(found)")
        XCTAssertTrue(found.contains { $0.file == "lesions.csv" && $0.row == 2 && $0.column == "location" && $0.message.contains("NUL") }, "\(found)")
        XCTAssertEqual(found.count, 2, "one problem per NUL, nothing spurious: \(found)")
    }

    /// Ids named by the contour file (RTSTRUCT ROI names, SEG labels) follow the same rule as the manifest's.
    func testExpandedContourNamesFollowTheIdRule() throws {
        // A file the manifest check takes for an RTSTRUCT (preamble, DICM, the SOP class UID).
        var fake = Data(count: 128) + Data("DICM".utf8)
        fake += Data(repeating: 0x20, count: 64) + Data(DICOMContourSniffer.rtstructClass.utf8) + Data(count: 64)
        try fake.write(to: dir.appendingPathComponent("img/rt.dcm"))
        try write("patients.csv", "patient_id\nP1\n")
        try write("lesions.csv", Self.lesionHeader + "\nP1,,img/ct.nii.gz,img/rt.dcm,,lung,0,,120\n")
        let cohort = try CohortManifest.load(dir)

        struct Source: DICOMSource {
            let names: [String]
            func loadSeries(_ folder: URL) throws -> DICOMScan { fatalError("not used") }
            func contours(_ file: URL, kind: ContourSourceKind, roi: String?, onto grid: ImageGrid,
                          checkedAgainst image: ContourImage?) throws -> ContourSet {
                var m = Mask(grid: grid, repeating: false)
                m[3, 3, 1] = true
                return ContourSet(masks: names.map { NamedMask(name: $0, mask: m) })
            }
        }
        for name in ["GTV\u{0}1", "GTV\u{202E}2", ""] {
            XCTAssertThrowsError(try PatientLoader(dicom: Source(names: [name])).load(cohort.patients[0], relativeTo: cohort.folder)) { e in
                let text = "\(e)"
                XCTAssertTrue(text.contains("patient P1") && text.contains("img/rt.dcm") && text.contains("lesion_id"), text)
                XCTAssertFalse(text.contains("GTV"), "the ROI name itself is not shown: \(text)")
            }
        }
        let ok = try PatientLoader(dicom: Source(names: ["GTV-1"])).load(cohort.patients[0], relativeTo: cohort.folder)
        XCTAssertEqual(ok.lesions.map(\.id), ["GTV-1"])
    }

    // MARK: item 11

    func testInvalidLesionRowDoesNotAlsoReportPatientWithoutRows() throws {
        try write("patients.csv", "patient_id\nP1\nP2\n")
        try write("lesions.csv", [Self.lesionHeader, lesionRow("P1", "L1", location: "pancreas"), lesionRow("P2", "L1")]
            .joined(separator: "\n") + "\n")
        let found = problems()
        XCTAssertEqual(found.count, 1, "\(found)")
        XCTAssertEqual(found.first?.column, "location")
        XCTAssertFalse(found.contains { $0.message.contains("has no rows") }, "\(found)")
    }

    func testLFCRLFAndCROnlyLineEndingsAndByteOrderMarkReadAlike() throws {
        let lines = ["a,b,c", "1,\"x, y\",3", "", "\"multi", "line\",,z", "4,5,6"]
        let expected = try CSVTable.parse(lines.joined(separator: "\n") + "\n")
        XCTAssertEqual(expected.rows.map(\.number), [2, 4, 6])
        for (name, ending) in [("CRLF", "\r\n"), ("CR", "\r")] {
            for bom in ["", "\u{FEFF}"] {
                let t = try CSVTable.parse(bom + lines.joined(separator: ending) + ending)
                XCTAssertEqual(t.header, expected.header, name)
                XCTAssertEqual(t.rows.map(\.number), expected.rows.map(\.number), name)
                XCTAssertEqual(t.rows.map(\.fields), [expected.rows[0].fields, ["multi" + ending + "line", "", "z"], ["4", "5", "6"]], name)
            }
        }
        // A whole manifest saved with CR line endings (old spreadsheet exports), one with a BOM and CRLF.
        let lesions = [Self.lesionHeader, lesionRow("P1", "L1"), lesionRow("P2", "L2", roi: "2")]
        try write("patients.csv", "patient_id\rP1\rP2\r")
        try write("lesions.csv", lesions.joined(separator: "\r") + "\r")
        XCTAssertEqual(try CohortManifest.load(dir).patients.map { $0.lesions.map(\.row) }, [[2], [3]])
        try Data([0xEF, 0xBB, 0xBF] + Array((lesions.joined(separator: "\r\n") + "\r\n").utf8)).write(to: dir.appendingPathComponent("lesions.csv"))
        XCTAssertEqual(try CohortManifest.load(dir).patients.map(\.id), ["P1", "P2"])
    }

    func testEmptyMissingAndNonRegularManifestFilesGetPlainMessages() throws {
        func single(_ file: String) -> String {
            let found = problems(file)
            XCTAssertEqual(found.count, 1, "\(found)")
            let text = found.first?.description ?? ""
            XCTAssertFalse(text.contains("Error Domain") || text.contains("NSCocoaErrorDomain"), text)
            return text
        }
        try write("patients.csv", "patient_id\nP1\n")
        try write("lesions.csv", "")
        XCTAssertTrue(single("lesions.csv").contains("is empty"))
        try write("lesions.csv", "\u{FEFF}")
        XCTAssertTrue(single("lesions.csv").contains("is empty"))
        try Data([0xFF, 0xFE] + (Self.lesionHeader + "\n").utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
            .write(to: dir.appendingPathComponent("lesions.csv"))
        XCTAssertTrue(single("lesions.csv").contains("UTF-16"))
        try Data([0x70, 0x61, 0xFF, 0x0A]).write(to: dir.appendingPathComponent("lesions.csv"))
        XCTAssertTrue(single("lesions.csv").contains("not UTF-8"))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("lesions.csv"))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("lesions.csv"), withIntermediateDirectories: false)
        XCTAssertTrue(single("lesions.csv").contains("is a folder"))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("lesions.csv"))
        XCTAssertEqual(mkfifo(dir.appendingPathComponent("lesions.csv").path, 0o644), 0)
        XCTAssertTrue(single("lesions.csv").contains("FIFO"), "a FIFO is refused before it is opened (it would block)")

        let nowhere = dir.appendingPathComponent("no-such-cohort")
        XCTAssertThrowsError(try CohortManifest.load(nowhere)) { e in
            XCTAssertTrue("\(e)".contains("no such folder") && "\(e)".contains(nowhere.path), "\(e)")
        }
        XCTAssertThrowsError(try CohortManifest.load(dir.appendingPathComponent("img/ct.nii.gz"))) { e in
            XCTAssertTrue("\(e)".contains("not a cohort folder"), "\(e)")
        }
    }

    func testImageOrMaskCellNamingAFIFOIsRefusedInTheCheck() throws {
        XCTAssertEqual(mkfifo(dir.appendingPathComponent("img/pipe.nii.gz").path, 0o644), 0)
        try write("patients.csv", "patient_id\nP1\n")
        try write("lesions.csv", Self.lesionHeader + "\nP1,L1,img/ct.nii.gz,img/pipe.nii.gz,1,lung,0,,\nP1,L2,img/pipe.nii.gz,img/labels.nii.gz,1,lung,0,,\n")
        let found = problems()
        XCTAssertTrue(found.contains { $0.row == 2 && $0.column == "mask" && $0.message.contains("FIFO") }, "\(found)")
        XCTAssertTrue(found.contains { $0.row == 3 && $0.column == "image" && $0.message.contains("FIFO") }, "\(found)")
    }
}

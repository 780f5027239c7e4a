import XCTest
import ImagingCore
import ImageIO
import TestSupport
@testable import Cohort

final class CSVTests: XCTestCase {
    func testQuotedFieldsAndBlankLines() throws {
        let t = try CSVTable.parse("a,b,c\r\n1,\"x, \"\"y\"\"\",3\n\n\"multi\nline\",,z\n")
        XCTAssertEqual(t.header, ["a", "b", "c"])
        XCTAssertEqual(t.rows.count, 2)
        XCTAssertEqual(t.rows[0].fields, ["1", "x, \"y\"", "3"])
        XCTAssertEqual(t.rows[0].number, 2)
        XCTAssertEqual(t.rows[1].fields, ["multi\nline", "", "z"])
        XCTAssertEqual(t.rows[1].number, 4)
        let rendered = CSVTable.render(header: t.header, rows: t.rows.map(\.fields))
        XCTAssertEqual(try CSVTable.parse(rendered).rows.map(\.fields), t.rows.map(\.fields))
    }

    func testUnclosedQuoteIsAnError() {
        XCTAssertThrowsError(try CSVTable.parse("a\n\"open\n"))
    }
}

final class ManifestTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = try SharedData.temporaryDirectory(for: self)
        // Two patients on one small grid; P1's label map holds labels 1 and 2, P2's a single label
        // with two separate blobs.
        let grid = ImageGrid(size: Size3(12, 10, 6), spacing: Vector3(1, 1, 2))
        let image = Volume<Float>(grid: grid, voxels: (0..<grid.voxelCount).map { Float($0 % 50) })
        var labels1 = LabelMap(grid: grid, repeating: 0)
        labels1[2, 2, 2] = 1; labels1[3, 2, 2] = 1
        labels1[8, 7, 3] = 2
        var labels2 = LabelMap(grid: grid, repeating: 0)
        labels2[9, 8, 4] = 5  // first in raster order: z = 4 ... comes later
        labels2[1, 1, 1] = 5; labels2[2, 2, 1] = 5  // z = 1: met first
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("img"), withIntermediateDirectories: true)
        try NIfTI.write(image, to: dir.appendingPathComponent("img/ct.nii.gz"))
        try NIfTI.write(labels1, to: dir.appendingPathComponent("img/p1.nii.gz"))
        try NIfTI.write(labels2, to: dir.appendingPathComponent("img/p2.nii.gz"))
    }

    private func write(_ name: String, _ text: String) throws {
        try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    func testValidManifestLoadsAndExpandsInDocumentedOrder() throws {
        try write("patients.csv", """
        patient_id,pfs_months,pfs_event,os_months,os_event,best_response,abscopal_response,cov_age
        P1,10.5,1,20,0,PR,1,64
        P2,3,0,,,SD,,71
        """)
        try write("lesions.csv", """
        patient_id,lesion_id,image,mask,roi,location,irradiated,lesion_response,kvp
        P1,liver-a,img/ct.nii.gz,img/p1.nii.gz,2,liver,yes,PD,120
        P1,,img/ct.nii.gz,img/p1.nii.gz,1,Lymph Node,0,,120
        P2,,img/ct.nii.gz,img/p2.nii.gz,,lung,,,
        """)
        let cohort = try CohortManifest.load(dir)
        XCTAssertEqual(cohort.patients.map(\.id), ["P1", "P2"])
        XCTAssertEqual(cohort.patients[0].outcomes.pfs, SurvivalTime(months: 10.5, event: true))
        XCTAssertEqual(cohort.patients[0].outcomes.os, SurvivalTime(months: 20, event: false))
        XCTAssertEqual(cohort.patients[0].outcomes.covariates["cov_age"], "64")
        XCTAssertNil(cohort.patients[1].outcomes.os)

        let p1 = try PatientLoader().load(cohort.patients[0], relativeTo: cohort.folder)
        XCTAssertEqual(p1.lesions.map(\.id), ["liver-a", "1"])
        XCTAssertEqual(p1.lesions.map(\.location), [.liver, .lymphNode])
        XCTAssertEqual(p1.lesions.map { $0.mask.count }, [1, 2])
        XCTAssertEqual(p1.lesions[0].irradiated, true)
        XCTAssertEqual(p1.scans.count, 1, "one image read once")
        XCTAssertEqual(p1.scans[0].metadata.kvp, 120)

        let p2 = try PatientLoader().load(cohort.patients[1], relativeTo: cohort.folder)
        XCTAssertEqual(p2.lesions.map(\.id), ["C1", "C2"])
        XCTAssertTrue(p2.lesions[0].mask[1, 1, 1], "C1 is the component met first scanning x, y, then z")
        XCTAssertTrue(p2.lesions[1].mask[9, 8, 4])
    }

    func testEveryProblemIsListedWithItsRow() throws {
        try write("patients.csv", """
        patient_id,pfs_months,pfs_event,survival
        P1,ten,1,
        P1,5,2,
        P3,4,,
        """)
        try write("lesions.csv", """
        patient_id,lesion_id,image,mask,roi,location,irradiated,lesion_response,kvp
        P1,a,img/ct.nii.gz,img/missing.nii.gz,1,pancreas,maybe,XX,-5
        P1,a,img/ct.nii.gz,img/p1.nii.gz,one,lung,0,,
        P9,b,img/ct.nii.gz,img/p1.nii.gz,1,lung,0,,
        """)
        XCTAssertThrowsError(try CohortManifest.load(dir)) { error in
            guard let e = error as? ManifestError else { return XCTFail("\(error)") }
            let text = e.description
            let expected: [(String, Int?, String?)] = [
                ("patients.csv", 1, "survival"),          // unknown column
                ("patients.csv", 2, "pfs_months"),        // bad number
                ("patients.csv", 3, "patient_id"),        // duplicate patient
                ("patients.csv", 4, "pfs_event"),         // time without event
                ("lesions.csv", 2, "mask"),               // missing file
                ("lesions.csv", 2, "location"),           // unknown location
                ("lesions.csv", 2, "irradiated"),         // bad flag
                ("lesions.csv", 2, "lesion_response"),    // bad category
                ("lesions.csv", 2, "kvp"),                // non-positive kVp
                ("lesions.csv", 3, "lesion_id"),          // duplicate lesion
                ("lesions.csv", 3, "roi"),                // non-integer label
                ("lesions.csv", 4, "patient_id"),         // unknown patient
                ("patients.csv", 4, "patient_id"),        // patient without lesions
            ]
            for (file, row, column) in expected {
                XCTAssertTrue(e.problems.contains { $0.file == file && $0.row == row && $0.column == column },
                              "missing problem \(file) row \(row ?? 0) \(column ?? "")\n\(text)")
            }
            XCTAssertTrue(text.hasPrefix("the cohort manifest has \(e.problems.count) problems"))
        }
    }

    func testMissingManifestFilesAreReportedTogether() {
        XCTAssertThrowsError(try CohortManifest.load(dir)) { error in
            let e = error as! ManifestError
            XCTAssertEqual(Set(e.problems.map(\.file)), ["lesions.csv", "patients.csv"])
        }
    }

    func testGeometryMismatchAndMissingLabelNamePatientLesionAndFile() throws {
        let other = ImageGrid(size: Size3(12, 10, 5), spacing: Vector3(1, 1, 2))
        try NIfTI.write(LabelMap(grid: other, repeating: 1), to: dir.appendingPathComponent("img/wrong.nii.gz"))
        try write("patients.csv", "patient_id\nP1\n")
        try write("lesions.csv", """
        patient_id,lesion_id,image,mask,roi
        P1,x,img/ct.nii.gz,img/wrong.nii.gz,1
        """)
        let cohort = try CohortManifest.load(dir)
        XCTAssertThrowsError(try PatientLoader().load(cohort.patients[0], relativeTo: cohort.folder)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("patient P1") && text.contains("lesion x") && text.contains("img/wrong.nii.gz")
                          && text.contains("size"), text)
        }
        try write("lesions.csv", """
        patient_id,lesion_id,image,mask,roi
        P1,y,img/ct.nii.gz,img/p1.nii.gz,7
        """)
        let cohort2 = try CohortManifest.load(dir)
        XCTAssertThrowsError(try PatientLoader().load(cohort2.patients[0], relativeTo: cohort2.folder)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("lesion y") && text.contains("label 7") && text.contains("img/p1.nii.gz"), text)
        }
    }
}

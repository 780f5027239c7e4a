import Cohort
import DICOMIO
import Foundation
import ImagingCore
import TestSupport
import XCTest

/// Issue 13 item 5: a SEG or RTSTRUCT row with an empty `roi` gives one lesion per segment or ROI, with ids made
/// from the segment number (`S<n>`) or ROI number (`R<n>`), unique although labels and names repeat, the label or
/// name kept in `label`, and the same on every run.
final class ExpansionIdTests: XCTestCase {
    private func write(_ dir: URL, _ name: String, _ text: String) throws {
        try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    /// A 20 x 20 x 6 CT with three 3 x 3 x 2 blocks, and the same blocks as a SEG and as an RTSTRUCT.
    private func makeCohort(_ rows: String) throws -> (Cohort, URL) {
        let dir = try SharedData.temporaryDirectory(for: self)
        let grid = ImageGrid(size: Size3(20, 20, 6), spacing: Vector3(1, 1, 2))
        let image = Volume(grid: grid, voxels: (0..<grid.voxelCount).map { Float($0 % 200) })
        let reference = try DICOMWriter.writeSeries(image, to: dir.appendingPathComponent("ct"), extra: [DICOMTag(0x0018, 0x0060): .text("120")])
        func block(_ x: Int) -> Mask {
            var m = Mask(grid: grid, repeating: false)
            for k in 2...3 { for j in 5...7 { for i in x...(x + 2) { m[i, j, k] = true } } }
            return m
        }
        try SEGWriter.write([ExportRegion(name: "Neoplasm, Secondary", mask: block(2)),
                             ExportRegion(name: "Neoplasm, Secondary", mask: block(8)),
                             ExportRegion(name: "Neoplasm, Secondary", mask: block(14))],
                            referencing: reference, grid: grid, to: dir.appendingPathComponent("seg.dcm"))
        try FileManager.default.copyItem(at: dir.appendingPathComponent("seg.dcm"), to: dir.appendingPathComponent("seg2.dcm"))
        // ROI 2 is an organ at risk: skipped on expansion, so the lesions are R1 and R3 (numbers, not positions).
        try RTStructWriter.write([ExportRegion(name: "GTV", mask: block(2)),
                                  ExportRegion(name: "Spinal-Cord", mask: block(8), interpretedType: "ORGAN"),
                                  ExportRegion(name: "GTV", mask: block(14))],
                                 referencing: reference, grid: grid, to: dir.appendingPathComponent("rs.dcm"))
        try write(dir, "patients.csv", "patient_id\nP1\n")
        try write(dir, "lesions.csv", "patient_id,lesion_id,image,mask,roi\n" + rows)
        return (try CohortManifest.load(dir), dir)
    }

    func testSEGAndRTSTRUCTWithRepeatedNamesExpandToNumberedIds() throws {
        let (cohort, _) = try makeCohort("P1,,ct,seg.dcm,\nP1,,ct,rs.dcm,\n")
        let patient = try PatientLoader().load(cohort.patients[0], relativeTo: cohort.folder)
        XCTAssertEqual(patient.lesions.map(\.id), ["S1", "S2", "S3", "R1", "R3"])
        XCTAssertEqual(patient.lesions.map(\.label), ["Neoplasm, Secondary", "Neoplasm, Secondary", "Neoplasm, Secondary", "GTV", "GTV"])
        XCTAssertEqual(patient.lesions.map(\.source), ["seg.dcm segment 1 Neoplasm, Secondary", "seg.dcm segment 2 Neoplasm, Secondary",
                                                       "seg.dcm segment 3 Neoplasm, Secondary", "rs.dcm ROI 1 GTV", "rs.dcm ROI 3 GTV"])
        XCTAssertEqual(patient.lesions.map(\.mask.count), [18, 18, 18, 18, 18])
        // Stable: the same ids on a second load.
        let again = try PatientLoader().load(cohort.patients[0], relativeTo: cohort.folder)
        XCTAssertEqual(again.lesions.map(\.id), patient.lesions.map(\.id))
        XCTAssertEqual(again.lesions.map(\.mask.voxels), patient.lesions.map(\.mask.voxels))
    }

    /// Rows naming their segment or ROI in `roi` are not expanded: without a `lesion_id` the id is the `roi` value
    /// (the manifest's rule), and the label is still kept.
    func testRowsNamingASegmentOrROI() throws {
        let (cohort, _) = try makeCohort("P1,,ct,seg.dcm,2\nP1,,ct,rs.dcm,Spinal-Cord\nP1,mine,ct,seg.dcm,3\n")
        let patient = try PatientLoader().load(cohort.patients[0], relativeTo: cohort.folder)
        XCTAssertEqual(patient.lesions.map(\.id), ["2", "Spinal-Cord", "mine"])
        XCTAssertEqual(patient.lesions.map(\.label), ["Neoplasm, Secondary", "Spinal-Cord", "Neoplasm, Secondary"])
    }

    /// The same SEG expanded twice for one patient collides (S1 twice): refused, naming the way out.
    func testTwoRowsExpandingToTheSameIdsAreRefused() throws {
        let (cohort, _) = try makeCohort("P1,,ct,seg.dcm,\nP1,,ct,seg2.dcm,\n")
        XCTAssertThrowsError(try PatientLoader().load(cohort.patients[0], relativeTo: cohort.folder)) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("patient P1") && text.contains("lesion id 'S1' occurs twice") && text.contains("give lesion_id and roi"), text)
        }
    }
}

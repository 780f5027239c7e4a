import XCTest
import ImagingCore
import ImageIO
import TestSupport
import DICOMIO
@testable import Cohort

/// `image_<modality>` columns of lesions.csv: validation, loading each further image once per patient,
/// the frame-of-reference and extent checks, and the lesion masks carried onto the further image's grid.
final class FurtherImageTests: XCTestCase {
    private var dir: URL!
    /// CT: 1 mm voxels, 24x24x12 (2 mm slices). PET: 2x coarser, aligned (each PET voxel covers 2x2x2 CT voxels).
    private let ct = ImageGrid(size: Size3(24, 24, 12), spacing: Vector3(1, 1, 2), origin: Vector3(-12, -12, 0))
    private var pet: ImageGrid {
        ImageGrid(size: Size3(12, 12, 6), spacing: Vector3(2, 2, 4), origin: ct.origin + Vector3(0.5, 0.5, 1))
    }

    override func setUpWithError() throws {
        dir = try SharedData.temporaryDirectory(for: self)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("img"), withIntermediateDirectories: true)
        try NIfTI.write(Volume<Float>(grid: ct, repeating: 40), to: url("img/ct.nii.gz"))
        try NIfTI.write(Volume<Float>(grid: pet, voxels: (0..<pet.voxelCount).map { Float($0 % 7) * 0.5 + 1 }), to: url("img/pt.nii.gz"))
        // Label 1: a 4x4x2-voxel block at CT voxels 4..7 x 4..7 x 2..3 (PET voxels 2..3 x 2..3 x 1); label 2: one voxel.
        var labels = LabelMap(grid: ct, repeating: 0)
        for k in 2...3 { for j in 4...7 { for i in 4...7 { labels[i, j, k] = 1 } } }
        labels[18, 18, 8] = 2
        try NIfTI.write(labels, to: url("img/labels.nii.gz"))
        try "patient_id\nP1\nP2\n".write(to: url("patients.csv"), atomically: true, encoding: .utf8)
    }

    private func url(_ path: String) -> URL { dir.appendingPathComponent(path) }

    private func lesions(_ text: String) throws {
        try text.write(to: url("lesions.csv"), atomically: true, encoding: .utf8)
    }

    private func problems() -> [ManifestProblem] {
        do {
            _ = try CohortManifest.load(dir)
            return []
        } catch let e as ManifestError {
            return e.problems
        } catch {
            XCTFail("\(error)")
            return []
        }
    }

    func testFurtherImagesAreReadOncePerPatientAndCarryEveryLesion() throws {
        try lesions("""
        patient_id,lesion_id,image,mask,roi,image_pt
        P1,block,img/ct.nii.gz,img/labels.nii.gz,1,img/pt.nii.gz
        P1,,img/ct.nii.gz,img/labels.nii.gz,,img/pt.nii.gz
        P2,block,img/ct.nii.gz,img/labels.nii.gz,1,
        """)
        var cohort = try CohortManifest.load(dir)
        XCTAssertEqual(cohort.patients[0].lesions[0].furtherImages.map(\.modality), ["PT"])
        XCTAssertEqual(cohort.patients[0].lesions[0].furtherImages.map(\.column), ["image_pt"])
        XCTAssertEqual(cohort.patients[1].lesions[0].furtherImages.count, 0, "an empty cell: no image of that modality")

        // P1's expanding row would give `L1` beside `block`; keep only the label-1 lesion once.
        cohort.patients[0].lesions.removeLast()
        let p1 = try PatientLoader().load(cohort.patients[0], relativeTo: cohort.folder)
        XCTAssertEqual(p1.scans.count, 2)
        XCTAssertEqual(p1.scans[1].metadata.modality, "PT", "a NIfTI further image takes its column's modality")
        XCTAssertNil(p1.scans[1].metadata.frameOfReferenceUID)
        let block = p1.lesions[0]
        XCTAssertEqual(block.furtherImages.count, 1)
        XCTAssertEqual(block.furtherImages[0].scanIndex, 1)
        let carried = block.furtherImages[0].mask
        XCTAssertEqual(carried.grid, pet)
        // The 4x4x2 CT block covers PET voxels 2..3 x 2..3 x 1 entirely: same volume, 4 PET voxels.
        XCTAssertEqual(carried.count, 4)
        XCTAssertEqual(carried.physicalVolume, block.mask.physicalVolume, accuracy: 1e-9)
        for (i, j) in [(2, 2), (3, 2), (2, 3), (3, 3)] { XCTAssertTrue(carried[i, j, 1]) }
    }

    func testExpandingRowsCarryEachLesionAndTheImageIsSharedBetweenRows() throws {
        // Label 2 is one CT voxel: an eighth of a PET voxel, empty once carried. Give it a full PET voxel here.
        var labels = LabelMap(grid: ct, repeating: 0)
        for k in 2...3 { for j in 4...7 { for i in 4...7 { labels[i, j, k] = 1 } } }
        for k in 8...9 { for j in 18...19 { for i in 18...19 { labels[i, j, k] = 2 } } }
        try NIfTI.write(labels, to: url("img/labels2.nii.gz"))
        try lesions("""
        patient_id,lesion_id,image,mask,roi,image_pt
        P1,,img/ct.nii.gz,img/labels2.nii.gz,,img/pt.nii.gz
        P2,x,img/ct.nii.gz,img/labels2.nii.gz,2,img/pt.nii.gz
        """)
        let cohort = try CohortManifest.load(dir)
        let p1 = try PatientLoader().load(cohort.patients[0], relativeTo: cohort.folder)
        XCTAssertEqual(p1.lesions.map(\.id), ["L1", "L2"])
        XCTAssertEqual(p1.scans.count, 2, "the PET image is read once for both lesions")
        XCTAssertEqual(p1.lesions.map { $0.furtherImages.map(\.scanIndex) }, [[1], [1]])
        XCTAssertEqual(p1.lesions.map { $0.furtherImages[0].mask.count }, [4, 1])
    }

    func testManifestProblemsNameRowAndColumn() throws {
        try lesions("""
        patient_id,lesion_id,image,mask,roi,image_pt,image_xy,modality
        P1,a,img/ct.nii.gz,img/labels.nii.gz,1,img/missing.nii.gz,,
        P1,b,img/ct.nii.gz,img/labels.nii.gz,1,img/ct.nii.gz,,
        P2,c,img/pt.nii.gz,img/labels.nii.gz,1,img/pt.nii.gz,,
        P2,d,img/pt.nii.gz,img/labels.nii.gz,1,img/labels.nii.gz,,pt
        P2,e,img/ct.nii.gz,img/labels.nii.gz,1,img/notes.txt,,
        """)
        try "x".write(to: url("img/notes.txt"), atomically: true, encoding: .utf8)
        let found = problems()
        func has(_ row: Int?, _ column: String, _ text: String) -> Bool {
            found.contains { $0.file == "lesions.csv" && $0.row == row && $0.column == column && $0.message.contains(text) }
        }
        XCTAssertTrue(has(1, "image_xy", "unknown modality 'xy'"), "\(found)")
        XCTAssertTrue(has(2, "image_pt", "file not found: img/missing.nii.gz"), "\(found)")
        XCTAssertTrue(has(3, "image_pt", "is the same image as column image"), "\(found)")
        XCTAssertTrue(has(4, "image_pt", "is the same image as column image"), "\(found)")
        XCTAssertTrue(has(5, "image_pt", "the contour image is PT too"), "\(found)")
        XCTAssertTrue(has(6, "image_pt", "neither a NIfTI/NRRD file nor a DICOM folder"), "\(found)")
        XCTAssertEqual(found.count, 6, "\(found)")
    }

    func testAFIFOInAFurtherImageColumnIsRefusedBeforeAnyRead() throws {
        let fifo = url("img/pipe.nii.gz")
        XCTAssertEqual(mkfifo(fifo.path, 0o644), 0)
        try lesions("""
        patient_id,lesion_id,image,mask,roi,image_pt
        P1,a,img/ct.nii.gz,img/labels.nii.gz,1,img/pipe.nii.gz
        P2,a,img/ct.nii.gz,img/labels.nii.gz,1,
        """)
        let found = problems()
        XCTAssertEqual(found.count, 1, "\(found)")
        XCTAssertEqual(found.first?.row, 2)
        XCTAssertEqual(found.first?.column, "image_pt")
        XCTAssertTrue(found.first?.message.contains("pipe.nii.gz") == true, "\(found)")
    }

    func testALesionOutsideTheFurtherImageIsRefusedNamingBothFiles() throws {
        // A PET covering only x < 0 mm of the CT: the block lesion (x -8..-5 mm) is inside, label 2 (x 6 mm) is not.
        let half = ImageGrid(size: Size3(6, 12, 6), spacing: Vector3(2, 2, 4), origin: pet.origin)
        try NIfTI.write(Volume<Float>(grid: half, repeating: 2), to: url("img/pt-half.nii.gz"))
        try lesions("""
        patient_id,lesion_id,image,mask,roi,image_pt
        P1,inside,img/ct.nii.gz,img/labels.nii.gz,1,img/pt-half.nii.gz
        P2,outside,img/ct.nii.gz,img/labels.nii.gz,2,img/pt-half.nii.gz
        """)
        let cohort = try CohortManifest.load(dir)
        XCTAssertNoThrow(try PatientLoader().load(cohort.patients[0], relativeTo: cohort.folder))
        XCTAssertThrowsError(try PatientLoader().load(cohort.patients[1], relativeTo: cohort.folder)) { e in
            let text = "\(e)"
            XCTAssertTrue(text.hasPrefix("patient P2, lesion outside, file img/pt-half.nii.gz:"), text)
            XCTAssertTrue(text.contains("drawn on image img/ct.nii.gz"), text)
            XCTAssertTrue(text.contains("does not lie inside the extent"), text)
        }
    }

    func testALesionThatVanishesOnTheCoarserGridIsRefused() throws {
        try lesions("""
        patient_id,lesion_id,image,mask,roi,image_pt
        P1,tiny,img/ct.nii.gz,img/labels.nii.gz,2,img/pt.nii.gz
        P2,a,img/ct.nii.gz,img/labels.nii.gz,1,
        """)
        let cohort = try CohortManifest.load(dir)
        XCTAssertThrowsError(try PatientLoader().load(cohort.patients[0], relativeTo: cohort.folder)) { e in
            let text = "\(e)"
            XCTAssertTrue(text.hasPrefix("patient P1, lesion tiny, file img/pt.nii.gz:"), text)
            XCTAssertTrue(text.contains("drawn on image img/ct.nii.gz (1 voxels, 0.002 ml), is empty once carried onto the image_pt image img/pt.nii.gz (voxels 2x2x4 mm)"), text)
        }
    }

    /// DICOM series report their FrameOfReferenceUID: a pair that differs is refused, naming both files and
    /// never the UIDs; a pair that agrees is carried.
    func testDICOMFramesOfReferenceMustAgree() throws {
        for name in ["ct-dcm", "pt-dcm", "pt-other"] {
            try FileManager.default.createDirectory(at: url("img/\(name)"), withIntermediateDirectories: true)
        }
        struct Source: DICOMSource {
            let ct: ImageGrid, pet: ImageGrid
            func loadSeries(_ folder: URL) throws -> DICOMScan {
                let isCT = folder.lastPathComponent == "ct-dcm"
                let frame = folder.lastPathComponent == "pt-other" ? "1.2.3.999" : "1.2.3.4"
                let grid = isCT ? ct : pet
                let scan = Scan(image: Volume<Float>(grid: grid, repeating: 1),
                                metadata: ScanMetadata(modality: isCT ? "CT" : "PT", frameOfReferenceUID: frame), source: folder)
                return DICOMScan(scan: scan, reference: SeriesReference(studyInstanceUID: "1.2", seriesInstanceUID: "1.2.\(folder.lastPathComponent.count)",
                                                                        frameOfReferenceUID: frame, sopClassUID: "", sopInstanceUIDs: []))
            }
            func contours(_ file: URL, kind: ContourSourceKind, roi: String?, onto grid: ImageGrid,
                          checkedAgainst image: ContourImage?) throws -> ContourSet { fatalError("not used") }
        }
        try lesions("""
        patient_id,lesion_id,image,mask,roi,image_pt
        P1,a,img/ct-dcm,img/labels.nii.gz,1,img/pt-dcm
        P2,a,img/ct-dcm,img/labels.nii.gz,1,img/pt-other
        """)
        let cohort = try CohortManifest.load(dir)
        let loader = PatientLoader(dicom: Source(ct: ct, pet: pet))
        let p1 = try loader.load(cohort.patients[0], relativeTo: cohort.folder)
        XCTAssertEqual(p1.lesions[0].furtherImages[0].mask.count, 4)
        XCTAssertEqual(p1.scans.map(\.metadata.frameOfReferenceUID), ["1.2.3.4", "1.2.3.4"])
        XCTAssertThrowsError(try loader.load(cohort.patients[1], relativeTo: cohort.folder)) { e in
            let text = "\(e)"
            XCTAssertTrue(text.hasPrefix("patient P2, lesion a, file img/pt-other:"), text)
            XCTAssertTrue(text.contains("contour image img/ct-dcm have different DICOM frames of reference"), text)
            XCTAssertFalse(text.contains("1.2.3"), "UIDs are not shown: \(text)")
        }
        // A DICOM series in a column of another modality is refused.
        try lesions("""
        patient_id,lesion_id,image,mask,roi,image_mr
        P1,a,img/ct-dcm,img/labels.nii.gz,1,img/pt-dcm
        P2,a,img/ct.nii.gz,img/labels.nii.gz,1,
        """)
        let wrong = try CohortManifest.load(dir)
        XCTAssertThrowsError(try loader.load(wrong.patients[0], relativeTo: wrong.folder)) { e in
            XCTAssertTrue("\(e)".contains("column image_mr names a MR image, but the DICOM series' Modality is PT"), "\(e)")
        }
    }
}

import Cohort
import DICOMIO
import Foundation
import ImagingCore
import TestSupport
import XCTest

/// Small series written by the tests themselves: every failure case gives its clear error,
/// and exported RTSTRUCT/SEG objects read back to the same masks.
final class WrittenFileTests: XCTestCase {
    /// A 12x10 grid of 4 slices, 0.8 x 0.9 x 2.5 mm, with a gradient image.
    private func smallImage() -> Volume<Float> {
        let grid = ImageGrid(size: Size3(12, 10, 4), spacing: Vector3(0.8, 0.9, 2.5), origin: Vector3(-5, 7, -20))
        var image = Volume<Float>(grid: grid, repeating: 0)
        for k in 0..<4 { for j in 0..<10 { for i in 0..<12 { image[i, j, k] = Float(i * 10 - j * 3 + k * 100 - 500) } } }
        return image
    }

    private struct SliceFactory {
        let study = DICOMWriter.newUID(), series = DICOMWriter.newUID(), frame = DICOMWriter.newUID()
        func slice(z: Double, x: Double = 0, orientation: [Double] = [1, 0, 0, 0, 1, 0], rows: Int = 10,
                   columns: Int = 12, extra: [DICOMTag: DICOMValue] = [:]) -> DICOMImageSlice {
            DICOMImageSlice(columns: columns, rows: rows, storedValues: (0..<(rows * columns)).map { Int16($0) },
                            pixelSpacing: (0.9, 0.8), position: Vector3(x, 0, z), orientation: orientation,
                            rescaleSlope: 1, rescaleIntercept: -1024, studyInstanceUID: study,
                            seriesInstanceUID: series, frameOfReferenceUID: frame, extra: extra)
        }
    }

    private func write(_ slices: [DICOMImageSlice], in folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (n, s) in slices.enumerated() { try DICOMWriter.write(s, to: folder.appendingPathComponent("s\(n).dcm")) }
    }

    private func expectError(_ folder: URL, _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try DICOMSeriesReader.read(folder), file: file, line: line) { error in
            let text = "\(error)"
            print("expected error: \(text)")
            for f in fragments { XCTAssert(text.contains(f), "'\(f)' missing from: \(text)", file: file, line: line) }
        }
    }

    func testWrittenSeriesReadsBackWithGeometryAndRescale() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let image = smallImage()
        try DICOMWriter.writeSeries(image, to: dir, extra: [DICOMTag(0x0018, 0x0060): .text("100"),
                                                            DICOMTag(0x0008, 0x0070): .text("TestVendor")])
        let series = try DICOMSeriesReader.read(dir)
        XCTAssert(series.image.grid.matches(image.grid, tolerance: 1e-6), "\(series.image.grid)")
        XCTAssertEqual(series.image.voxels, image.voxels)
        XCTAssertEqual(series.metadata.kvp, 100)
        XCTAssertEqual(series.metadata.manufacturer, "TestVendor")
    }

    func testNonSquareSlicesKeepRowsAndColumns() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let f = SliceFactory()
        try write([f.slice(z: 0, rows: 3, columns: 7), f.slice(z: 2, rows: 3, columns: 7)], in: dir)
        let s = try DICOMSeriesReader.read(dir)
        XCTAssertEqual(s.image.grid.size, Size3(7, 3, 2))
        XCTAssertEqual(s.image.grid.spacing, Vector3(0.8, 0.9, 2))
        // Stored value = j * 7 + i, rescaled by -1024.
        XCTAssertEqual(s.image[6, 2, 1], Float(2 * 7 + 6 - 1024))
    }

    func testSlicesSortByPositionNotFileName() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let f = SliceFactory()
        try write([f.slice(z: 5), f.slice(z: -5), f.slice(z: 0)], in: dir)
        let s = try DICOMSeriesReader.read(dir)
        XCTAssertEqual(s.image.grid.origin.z, -5)
        XCTAssertEqual(s.image.grid.spacing.z, 5)
    }

    func testMissingSliceIsNamed() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let f = SliceFactory()
        try write([0, 2, 4, 8, 10].map { f.slice(z: Double($0)) }, in: dir)
        expectError(dir, ["1 slice(s) missing", "gap 4.000 mm", "spacing 2.000 mm"])
    }

    func testDuplicatePositionIsNamed() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let f = SliceFactory()
        try write([f.slice(z: 0), f.slice(z: 2), f.slice(z: 2)], in: dir)
        expectError(dir, ["share the position", "duplicate slice"])
    }

    func testNonUniformSpacingIsRefused() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let f = SliceFactory()
        try write([0, 2, 4, 7, 9].map { f.slice(z: Double($0)) }, in: dir)
        expectError(dir, ["non-uniform slice spacing", "gap 3.000 mm"])
    }

    func testGantryTiltIsRefused() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let f = SliceFactory()
        try write((0..<4).map { f.slice(z: Double($0) * 2, x: Double($0) * 0.3) }, in: dir)
        expectError(dir, ["gantry tilt"])
    }

    func testNonOrthogonalOrientationIsRefused() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let f = SliceFactory()
        let skew = [1, 0, 0, 0.2, 0.9797959, 0]
        try write([f.slice(z: 0, orientation: skew), f.slice(z: 2, orientation: skew)], in: dir)
        expectError(dir, ["not orthogonal"])
    }

    func testMixedSliceSizesAreRefused() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let f = SliceFactory()
        try write([f.slice(z: 0), f.slice(z: 2, rows: 9)], in: dir)
        expectError(dir, ["slice sizes differ"])
    }

    func testTwoSeriesAreAmbiguousAndChosenByUID() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let a = SliceFactory(), b = SliceFactory()
        try write([a.slice(z: 0), a.slice(z: 2)], in: dir.appendingPathComponent("a"))
        try write([b.slice(z: 0), b.slice(z: 3), b.slice(z: 6)], in: dir.appendingPathComponent("b"))
        try Data("not DICOM".utf8).write(to: dir.appendingPathComponent("notes.txt"))
        expectError(dir, ["2 CT/PET series found", "first: a/s0.dcm", "first: b/s0.dcm", "a folder of its own"])
        // The series are named by their files, never by their UIDs (identifiers).
        XCTAssertThrowsError(try DICOMSeriesReader.read(dir)) { e in
            XCTAssertFalse("\(e)".contains(a.series) || "\(e)".contains(b.series), "\(e)")
        }
        let chosen = try DICOMSeriesReader.read(dir, seriesUID: b.series)
        XCTAssertEqual(chosen.image.grid.size.nz, 3)
        XCTAssertEqual(try DICOMSeriesReader.list(dir).count, 2)
    }

    func testEmptyFolderAndUnreadableFiles() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        try Data([0, 1, 2, 3]).write(to: dir.appendingPathComponent("junk.dcm"))
        expectError(dir, ["no CT or PET series found"])
        XCTAssertThrowsError(try DICOMSeriesReader.read(dir.appendingPathComponent("absent"))) { e in
            XCTAssert("\(e)".contains("no such folder"), "\(e)")
        }
        XCTAssertThrowsError(try RTStructReader.read(dir.appendingPathComponent("junk.dcm"))) { e in
            print("expected error: \(e)")
            XCTAssert("\(e)".contains("junk.dcm"), "\(e)")
        }
    }

    // MARK: - RTSTRUCT failure cases

    private func rtstructError(_ contours: [RTContour], name: String = "Lesion") throws -> String {
        let dir = try SharedData.temporaryDirectory(for: self)
        let image = smallImage()
        let ref = try DICOMWriter.writeSeries(image, to: dir.appendingPathComponent("ct"))
        let url = dir.appendingPathComponent("rs.dcm")
        try RTStructWriter.write([RTROI(number: 1, name: name, interpretedType: "GTV", contours: contours)],
                                 referencing: ref, grid: image.grid, to: url)
        var message = ""
        XCTAssertThrowsError(try DCMTKSource().contours(url, kind: .rtstruct, roi: name, onto: image.grid)) {
            message = "\($0)"
        }
        print("expected error: \(message)")
        XCTAssert(message.contains("ROI '\(name)'"), message)
        return message
    }

    private func square(z: Double, x: Double = -3, y: Double = 9, size: Double = 3) -> [Vector3] {
        [Vector3(x, y, z), Vector3(x + size, y, z), Vector3(x + size, y + size, z), Vector3(x, y + size, z)]
    }

    func testContourFailuresNameTheROI() throws {
        // Slices are at z = -20, -17.5, -15, -12.5.
        XCTAssert(try rtstructError([RTContour(points: square(z: -30))]).contains("outside the image's 4 slices"))
        XCTAssert(try rtstructError([RTContour(points: square(z: -18.75))]).contains("between slices"))
        XCTAssert(try rtstructError([RTContour(points: square(z: -20, x: 100))]).contains("outside the image in-plane"))
        XCTAssert(try rtstructError([RTContour(points: Array(square(z: -20).prefix(2)))]).contains("has 2 points"))
        XCTAssert(try rtstructError([RTContour(points: Array(square(z: -20).prefix(1)))]).contains("has 1 point"))
        XCTAssert(try rtstructError([RTContour(geometricType: "POINT", points: [Vector3(0, 9, -20)])]).contains("POINT"))
        XCTAssert(try rtstructError([RTContour(geometricType: "OPEN_PLANAR", points: square(z: -20))]).contains("not a closed contour"))
        let oblique = [Vector3(-3, 9, -20), Vector3(0, 9, -20), Vector3(0, 12, -17.5)]
        XCTAssert(try rtstructError([RTContour(points: oblique)]).contains("oblique"))
        XCTAssert(try rtstructError([]).contains("has no contours"))
    }

    func testContourHoleIsCutByEvenOddRule() throws {
        let grid = smallImage().grid
        let outer = RTContour(points: square(z: -15, x: -5.4, y: 6.4, size: 8))
        let inner = RTContour(points: square(z: -15, x: -3, y: 9, size: 2))
        let solid = try ContourRasterizer.mask(RTROI(number: 1, name: "A", contours: [outer]), on: grid)
        let ring = try ContourRasterizer.mask(RTROI(number: 1, name: "A", contours: [outer, inner]), on: grid)
        XCTAssertGreaterThan(solid.count, ring.count)
        XCTAssertGreaterThan(ring.count, 0)
        XCTAssert(ring.voxels.indices.allSatisfy { !ring.voxels[$0] || solid.voxels[$0] })
    }

    // MARK: - Export

    /// A mask with a hole, two components and a diagonal pinch, on two slices.
    private func awkwardMask(_ grid: ImageGrid) -> Mask {
        var m = Mask(grid: grid, repeating: false)
        for j in 1...7 { for i in 1...7 { m[i, j, 1] = true } }
        m[4, 4, 1] = false
        m[9, 1, 1] = true; m[10, 2, 1] = true
        for j in 0..<10 { m[11, j, 2] = true }
        m[0, 0, 3] = true
        return m
    }

    func testRTStructExportReadsBackIdentically() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let image = smallImage()
        let ref = try DICOMWriter.writeSeries(image, to: dir.appendingPathComponent("ct"))
        let series = try DICOMSeriesReader.read(dir.appendingPathComponent("ct"))
        XCTAssertEqual(series.reference.sopInstanceUIDs, ref.sopInstanceUIDs)
        let a = awkwardMask(image.grid)
        var b = Mask(grid: image.grid, repeating: false)
        b[5, 5, 0] = true; b[6, 5, 0] = true
        let url = dir.appendingPathComponent("export-rtstruct.dcm")
        try RTStructWriter.write([ExportRegion(name: "GTV lesion 1", mask: a, color: (255, 0, 0)),
                                  ExportRegion(name: "GTV lesion 2", mask: b, color: (0, 128, 255))],
                                 referencing: series.reference, grid: series.image.grid, to: url)
        let back = try DCMTKSource().contours(url, kind: .rtstruct, roi: nil, onto: series.image.grid)
        XCTAssertEqual(back.map(\.name), ["GTV lesion 1", "GTV lesion 2"])
        XCTAssertEqual(back[0].mask.voxels, a.voxels)
        XCTAssertEqual(back[1].mask.voxels, b.voxels)
        let rois = try RTStructReader.read(url)
        XCTAssertEqual(rois.map(\.color), [[255, 0, 0], [0, 128, 255]])
        XCTAssertEqual(rois.map(\.interpretedType), ["GTV", "GTV"])
        if let keep = ProcessInfo.processInfo.environment["LESIONMAP_KEEP_EXPORT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(at: dir, to: URL(fileURLWithPath: keep))
        }

        // Through the cohort loader, as a manifest would use it.
        try "patient_id,image,mask\nP1,ct,export-rtstruct.dcm\n".write(
            to: dir.appendingPathComponent("lesions.csv"), atomically: true, encoding: .utf8)
        try "patient_id\nP1\n".write(to: dir.appendingPathComponent("patients.csv"), atomically: true, encoding: .utf8)
        let cohort = try CohortManifest.load(dir)
        let patient = try PatientLoader(dicom: DCMTKSource()).load(cohort.patients[0], relativeTo: dir)
        // Expansion ids come from the ROI numbers; the names are the labels (issue 13 item 5).
        XCTAssertEqual(patient.lesions.map { $0.id }, ["R1", "R2"])
        XCTAssertEqual(patient.lesions.map { $0.label }, ["GTV lesion 1", "GTV lesion 2"])
        XCTAssertEqual(patient.scans.first?.metadata.modality, "CT")
        XCTAssertEqual(patient.lesions[0].mask.voxels, a.voxels)
    }

    func testSEGExportReadsBackIdentically() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let image = smallImage()
        try DICOMWriter.writeSeries(image, to: dir.appendingPathComponent("ct"))
        let series = try DICOMSeriesReader.read(dir.appendingPathComponent("ct"))
        let a = awkwardMask(image.grid)
        var b = Mask(grid: image.grid, repeating: false)
        b[11, 9, 3] = true
        let url = dir.appendingPathComponent("export-seg.dcm")
        try SEGWriter.write([ExportRegion(name: "Lesion A", mask: a), ExportRegion(name: "Lesion B", mask: b, color: (0, 255, 0))],
                            referencing: series.reference, grid: series.image.grid, to: url)
        let back = try SEGReader.read(url, onto: series.image.grid)
        XCTAssertEqual(back.map(\.0.label), ["Lesion A", "Lesion B"])
        XCTAssertEqual(back[0].1.voxels, a.voxels)
        XCTAssertEqual(back[1].1.voxels, b.voxels)
        let only2 = try DCMTKSource().contours(url, kind: .seg, roi: "2", onto: series.image.grid)
        XCTAssertEqual(only2.map(\.name), ["Lesion B"])
        XCTAssertEqual(only2[0].mask.count, 1)
        if let keep = ProcessInfo.processInfo.environment["LESIONMAP_KEEP_EXPORT"] {
            try FileManager.default.copyItem(at: url, to: URL(fileURLWithPath: keep).appendingPathComponent("export-seg.dcm"))
        }
    }

    func testExportRefusesEmptyOrMismatchedMasks() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let image = smallImage()
        let ref = try DICOMWriter.writeSeries(image, to: dir.appendingPathComponent("ct"))
        let empty = Mask(grid: image.grid, repeating: false)
        XCTAssertThrowsError(try RTStructWriter.write([ExportRegion(name: "E", mask: empty)], referencing: ref,
                                                      grid: image.grid, to: dir.appendingPathComponent("x.dcm"))) {
            XCTAssert("\($0)".contains("region 'E' is empty"), "\($0)")
        }
        let other = Mask(grid: ImageGrid(size: Size3(3, 3, 4)), repeating: true)
        XCTAssertThrowsError(try SEGWriter.write([ExportRegion(name: "O", mask: other)], referencing: ref,
                                                 grid: image.grid, to: dir.appendingPathComponent("y.dcm"))) {
            XCTAssert("\($0)".contains("region 'O'"), "\($0)")
        }
    }

    // MARK: - PET

    private func petExtra(units: String = "BQML", decay: String = "START", weight: String = "70") -> [DICOMTag: DICOMValue] {
        [DICOMTag(0x0054, 0x1001): .text(units),
         DICOMTag(0x0054, 0x1102): .text(decay),
         DICOMTag(0x0028, 0x0051): .text("DECY\\ATTN\\SCAT"),
         DICOMTag(0x0010, 0x1030): .text(weight),
         DICOMTag(0x0008, 0x0021): .text("20200101"),
         DICOMTag(0x0008, 0x0031): .text("110000"),
         DICOMTag(0x0008, 0x0022): .text("20200101"),
         DICOMTag(0x0008, 0x0032): .text("110000"),
         DICOMTag(0x0054, 0x0016): .items([[DICOMTag(0x0018, 0x1074): .text("370000000"),
                                            DICOMTag(0x0018, 0x1075): .text("6586.2"),
                                            DICOMTag(0x0018, 0x1072): .text("100000")]])]
    }

    func testPETBodyWeightSUV() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let f = SliceFactory()
        var slices = [f.slice(z: 0, extra: petExtra()), f.slice(z: 2, extra: petExtra())]
        for i in slices.indices { slices[i].modality = "PT"; slices[i].rescaleIntercept = 0; slices[i].rescaleSlope = 10 }
        try write(slices, in: dir)
        let s = try DICOMSeriesReader.read(dir)
        XCTAssertEqual(s.metadata.modality, "PT")
        // One hour after injection: dose decayed by 2^(-3600/6586.2); stored value 50 x slope 10 = 500 Bq/ml.
        let decayed = 370_000_000 * pow(2, -3600 / 6586.2)
        let expected = 500 * 70_000 / decayed
        XCTAssertEqual(Double(s.image[2, 4, 0]), expected, accuracy: expected * 1e-5)
        print("PET: 500 Bq/ml -> SUVbw \(s.image[2, 4, 0]) (expected \(expected))")
        let raw = try DICOMSeriesReader.read(dir, petToSUV: false)
        XCTAssertEqual(raw.image[2, 4, 0], 500)
    }

    func testPETWithoutSUVFactsIsRefused() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let f = SliceFactory()
        var slices = [f.slice(z: 0, extra: petExtra(units: "CNTS")), f.slice(z: 2, extra: petExtra(units: "CNTS"))]
        for i in slices.indices { slices[i].modality = "PT" }
        try write(slices, in: dir)
        expectError(dir, ["cannot compute body-weight SUV", "Units (0054,1001) is 'CNTS'"])
        let dir2 = try SharedData.temporaryDirectory(for: self)
        var noWeight = [f.slice(z: 0, extra: petExtra(weight: "0")), f.slice(z: 2, extra: petExtra(weight: "0"))]
        for i in noWeight.indices { noWeight[i].modality = "PT" }
        try write(noWeight, in: dir2)
        expectError(dir2, ["Patient's Weight"])
    }
}

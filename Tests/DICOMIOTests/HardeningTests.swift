import Cohort
import DICOMIO
import Foundation
import ImageIO
import ImagingCore
import TestSupport
import XCTest

/// Issue 12 items 3, 4, 9 and 11 (DICOM part), on small series the tests write themselves:
/// contours of another patient or frame of reference, inconsistent pixel descriptions and rescales,
/// unreadable slice files, and no DICOM identifier in any message.
final class DICOMHardeningTests: XCTestCase {
    // MARK: - Fixtures

    /// Identifiers of one series; slices share them unless a test changes them.
    struct SeriesIDs {
        var study = DICOMWriter.newUID(), series = DICOMWriter.newUID(), frame = DICOMWriter.newUID()
        var patientID = "PSEUDO-1"
    }

    /// A 12 x 10 slice at height `z` (0.9 x 0.8 mm pixels), stored value = j * 12 + i, HU = stored - 1024.
    func slice(_ ids: SeriesIDs, z: Double, extra: [DICOMTag: DICOMValue] = [:]) -> DICOMImageSlice {
        var all: [DICOMTag: DICOMValue] = [DICOMTag(0x0010, 0x0020): .text(ids.patientID)]
        for (k, v) in extra { all[k] = v }
        return DICOMImageSlice(columns: 12, rows: 10, storedValues: (0..<120).map { Int16($0) }, pixelSpacing: (0.9, 0.8),
                               position: Vector3(0, 0, z), rescaleSlope: 1, rescaleIntercept: -1024,
                               studyInstanceUID: ids.study, seriesInstanceUID: ids.series, frameOfReferenceUID: ids.frame,
                               extra: all)
    }

    /// Writes slices s0.dcm ... at z = 0, 2, 4, ...; `extra[n]` goes into slice n only.
    @discardableResult
    func writeSeries(_ ids: SeriesIDs, count: Int = 5, in folder: URL, extra: [Int: [DICOMTag: DICOMValue]] = [:],
                     all: [DICOMTag: DICOMValue] = [:]) throws -> [URL] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return try (0..<count).map { n in
            var e = all
            for (k, v) in extra[n] ?? [:] { e[k] = v }
            let url = folder.appendingPathComponent("s\(n).dcm")
            try DICOMWriter.write(slice(ids, z: Double(2 * n), extra: e), to: url)
            return url
        }
    }

    func readError(_ folder: URL, file: StaticString = #filePath, line: UInt = #line) -> String {
        var message = ""
        XCTAssertThrowsError(try DICOMSeriesReader.read(folder), file: file, line: line) { message = "\($0)" }
        print("expected error: \(message)")
        return message
    }

    func assertContains(_ text: String, _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        for f in fragments { XCTAssert(text.contains(f), "'\(f)' missing from: \(text)", file: file, line: line) }
    }

    // MARK: - Item 4: rescale and pixel description

    func testRescaleSlopeZeroIsRefusedNamingTheSlice() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        try writeSeries(SeriesIDs(), in: dir, extra: [2: [DICOMTag(0x0028, 0x1053): .text("0")]])
        let m = readError(dir)
        assertContains(m, ["s2.dcm", "RescaleSlope (0028,1053) is 0"])
    }

    func testNonFiniteOrNonNumericRescaleIsRefused() throws {
        for (tag, value, expected) in [(DICOMTag(0x0028, 0x1053), "inf", "RescaleSlope (0028,1053) is not a finite number"),
                                       (DICOMTag(0x0028, 0x1052), "nan", "RescaleIntercept (0028,1052) is not a finite number"),
                                       (DICOMTag(0x0028, 0x1053), "abc", "RescaleSlope (0028,1053) is not a number")] {
            let dir = try SharedData.temporaryDirectory(for: self)
            try writeSeries(SeriesIDs(), in: dir, extra: [1: [tag: .text(value)]])
            assertContains(readError(dir), ["s1.dcm", expected])
        }
        // A whole series with slope 0: refused too (before, a constant image of the intercept).
        let dir = try SharedData.temporaryDirectory(for: self)
        try writeSeries(SeriesIDs(), in: dir, all: [DICOMTag(0x0028, 0x1053): .text("0")])
        assertContains(readError(dir), ["RescaleSlope (0028,1053) is 0", "4 more slices"])
    }

    func testModalityLUTSequenceIsRefused() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let lut: DICOMValue = .items([[DICOMTag(0x0028, 0x3004): .text("HU"), DICOMTag(0x0028, 0x3003): .text("table")]])
        try writeSeries(SeriesIDs(), in: dir, extra: [0: [DICOMTag(0x0028, 0x3000): lut]])
        assertContains(readError(dir), ["s0.dcm", "Modality LUT Sequence"])
    }

    func testBitsAllocatedDisagreeingWithPixelDataIsRefused() throws {
        // 16-bit pixel data described as 8-bit: before, the first half of the bytes was read as the image.
        let dir = try SharedData.temporaryDirectory(for: self)
        let eight: [DICOMTag: DICOMValue] = [DICOMTag(0x0028, 0x0100): .text("8"), DICOMTag(0x0028, 0x0101): .text("8"),
                                             DICOMTag(0x0028, 0x0102): .text("7")]
        try writeSeries(SeriesIDs(), in: dir, extra: [3: eight])
        assertContains(readError(dir), ["s3.dcm", "Pixel Data (7FE0,0010) holds 240 bytes (2 times as many)",
                                        "describe 120", "disagree with the pixel data"])

        // Rows larger than the pixel data: refused as truncated or wrong, on the slice.
        let dir2 = try SharedData.temporaryDirectory(for: self)
        try writeSeries(SeriesIDs(), in: dir2, all: [DICOMTag(0x0028, 0x0010): .text("20")])
        assertContains(readError(dir2), ["s0.dcm", "holds 240 bytes", "need 480", "truncated"])

        // Fewer rows than the pixel data: refused (it would read a part of every row shifted).
        let dir3 = try SharedData.temporaryDirectory(for: self)
        try writeSeries(SeriesIDs(), in: dir3, all: [DICOMTag(0x0028, 0x0010): .text("9")])
        assertContains(readError(dir3), ["holds 240 bytes", "describe 216"])

        // More frames declared than the data holds.
        let dir4 = try SharedData.temporaryDirectory(for: self)
        try writeSeries(SeriesIDs(), in: dir4, extra: [4: [DICOMTag(0x0028, 0x0008): .text("0")]])
        assertContains(readError(dir4), ["s4.dcm", "NumberOfFrames (0028,0008) is not a positive whole number"])
    }

    func testInconsistentPixelDescriptionsAreRefused() throws {
        let cases: [([DICOMTag: DICOMValue], String)] = [
            ([DICOMTag(0x0028, 0x0101): .text("17")], "BitsStored (0028,0101) is 17 with BitsAllocated 16"),
            ([DICOMTag(0x0028, 0x0102): .text("16")], "HighBit (0028,0102) is 16"),
            ([DICOMTag(0x0028, 0x0101): .text("12"), DICOMTag(0x0028, 0x0102): .text("3")], "HighBit (0028,0102) is 3"),
            ([DICOMTag(0x0028, 0x0103): .text("2")], "PixelRepresentation (0028,0103) is 2"),
            ([DICOMTag(0x0028, 0x0004): .text("PALETTE COLOR")], "PhotometricInterpretation (0028,0004) is 'PALETTE COLOR'"),
            ([DICOMTag(0x0028, 0x0004): .text("DOE^JANE")], "PhotometricInterpretation (0028,0004) is an unrecognised value"),
            ([DICOMTag(0x0028, 0x0002): .text("3")], "has 3 samples per pixel"),
            ([DICOMTag(0x0028, 0x0100): .text("12")], "BitsAllocated (0028,0100) is 12"),
        ]
        for (extra, expected) in cases {
            let dir = try SharedData.temporaryDirectory(for: self)
            try writeSeries(SeriesIDs(), count: 3, in: dir, extra: [1: extra])
            let m = readError(dir)
            assertContains(m, ["s1.dcm", expected])
            XCTAssertFalse(m.contains("DOE^JANE"), m)
        }
        // MONOCHROME1 only changes the display: accepted, same values.
        let dir = try SharedData.temporaryDirectory(for: self)
        try writeSeries(SeriesIDs(), count: 3, in: dir, all: [DICOMTag(0x0028, 0x0004): .text("MONOCHROME1")])
        XCTAssertEqual(try DICOMSeriesReader.read(dir).image[11, 9, 2], Float(9 * 12 + 11 - 1024))
    }

    // MARK: - Item 11: unreadable slice files are named

    func testTruncatedEmptyAndHeaderOnlySlicesAreNamedNotReportedAsMissing() throws {
        // Cut in the pixel data: DCMTK cannot parse the file.
        let dir = try SharedData.temporaryDirectory(for: self)
        let files = try writeSeries(SeriesIDs(), in: dir)
        let bytes = try Data(contentsOf: files[2])
        try bytes.prefix(bytes.count - 50).write(to: files[2])
        var m = readError(dir)
        assertContains(m, ["s2.dcm", "truncated or corrupt"])
        XCTAssertFalse(m.contains("missing"), m)

        // An empty file.
        try Data().write(to: files[2])
        m = readError(dir)
        assertContains(m, ["s2.dcm", "empty (0 bytes)"])
        XCTAssertFalse(m.contains("missing"), m)

        // Cut exactly before Pixel Data: parses, but is a slice without pixels.
        let pixelTag = Data([0xE0, 0x7F, 0x10, 0x00])
        let cut = try XCTUnwrap(bytes.range(of: pixelTag)).lowerBound
        try bytes.prefix(cut).write(to: files[2])
        m = readError(dir)
        assertContains(m, ["s2.dcm", "without Pixel Data"])

        // The last slice (no gap would show): named too.
        let last = try Data(contentsOf: files[4])
        try Data(last.prefix(last.count / 2)).write(to: files[4])
        try bytes.write(to: files[2])
        assertContains(readError(dir), ["s4.dcm", "truncated or corrupt"])

        // Several broken files: all named.
        try Data().write(to: files[0])
        assertContains(readError(dir), ["2 files cannot be read", "s0.dcm", "s4.dcm"])

        // A note that is not DICOM is still skipped.
        let ok = try SharedData.temporaryDirectory(for: self)
        try writeSeries(SeriesIDs(), in: ok)
        try Data("scanned on the old scanner\n".utf8).write(to: ok.appendingPathComponent("README.txt"))
        XCTAssertEqual(try DICOMSeriesReader.read(ok).image.grid.size.nz, 5)
    }

    func testSymbolicLinkedSlicesAreRead() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let store = dir.appendingPathComponent("store"), series = dir.appendingPathComponent("series")
        let files = try writeSeries(SeriesIDs(), in: store)
        try FileManager.default.createDirectory(at: series, withIntermediateDirectories: true)
        for f in files {
            try FileManager.default.createSymbolicLink(at: series.appendingPathComponent(f.lastPathComponent), withDestinationURL: f)
        }
        XCTAssertEqual(try DICOMSeriesReader.read(series).image.grid.size.nz, 5)
        try FileManager.default.removeItem(at: files[3])
        assertContains(readError(series), ["s3.dcm", "symbolic link"])
    }

    /// A cohort folder with a DICOM CT `ct/` (patient P1) and `lesions.csv` rows given.
    func cohort(_ dir: URL, rows: [String]) throws -> PatientEntry {
        try ("patient_id,lesion_id,image,mask,roi\n" + rows.joined(separator: "\n") + "\n")
            .write(to: dir.appendingPathComponent("lesions.csv"), atomically: true, encoding: .utf8)
        try "patient_id\nP1\n".write(to: dir.appendingPathComponent("patients.csv"), atomically: true, encoding: .utf8)
        return try CohortManifest.load(dir).patients[0]
    }

    func loadError(_ entry: PatientEntry, _ dir: URL, file: StaticString = #filePath, line: UInt = #line) -> String {
        var message = ""
        XCTAssertThrowsError(try PatientLoader().load(entry, relativeTo: dir), file: file, line: line) { message = "\($0)" }
        print("expected error: \(message)")
        return message
    }

    func testLoaderNamesTheUnreadableSliceByItsManifestPath() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let ids = SeriesIDs()
        let files = try writeSeries(ids, in: dir.appendingPathComponent("ct"))
        let image = try DICOMSeriesReader.read(dir.appendingPathComponent("ct"))
        var m = Mask(grid: image.image.grid, repeating: false)
        m[5, 5, 2] = true
        try RTStructWriter.write([ExportRegion(name: "GTV1", mask: m)], referencing: image.reference,
                                 grid: image.image.grid, to: dir.appendingPathComponent("rs.dcm"))
        try Data().write(to: files[1])
        let entry = try cohort(dir, rows: ["P1,L1,ct,rs.dcm,GTV1"])
        assertContains(loadError(entry, dir), ["patient P1, lesion L1, file ct/s1.dcm: cannot read image ct:", "empty"])
    }

    // MARK: - Item 11: RTSTRUCT and SEG errors name patient and lesion

    func testContourErrorsNamePatientAndLesion() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        try writeSeries(SeriesIDs(), in: dir.appendingPathComponent("ct"))
        let image = try DICOMSeriesReader.read(dir.appendingPathComponent("ct"))
        // A contour between slices (z = 1 with slices at 0, 2, ...).
        let square = [Vector3(1, 1, 1), Vector3(4, 1, 1), Vector3(4, 4, 1), Vector3(1, 4, 1)]
        try RTStructWriter.write([RTROI(number: 1, name: "GTV liver", interpretedType: "GTV", contours: [RTContour(points: square)])],
                                 referencing: image.reference, grid: image.image.grid, to: dir.appendingPathComponent("rs.dcm"))
        // Expanded row: the lesion is the ROI.
        var m = loadError(try cohort(dir, rows: ["P1,,ct,rs.dcm,"]), dir)
        assertContains(m, ["patient P1, lesion GTV liver, file rs.dcm:", "between slices"])
        // Named row.
        m = loadError(try cohort(dir, rows: ["P1,L7,ct,rs.dcm,GTV*"]), dir)
        assertContains(m, ["patient P1, lesion L7, file rs.dcm: RTSTRUCT on image ct:"])
        // A whole-file problem on an expanded row names the row: a structure set cut in half.
        let rs = try Data(contentsOf: dir.appendingPathComponent("rs.dcm"))
        try rs.prefix(rs.count / 2).write(to: dir.appendingPathComponent("rs.dcm"))
        m = loadError(try cohort(dir, rows: ["P1,,ct,rs.dcm,"]), dir)
        assertContains(m, ["patient P1, the lesions of lesions.csv row 2, file rs.dcm:"])

        // An ROI name cannot forge message lines: control characters are shown as '?'.
        try RTStructWriter.write([RTROI(number: 1, name: "GTV\nFAILED P9: forged", interpretedType: "GTV", contours: [RTContour(points: square)])],
                                 referencing: image.reference, grid: image.image.grid, to: dir.appendingPathComponent("rs2.dcm"))
        m = loadError(try cohort(dir, rows: ["P1,,ct,rs2.dcm,"]), dir)
        assertContains(m, ["lesion GTV?FAILED P9: forged, file rs2.dcm", "ROI 'GTV?FAILED P9: forged'"])
        XCTAssertFalse(m.contains("\n"), m)

        // SEG: a segment number that does not exist, and a frame off the image.
        var seg = Mask(grid: image.image.grid, repeating: false)
        seg[3, 3, 1] = true
        try SEGWriter.write([ExportRegion(name: "Node 1", mask: seg)], referencing: image.reference, grid: image.image.grid,
                            to: dir.appendingPathComponent("seg.dcm"))
        m = loadError(try cohort(dir, rows: ["P1,N2,ct,seg.dcm,2"]), dir)
        assertContains(m, ["patient P1, lesion N2, file seg.dcm: SEG on image ct:", "segment 2 does not exist"])
    }

    // MARK: - Item 3: contours of another patient or frame of reference

    /// Writes the CT `ct/` of `image` and an RTSTRUCT drawn on the series `drawnOn` (same geometry) with one
    /// lesion inside the image; returns the loaded patient entry.
    func contourOnOtherSeries(_ dir: URL, image: SeriesIDs, drawnOn: SeriesIDs, seg: Bool = false,
                              sameFiles: Bool = false) throws -> PatientEntry {
        try writeSeries(image, in: dir.appendingPathComponent("ct"))
        let folder = dir.appendingPathComponent(sameFiles ? "ct" : "other")
        if !sameFiles { try writeSeries(drawnOn, in: folder) }
        let other = try DICOMSeriesReader.read(folder)
        var m = Mask(grid: other.image.grid, repeating: false)
        for i in 3...6 { for j in 3...6 { m[i, j, 2] = true } }
        let region = ExportRegion(name: "GTV1", mask: m)
        if seg {
            try SEGWriter.write([region], referencing: other.reference, grid: other.image.grid, to: dir.appendingPathComponent("c.dcm"))
            return try cohort(dir, rows: ["P1,L1,ct,c.dcm,1"])
        }
        try RTStructWriter.write([region], referencing: other.reference, grid: other.image.grid, to: dir.appendingPathComponent("c.dcm"))
        return try cohort(dir, rows: ["P1,L1,ct,c.dcm,GTV1"])
    }

    func testContoursOfAnotherFrameOfReferenceAreRefused() throws {
        for seg in [false, true] {
            let dir = try SharedData.temporaryDirectory(for: self)
            let entry = try contourOnOtherSeries(dir, image: SeriesIDs(), drawnOn: SeriesIDs(), seg: seg)
            let m = loadError(entry, dir)
            assertContains(m, ["patient P1, lesion L1, file c.dcm:", "does not belong to image ct", "frame of reference differs",
                               "drawn on another image series"])
            XCTAssertFalse(m.contains("1.2."), "no UID in: \(m)")
        }
    }

    func testContoursOfAnotherPatientAreRefused() throws {
        // Same UIDs (e.g. a copy), another PatientID.
        let dir = try SharedData.temporaryDirectory(for: self)
        let ids = SeriesIDs()
        var other = ids
        other.patientID = "PSEUDO-2"
        let m = loadError(try contourOnOtherSeries(dir, image: ids, drawnOn: other), dir)
        assertContains(m, ["patient P1, lesion L1", "PatientID differs from the image's (another patient)"])
        XCTAssertFalse(m.contains("PSEUDO-2") || m.contains("PSEUDO-1"), m)
        XCTAssertFalse(m.contains("frame of reference differs"), m)
    }

    func testSameFrameOfReferenceOtherSeriesIsAWarning() throws {
        // Drawn on another reconstruction in the same frame of reference (as STS_001's RTSTRUCT): used, with a warning.
        let dir = try SharedData.temporaryDirectory(for: self)
        let ids = SeriesIDs()
        var recon = SeriesIDs()
        recon.frame = ids.frame
        recon.study = ids.study
        let patient = try PatientLoader().load(try contourOnOtherSeries(dir, image: ids, drawnOn: recon), relativeTo: dir)
        XCTAssertEqual(patient.lesions.map(\.mask.count), [16])
        print("warnings: \(patient.warnings)")
        XCTAssertTrue(patient.warnings.contains { $0.contains("patient P1, lesion L1, file c.dcm") && $0.contains("same frame of reference") },
                      "\(patient.warnings)")
        // The same series re-exported with new slice UIDs: used, with a warning naming the count.
        let dir2 = try SharedData.temporaryDirectory(for: self)
        let copy = try PatientLoader().load(try contourOnOtherSeries(dir2, image: ids, drawnOn: ids), relativeTo: dir2)
        XCTAssertTrue(copy.warnings.contains { $0.contains("5 of the 5 slices the RTSTRUCT references are not in image ct") }, "\(copy.warnings)")
        // The image's own files: no warning at all.
        let dir3 = try SharedData.temporaryDirectory(for: self)
        let same = try PatientLoader().load(try contourOnOtherSeries(dir3, image: ids, drawnOn: ids, sameFiles: true), relativeTo: dir3)
        XCTAssertEqual(same.warnings, [])
        XCTAssertEqual(same.lesions.map(\.mask.count), [16])
    }

    func testSEGInAnotherStudyReferencingTheSeriesIsAccepted() throws {
        // The standard allows a SEG in a study of its own; its reference to the image series settles it.
        let dir = try SharedData.temporaryDirectory(for: self)
        let ids = SeriesIDs()
        let entry = try contourOnOtherSeries(dir, image: ids, drawnOn: ids, seg: true, sameFiles: true)
        let url = dir.appendingPathComponent("c.dcm")
        var bytes = try Data(contentsOf: url)
        let study = try XCTUnwrap(bytes.range(of: Data(ids.study.utf8)))
        let last = bytes[study.upperBound - 1]
        bytes[study.upperBound - 1] = last == UInt8(ascii: "1") ? UInt8(ascii: "2") : UInt8(ascii: "1")
        try bytes.write(to: url)
        let patient = try PatientLoader().load(entry, relativeTo: dir)
        XCTAssertEqual(patient.lesions.map(\.mask.count), [16])
        XCTAssertEqual(patient.warnings, [])
    }

    func testContoursWithoutIdentifiersOrOnNIfTIAreUsedWithAWarning() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        try writeSeries(SeriesIDs(), in: dir.appendingPathComponent("ct"))
        let image = try DICOMSeriesReader.read(dir.appendingPathComponent("ct"))
        var m = Mask(grid: image.image.grid, repeating: false)
        m[4, 4, 1] = true
        // A structure set without frame of reference or referenced series (stripped export).
        let bare = SeriesReference(studyInstanceUID: "", seriesInstanceUID: "", frameOfReferenceUID: "", sopClassUID: "",
                                   sopInstanceUIDs: Array(repeating: "", count: 5))
        try RTStructWriter.write([ExportRegion(name: "GTV1", mask: m)], referencing: bare, grid: image.image.grid,
                                 to: dir.appendingPathComponent("rs.dcm"))
        let warnings = try ContourReferenceCheck.check(dir.appendingPathComponent("rs.dcm"), against: image.reference, imageName: "ct")
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings[0].contains("nothing confirms that it was drawn on image ct"), "\(warnings)")
        let patient = try PatientLoader().load(try cohort(dir, rows: ["P1,L1,ct,rs.dcm,GTV1"]), relativeTo: dir)
        XCTAssertEqual(patient.lesions.count, 1)
        XCTAssertEqual(patient.warnings.count, 1)

        // The same CT as NIfTI: the RTSTRUCT is placed by coordinates, with a warning that nothing can be checked.
        try NIfTI.write(image.image, to: dir.appendingPathComponent("ct.nii.gz"))
        try RTStructWriter.write([ExportRegion(name: "GTV1", mask: m)], referencing: image.reference, grid: image.image.grid,
                                 to: dir.appendingPathComponent("rs2.dcm"))
        let onNIfTI = try PatientLoader().load(try cohort(dir, rows: ["P1,L1,ct.nii.gz,rs2.dcm,GTV1"]), relativeTo: dir)
        XCTAssertEqual(onNIfTI.lesions.map(\.mask.count), [1])
        XCTAssertTrue(onNIfTI.warnings.contains { $0.contains("not DICOM") && $0.contains("cannot be checked") }, "\(onNIfTI.warnings)")
    }

    // MARK: - Item 9: no identifier in messages

    func testPlantedIdentifiersNeverReachMessages() throws {
        let secretDescription = "DOE^JOHN MRN 4711 born 19700101"
        let dir = try SharedData.temporaryDirectory(for: self)
        var a = SeriesIDs(), b = SeriesIDs()
        a.series = "1.2.826.0.1.3680043.9.7777.4711"
        b.series = "1.2.826.0.1.3680043.9.7777.4712"
        let description: [DICOMTag: DICOMValue] = [DICOMTag(0x0008, 0x103E): .text(secretDescription)]
        // Two series in one folder: listed by modality, count and first file only.
        try writeSeries(a, count: 2, in: dir.appendingPathComponent("two/a"), all: description)
        try writeSeries(b, count: 3, in: dir.appendingPathComponent("two/b"), all: description)
        var messages = [readError(dir.appendingPathComponent("two"))]
        XCTAssertThrowsError(try DICOMSeriesReader.read(dir.appendingPathComponent("two"), seriesUID: "1.2.826.0.1.3680043.9.7777.9999")) {
            messages.append("\($0)")
        }
        // A missing slice: the geometry message named the series by its UID.
        let gap = dir.appendingPathComponent("gap")
        let files = try writeSeries(a, in: gap, all: description)
        try FileManager.default.removeItem(at: files[2])
        messages.append(readError(gap))
        // A non-numeric ContourData value holding a name: quoted before.
        let ct = dir.appendingPathComponent("ct")
        try writeSeries(a, in: ct, all: description)
        let image = try DICOMSeriesReader.read(ct)
        let roi = RTROI(number: 1, name: "GTV1", contours: [RTContour(points: [Vector3(1, 1, 0), Vector3(3, 1, 0), Vector3(3, 3, 0)])])
        let rs = dir.appendingPathComponent("rs.dcm")
        try RTStructWriter.write([roi], referencing: image.reference, grid: image.image.grid, to: rs)
        var text = try Data(contentsOf: rs)
        let contour = try XCTUnwrap(text.range(of: Data("1\\1\\0\\3\\1\\0".utf8)))
        text.replaceSubrange(contour, with: Data("DOE^JOHN^47".utf8))
        try text.write(to: rs)
        XCTAssertThrowsError(try RTStructReader.read(rs)) { messages.append("\($0)") }
        // A Modality that holds a name, where a message names the modality found.
        let modality = try XCTUnwrap(text.range(of: Data("RTSTRUCT".utf8)))
        text.replaceSubrange(modality, with: Data("DOE^JON ".utf8))
        try text.write(to: rs)
        XCTAssertThrowsError(try SEGReader.segments(rs)) { messages.append("\($0)") }
        // A reference interpolated or dumped by mistake.
        messages.append("\(image.reference)")
        var dumped = ""
        dump(image.reference, to: &dumped)
        messages.append(dumped)
        messages.append(try DICOMSeriesReader.list(dir.appendingPathComponent("two")).map(\.description).joined(separator: "; "))

        print("messages:\n" + messages.joined(separator: "\n"))
        XCTAssertEqual(messages.count, 8)
        for m in messages {
            for secret in [secretDescription, "DOE^JOHN", "DOE^JON", a.series, b.series, "1.2.826.0.1.3680043.9.7777.9999",
                           a.study, a.frame, b.study, b.frame] {
                XCTAssertFalse(m.contains(secret), "'\(secret)' in: \(m)")
            }
        }
    }
}

import DICOMIO
import Foundation
import ImagingCore
import TestSupport
import XCTest

/// Found by fuzzing the DICOM reader: a PET time whose "digits" are not ASCII (Arabic-Indic digits, ½, ²)
/// passed `Character.isNumber` and then crashed a forced `Double(...)!` while computing SUV. Such values are
/// malformed times: refused where a time is required, ignored where it is optional.
final class PETTimeParsingTests: XCTestCase {
    private func writePET(_ overrides: [DICOMTag: DICOMValue], startTime: String = "091000.00") throws -> URL {
        let dir = try SharedData.temporaryDirectory(for: self).appendingPathComponent("pet")
        let grid = ImageGrid(size: Size3(4, 3, 2), spacing: Vector3(2, 2, 3))
        let image = Volume(grid: grid, voxels: (0..<grid.voxelCount).map { Float($0 * 100) })
        var extra: [DICOMTag: DICOMValue] = [
            DICOMTag(0x0054, 0x1001): .text("BQML"), DICOMTag(0x0028, 0x0051): .text("ATTN\\DECY"),
            DICOMTag(0x0054, 0x1102): .text("START"), DICOMTag(0x0010, 0x1030): .text("70"),
            DICOMTag(0x0008, 0x0021): .text("20240131"), DICOMTag(0x0008, 0x0031): .text("101500"),
            DICOMTag(0x0054, 0x0016): .items([[DICOMTag(0x0018, 0x1074): .text("370000000"),
                                               DICOMTag(0x0018, 0x1075): .text("6586.2"),
                                               DICOMTag(0x0018, 0x1072): .text(startTime)]]),
        ]
        for (k, v) in overrides { extra[k] = v }
        try DICOMWriter.writeSeries(image, to: dir, modality: "PT", extra: extra)
        return dir
    }

    func testNonASCIIDigitsInTheSeriesTimeAreRefusedNotACrash() throws {
        for time in ["١٠١٥٠٠", "½½1500", "10²500"] {
            let dir = try writePET([DICOMTag(0x0008, 0x0031): .text(time)])
            XCTAssertThrowsError(try DICOMSeriesReader.read(dir), time) { error in
                XCTAssertTrue("\(error)".contains("Series Date/Time is missing or malformed"), "\(error)")
            }
        }
    }

    func testNonASCIIDigitsInTheInjectionTimeAreRefusedNotACrash() throws {
        let dir = try writePET([:], startTime: "٠٩١٠٠٠")
        XCTAssertThrowsError(try DICOMSeriesReader.read(dir)) { error in
            XCTAssertTrue("\(error)".contains("Radiopharmaceutical Start Time"), "\(error)")
        }
    }

    /// An optional acquisition time that cannot be read is ignored: SUV uses the series time, as without it.
    func testAMalformedAcquisitionTimeIsIgnored() throws {
        let plain = try DICOMSeriesReader.read(try writePET([:]))
        let odd = try DICOMSeriesReader.read(try writePET([DICOMTag(0x0008, 0x0022): .text("20240131"),
                                                           DICOMTag(0x0008, 0x0032): .text("١٠١٥١٢")]))
        XCTAssertEqual(odd.image.voxels, plain.image.voxels)
    }
}

import Cohort
import DICOMIO
import Foundation
import ImagingCore
import TestSupport
import XCTest

/// PET DICOM to body-weight SUV (`SUV`): units, decay correction, per-slice rescale, the Philips counts
/// factors, the injection before midnight, and refusals of missing or implausible attributes.
final class PETSUVTests: XCTestCase {
    static let weight = 72.0, dose = 350_000_000.0, halfLife = 6586.2
    /// Stored values of every slice: 0, 10, ..., 110 (4 x 3 pixels).
    static let stored: [Int16] = (0..<12).map { Int16($0 * 10) }
    static let slopes = [0.731, 2.25, 1.5]

    private func radiopharmaceutical(start: String? = "093000", dateTime: String? = nil) -> DICOMValue {
        var item: [DICOMTag: DICOMValue] = [DICOMTag(0x0018, 0x1074): .text(String(Self.dose)),
                                            DICOMTag(0x0018, 0x1075): .text(String(Self.halfLife))]
        if let start { item[DICOMTag(0x0018, 0x1072)] = .text(start) }
        if let dateTime { item[DICOMTag(0x0018, 0x1078)] = .text(dateTime) }
        return .items([item])
    }

    /// Three 4 x 3 PET slices (z = 0, 3, 6 mm) with their own rescale slopes, series start 10:30:00 on 2024-01-31,
    /// acquisitions at 10:30:00, 10:32:00 and 10:34:00 (frames of 120 s); `slice` edits each slice's attributes.
    private func writePET(_ extra: [DICOMTag: DICOMValue] = [:],
                          slice: ((Int, inout [DICOMTag: DICOMValue]) -> Void)? = nil) throws -> URL {
        let dir = try SharedData.temporaryDirectory(for: self).appendingPathComponent("pet")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let study = DICOMWriter.newUID(), series = DICOMWriter.newUID(), frame = DICOMWriter.newUID()
        for k in 0..<3 {
            var tags: [DICOMTag: DICOMValue] = [
                DICOMTag(0x0054, 0x1001): .text("BQML"), DICOMTag(0x0054, 0x1102): .text("START"),
                DICOMTag(0x0028, 0x0051): .text("NORM\\DTIM\\ATTN\\SCAT\\DECY\\RAN"),
                DICOMTag(0x0010, 0x1030): .text(String(Self.weight)),
                DICOMTag(0x0008, 0x0021): .text("20240131"), DICOMTag(0x0008, 0x0031): .text("103000"),
                DICOMTag(0x0008, 0x0022): .text("20240131"), DICOMTag(0x0008, 0x0032): .text(String(format: "10%02d00", 30 + 2 * k)),
                DICOMTag(0x0018, 0x1242): .text("120000"),
                DICOMTag(0x0054, 0x0016): radiopharmaceutical(),
            ]
            for (t, v) in extra { tags[t] = v }
            slice?(k, &tags)
            let s = DICOMImageSlice(columns: 4, rows: 3, storedValues: Self.stored, pixelSpacing: (4, 4),
                                    position: Vector3(0, 0, Double(3 * k)), rescaleSlope: Self.slopes[k], modality: "PT",
                                    studyInstanceUID: study, seriesInstanceUID: series, frameOfReferenceUID: frame,
                                    instanceNumber: k + 1, extra: tags)
            try DICOMWriter.write(s, to: dir.appendingPathComponent("pt\(k).dcm"))
        }
        return dir
    }

    /// SUV of every voxel given the factor of each slice: stored x slope x factor.
    private func check(_ dir: URL, factors: [Double], file: StaticString = #filePath, line: UInt = #line) throws {
        let s = try DICOMSeriesReader.read(dir)
        for k in 0..<3 {
            for n in 0..<12 {
                let expected = Double(Self.stored[n]) * Self.slopes[k] * factors[k]
                XCTAssertEqual(Double(s.image.voxels[k * 12 + n]), expected, accuracy: expected * 1e-6 + 1e-12,
                               "slice \(k) pixel \(n)", file: file, line: line)
            }
        }
    }

    /// START: decay to the series start (10:30:00, 1 h after the 09:30:00 injection), each slice with its own slope.
    func testStartDecayCorrectionWithPerSliceRescale() throws {
        let factor = Self.weight * 1000 / (Self.dose * pow(2, -3600 / Self.halfLife))
        try check(try writePET(), factors: [factor, factor, factor])
        // A post-processed series (series time after the acquisitions): the earliest acquisition is the reference.
        let late = try writePET([DICOMTag(0x0008, 0x0031): .text("120000")])
        try check(late, factors: [factor, factor, factor])
        // Radiopharmaceutical Start DateTime, when given, wins over the start time.
        let dt = try writePET([DICOMTag(0x0054, 0x0016): radiopharmaceutical(start: "000000", dateTime: "20240131093000")])
        try check(dt, factors: [factor, factor, factor])
        // A DateTime whose date de-identification shifted (a year and a day before the series date) is implausible
        // (over 10 half-lives): the start time on the series date is used, as QIBA's pseudo-code does.
        let shifted = try writePET([DICOMTag(0x0054, 0x0016): radiopharmaceutical(start: "093000", dateTime: "20230130093000")])
        try check(shifted, factors: [factor, factor, factor])
        // Neither plausible: refused.
        let neither = try writePET([DICOMTag(0x0054, 0x0016): radiopharmaceutical(start: nil, dateTime: "20230130093000")])
        expect(neither, ["more than 10 half-lives after the injection time"])
    }

    /// ADMIN: already decay-corrected to the injection, so the dose is not decayed.
    func testAdminDecayCorrection() throws {
        let factor = Self.weight * 1000 / Self.dose
        try check(try writePET([DICOMTag(0x0054, 0x1102): .text("ADMIN")]), factors: [factor, factor, factor])
    }

    /// NONE: each slice decays to its own acquisition time, averaged over its 120 s frame:
    /// D x 2^(-(t_k - t_inj)/T) x (1 - e^(-λ T_f)) / (λ T_f).
    func testNoDecayCorrectionUsesEachSlicesAcquisitionTime() throws {
        let dir = try writePET([DICOMTag(0x0054, 0x1102): .text("NONE"), DICOMTag(0x0028, 0x0051): .text("NORM\\ATTN\\SCAT")])
        let lambda = log(2) / Self.halfLife
        let average = (1 - exp(-lambda * 120)) / (lambda * 120)
        let factors = (0..<3).map { k in
            Self.weight * 1000 / (Self.dose * pow(2, -Double(3600 + 120 * k) / Self.halfLife) * average)
        }
        try check(dir, factors: factors)
        // DECY listed with NONE contradicts itself.
        let contradictory = try writePET([DICOMTag(0x0054, 0x1102): .text("NONE")])
        expect(contradictory, ["lists decay correction (DECY) but Decay Correction (0054,1102) is NONE"])
        // NONE without a slice's acquisition time cannot be converted: that slice is named.
        let missing = try writePET([DICOMTag(0x0054, 0x1102): .text("NONE"), DICOMTag(0x0028, 0x0051): .text("ATTN")]) { k, tags in
            if k == 1 { tags[DICOMTag(0x0008, 0x0032)] = nil }
        }
        expect(missing, ["pt1.dcm", "Acquisition Date/Time"])
    }

    /// GML is taken as SUVbw already (QIBA): values unchanged.
    func testGMLIsAlreadySUV() throws {
        try check(try writePET([DICOMTag(0x0054, 0x1001): .text("GML")]), factors: [1, 1, 1])
    }

    /// Philips CNTS: the private SUV Scale Factor (7053,1000) per slice, else the Activity Concentration Scale
    /// Factor (7053,1009) to Bq/ml and the BQML formula; the private creator must be Philips'.
    func testPhilipsCountsWithPrivateScaleFactors() throws {
        let creator = DICOMTag(0x7053, 0x0010)
        let suvFactors = [0.0012, 0.0013, 0.0011]
        let bySUV = try writePET([DICOMTag(0x0054, 0x1001): .text("CNTS"), creator: .text("Philips PET Private Group")]) { k, tags in
            tags[DICOMTag(0x7053, 0x1000)] = .decimalString(String(suvFactors[k]))
        }
        try check(bySUV, factors: suvFactors)
        let activity = [1.7, 1.8, 1.9]
        let byActivity = try writePET([DICOMTag(0x0054, 0x1001): .text("CNTS"), creator: .text("Philips PET Private Group")]) { k, tags in
            tags[DICOMTag(0x7053, 0x1009)] = .decimalString(String(activity[k]))
        }
        let bw = Self.weight * 1000 / (Self.dose * pow(2, -3600 / Self.halfLife))
        try check(byActivity, factors: activity.map { $0 * bw })
        let otherCreator = try writePET([DICOMTag(0x0054, 0x1001): .text("CNTS"), creator: .text("SOMEONE ELSE")]) { k, tags in
            tags[DICOMTag(0x7053, 0x1000)] = .decimalString(String(suvFactors[k]))
        }
        expect(otherCreator, ["Units (0054,1001) is 'CNTS' (counts) without the Philips private SUV Scale Factor"])
    }

    /// Injected at 23:40, scanned at 00:40 the next day, with only a start time: the day before.
    func testInjectionBeforeMidnight() throws {
        let dir = try writePET([DICOMTag(0x0008, 0x0031): .text("004000"), DICOMTag(0x0054, 0x0016): radiopharmaceutical(start: "234000")]) { k, tags in
            tags[DICOMTag(0x0008, 0x0032)] = .text(String(format: "00%02d00", 40 + 2 * k))
        }
        let factor = Self.weight * 1000 / (Self.dose * pow(2, -3600 / Self.halfLife))
        try check(dir, factors: [factor, factor, factor])
        // A start time 20 minutes after the scan is no "day before" (that would be 23 h 40 min): refused.
        let after = try writePET([DICOMTag(0x0054, 0x0016): radiopharmaceutical(start: "105000")])
        expect(after, ["injection time (Radiopharmaceutical Start DateTime/Time) is after the scan reference time"])
    }

    /// Missing and implausible attributes: refused with the attribute named, the file named, no value shown.
    func testMissingOrImplausibleAttributesAreRefused() throws {
        let cases: [([DICOMTag: DICOMValue], [String])] = [
            ([DICOMTag(0x0054, 0x1001): .text("")], ["Units (0054,1001) is empty"]),
            ([DICOMTag(0x0054, 0x1001): .text("CNTS")], ["Units (0054,1001) is 'CNTS' (counts) without the Philips"]),
            ([DICOMTag(0x0054, 0x1001): .text("NONE")], ["Units (0054,1001) is 'NONE'"]),
            ([DICOMTag(0x0054, 0x1001): .text("XYZ99")], ["Units (0054,1001) is an unrecognised value"]),
            ([DICOMTag(0x0054, 0x1102): .text("")], ["Decay Correction (0054,1102) is empty"]),
            ([DICOMTag(0x0028, 0x0051): .text("DECY")], ["attenuation correction (ATTN) is required"]),
            ([DICOMTag(0x0028, 0x0051): .text("ATTN")], ["decay correction (DECY) is required when Decay Correction (0054,1102) is START"]),
            ([DICOMTag(0x0010, 0x1030): .text("0")], ["Patient's Weight (0010,1030) is missing or zero"]),
            ([DICOMTag(0x0010, 0x1030): .text("72000")], ["Patient's Weight (0010,1030) is implausible"]),
            ([DICOMTag(0x0054, 0x0016): .items([[DICOMTag(0x0018, 0x1075): .text("6586.2"), DICOMTag(0x0018, 0x1072): .text("093000")]])],
             ["Radionuclide Total Dose (0018,1074) is missing"]),
            ([DICOMTag(0x0054, 0x0016): .items([[DICOMTag(0x0018, 0x1074): .text("350"), DICOMTag(0x0018, 0x1075): .text("6586.2"),
                                                 DICOMTag(0x0018, 0x1072): .text("093000")]])],
             ["Radionuclide Total Dose (0018,1074) is implausible"]),
            ([DICOMTag(0x0054, 0x0016): .items([[DICOMTag(0x0018, 0x1074): .text("350000000"), DICOMTag(0x0018, 0x1072): .text("093000")]])],
             ["Radionuclide Half Life (0018,1075) is missing"]),
            ([DICOMTag(0x0054, 0x0016): .items([[DICOMTag(0x0018, 0x1074): .text("350000000"), DICOMTag(0x0018, 0x1075): .text("109.77"),
                                                 DICOMTag(0x0018, 0x1072): .text("093000")]])],
             ["the scan reference time is more than 10 half-lives after the injection"]),
            ([DICOMTag(0x0054, 0x0016): .items([[DICOMTag(0x0018, 0x1074): .text("350000000"), DICOMTag(0x0018, 0x1075): .text("6586.2")]])],
             ["Radiopharmaceutical Start Time (0018,1072) / Start DateTime (0018,1078) is missing"]),
            ([DICOMTag(0x0054, 0x0016): .items([])], ["Radiopharmaceutical Information Sequence (0054,0016) is missing"]),
        ]
        // Slices that disagree on what SUV depends on (here the weight of slice 2) are refused, naming the slice.
        let mixed = try writePET { k, tags in if k == 2 { tags[DICOMTag(0x0010, 0x1030)] = .text("73") } }
        expect(mixed, ["cannot compute body-weight SUV", "pt2.dcm", "this slice disagrees with pt0.dcm"])
        for (extra, expected) in cases {
            let dir = try writePET(extra)
            expect(dir, ["cannot compute body-weight SUV", "pt0.dcm"] + expected)
        }
    }

    private func expect(_ dir: URL, _ parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try DICOMSeriesReader.read(dir), file: file, line: line) { e in
            let text = "\(e)"
            for p in parts { XCTAssertTrue(text.contains(p), "missing '\(p)' in: \(text)", file: file, line: line) }
            for secret in ["72000", "72.0", "350000000", "093000", "103000", "20240131"] {
                XCTAssertFalse(text.contains(secret), "a header value is shown: \(text)", file: file, line: line)
            }
        }
    }
}

import XCTest
import Foundation
import ImagingCore
import Cohort
import DICOMIO
import ImageIO
import FeatureStore
import Signatures
import TestSupport
@testable import Pipeline

/// Issue 12 item 9: patients whose DICOM fails to load must not carry header values (SeriesDescription,
/// UIDs) into stderr, the store's `/failures` or the cohort report through their error messages.
final class DICOMFailureIdentifierTests: XCTestCase {
    static let secretDescription = "DOE^JOHN MRN 4711-0815 born 19700101"
    static let secretSeries = "1.2.826.0.1.3680043.9.7777.4711"
    static let secretOther = "1.2.826.0.1.3680043.9.7777.4712"
    static let secretStudy = "1.2.826.0.1.3680043.9.7777.815"
    static let secretFrame = "1.2.826.0.1.3680043.9.7777.9990"

    static let signature: Signature = {
        try! Signature(
            name: "identifier test", version: "1", estimates: "test", direction: "higher = more infiltrated",
            validationStatus: "unit test only", intercept: 0,
            terms: [.init(feature: "tumour.intensity.mean", coefficient: 1, mean: 0, sd: 100)],
            covariates: [], cutoffs: [.init(name: "q25", value: 0, source: "test")],
            preprocessing: JSONValue.parse(#"{"mode":"3D"}"#), provenance: "test")
    }()

    /// Slices of a 12 x 10 CT carrying the planted identifiers, at z = 0, 2, ... (skipping `skip`).
    func writeSeries(_ folder: URL, series: String, frame: String = secretFrame, count: Int = 5, skip: Int? = nil) throws -> [URL] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return try (0..<count).filter { $0 != skip }.map { n in
            let s = DICOMImageSlice(columns: 12, rows: 10, storedValues: (0..<120).map { Int16($0) }, pixelSpacing: (0.9, 0.8),
                                    position: Vector3(0, 0, Double(2 * n)), rescaleIntercept: -1024,
                                    studyInstanceUID: Self.secretStudy, seriesInstanceUID: series, frameOfReferenceUID: frame,
                                    extra: [DICOMTag(0x0008, 0x103E): .text(Self.secretDescription)])
            let url = folder.appendingPathComponent("s\(n).dcm")
            try DICOMWriter.write(s, to: url)
            return url
        }
    }

    func testFailedDICOMPatientsCarryNoIdentifierIntoStderrFailuresOrReport() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let folder = try smallCohort(dir, patients: 1, seed: 5)
        var rows = try String(contentsOf: folder.appendingPathComponent("lesions.csv"), encoding: .utf8)
        var patients = try String(contentsOf: folder.appendingPathComponent("patients.csv"), encoding: .utf8)

        // An RTSTRUCT that fits every bad series' grid, drawn on a series of another frame of reference.
        let drawn = dir.appendingPathComponent("drawn")
        _ = try writeSeries(drawn, series: DICOMWriter.newUID(), frame: DICOMWriter.newUID())
        let drawnSeries = try DICOMSeriesReader.read(drawn)
        var mask = Mask(grid: drawnSeries.image.grid, repeating: false)
        for i in 3...6 { for j in 3...6 { mask[i, j, 2] = true } }
        try RTStructWriter.write([ExportRegion(name: "GTV1", mask: mask)], referencing: drawnSeries.reference,
                                 grid: drawnSeries.image.grid, to: folder.appendingPathComponent("rs.dcm"))

        // BADGAP: a missing slice (its message named the series by UID). BADTWO: two series in one folder
        // (listed by UID and description). BADFOR: contours of another frame of reference. BADCUT: a truncated slice.
        _ = try writeSeries(folder.appendingPathComponent("gap"), series: Self.secretSeries, skip: 2)
        _ = try writeSeries(folder.appendingPathComponent("two/a"), series: Self.secretSeries)
        _ = try writeSeries(folder.appendingPathComponent("two/b"), series: Self.secretOther, count: 3)
        _ = try writeSeries(folder.appendingPathComponent("for"), series: Self.secretSeries)
        let cut = try writeSeries(folder.appendingPathComponent("cut"), series: Self.secretSeries)
        let bytes = try Data(contentsOf: cut[3])
        try bytes.prefix(bytes.count - 40).write(to: cut[3])
        let header = rows.split(separator: "\n")[0].split(separator: ",", omittingEmptySubsequences: false)
        let patientColumns = patients.split(separator: "\n")[0].split(separator: ",", omittingEmptySubsequences: false).count
        for (id, image) in [("BADGAP", "gap"), ("BADTWO", "two"), ("BADFOR", "for"), ("BADCUT", "cut")] {
            let values = ["patient_id": id, "lesion_id": "L1", "image": image, "mask": "rs.dcm", "roi": "GTV1"]
            rows += header.map { values[String($0)] ?? "" }.joined(separator: ",") + "\n"
            patients += id + String(repeating: ",", count: patientColumns - 1) + "\n"
        }
        try rows.write(to: folder.appendingPathComponent("lesions.csv"), atomically: true, encoding: .utf8)
        try patients.write(to: folder.appendingPathComponent("patients.csv"), atomically: true, encoding: .utf8)

        // The CLI, for what reaches stderr and stdout.
        let settingsFile = dir.appendingPathComponent("settings.json")
        try Data(try CohortExtraction.settingsJSON(testSettings).utf8).write(to: settingsFile)
        let store = dir.appendingPathComponent("out/store.h5")
        let p = Process()
        p.executableURL = try lesionmapExecutable()
        p.arguments = ["extract", folder.path, "--store", store.path, "--settings", settingsFile.path]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let console = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        print(console)
        XCTAssertEqual(p.terminationStatus, 1, "failed patients make extract exit 1")

        let contents = try StoreContents.read(from: store)
        let failures = try contents.failureList()
        XCTAssertEqual(failures.map(\.patientID), ["BADGAP", "BADTWO", "BADFOR", "BADCUT"])
        let byPatient = Dictionary(uniqueKeysWithValues: failures.map { ($0.patientID, $0.message) })
        XCTAssertTrue((byPatient["BADGAP"] ?? "").contains("1 slice(s) missing"), (byPatient["BADGAP"] ?? ""))
        XCTAssertTrue((byPatient["BADTWO"] ?? "").contains("2 CT/PET series found"), (byPatient["BADTWO"] ?? ""))
        XCTAssertTrue((byPatient["BADFOR"] ?? "").contains("frame of reference differs"), (byPatient["BADFOR"] ?? ""))
        XCTAssertTrue((byPatient["BADCUT"] ?? "").contains("cut/s3.dcm") && (byPatient["BADCUT"] ?? "").contains("truncated"), (byPatient["BADCUT"] ?? ""))

        try CohortScoring.run(store: store, signature: Self.signature, fileHash: "0", source: "test")
        try CohortAggregation.run(store: store, signatureName: Self.signature.name)
        try CohortPlanning.run(store: store, signatureName: Self.signature.name, policy: .standard)
        let report = dir.appendingPathComponent("out/cohort.html")
        try CohortReporting.write(store: store, signature: Self.signature, title: "identifiers", to: report)
        let html = try String(contentsOf: report, encoding: .utf8)
        XCTAssertTrue(html.contains("BADGAP") && html.contains("BADCUT"), "the failures are listed in the report")

        let outputs: [(String, String)] = [("console", console), ("failures", failures.map(\.message).joined(separator: "\n")),
                                           ("html", html)]
        for (name, text) in outputs {
            for secret in [Self.secretDescription, "DOE^JOHN", "DOE JOHN", "4711-0815", Self.secretSeries, Self.secretOther,
                           Self.secretStudy, Self.secretFrame] {
                XCTAssertFalse(text.contains(secret), "'\(secret)' found in \(name)")
            }
        }
        // The store file as a whole (every dataset and attribute).
        let raw = try Data(contentsOf: store)
        for secret in [Self.secretDescription, Self.secretSeries, Self.secretOther, Self.secretStudy, Self.secretFrame] {
            XCTAssertNil(raw.range(of: Data(secret.utf8)), "'\(secret)' found in the store")
        }
    }

    /// `lesionmap features` checks an RTSTRUCT against its DICOM image as the cohort loader does.
    func testFeaturesCommandRefusesContoursOfAnotherFrameOfReference() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let ct = dir.appendingPathComponent("ct"), other = dir.appendingPathComponent("other")
        _ = try writeSeries(ct, series: DICOMWriter.newUID(), frame: DICOMWriter.newUID())
        _ = try writeSeries(other, series: DICOMWriter.newUID(), frame: DICOMWriter.newUID())
        let drawn = try DICOMSeriesReader.read(other)
        var mask = Mask(grid: drawn.image.grid, repeating: false)
        for i in 3...6 { for j in 3...6 { mask[i, j, 2] = true } }
        let rs = dir.appendingPathComponent("rs.dcm")
        try RTStructWriter.write([ExportRegion(name: "GTV1", mask: mask)], referencing: drawn.reference, grid: drawn.image.grid, to: rs)
        XCTAssertThrowsError(try SingleImageExtraction.loadRegion(image: ct, mask: rs, label: nil)) { e in
            XCTAssertTrue("\(e)".contains("frame of reference differs"), "\(e)")
        }
        // On its own series: no warning. On the same CT as NIfTI: a warning that nothing could be checked.
        XCTAssertEqual(try SingleImageExtraction.loadRegion(image: other, mask: rs, label: nil).warnings, [])
        let nifti = dir.appendingPathComponent("ct.nii")
        try NIfTI.write(drawn.image, to: nifti)
        let onNIfTI = try SingleImageExtraction.loadRegion(image: nifti, mask: rs, label: nil)
        XCTAssertEqual(onNIfTI.mask.count, 16)
        XCTAssertTrue(onNIfTI.warnings.contains { $0.contains("cannot be checked") }, "\(onNIfTI.warnings)")
    }
}

import XCTest
import Foundation
import ImagingCore
import Cohort
import DICOMIO
import Radiomics
import FeatureStore
import TestSupport
@testable import Pipeline

/// Issue 13, first "Must show": a whole-body-like FDG PET DICOM series (realistic PET tags, a rescale slope of
/// its own on every slice, bed positions acquired one after another) and a SEG of 11 segments, seven of them
/// labelled "Neoplasm, Secondary", extracted from ONE manifest row (image folder + SEG, empty roi).
final class PETCohortTests: XCTestCase {
    /// The PET header facts of the phantom: 81.5 kg, 321 MBq of F-18 injected at 09:30:12, series start 10:45:00.
    static let weightKg = 81.5
    static let doseBq = 321_000_000.0
    static let halfLife = 6586.2
    static let elapsedSeconds: Double = 38_700 - 34_212  // 10:45:00 - 09:30:12, in seconds of the day

    /// Bq/ml per SUV unit for this phantom: the dose decayed to the series start over the body weight in g.
    static var bqmlPerSUV: Double { doseBq * pow(2.0, -elapsedSeconds / halfLife) / (weightKg * 1000) }

    /// Radiomics settings for these PET tests: the `pet-default` preset (4 mm resampling, 0.25 SUV bins) without
    /// its ring, to keep debug builds quick. The PET measures are computed on the original grid whatever these say.
    static let petSettings: ExtractionSettings = {
        var s = ExtractionSettings.petDefault
        s.ring = nil
        return s
    }()

    struct Hotspot { var centre: Vector3; var radiusMM: Double; var peakSUV: Double; var label: String }

    /// Eleven lesions across the body (x, y in mm from the grid origin, z along the 300 mm axial extent).
    static let hotspots: [Hotspot] = [
        Hotspot(centre: Vector3(60, 70, 40), radiusMM: 14, peakSUV: 20.83, label: "Neoplasm, Secondary"),
        Hotspot(centre: Vector3(150, 80, 60), radiusMM: 9, peakSUV: 4.93, label: "Neoplasm, Secondary"),
        Hotspot(centre: Vector3(100, 100, 95), radiusMM: 11, peakSUV: 12.47, label: "Lymph node"),
        Hotspot(centre: Vector3(200, 110, 120), radiusMM: 7, peakSUV: 6.31, label: "Neoplasm, Secondary"),
        Hotspot(centre: Vector3(70, 120, 150), radiusMM: 16, peakSUV: 9.18, label: "Neoplasm, Primary"),
        Hotspot(centre: Vector3(170, 60, 170), radiusMM: 6, peakSUV: 3.77, label: "Neoplasm, Secondary"),
        Hotspot(centre: Vector3(120, 70, 200), radiusMM: 10, peakSUV: 15.02, label: "Lymph node"),
        Hotspot(centre: Vector3(60, 100, 225), radiusMM: 8, peakSUV: 7.64, label: "Neoplasm, Secondary"),
        Hotspot(centre: Vector3(210, 90, 245), radiusMM: 12, peakSUV: 11.09, label: "Neoplasm, Secondary"),
        Hotspot(centre: Vector3(140, 120, 265), radiusMM: 9, peakSUV: 5.55, label: "Bone lesion"),
        Hotspot(centre: Vector3(90, 60, 280), radiusMM: 7, peakSUV: 8.86, label: "Neoplasm, Secondary"),
    ]

    /// SUV of the phantom at a point: body background 0.8 (liver-like 2.4 in one region) plus Gaussian-shaped
    /// lesions (peak value at the centre, falling to about a third at the contour radius).
    static func suv(at p: Vector3) -> Double {
        let body = pow((p.x - 135) / 120, 2) + pow((p.y - 95) / 70, 2) <= 1
        var v = body ? ((p.z > 180 && p.z < 230 && p.x > 140) ? 2.4 : 0.8) : 0.02
        for h in hotspots {
            let d2 = (p - h.centre).length * (p - h.centre).length
            v += (h.peakSUV - 0.8) * exp(-d2 / (h.radiusMM * h.radiusMM))
        }
        return v
    }

    /// The whole-body PET grid: 68 x 48 voxels of 4.07 mm, 92 slices of 3.27 mm, from the origin.
    static let wholeBodyGrid = ImageGrid(size: Size3(68, 48, 92), spacing: Vector3(4.0728, 4.0728, 3.27), origin: Vector3(0, 0, 0))

    /// Writes a PET series on `grid` (axial, as written by scanners) with the SUV of `uptake` at each voxel centre,
    /// in Bq/ml as int16 with a per-slice Rescale Slope (the slice maximum over 32000, as scanners do), bed
    /// positions of 12 slices acquired 2 minutes apart from the series start. `study` and `frame` default to new
    /// UIDs (give a CT's to make a PET/CT pair). `overrides` replaces header attributes.
    static func writePET(_ folder: URL, grid: ImageGrid = wholeBodyGrid, study: String = DICOMWriter.newUID(),
                         frame: String = DICOMWriter.newUID(), uptake: (Vector3) -> Double = suv(at:),
                         overrides: [DICOMTag: DICOMValue] = [:], remove: Set<DICOMTag> = []) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let nx = grid.size.nx, ny = grid.size.ny, nz = grid.size.nz
        let series = DICOMWriter.newUID()
        let row = grid.direction.column(0), col = grid.direction.column(1)
        for k in 0..<nz {
            var activity = [Double](repeating: 0, count: nx * ny)
            for j in 0..<ny {
                for i in 0..<nx {
                    activity[j * nx + i] = uptake(grid.world(at: Index3(i, j, k))) * bqmlPerSUV
                }
            }
            let slope = activity.max()! / 32000
            let stored = activity.map { Int16(($0 / slope).rounded()) }
            let bed = k / 12
            let acquired = 10 * 3600 + 45 * 60 + bed * 120
            var extra: [DICOMTag: DICOMValue] = [
                DICOMTag(0x0008, 0x0021): .text("20240131"), DICOMTag(0x0008, 0x0031): .text("104500.000000"),
                DICOMTag(0x0008, 0x0022): .text("20240131"),
                DICOMTag(0x0008, 0x0032): .text(String(format: "%02d%02d%02d.000000", acquired / 3600, (acquired / 60) % 60, acquired % 60)),
                DICOMTag(0x0008, 0x0070): .text("SIEMENS"),
                DICOMTag(0x0010, 0x1030): .text(String(weightKg)),
                DICOMTag(0x0018, 0x0050): .text(String(grid.spacing.z)),
                DICOMTag(0x0018, 0x1242): .text("120000"),
                DICOMTag(0x0028, 0x0051): .text("NORM\\DTIM\\ATTN\\SCAT\\DECY\\RAN"),
                DICOMTag(0x0054, 0x1001): .text("BQML"),
                DICOMTag(0x0054, 0x1102): .text("START"),
                DICOMTag(0x0054, 0x0016): .items([[
                    DICOMTag(0x0018, 0x0031): .text("Fluorodeoxyglucose"),
                    DICOMTag(0x0018, 0x1072): .text("093012.000000"),
                    DICOMTag(0x0018, 0x1074): .text(String(doseBq)),
                    DICOMTag(0x0018, 0x1075): .text(String(halfLife)),
                ]]),
            ]
            for (tag, value) in overrides { extra[tag] = value }
            for tag in remove { extra[tag] = nil }
            let slice = DICOMImageSlice(columns: nx, rows: ny, storedValues: stored, pixelSpacing: (grid.spacing.y, grid.spacing.x),
                                        position: grid.world(at: Index3(0, 0, k)),
                                        orientation: [row.x, row.y, row.z, col.x, col.y, col.z], rescaleSlope: slope, modality: "PT",
                                        studyInstanceUID: study, seriesInstanceUID: series, frameOfReferenceUID: frame,
                                        instanceNumber: k + 1, extra: extra)
            try DICOMWriter.write(slice, to: folder.appendingPathComponent(String(format: "pet%03d.dcm", k)))
        }
    }

    /// The SEG: each lesion is its Gaussian's voxels within the contour radius, numbered 1 to 11 in `hotspots` order.
    static func writeSEG(_ url: URL, on folder: URL) throws {
        let series = try DICOMSeriesReader.read(folder)
        let g = series.image.grid
        let regions = hotspots.map { h -> ExportRegion in
            var m = Mask(grid: g, repeating: false)
            for k in 0..<g.size.nz { for j in 0..<g.size.ny { for i in 0..<g.size.nx
                where (g.world(at: Index3(i, j, k)) - h.centre).length <= h.radiusMM { m[i, j, k] = true } } }
            return ExportRegion(name: h.label, mask: m)
        }
        try SEGWriter.write(regions, referencing: series.reference, grid: g, to: url)
    }

    /// SUVmax and SUVmean per segment number, computed independently by pydicom and numpy from the files:
    /// every slice's pixel_array x its own RescaleSlope + RescaleIntercept, times PatientWeight x 1000 /
    /// (RadionuclideTotalDose x 2^(-(SeriesTime - RadiopharmaceuticalStartTime) / RadionuclideHalfLife));
    /// the SEG's bit-packed frames unpacked by pydicom and placed by their ImagePositionPatient.
    static let pydicomScript = #"""
    import sys, os, glob, json, datetime
    import numpy as np, pydicom
    folder, seg_path = sys.argv[1], sys.argv[2]
    ds = [pydicom.dcmread(f) for f in glob.glob(os.path.join(folder, "*.dcm"))]
    ds.sort(key=lambda d: float(d.ImagePositionPatient[2]))
    z = [float(d.ImagePositionPatient[2]) for d in ds]
    vol = np.stack([d.pixel_array.astype(np.float64) * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in ds])
    d0 = ds[0]
    assert d0.Units == "BQML" and d0.DecayCorrection == "START"
    info = d0.RadiopharmaceuticalInformationSequence[0]
    def t(date, time):
        return datetime.datetime.strptime(date + time.split(".")[0], "%Y%m%d%H%M%S")
    ref = t(d0.SeriesDate, d0.SeriesTime)
    earliest = min(t(d.AcquisitionDate, d.AcquisitionTime) for d in ds)
    ref = min(ref, earliest)
    elapsed = (ref - t(d0.SeriesDate, info.RadiopharmaceuticalStartTime)).total_seconds()
    decayed = float(info.RadionuclideTotalDose) * 2 ** (-elapsed / float(info.RadionuclideHalfLife))
    suv = vol * float(d0.PatientWeight) * 1000 / decayed
    seg = pydicom.dcmread(seg_path)
    frames = seg.pixel_array.reshape(-1, seg.Rows, seg.Columns)
    masks = {}
    for n, fg in enumerate(seg.PerFrameFunctionalGroupsSequence):
        s = int(fg.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        k = int(np.argmin([abs(v - float(fg.PlanePositionSequence[0].ImagePositionPatient[2])) for v in z]))
        m = masks.setdefault(s, np.zeros(suv.shape, bool))
        m[k] |= frames[n].astype(bool)
    out = {str(s): [float(suv[m].max()), float(suv[m].mean()), int(m.sum())] for s, m in masks.items()}
    print(json.dumps(out))
    """#

    func testWholeBodyPETWithElevenSegmentsFromOneRow() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let cohort = dir.appendingPathComponent("cohort")
        let pet = cohort.appendingPathComponent("P1/pet"), seg = cohort.appendingPathComponent("P1/lesions.seg.dcm")
        try Self.writePET(pet)
        try Self.writeSEG(seg, on: pet)
        try "patient_id\nP1\n".write(to: cohort.appendingPathComponent("patients.csv"), atomically: true, encoding: .utf8)
        try "patient_id,lesion_id,image,mask,roi,location\nP1,,P1/pet,P1/lesions.seg.dcm,,other\n"
            .write(to: cohort.appendingPathComponent("lesions.csv"), atomically: true, encoding: .utf8)
        let store = dir.appendingPathComponent("pet.h5")
        let settings = Self.petSettings
        let summary = try CohortExtraction.run(cohort: try CohortManifest.load(cohort), store: store, settings: settings)
        XCTAssertTrue(summary.succeeded, summary.text)
        XCTAssertEqual(summary.lesionCount, 11, summary.text)

        let lesions = try StoreContents.read(from: store).lesions
        let ids = try lesions.texts("lesion_id"), labels = try lesions.texts("label")
        XCTAssertEqual(ids, (1...11).map { "S\($0)" })
        XCTAssertEqual(labels, Self.hotspots.map(\.label))
        XCTAssertEqual(Set(try lesions.texts("modality")), ["PT"])
        XCTAssertEqual(Set(try lesions.texts("manufacturer")), ["SIEMENS"], "the scanner's manufacturer, a batch for harmonisation")
        let suvMax = try lesions.numbers("suv_max"), suvMean = try lesions.numbers("suv_mean")
        let suvPeak = try lesions.numbers("suv_peak"), mtv = try lesions.numbers("mtv_ml"), tlg = try lesions.numbers("tlg")

        // Independent pydicom computation from the same files.
        let reference = try pydicomReference(pet: pet, seg: seg)
        for n in 1...11 {
            let (refMax, refMean, refCount) = try XCTUnwrap(reference[n], "segment \(n)")
            print(String(format: "S%-2d %-20@ SUVmax %.4f (pydicom %.4f, phantom peak %.2f)  SUVmean %.4f (pydicom %.4f)  SUVpeak %.4f  MTV %.2f ml  TLG %.2f",
                         n, Self.hotspots[n - 1].label as NSString, suvMax[n - 1], refMax, Self.hotspots[n - 1].peakSUV,
                         suvMean[n - 1], refMean, suvPeak[n - 1], mtv[n - 1], tlg[n - 1]))
            XCTAssertEqual(suvMax[n - 1], refMax, accuracy: refMax * 0.01, "S\(n) SUVmax within 1% of pydicom")
            // In fact far closer: one float32 rounding of the same double computation.
            XCTAssertEqual(suvMax[n - 1], refMax, accuracy: refMax * 1e-6, "S\(n)")
            XCTAssertEqual(suvMean[n - 1], refMean, accuracy: refMean * 1e-6, "S\(n)")
            XCTAssertEqual(mtv[n - 1], Double(refCount) * 4.0728 * 4.0728 * 3.27 / 1000, accuracy: 1e-9, "S\(n)")
            XCTAssertEqual(tlg[n - 1], suvMean[n - 1] * mtv[n - 1], accuracy: 1e-9 * tlg[n - 1])
            XCTAssertLessThanOrEqual(suvPeak[n - 1], suvMax[n - 1])
            XCTAssertGreaterThanOrEqual(suvPeak[n - 1], suvMean[n - 1] * 0.5)
            // The phantom's value at the hottest voxel centre: close to, but not, the integer the CT preset would make.
            XCTAssertNotEqual(suvMax[n - 1], suvMax[n - 1].rounded(), "S\(n) SUVmax is not rounded")
        }
        // The CSV export carries the same columns under the same names.
        let csv = dir.appendingPathComponent("pet.csv")
        try StoreExport.csv(store: store, to: csv)
        let header = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")[0].split(separator: ",").map(String.init)
        for column in ["lesion_id", "label", "suv_max", "suv_mean", "suv_peak", "mtv_ml", "tlg"] {
            XCTAssertTrue(header.contains(column), "CSV column \(column): \(header.prefix(30))")
        }

        // h5py reads the new columns, and every checksum of the store holds (Tests/python/check_store.py).
        let h5 = try Self.runPython(["-c", Self.h5pyScript, store.path])
        XCTAssertEqual(h5.status, 0, h5.errors)
        let fromH5 = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(h5.output.utf8)) as? [String: [Any]])
        XCTAssertEqual(fromH5["label"] as? [String], labels)
        // Hexadecimal text: exact, unlike a decimal JSON round trip.
        XCTAssertEqual((fromH5["suv_max"] as? [String])?.map { Double($0) }, suvMax.map { Optional($0) })
        let check = try Self.runPython([SharedData.packageRoot.appendingPathComponent("Tests/python/check_store.py").path, store.path])
        XCTAssertEqual(check.status, 0, check.output + check.errors)

        // Stable across runs: a second store from the same row has the same ids, labels and values.
        let again = dir.appendingPathComponent("again.h5")
        _ = try CohortExtraction.run(cohort: try CohortManifest.load(cohort), store: again, settings: settings)
        let second = try StoreContents.read(from: again).lesions
        XCTAssertEqual(try second.texts("lesion_id"), ids)
        XCTAssertEqual(try second.texts("label"), labels)
        XCTAssertEqual(try second.numbers("suv_max"), suvMax)
    }

    /// SUVmax 20.83 and 4.93 (the issue's example) stay themselves whatever the radiomics settings: a single-voxel
    /// value check on the loaded series, the measures, and a CT lesion (no PET columns: NaN).
    func testNoPETValueIsRoundedOnTheWayToTheMeasures() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let pet = dir.appendingPathComponent("pet")
        try Self.writePET(pet)
        let series = try DICOMSeriesReader.read(pet)
        let g = series.image.grid
        let raw = try DICOMSeriesReader.read(pet, petToSUV: false)
        // The loaded SUV is the stored Bq/ml times the SUV factor, once, in double precision then float.
        let factor = Self.weightKg * 1000 / (Self.doseBq * pow(2.0, -Self.elapsedSeconds / Self.halfLife))
        var nonInteger = 0
        for n in stride(from: 0, to: g.voxelCount, by: 97) {
            XCTAssertEqual(Double(series.image.voxels[n]), Double(raw.image.voxels[n]) * factor,
                           accuracy: abs(Double(raw.image.voxels[n]) * factor) * 1e-6 + 1e-9)
            if series.image.voxels[n] != series.image.voxels[n].rounded() { nonInteger += 1 }
        }
        XCTAssertGreaterThan(nonInteger, g.voxelCount / 97 / 2, "SUVs are not whole numbers")
        for (n, h) in Self.hotspots.enumerated() where h.peakSUV == 20.83 || h.peakSUV == 4.93 {
            var m = Mask(grid: g, repeating: false)
            for k in 0..<g.size.nz { for j in 0..<g.size.ny { for i in 0..<g.size.nx
                where (g.world(at: Index3(i, j, k)) - h.centre).length <= h.radiusMM { m[i, j, k] = true } } }
            let p = try PETUptake(image: series.image, mask: m)
            let hottest = m.voxels.indices.filter { m.voxels[$0] }.max { series.image.voxels[$0] < series.image.voxels[$1] }!
            XCTAssertEqual(p.suvMax, Double(series.image.voxels[hottest]))
            XCTAssertEqual(p.suvMax, Self.suv(at: g.world(at: g.index(ofLinear: hottest))), accuracy: h.peakSUV * 2e-4,
                           "lesion \(n + 1): SUVmax is the phantom's value, not \(p.suvMax.rounded())")
            print("lesion \(n + 1): SUVmax \(p.suvMax) (phantom peak \(h.peakSUV)), SUVpeak \(p.suvPeak)")
        }
    }

    /// Bad PET headers fail their patient only, with the attribute, the patient and the file named, and no value shown.
    func testBadPETHeadersFailTheirPatientNamingPatientAndFile() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let cohort = dir.appendingPathComponent("cohort")
        let info: (String) -> DICOMValue = { dose in
            .items([[DICOMTag(0x0018, 0x1072): .text("093012"), DICOMTag(0x0018, 0x1074): .text(dose),
                     DICOMTag(0x0018, 0x1075): .text("6586.2")]])
        }
        let cases: [(id: String, overrides: [DICOMTag: DICOMValue], remove: Set<DICOMTag>, expected: String)] = [
            ("NODOSE", [DICOMTag(0x0054, 0x0016): .items([[DICOMTag(0x0018, 0x1072): .text("093012"), DICOMTag(0x0018, 0x1075): .text("6586.2")]])],
             [], "Radionuclide Total Dose (0018,1074) is missing"),
            ("MBQDOSE", [DICOMTag(0x0054, 0x0016): info("321")], [], "Radionuclide Total Dose (0018,1074) is implausible"),
            ("NOWEIGHT", [:], [DICOMTag(0x0010, 0x1030)], "Patient's Weight (0010,1030) is missing"),
            ("GRAMS", [DICOMTag(0x0010, 0x1030): .text("81500")], [], "Patient's Weight (0010,1030) is implausible"),
            ("NOHALF", [DICOMTag(0x0054, 0x0016): .items([[DICOMTag(0x0018, 0x1072): .text("093012"), DICOMTag(0x0018, 0x1074): .text("321000000")]])],
             [], "Radionuclide Half Life (0018,1075) is missing"),
            ("COUNTS", [DICOMTag(0x0054, 0x1001): .text("CNTS")], [], "Units (0054,1001) is 'CNTS' (counts) without the Philips"),
            ("PROPCPS", [DICOMTag(0x0054, 0x1001): .text("PROPCPS")], [], "Units (0054,1001) is 'PROPCPS', expected BQML"),
        ]
        var patients = "patient_id\nGOOD\n", rows = "patient_id,lesion_id,image,mask,roi\n"
        try Self.writePET(cohort.appendingPathComponent("GOOD/pet"))
        try Self.writeSEG(cohort.appendingPathComponent("GOOD/seg.dcm"), on: cohort.appendingPathComponent("GOOD/pet"))
        rows += "GOOD,,GOOD/pet,GOOD/seg.dcm,\n"
        let goodSEG = try Data(contentsOf: cohort.appendingPathComponent("GOOD/seg.dcm"))
        for c in cases {
            try Self.writePET(cohort.appendingPathComponent("\(c.id)/pet"), overrides: c.overrides, remove: c.remove)
            // The contours are never reached: the image fails first.
            try goodSEG.write(to: cohort.appendingPathComponent("\(c.id)/seg.dcm"))
            patients += "\(c.id)\n"
            rows += "\(c.id),,\(c.id)/pet,\(c.id)/seg.dcm,\n"
        }
        try patients.write(to: cohort.appendingPathComponent("patients.csv"), atomically: true, encoding: .utf8)
        try rows.write(to: cohort.appendingPathComponent("lesions.csv"), atomically: true, encoding: .utf8)
        let settings = Self.petSettings
        let summary = try CohortExtraction.run(cohort: try CohortManifest.load(cohort), store: dir.appendingPathComponent("s.h5"),
                                               settings: settings)
        print(summary.text)
        XCTAssertEqual(summary.extracted, ["GOOD"])
        XCTAssertEqual(summary.lesionCount, 11)
        for c in cases {
            let message = try XCTUnwrap(summary.failed.first { $0.patientID == c.id }?.message, c.id)
            XCTAssertTrue(message.contains("patient \(c.id)"), message)
            XCTAssertTrue(message.contains("\(c.id)/pet/pet000.dcm"), "the file is named: \(message)")
            XCTAssertTrue(message.contains("cannot compute body-weight SUV"), message)
            XCTAssertTrue(message.contains(c.expected), "\(c.id): \(message)")
            for secret in ["81500", "81.5", "321000000", "093012", "104500", "20240131"] {
                XCTAssertFalse(message.contains(secret), "\(c.id): no header value in the message: \(message)")
            }
        }
    }

    /// The store's `label` and `suv_max` columns as h5py reads them (numbers as hexadecimal floats).
    static let h5pyScript = #"""
    import sys, json, h5py
    with h5py.File(sys.argv[1]) as f:
        t = f["lesions"]
        print(json.dumps({"label": list(t["label"].asstr()[()]), "suv_max": [float(x).hex() for x in t["suv_max"][()]]}))
    """#

    /// Runs python3 with `arguments`; skips (fails under CI) when pydicom, numpy or h5py is missing.
    static func runPython(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        func run(_ arguments: [String]) throws -> (Int32, String, String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["python3"] + arguments
            let out = Pipe(), err = Pipe()
            p.standardOutput = out
            p.standardError = err
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            let errors = err.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: data, as: UTF8.self), String(decoding: errors, as: UTF8.self))
        }
        guard try run(["-c", "import pydicom, numpy, h5py"]).0 == 0 else {
            if SharedData.isCI { XCTFail("pydicom, numpy and h5py are required under CI") }
            throw XCTSkip("pydicom/numpy/h5py not installed: the independent checks cannot run")
        }
        return try run(arguments)
    }

    private func pydicomReference(pet: URL, seg: URL) throws -> [Int: (Double, Double, Int)] {
        let r = try Self.runPython(["-c", Self.pydicomScript, pet.path, seg.path])
        guard r.status == 0 else {
            XCTFail("pydicom script failed: \(r.errors)")
            return [:]
        }
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: [Double]])
        var result: [Int: (Double, Double, Int)] = [:]
        for (k, v) in json { result[Int(k)!] = (v[0], v[1], Int(v[2])) }
        return result
    }
}

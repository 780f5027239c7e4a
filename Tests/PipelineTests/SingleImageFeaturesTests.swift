import XCTest
import Foundation
import ImagingCore
import ImageIO
import Radiomics
import TestSupport
import Pipeline
import FeatureStore

/// `lesionmap features`: reading one image and region (NIfTI label maps, DICOM + RTSTRUCT), the three
/// output formats, and clear errors.
final class SingleImageFeaturesTests: XCTestCase {
    /// Intensity statistics only, on the original grid: quick in debug builds.
    static let quick: ExtractionSettings = {
        var s = ExtractionSettings.ibsiA
        s.families = [.intensity]
        return s
    }()

    /// `lesionmap features` makes no BLAS call, so the process never loads OpenBLAS or LAPACKE (they are loaded on
    /// first use, not linked) and never starts OpenBLAS's busy-waiting worker threads. The dynamic loader's own
    /// log (`LD_DEBUG=libs`) lists every library the process loads, `dlopen` included.
    func testFeaturesCommandNeverLoadsOpenBLAS() throws {
        let log = try digitalPhantomFeaturesLoaderLog()
        XCTAssertFalse(log.contains("libopenblas"), "features loaded OpenBLAS")
        XCTAssertFalse(log.contains("liblapacke"), "features loaded LAPACKE")
    }

    /// `lesionmap features` on NIfTI files never touches a store, so the process never loads HDF5 (loaded by the
    /// first HDF5 call, not linked; it brought 35 libraries, libcurl, GnuTLS, OpenSSL and Kerberos among them).
    func testFeaturesCommandNeverLoadsHDF5() throws {
        let log = try digitalPhantomFeaturesLoaderLog()
        XCTAssertFalse(log.contains("libhdf5"), "features loaded HDF5")
        XCTAssertFalse(log.contains("libcurl"), "features loaded libcurl (a dependency of HDF5)")
    }

    /// A store command loads HDF5 when it first needs it, and writes a store that reads back.
    func testExtractLoadsHDF5AndWritesTheStore() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let cohort = try smallCohort(dir, patients: 1, seed: 5)
        let store = dir.appendingPathComponent("store.h5")
        let run = try runWithLoaderLog(["extract", cohort.path, "--store", store.path, "--quiet"])
        XCTAssertEqual(run.status, 0, run.stdout)
        XCTAssertTrue(run.log.contains("libhdf5"), "extract did not load HDF5")
        let reader = try StoreReader(url: store)
        defer { reader.close() }
        XCTAssertEqual(try reader.patients().rowCount, 1)
        XCTAssertGreaterThan(try reader.lesions().rowCount, 0)
    }

    /// The loader's log of `lesionmap features` on the IBSI 1 digital phantom (NIfTI), which must succeed.
    private func digitalPhantomFeaturesLoaderLog() throws -> String {
        let dir = try SharedData.url("ibsi1/digital_phantom")
        let run = try runWithLoaderLog(["features", dir.appendingPathComponent("image.nii.gz").path,
                                        dir.appendingPathComponent("mask.nii.gz").path, "--preset", "ibsi-digital-phantom"])
        XCTAssertEqual(run.status, 0)
        XCTAssertTrue(run.stdout.contains("tumour.morphology.volume"), run.stdout)
        return run.log
    }

    /// Runs lesionmap with `LD_DEBUG=libs`: its exit status, its standard output and the loader's log (written to
    /// standard error with the command's own messages).
    private func runWithLoaderLog(_ arguments: [String]) throws -> (status: Int32, stdout: String, log: String) {
        let run = try runLesionmap(arguments, environment: ["LD_DEBUG": "libs"])
        XCTAssertTrue(run.errors.contains("libc.so.6"), "LD_DEBUG=libs should log the libraries loaded")
        return (run.status, run.output, run.errors)
    }

    func testDigitalPhantomIBSITextIsTheExtractorsLines() throws {
        let dir = try SharedData.url("ibsi1/digital_phantom")
        var settings = ExtractionSettings.ibsiDigitalPhantom
        settings.wholeImageDiagnostics = true
        let result = try SingleImageExtraction.run(image: dir.appendingPathComponent("image.nii.gz"),
                                                   mask: dir.appendingPathComponent("mask.nii.gz"), label: nil,
                                                   settings: settings)
        XCTAssertEqual(result.region, "label 1 of mask.nii.gz")
        let image = try NIfTI.readImage(dir.appendingPathComponent("image.nii.gz"))
        let mask = try NIfTI.readLabelMap(dir.appendingPathComponent("mask.nii.gz")).mask(label: 1)
        let direct = try RadiomicsExtractor.extract(image: image, mask: mask, settings: settings)
        let text = result.text(.ibsi)
        XCTAssertEqual(text, direct.ibsiLines.joined(separator: "\n") + "\n")
        XCTAssertTrue(text.contains("\nmorph_volume;"))
        XCTAssertTrue(text.contains("\ncm_joint_max_2_5D_comb;"))
        XCTAssertTrue(text.hasPrefix("img_dim_x_init_img;5\n"))
    }

    func testCTPhantomFromDICOMAndRTStructMatchesNIfTI() throws {
        let dir = try SharedData.url("ibsi1/ct_phantom")
        let dicom = try SingleImageExtraction.run(image: dir.appendingPathComponent("dicom/image"),
                                                  mask: dir.appendingPathComponent("dicom/rtstruct.dcm"),
                                                  label: "gtv-1", settings: Self.quick)
        XCTAssertEqual(dicom.region, "ROI 'GTV-1' of rtstruct.dcm")
        let nifti = try SingleImageExtraction.run(image: dir.appendingPathComponent("nifti/image.nii.gz"),
                                                  mask: dir.appendingPathComponent("nifti/mask.nii.gz"), label: "1",
                                                  settings: Self.quick)
        XCTAssertEqual(dicom.tumour.value(ibsiTag: "morph_mask_vox_count_init_roi"),
                       nifti.tumour.value(ibsiTag: "morph_mask_vox_count_init_roi"))
        XCTAssertEqual(dicom.tumour.value(ibsiTag: "stat_mean")!, nifti.tumour.value(ibsiTag: "stat_mean")!, accuracy: 1e-9)
        XCTAssertNil(dicom.ring)
    }

    func testTableAndCSVUseStoreNamesForTumourAndRing() throws {
        let dir = try SharedData.url("mask_edge_cases")
        var settings = Self.quick
        settings.ring = ExtractionSettings.RingSettings(widthMM: 2)
        let result = try SingleImageExtraction.run(image: dir.appendingPathComponent("image.nii.gz"),
                                                   mask: dir.appendingPathComponent("one_voxel_mask.nii.gz"),
                                                   label: nil, settings: settings)
        let rows = result.rows
        XCTAssertEqual(rows.first?.name, "tumour.intensity.mean")
        XCTAssertTrue(rows.contains { $0.name == "ring.intensity.mean" })
        XCTAssertEqual(Set(rows.map(\.name)).count, rows.count)
        let csv = result.text(.csv).split(separator: "\n")
        XCTAssertEqual(csv.first, "name,ibsi_tag,value,note")
        XCTAssertEqual(csv.count, rows.count + 1)
        XCTAssertTrue(csv.contains("tumour.intensity.mean,stat_mean,1,"))
        // A NaN carries its reason.
        XCTAssertTrue(csv.contains { $0.hasPrefix("tumour.intensity.skew,stat_skew,NaN,") })
        let table = result.text(.table).split(separator: "\n")
        XCTAssertTrue(table[0].hasPrefix("name "))
        XCTAssertTrue(table.contains { $0.hasPrefix("ring.intensity.max") })
    }

    /// `--regions tumour,ring,core,tumour_ring`: each region's rows under its name; a one-voxel lesion has no core,
    /// so its core rows are absent and the warning names the region and the margin.
    func testCoreAndTumourRingRowsUseTheirRegionNames() throws {
        let dir = try SharedData.url("mask_edge_cases")
        var settings = Self.quick
        settings.ring = ExtractionSettings.RingSettings(widthMM: 2)
        settings.regions = [.tumour, .ring, .core, .tumourRing]
        settings.coreMarginMM = 1
        let result = try SingleImageExtraction.run(image: dir.appendingPathComponent("image.nii.gz"),
                                                   mask: dir.appendingPathComponent("one_voxel_mask.nii.gz"),
                                                   label: nil, settings: settings)
        let names = result.rows.map(\.name)
        XCTAssertTrue(names.contains("tumour_ring.intensity.mean") && names.contains("ring.intensity.mean"))
        XCTAssertFalse(names.contains { $0.hasPrefix("core.") })
        XCTAssertTrue(result.warnings.contains { $0.contains("intratumoral core is empty") && $0.contains("1 mm") },
                      "\(result.warnings)")
        let big = try SingleImageExtraction.run(image: dir.appendingPathComponent("image.nii.gz"),
                                                mask: dir.appendingPathComponent("full_mask.nii.gz"),
                                                label: nil, settings: settings)
        XCTAssertTrue(big.rows.contains { $0.name == "core.intensity.mean" })
    }

    func testRegionChoiceErrorsNameTheFileAndTheChoices() throws {
        let dir = try SharedData.url("mask_edge_cases")
        let tmp = try SharedData.temporaryDirectory(for: self)
        let image = dir.appendingPathComponent("image.nii.gz")
        var labels = try NIfTI.readLabelMap(dir.appendingPathComponent("disconnected_mask.nii.gz"))
        if let first = labels.voxels.firstIndex(where: { $0 > 0 }) { labels.voxels[first] = 7 }
        let twoLabels = tmp.appendingPathComponent("two.nii.gz")
        try NIfTI.write(labels, to: twoLabels)

        func message(_ mask: URL, _ label: String?) -> String {
            do {
                _ = try SingleImageExtraction.loadRegion(image: image, mask: mask, label: label)
                return "no error"
            } catch { return "\(error)" }
        }
        XCTAssertTrue(message(twoLabels, nil).contains("two.nii.gz"))
        XCTAssertTrue(message(twoLabels, nil).contains("1, 7"))
        XCTAssertTrue(message(twoLabels, "3").contains("label 3 does not occur"))
        XCTAssertTrue(message(twoLabels, "GTV").contains("not a label value"))
        XCTAssertTrue(message(tmp.appendingPathComponent("missing.nii.gz"), nil).contains("mask not found"))
        XCTAssertEqual(try SingleImageExtraction.loadRegion(image: image, mask: twoLabels, label: "7").mask.count, 1)

        let ct = try SharedData.url("ibsi1/ct_phantom")
        let wrongGrid = message(ct.appendingPathComponent("nifti/mask.nii.gz"), nil)
        XCTAssertTrue(wrongGrid.contains("mask.nii.gz"), wrongGrid)
        XCTAssertThrowsError(try SingleImageExtraction.loadRegion(image: ct.appendingPathComponent("dicom/image"),
                                                                   mask: ct.appendingPathComponent("dicom/rtstruct.dcm"),
                                                                   label: "PTV")) { error in
            XCTAssertTrue("\(error)".contains("no ROI named 'PTV'") && "\(error)".contains("GTV-1"), "\(error)")
        }
    }

    // MARK: DCMTK loaded by the first DICOM read

    /// `features` on NIfTI reads no DICOM, so the process never loads the DICOM library (libLesionMapDCMTK.so),
    /// DCMTK or what DCMTK pulls in (libxml2, ICU): the first DICOM read loads them (dlopen), they are not linked.
    func testFeaturesCommandOnNIfTINeverLoadsDCMTK() throws {
        let log = try digitalPhantomFeaturesLoaderLog()
        for library in ["libLesionMapDCMTK", "libdcmdata", "libdcmjpeg", "libofstd", "libxml2", "libicuuc"] {
            XCTAssertFalse(log.contains(library), "features on NIfTI loaded \(library)")
        }
    }

    /// A DICOM series and its SEG through the binary: the first DICOM read loads libLesionMapDCMTK.so from the
    /// binary's folder, and DCMTK with it, and the features come out.
    func testFeaturesCommandOnDICOMLoadsDCMTKFromTheBinarysFolder() throws {
        let dir = try SharedData.url("seg_bitpacking")
        let run = try runWithLoaderLog(["features", dir.appendingPathComponent("image").path,
                                        dir.appendingPathComponent("seg.dcm").path, "--preset", "ibsi-a", "--format", "csv"])
        XCTAssertEqual(run.status, 0, run.log)
        XCTAssertTrue(run.stdout.contains("tumour.morphology.volume,morph_volume,367.6"), run.stdout)
        let folder = try lesionmapExecutable().resolvingSymlinksInPath().deletingLastPathComponent()
        XCTAssertTrue(run.log.contains(folder.appendingPathComponent("libLesionMapDCMTK.so").path), run.log)
        XCTAssertTrue(run.log.contains("libdcmdata"), "the DICOM read should have loaded DCMTK")
    }

    /// A binary copied without libLesionMapDCMTK.so: reading DICOM fails with a message naming the missing file
    /// and saying where it belongs; NIfTI input never notices. LESIONMAP_DICOM_LIBRARY naming no file is named too.
    func testMissingDICOMLibraryIsAClearErrorThatNIfTINeverNotices() throws {
        let tmp = try SharedData.temporaryDirectory(for: self)
        let alone = tmp.appendingPathComponent("lesionmap")
        let built = try lesionmapExecutable().resolvingSymlinksInPath()
        do { try FileManager.default.linkItem(at: built, to: alone) } catch { try FileManager.default.copyItem(at: built, to: alone) }
        let seg = try SharedData.url("seg_bitpacking")
        let dicom = [seg.appendingPathComponent("image").path, seg.appendingPathComponent("seg.dcm").path]

        let missing = try runLesionmap(["features"] + dicom, executable: alone)
        XCTAssertNotEqual(missing.status, 0)
        let expected = "the DICOM library \(tmp.appendingPathComponent("libLesionMapDCMTK.so").path) is missing: "
            + "keep libLesionMapDCMTK.so in the same folder as the lesionmap binary"
        XCTAssertTrue(missing.errors.contains(expected), missing.errors)
        XCTAssertTrue(missing.errors.contains("LESIONMAP_DICOM_LIBRARY"), missing.errors)
        XCTAssertFalse(missing.errors.contains("corrupt"), "the slices are not at fault: \(missing.errors)")

        let nowhere = tmp.appendingPathComponent("elsewhere/libLesionMapDCMTK.so").path
        let named = try runLesionmap(["features"] + dicom, environment: ["LESIONMAP_DICOM_LIBRARY": nowhere])
        XCTAssertNotEqual(named.status, 0)
        XCTAssertTrue(named.errors.contains("the DICOM library \(nowhere) named by LESIONMAP_DICOM_LIBRARY does not exist"),
                      named.errors)

        let phantom = try SharedData.url("ibsi1/digital_phantom")
        let nifti = try runLesionmap(["features", phantom.appendingPathComponent("image.nii.gz").path,
                                     phantom.appendingPathComponent("mask.nii.gz").path], executable: alone)
        XCTAssertEqual(nifti.status, 0, nifti.errors)
        XCTAssertTrue(nifti.output.contains("tumour.morphology.volume"), nifti.output)

        // A cohort reports the missing library for its DICOM patient and extracts the others.
        let cohort = tmp.appendingPathComponent("cohort")
        try FileManager.default.createDirectory(at: cohort, withIntermediateDirectories: true)
        try "patient_id,lesion_id,image,mask,roi\nP1,L1,\(phantom.path)/image.nii.gz,\(phantom.path)/mask.nii.gz,1\nP2,L1,\(dicom[0]),\(dicom[1]),1\n"
            .write(to: cohort.appendingPathComponent("lesions.csv"), atomically: true, encoding: .utf8)
        try "patient_id\nP1\nP2\n".write(to: cohort.appendingPathComponent("patients.csv"), atomically: true, encoding: .utf8)
        let extract = try runLesionmap(["extract", cohort.path, "--store", tmp.appendingPathComponent("c.h5").path,
                                        "--preset", "ibsi-a"], executable: alone)
        let said = extract.output + extract.errors
        XCTAssertEqual(extract.status, 1, said)  // 1: a patient failed; the store holds the others
        XCTAssertTrue(said.contains("extracted 1 patient (1 lesions)"), said)
        XCTAssertTrue(said.contains("FAILED P2: patient P2, lesion L1"), said)
        XCTAssertTrue(said.contains("cannot read image: the DICOM library"), said)
    }

    /// Runs `lesionmap ARGUMENTS` (the built binary unless `executable` is given) with `environment` added;
    /// standard error goes through a file, as the loader's log (LD_DEBUG) can outgrow a pipe.
    private func runLesionmap(_ arguments: [String], executable: URL? = nil, environment: [String: String] = [:]) throws
        -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = try executable ?? lesionmapExecutable()
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let errorsURL = try SharedData.temporaryDirectory(for: self).appendingPathComponent("stderr-\(UUID()).txt")
        _ = FileManager.default.createFile(atPath: errorsURL.path, contents: nil)
        let errors = try FileHandle(forWritingTo: errorsURL)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try errors.close()
        return (process.terminationStatus, text, try String(contentsOf: errorsURL, encoding: .utf8))
    }
}

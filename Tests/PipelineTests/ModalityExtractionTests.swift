import XCTest
import Foundation
import ImagingCore
import ImageIO
import Cohort
import Radiomics
import FeatureStore
import Signatures
import TestSupport
@testable import Pipeline

/// Issue 13, item 1, through the cohort pipeline: the manifest's `modality` column, each lesion
/// extracted with its scan's modality's settings, refusals naming patient, lesion and setting, and
/// the settings the store records.
final class ModalityExtractionTests: XCTestCase {
    /// A NIfTI PET scan in SUV (4 mm voxels, the PET preset's own grid) with one lesion of SUVmax
    /// 20.83, and its label map; `modality` goes into lesions.csv (nil: no modality column).
    private func petCohort(_ dir: URL, modality: String?) throws -> URL {
        let folder = dir.appendingPathComponent("cohort")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let grid = ImageGrid(size: Size3(21, 21, 21), spacing: Vector3(4, 4, 4))
        var image = Volume<Float>(grid: grid, repeating: 1.3)
        var labels = LabelMap(grid: grid, repeating: 0)
        for k in 8...12 {
            for j in 8...12 {
                for i in 8...12 {
                    image[i, j, k] = 20.83 - 1.37 * Float(abs(i - 10) + abs(j - 10) + abs(k - 10))
                    labels[i, j, k] = 1
                }
            }
        }
        try NIfTI.write(image, to: folder.appendingPathComponent("pet.nii.gz"))
        try NIfTI.write(labels, to: folder.appendingPathComponent("lesions.nii.gz"))
        let header = "patient_id,lesion_id,image,mask,roi" + (modality == nil ? "" : ",modality")
        let row = "P1,S1,pet.nii.gz,lesions.nii.gz,1" + (modality.map { "," + $0 } ?? "")
        try Data("\(header)\n\(row)\n".utf8).write(to: folder.appendingPathComponent("lesions.csv"))
        try Data("patient_id\nP1\n".utf8).write(to: folder.appendingPathComponent("patients.csv"))
        return folder
    }

    func testAPETLesionNamedInTheManifestIsExtractedWithThePETPresetUnrounded() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let cohort = try CohortManifest.load(try petCohort(dir, modality: "pt"))
        XCTAssertEqual(cohort.patients[0].lesions[0].modality, "PT")
        let store = dir.appendingPathComponent("s.h5")
        let settings = try ModalitySettings.preset("ct=default,pt=pet-default")
        let summary = try CohortExtraction.run(cohort: cohort, store: store, settings: settings)
        XCTAssertEqual(summary.extracted, ["P1"], summary.text)
        let contents = try StoreContents.read(from: store)
        XCTAssertEqual(try contents.lesions.texts("modality"), ["PT"])
        let tumour = try XCTUnwrap(contents.features["pt.tumour"])
        // SUVmax 20.83 stays 20.83 (the issue saw 21.0 through the CT preset).
        XCTAssertEqual(try XCTUnwrap(tumour.column(named: "intensity.max")?.first), Double(Float(20.83)), accuracy: 1e-5)
        // The store records both modalities' settings, each as its plain preset's JSON.
        XCTAssertEqual(contents.attributes.settingsJSON, try settings.json())
        XCTAssertTrue(contents.attributes.settingsJSON.hasPrefix(#"{"modalities":{"CT":{"discretisation":{"fixedBinSize":{"width":25}}"#))
        XCTAssertEqual(try ModalitySettings.decode(Data(contents.attributes.settingsJSON.utf8)), settings)
    }

    func testThePlainDefaultPresetOnAPETScanFailsThePatientNamingLesionAndSetting() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let cohort = try CohortManifest.load(try petCohort(dir, modality: "PT"))
        let store = dir.appendingPathComponent("s.h5")
        let summary = try CohortExtraction.run(cohort: cohort, store: store, settings: try ModalitySettings.preset("default"))
        XCTAssertEqual(summary.failed.map(\.patientID), ["P1"])
        let message = summary.failed[0].message
        XCTAssertTrue(message.hasPrefix("patient P1, lesion S1 (lesions.nii.gz label 1), PT scan: resampling.roundIntensities is true"), message)
        XCTAssertTrue(message.contains("re-segmentation range [-1000, 3000] (resegmentation.lowerBound, upperBound) is a HU range"), message)
        XCTAssertTrue(message.hasSuffix("use settings made for PET, e.g. --preset ct=default,pt=pet-default"), message)
        XCTAssertEqual(try StoreContents.read(from: store).failureList().map(\.patientID), ["P1"])
    }

    func testALesionWhoseModalityHasNoSettingsIsRefused() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let cohort = try CohortManifest.load(try petCohort(dir, modality: "PT"))
        let summary = try CohortExtraction.run(cohort: cohort, store: dir.appendingPathComponent("s.h5"),
                                               settings: try ModalitySettings.preset("ct=default"))
        XCTAssertEqual(summary.failed.map(\.message), [
            "patient P1, lesion S1 (lesions.nii.gz label 1): the scan is PT and the settings are only for CT; add pt=pet-default (or pt=another preset) to --preset",
        ])
    }

    /// A store written with one plain preset keeps the settings JSON and hash stores had before
    /// modalities (read with h5py from a store written by main at 822d5e5 with `--preset default`).
    func testAStoreWrittenWithAPlainPresetKeepsItsSettingsJSONAndHash() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let cohort = try CohortManifest.load(try petCohort(dir, modality: nil))
        XCTAssertNil(cohort.patients[0].lesions[0].modality)
        let store = dir.appendingPathComponent("s.h5")
        let summary = try CohortExtraction.run(cohort: cohort, store: store, settings: try ModalitySettings.preset("default"))
        XCTAssertEqual(summary.extracted, ["P1"], summary.text)
        let a = try StoreContents.read(from: store).attributes
        XCTAssertEqual(a.settingsJSON, #"{"discretisation":{"fixedBinSize":{"width":25}},"families":["morphology","local_intensity","intensity","histogram","ivh","glcm","glrlm","glszm","gldzm","ngtdm","ngldm"],"ivhDiscretisation":{"none":{}},"mode":"3D","resampling":{"inPlaneOnly":false,"interpolation":"linear","maskThreshold":0.5,"roundIntensities":true,"spacing":[1,1,1]},"resegmentation":{"lowerBound":-1000,"upperBound":3000},"ring":{"excludeBelowIntensity":-950,"excludeOtherLesions":true,"innerMarginMM":0,"widthMM":10},"textureAggregations":["3D_avg","3D_comb"],"wholeImageDiagnostics":false}"#)
        XCTAssertEqual(a.settingsHash, "cb86d8583c6cd1a21ffc59e9069887fa172ccd8ce804d1da20c3489ec2324458")
        XCTAssertEqual(try StoreContents.read(from: store).lesions.texts("modality"), ["CT"], "NIfTI without a modality column is CT")
    }

    /// A store extracted per modality is scored modality by modality: the shipped reference signature
    /// (made on the `default` CT preset) scores the CT lesion and gives the PET lesion no score.
    func testAPerModalityStoreIsScoredOnlyWhereTheSignaturesSettingsApply() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let folder = try petCohort(dir, modality: "PT")
        // A CT image of the same geometry (HU) beside the PET one, in the same patient.
        let grid = ImageGrid(size: Size3(21, 21, 21), spacing: Vector3(4, 4, 4))
        var ct = Volume<Float>(grid: grid, repeating: 20)
        for n in ct.voxels.indices { ct.voxels[n] += Float((n * 7919) % 61) }
        for k in 8...12 { for j in 8...12 { for i in 8...12 { ct[i, j, k] = 60 + Float((i * 31 + j * 17 + k * 7) % 90) } } }
        try NIfTI.write(ct, to: folder.appendingPathComponent("ct.nii.gz"))
        let lesions = "patient_id,lesion_id,image,mask,roi,location,kvp,modality\nP1,S1,pet.nii.gz,lesions.nii.gz,1,lung,,PT\nP1,C1,ct.nii.gz,lesions.nii.gz,1,lung,120,\n"
        try Data(lesions.utf8).write(to: folder.appendingPathComponent("lesions.csv"))
        let store = dir.appendingPathComponent("s.h5")
        let summary = try CohortExtraction.run(cohort: try CohortManifest.load(folder), store: store,
                                               settings: try ModalitySettings.preset("ct=default,pt=pet-default"))
        XCTAssertEqual(summary.extracted, ["P1"], summary.text)
        XCTAssertEqual(try StoreContents.read(from: store).lesions.texts("modality"), ["PT", "CT"])
        let (signature, hash) = try ReferenceSignature.load()
        let scores = try CohortScoring.run(store: store, signature: signature, fileHash: hash, source: "reference")
        XCTAssertEqual(scores.count, 2)
        XCTAssertTrue(scores[0].isNaN, "the PET lesion has no score: \(scores)")
        XCTAssertTrue(scores[1].isFinite, "the CT lesion is scored: \(scores)")

        // A store whose only modality's settings are not the signature's is refused, saying so.
        let petOnly = dir.appendingPathComponent("pet.h5")
        let pet = try petCohort(dir.appendingPathComponent("p"), modality: "PT")
        _ = try CohortExtraction.run(cohort: try CohortManifest.load(pet), store: petOnly, settings: try ModalitySettings.preset("pt=pet-default"))
        XCTAssertThrowsError(try CohortScoring.run(store: petOnly, signature: signature, fileHash: hash, source: "reference")) { e in
            XCTAssertTrue("\(e)".contains("the store's settings are per modality (PT) and the signature's preprocessing is none of them"), "\(e)")
            XCTAssertTrue("\(e)".contains("for PT: preprocessing differs: discretisation"), "\(e)")
        }
    }

    func testTheManifestModalityColumnIsChecked() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let folder = try petCohort(dir, modality: "US")
        XCTAssertThrowsError(try CohortManifest.load(folder)) { e in
            XCTAssertTrue("\(e)".contains("unknown modality 'US'; one of CT, PT, MR (empty = CT, or the DICOM series' own)"), "\(e)")
        }
        let lesions = "patient_id,lesion_id,image,mask,roi,modality\nP1,S1,pet.nii.gz,lesions.nii.gz,1,PT\nP1,S2,pet.nii.gz,lesions.nii.gz,1,CT\n"
        try Data(lesions.utf8).write(to: folder.appendingPathComponent("lesions.csv"))
        XCTAssertThrowsError(try CohortManifest.load(folder)) { e in
            XCTAssertTrue("\(e)".contains("CT disagrees with PT given for the same image at row 2"), "\(e)")
        }
    }

    func testPerModalitySettingsFiles() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let both = dir.appendingPathComponent("both.json")
        let s = try ModalitySettings.preset("ct=default,pt=pet-default")
        // The store's settings_json is itself a settings file.
        try Data(try s.json().utf8).write(to: both)
        XCTAssertEqual(try SettingsFile.loadSpec(both.path), s)
        let ct = dir.appendingPathComponent("ct.json"), pt = dir.appendingPathComponent("pt.json")
        try Data(try ModalitySettings.everyModality(.clinicalDefault).json().utf8).write(to: ct)
        try Data(try ModalitySettings.everyModality(.petDefault).json().utf8).write(to: pt)
        XCTAssertEqual(try SettingsFile.loadSpec("ct=\(ct.path),pt=\(pt.path)"), s)
        XCTAssertEqual(try SettingsFile.loadSpec(ct.path), .everyModality(.clinicalDefault))
        XCTAssertThrowsError(try SettingsFile.loadSpec("ct=\(ct.path),ct=\(pt.path)")) { e in
            XCTAssertTrue("\(e)".contains("modality ct is named twice"), "\(e)")
        }
        let bad = dir.appendingPathComponent("bad.json")
        try Data(#"{"modalities":{"XR":{}}}"#.utf8).write(to: bad)
        XCTAssertThrowsError(try SettingsFile.loadSpec(bad.path)) { e in
            XCTAssertTrue("\(e)".hasPrefix(bad.path + ": "), "\(e)")
        }
    }

    func testSingleImageFeaturesUseTheModalityOption() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let folder = try petCohort(dir, modality: nil)
        let image = folder.appendingPathComponent("pet.nii.gz"), mask = folder.appendingPathComponent("lesions.nii.gz")
        let settings = try ModalitySettings.preset("ct=default,pt=pet-default")
        let r = try SingleImageExtraction.run(image: image, mask: mask, label: "1", settings: settings, modality: "pt")
        XCTAssertEqual(r.settings, .petDefault)
        XCTAssertEqual(try XCTUnwrap(r.tumour.value(ibsiTag: "stat_max")), Double(Float(20.83)), accuracy: 1e-5)
        XCTAssertThrowsError(try SingleImageExtraction.run(image: image, mask: mask, label: "1",
                                                           settings: try ModalitySettings.preset("default"), modality: "PT")) { e in
            XCTAssertTrue("\(e)".hasPrefix("label 1 of lesions.nii.gz, PT scan: resampling.roundIntensities is true"), "\(e)")
        }
        XCTAssertThrowsError(try SingleImageExtraction.run(image: image, mask: mask, label: "1", settings: settings, modality: "xr")) { e in
            XCTAssertTrue("\(e)".contains("--modality 'xr' is not one of ct, pt, mr"), "\(e)")
        }
        // A DICOM series has its own modality: a different --modality is refused before any work.
        let phantom = try SharedData.url("ibsi1/ct_phantom")
        XCTAssertThrowsError(try SingleImageExtraction.run(image: phantom.appendingPathComponent("dicom/image"),
                                                           mask: phantom.appendingPathComponent("dicom/rtstruct.dcm"),
                                                           label: "GTV-1", settings: settings, modality: "pt")) { e in
            XCTAssertTrue("\(e)".hasSuffix("--modality pt disagrees with the DICOM series, whose Modality is CT"), "\(e)")
        }
    }
}

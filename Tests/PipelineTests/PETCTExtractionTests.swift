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

/// Issue 13 item 3, "a PET+CT synthetic patient": a CT NIfTI with a label map, and a coarser PET NIfTI of the same
/// frame on a grid that is neither aligned with the CT nor of the same spacing, named in `image_pt`. Each lesion is
/// extracted on both images into `/features/ct.*` and `/features/pt.*` of one store row; the PET values under the
/// carried mask are checked against a mask carried independently here, with a known analytic uptake.
final class PETCTExtractionTests: XCTestCase {
    /// CT: 48 x 48 x 24 voxels of 1 x 1 x 2 mm around the origin.
    static let ct = ImageGrid(size: Size3(48, 48, 24), spacing: Vector3(1, 1, 2), origin: Vector3(-23.5, -23.5, -23))
    /// PET: 3 x 3 x 4 mm voxels, origin off the CT voxels by a fraction of a voxel on every axis.
    static let pet = ImageGrid(size: Size3(16, 16, 12), spacing: Vector3(3, 3, 4), origin: Vector3(-23.3, -22.6, -22.7))
    /// Lesions: label 1 a 10 mm sphere, label 2 a 7 mm sphere.
    static let lesions: [(label: Int32, centre: Vector3, radius: Double)] = [
        (1, Vector3(-6, -5, -4), 10), (2, Vector3(10, 9, 8), 7),
    ]

    /// Known analytic uptake in SUV (never a whole number): a gradient plus a hot spot in lesion 1.
    static func uptake(_ w: Vector3) -> Double {
        let d = w - lesions[0].centre
        return 3.1 + 0.05 * w.x + 0.031 * w.y - 0.017 * w.z + 6.3 * exp(-d.dot(d) / 60)
    }

    /// HU: soft tissue with a gentle integer pattern, lesions brighter.
    static func hu(_ w: Vector3, inside: Bool) -> Float {
        Float((40 + 12 * sin(w.x / 5) + 7 * cos(w.y / 4) + (inside ? 30 : 0)).rounded())
    }

    /// Writes the cohort: P1 with both images (expanding row), P2 with the CT only.
    static func writeCohort(_ dir: URL) throws {
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("img"), withIntermediateDirectories: true)
        var labels = LabelMap(grid: ct, repeating: 0)
        var image = Volume<Float>(grid: ct, repeating: 0)
        for n in 0..<ct.voxelCount {
            let w = ct.world(at: ct.index(ofLinear: n))
            for l in lesions where (w - l.centre).length <= l.radius { labels.voxels[n] = l.label }
            image.voxels[n] = hu(w, inside: labels.voxels[n] != 0)
        }
        try NIfTI.write(image, to: dir.appendingPathComponent("img/ct.nii.gz"))
        try NIfTI.write(labels, to: dir.appendingPathComponent("img/labels.nii.gz"))
        var suv = Volume<Float>(grid: pet, repeating: 0)
        for n in 0..<pet.voxelCount { suv.voxels[n] = Float(uptake(pet.world(at: pet.index(ofLinear: n)))) }
        try NIfTI.write(suv, to: dir.appendingPathComponent("img/pt.nii.gz"))
        try "patient_id,pfs_months,pfs_event\nP1,10,1\nP2,4,0\n".write(to: dir.appendingPathComponent("patients.csv"), atomically: true, encoding: .utf8)
        try """
        patient_id,lesion_id,image,mask,roi,location,image_pt
        P1,,img/ct.nii.gz,img/labels.nii.gz,,lung,img/pt.nii.gz
        P2,only-ct,img/ct.nii.gz,img/labels.nii.gz,2,liver,
        """.write(to: dir.appendingPathComponent("lesions.csv"), atomically: true, encoding: .utf8)
    }

    /// The lesion carried onto the PET grid, computed here independently of `Mask.transferred`: every PET voxel
    /// sampled at 6 x 6 x 6 sub-points through `world(atContinuousIndex:)` and `continuousIndex(ofWorld:)`, each
    /// taken to its nearest CT voxel; inside when at least half of the sub-points fall in the lesion.
    static func carried(label: Int32, labels: LabelMap) -> [Int] {
        var out: [Int] = []
        let n = 6
        for v in 0..<pet.voxelCount {
            let c = pet.index(ofLinear: v)
            var inside = 0
            for a in 0..<n { for b in 0..<n { for e in 0..<n {
                let p = Vector3(Double(c.i) + (Double(a) + 0.5) / Double(n) - 0.5, Double(c.j) + (Double(b) + 0.5) / Double(n) - 0.5,
                                Double(c.k) + (Double(e) + 0.5) / Double(n) - 0.5)
                let s = ct.continuousIndex(ofWorld: pet.world(atContinuousIndex: p))
                let i = Int((s.x + 0.5).rounded(.down)), j = Int((s.y + 0.5).rounded(.down)), k = Int((s.z + 0.5).rounded(.down))
                if ct.contains(i, j, k), labels[i, j, k] == label { inside += 1 }
            } } }
            if 2 * inside >= n * n * n { out.append(v) }
        }
        return out
    }

    /// CT with the clinical default, PT with the PET default on its own grid (no resampling), so that the PET
    /// intensity features are those of the PET voxels under the carried mask.
    static var settings: ModalitySettings {
        var pt = ExtractionSettings.petDefault
        pt.resampling = nil
        return .perModality(["CT": ExtractionSettings.clinicalDefault, "PT": pt])
    }

    func testEachLesionIsExtractedOnCTAndOnTheCarriedPETMask() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        try Self.writeCohort(dir)
        let store = dir.appendingPathComponent("store.h5")
        let summary = try CohortExtraction.run(cohort: try CohortManifest.load(dir), store: store, settings: Self.settings)
        XCTAssertTrue(summary.succeeded, summary.text)
        let contents = try StoreContents.read(from: store)
        let t = contents.lesions
        XCTAssertEqual(try t.texts("lesion_id"), ["L1", "L2", "only-ct"])
        XCTAssertEqual(try t.texts("modality"), ["CT", "CT", "CT"], "the contour modality")
        XCTAssertEqual(try t.texts("modalities"), ["CT,PT", "CT,PT", "CT"])
        for key in ["ct.tumour", "ct.ring", "pt.tumour", "pt.ring"] { XCTAssertNotNil(contents.features[key], key) }

        let labels = try ImageFile.readLabelMap(dir.appendingPathComponent("img/labels.nii.gz"))
        let suv = try ImageFile.readImage(dir.appendingPathComponent("img/pt.nii.gz"))
        let ptMean = try XCTUnwrap(contents.features["pt.tumour"]?.column(named: "intensity.mean"))
        let ctVolume = try t.numbers("volume_ml"), mtv = try t.numbers("mtv_ml"), suvMax = try t.numbers("suv_max")
        let suvMean = try t.numbers("suv_mean")
        for (row, lesion) in Self.lesions.enumerated() {
            let voxels = Self.carried(label: lesion.label, labels: labels)
            XCTAssertGreaterThan(voxels.count, 20)
            let values = voxels.map { Double(suv.voxels[$0]) }
            let mean = values.reduce(0, +) / Double(values.count)
            XCTAssertEqual(ptMean[row], mean, accuracy: 1e-6 * mean, "lesion \(lesion.label): pt.tumour.intensity.mean")
            XCTAssertEqual(suvMean[row], mean, accuracy: 1e-9 * mean)
            XCTAssertEqual(suvMax[row], values.max()!, "suv_max is the hottest PET voxel of the carried mask")
            XCTAssertNotEqual(suvMax[row], suvMax[row].rounded(), "never rounded")
            XCTAssertEqual(mtv[row], Double(voxels.count) * Self.pet.voxelVolume / 1000, accuracy: 1e-12)
            // The carried mask keeps the CT volume within the documented partial-volume error
            // (Mask.transferVolumeTolerance; measured here -2.7% at 115 voxels and -5.8% at 36).
            XCTAssertEqual(mtv[row], ctVolume[row], accuracy: Mask.transferVolumeTolerance(targetVoxels: voxels.count) * ctVolume[row],
                           "lesion \(lesion.label): PET \(mtv[row]) ml vs CT \(ctVolume[row]) ml")
            print("lesion \(lesion.label): CT \(ctVolume[row]) ml, carried onto PET \(mtv[row]) ml (\(voxels.count) voxels), SUVmax \(suvMax[row]), pt.tumour.intensity.mean \(ptMean[row])")
        }
        // The CT-only lesion has CT features, and NaN for every PET value.
        XCTAssertTrue(ptMean[2].isNaN)
        XCTAssertTrue(suvMax[2].isNaN)
        XCTAssertTrue(try XCTUnwrap(contents.features["ct.tumour"]?.column(named: "intensity.mean"))[2].isFinite)

        // /scans: one row per image used, the PET once for P1.
        let scans = contents.scans
        XCTAssertEqual(try scans.texts("patient_id"), ["P1", "P1", "P2"])
        XCTAssertEqual(try scans.texts("modality"), ["CT", "PT", "CT"])
        XCTAssertEqual(try scans.texts("image"), ["img/ct.nii.gz", "img/pt.nii.gz", "img/ct.nii.gz"])
        XCTAssertEqual(try scans.numbers("spacing_x"), [1, 3, 1])

        // The CSV export names the columns <modality>.<region>.<family>.<feature>.
        let csv = dir.appendingPathComponent("features.csv")
        try StoreExport.csv(store: store, to: csv)
        let header = try CSVTable.parse(String(contentsOf: csv, encoding: .utf8)).header
        for name in ["ct.tumour.intensity.mean", "pt.tumour.intensity.mean", "pt.ring.intensity.mean",
                     "ct.tumour.glcm.joint_max_3D_comb", "suv_max", "suv_peak", "mtv_ml", "tlg", "modalities"] {
            XCTAssertTrue(header.contains(name), "\(name) in \(header.prefix(40))")
        }
    }

    /// A signature with `ct.` and `pt.` terms scores the lesions that have both; the score is its linear formula.
    func testASignatureWithCTAndPETTermsScoresPETCTLesions() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        try Self.writeCohort(dir)
        let store = dir.appendingPathComponent("store.h5")
        XCTAssertTrue(try CohortExtraction.run(cohort: try CohortManifest.load(dir), store: store, settings: Self.settings).succeeded)
        let contents = try StoreContents.read(from: store)
        let preprocessing = try JSONValue.parse(contents.attributes.settingsJSON)
        let terms = [Signature.Term(feature: "ct.tumour.intensity.mean", coefficient: 0.5, mean: 50, sd: 10),
                     Signature.Term(feature: "pt.tumour.intensity.mean", coefficient: -0.25, mean: 4, sd: 2)]
        let signature = Signature(name: "petct", version: "1", estimates: "test", direction: "higher = test",
                                  validationStatus: "test only", intercept: 0.1, terms: terms, covariates: [], cutoffs: [],
                                  preprocessing: preprocessing, provenance: "PETCTExtractionTests")
        let scores = try CohortScoring.run(store: store, signature: signature, fileHash: "x", source: "petct.json")
        let ct = try XCTUnwrap(contents.features["ct.tumour"]?.column(named: "intensity.mean"))
        let pt = try XCTUnwrap(contents.features["pt.tumour"]?.column(named: "intensity.mean"))
        for i in 0..<2 {
            XCTAssertEqual(scores[i], 0.1 + 0.5 * (ct[i] - 50) / 10 - 0.25 * (pt[i] - 4) / 2, accuracy: 1e-9)
        }
        XCTAssertTrue(scores[2].isNaN, "the CT-only lesion has no PET feature: no score")
        // Training sees the PET features as candidates beside the CT ones.
        let names = CohortScoring.featureTable(contents).names
        XCTAssertTrue(names.contains("pt.tumour.glrlm.run_entropy_3D_avg") || names.contains { $0.hasPrefix("pt.tumour.glrlm.") }, "\(names.prefix(5))")
        XCTAssertTrue(names.contains { $0.hasPrefix("pt.ring.") })
    }

    /// A lesion smaller than half a PET voxel everywhere fails its patient with patient, lesion and both files named;
    /// the other patient is extracted.
    func testALesionEmptyOnThePETGridFailsItsPatientOnly() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        try Self.writeCohort(dir)
        var labels = LabelMap(grid: Self.ct, repeating: 0)
        labels[20, 20, 10] = 1
        try NIfTI.write(labels, to: dir.appendingPathComponent("img/tiny.nii.gz"))
        try """
        patient_id,lesion_id,image,mask,roi,location,image_pt
        P1,speck,img/ct.nii.gz,img/tiny.nii.gz,1,lung,img/pt.nii.gz
        P2,only-ct,img/ct.nii.gz,img/labels.nii.gz,2,liver,
        """.write(to: dir.appendingPathComponent("lesions.csv"), atomically: true, encoding: .utf8)
        let summary = try CohortExtraction.run(cohort: try CohortManifest.load(dir), store: dir.appendingPathComponent("s.h5"),
                                               settings: Self.settings)
        XCTAssertEqual(summary.extracted, ["P2"])
        XCTAssertEqual(summary.failed.map(\.patientID), ["P1"])
        let message = summary.failed.first?.message ?? ""
        XCTAssertTrue(message.contains("patient P1, lesion speck, file img/pt.nii.gz"), message)
        XCTAssertTrue(message.contains("drawn on image img/ct.nii.gz") && message.contains("is empty once carried onto the image_pt image"), message)
    }
}

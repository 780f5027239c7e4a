import XCTest
import Foundation
import ImagingCore
import Cohort
import Radiomics
import FeatureStore
import Synthesis
import Perturbation
import Statistics
import Signatures
import TestSupport
@testable import Pipeline

final class RobustnessTests: XCTestCase {
    /// Median ICC per `<region>.<family>` of a run.
    static func medianByFamily(_ features: [FeatureRobustness]) -> [(family: String, median: Double, count: Int)] {
        var groups: [String: [Double]] = [:]
        for f in features where f.icc.icc.isFinite {
            groups[f.feature.split(separator: ".").prefix(3).joined(separator: "."), default: []].append(f.icc.icc)
        }
        return groups.map { family, v in
            let s = v.sorted()
            let m = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
            return (family, m, s.count)
        }.sorted { $0.median > $1.median }
    }

    /// On the synthetic cohort (full-resolution grid: 1.5 x 1.5 x 4 mm voxels, CT noise of SD 10-16 HU, lesion
    /// texture from fine and coarse Gaussian fields), image perturbations that keep the delineation (noise at the
    /// image's own level, small rotations moving image and mask together) leave shape nearly untouched but move
    /// texture, which the generator makes from fine-grained fields and scan noise: the texture families (GLCM,
    /// GLRLM, GLSZM, GLDZM, NGTDM, NGLDM) come out less robust than morphology. The ranking is printed.
    /// (Growth and contour randomisation move shape itself; README "Feature robustness" gives the ranking
    /// under all five kinds.)
    func testNoiseSensitiveTextureIsLessRobustThanShape() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let folder = dir.appendingPathComponent("cohort")
        _ = try SyntheticCohort.generate(SynthesisOptions(patients: 3, seed: 5), into: folder)
        let cohort = try CohortManifest.load(folder)
        var settings = testSettings
        settings.ring = nil
        let perturbations = try Perturbation.parseList("noise:1,noise:2,noise:3,rotate:-5,rotate:5")
        let values = dir.appendingPathComponent("values.csv"), iccURL = dir.appendingPathComponent("icc.csv")
        let (summary, features) = try CohortRobustness.run(cohort: cohort, settings: .everyModality(settings), perturbations: perturbations,
                                                           values: values, icc: iccURL)
        XCTAssertTrue(summary.succeeded, summary.text)
        XCTAssertGreaterThanOrEqual(summary.lesionCount, 8)
        let ranking = Self.medianByFamily(features)
        print("median ICC(1,1) per family over \(summary.lesionCount) lesions, \(perturbations.count) perturbations:")
        for r in ranking { print(String(format: "  %@: %.3f (%d features)", r.family, r.median, r.count)) }
        let median = Dictionary(uniqueKeysWithValues: ranking.map { ($0.family, $0.median) })
        let shape = try XCTUnwrap(median["ct.tumour.morphology"])
        for texture in ["glcm", "glrlm", "glszm", "ngtdm", "gldzm", "ngldm"] {
            let m = try XCTUnwrap(median["ct.tumour." + texture], texture)
            XCTAssertLessThan(m, shape, "\(texture) should be less robust than morphology")
        }
        XCTAssertGreaterThan(shape, 0.9)

        // The files: ICC.csv one row per feature; VALUES.csv one row per lesion, perturbation and defined value.
        let icc = try CSVTable.parse(String(contentsOf: iccURL, encoding: .utf8), file: "icc.csv")
        XCTAssertEqual(icc.header, ["feature", "icc", "icc_low", "icc_high"])
        XCTAssertEqual(icc.rows.count, features.count)
        let volume = try XCTUnwrap(icc.rows.first { $0.fields[0] == "ct.tumour.morphology.volume" })
        let (v, lo, hi) = (Double(volume.fields[1])!, Double(volume.fields[2])!, Double(volume.fields[3])!)
        XCTAssertTrue(lo < v && v < hi && v > 0.9, "\(volume.fields)")
        let long = try CSVTable.parse(String(contentsOf: values, encoding: .utf8), file: "values.csv")
        XCTAssertEqual(long.header, ["patient_id", "lesion_id", "perturbation", "feature", "value"])
        let volumeRows = long.rows.filter { $0.fields[3] == "ct.tumour.morphology.volume" }
        XCTAssertEqual(volumeRows.count, summary.lesionCount * perturbations.count)
        XCTAssertEqual(Set(volumeRows.map { $0.fields[2] }), Set(perturbations.map(\.description)))
        // The ICC written is the one of the values written.
        var byLesion: [String: [String: Double]] = [:]
        for r in volumeRows { byLesion[r.fields[0] + "/" + r.fields[1], default: [:]][r.fields[2]] = Double(r.fields[4])! }
        let recomputed = IntraclassCorrelation(values: byLesion.keys.sorted().map { k in perturbations.map { byLesion[k]![$0.description]! } })
        XCTAssertEqual(recomputed.icc, v, accuracy: 1e-12)
    }

    /// Under `original`, robustness computes exactly what `extract` stores (tumour and ring), so its neighbourhood
    /// boxes lose nothing that extraction sees.
    func testOriginalEqualsExtraction() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let folder = try smallCohort(dir, patients: 1)
        let cohort = try CohortManifest.load(folder)
        let store = dir.appendingPathComponent("s.h5")
        _ = try CohortExtraction.run(cohort: cohort, store: store, settings: testSettings)
        let contents = try StoreContents.read(from: store)
        let patient = try PatientLoader().load(cohort.patients[0], relativeTo: cohort.folder)
        let measured = CohortRobustness.measure(patient, settings: .everyModality(testSettings), perturbations: [.original], seed: 1)
        XCTAssertEqual(measured.failures, [])
        XCTAssertEqual(measured.lesions.count, patient.lesions.count)
        var compared = 0
        for (i, lesion) in measured.lesions.enumerated() {
            let row = try XCTUnwrap(lesion.rows[0])
            for region in ["tumour", "ring"] {
                let m = try XCTUnwrap(contents.features["ct." + region])
                for (j, name) in m.names.enumerated() {
                    let stored = m[i, j], got = row["ct." + region + "." + name] ?? .nan
                    if stored.isNaN { XCTAssertTrue(got.isNaN, "\(region).\(name)"); continue }
                    XCTAssertEqual(got, stored, accuracy: 1e-9 * max(1, abs(stored)), "\(lesion.lesionID) \(region).\(name)")
                    compared += 1
                }
            }
        }
        XCTAssertGreaterThan(compared, 300)
    }

    /// A PET/CT cohort (PETCTExtractionTests: CT NIfTI + PET NIfTI, two lesions with both images, one CT-only),
    /// every region (tumour, ring, core, tumour_ring): under `original`, robustness measures exactly what `extract`
    /// stores, for every modality and region, the PET values on the carried mask.
    func testEveryRegionOfEveryModalityUnderOriginalEqualsExtraction() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        try PETCTExtractionTests.writeCohort(dir)
        let regions: [ExtractionSettings.Region] = [.tumour, .ring, .core, .tumourRing]
        let all = ExtractionSettings.Region.allCases.map(\.rawValue)
        guard case .perModality(var byModality) = PETCTExtractionTests.settings else { return XCTFail("per-modality settings") }
        for m in byModality.keys { byModality[m]!.regions = regions }
        let settings = ModalitySettings.perModality(byModality)
        let cohort = try CohortManifest.load(dir)
        let store = dir.appendingPathComponent("s.h5")
        XCTAssertTrue(try CohortExtraction.run(cohort: cohort, store: store, settings: settings).succeeded)
        let contents = try StoreContents.read(from: store)
        var measured: [CohortRobustness.LesionMeasurements] = []
        for entry in cohort.patients {
            let patient = try PatientLoader().load(entry, relativeTo: cohort.folder)
            let m = CohortRobustness.measure(patient, settings: settings, perturbations: [.original], seed: 1)
            XCTAssertEqual(m.failures, [])
            measured += m.lesions
        }
        XCTAssertEqual(measured.map(\.lesionID), try contents.lesions.texts("lesion_id"))
        var compared: [String: Int] = [:]
        for modality in ["ct", "pt"] {
            for region in all {
                let key = modality + "." + region
                let m = try XCTUnwrap(contents.features[key], key)
                for (i, lesion) in measured.enumerated() {
                    let row = try XCTUnwrap(lesion.rows[0])
                    for (j, name) in m.names.enumerated() {
                        let stored = m[i, j], got = row[key + "." + name] ?? .nan
                        if stored.isNaN { XCTAssertTrue(got.isNaN, "\(lesion.lesionID) \(key).\(name)"); continue }
                        XCTAssertEqual(got, stored, accuracy: 1e-9 * max(1, abs(stored)), "\(lesion.lesionID) \(key).\(name)")
                        compared[key, default: 0] += 1
                    }
                }
            }
        }
        print("values compared per matrix: \(compared.sorted { $0.key < $1.key })")
        for modality in ["ct", "pt"] {
            for region in ["tumour", "ring", "tumour_ring"] {
                XCTAssertGreaterThan(compared["\(modality).\(region)"] ?? 0, 100, "\(modality).\(region)")
            }
        }
        XCTAssertGreaterThan(compared["ct.core"] ?? 0, 100)
        // The CT-only lesion has no PET value: its row holds CT features only.
        let ctOnly = try XCTUnwrap(measured.last?.rows[0])
        XCTAssertFalse(ctOnly.keys.contains { $0.hasPrefix("pt.") })
    }

    /// A corrupt patient fails alone, named; a perturbation a lesion cannot take (an erosion deeper than the
    /// lesion) is reported with patient, lesion, file and perturbation, and that lesion's other values are kept.
    func testFailuresNamePatientLesionAndPerturbation() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let folder = try smallCohort(dir, patients: 3)
        let victim = folder.appendingPathComponent(SyntheticCohort.imagePath("SYN002"))
        let bytes = try Data(contentsOf: victim)
        try bytes.prefix(bytes.count / 3).write(to: victim)
        let cohort = try CohortManifest.load(folder)
        var settings = testSettings
        settings.ring = nil
        settings.families = [.morphology, .intensity]
        let (summary, features) = try CohortRobustness.run(
            cohort: cohort, settings: .everyModality(settings), perturbations: [.original, .growth(mm: -10), .noise(seed: 1)],
            values: dir.appendingPathComponent("v.csv"), icc: dir.appendingPathComponent("i.csv"))
        XCTAssertFalse(summary.succeeded)
        let failed = Dictionary(summary.failed, uniquingKeysWith: { a, b in a + "\n" + b })
        XCTAssertTrue(failed["SYN002"]?.contains("SYN002_ct.nii.gz") ?? false, summary.text)
        let erosion = try XCTUnwrap(failed["SYN001"])
        XCTAssertTrue(erosion.contains("patient SYN001, lesion L01 (masks/SYN001_lesions.nii.gz label 1), perturbation growth:-10: perturbation growth:-10 leaves no voxel"), erosion)
        // Lesions the erosion emptied are left out of the ICC (incomplete); the others count.
        let emptied = summary.failed.map { $0.message.components(separatedBy: "growth:-10 leaves no voxel").count - 1 }.reduce(0, +)
        XCTAssertGreaterThan(emptied, 0)
        let mean = try XCTUnwrap(features.first { $0.feature == "ct.tumour.intensity.mean" })
        XCTAssertEqual(mean.icc.targets, summary.lesionCount - emptied)
        let long = try String(contentsOf: dir.appendingPathComponent("v.csv"), encoding: .utf8)
        XCTAssertTrue(long.contains("SYN003,L01,noise:1,ct.tumour.intensity.mean,"))
        XCTAssertFalse(long.contains("SYN002,"))
    }
}

/// `train-signature --min-icc B --icc ICC.csv`: only robust features are candidates, and the file says so.
final class RobustSignatureTrainingTests: XCTestCase {
    func testMinICCRestrictsCandidatesAndIsRecorded() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let folder = try smallCohort(dir, patients: 6)
        let cohort = try CohortManifest.load(folder)
        var settings = testSettings
        settings.families = [.morphology, .intensity]
        settings.ring = nil
        let store = dir.appendingPathComponent("s.h5")
        _ = try CohortExtraction.run(cohort: cohort, store: store, settings: settings)
        let contents = try StoreContents.read(from: store)
        let names = CohortScoring.featureTable(contents).names
        // Robust: three features that are not near-duplicates of each other (the elastic net's unpenalised
        // refit is slow on collinear columns in a debug build); everything else below the bound, one undefined.
        let robust: Set<String> = ["ct.tumour.intensity.mean", "ct.tumour.intensity.var", "ct.tumour.morphology.sphericity"]
        XCTAssertTrue(robust.isSubset(of: Set(names)))
        var csv = "feature,icc,icc_low,icc_high\n"
        for (n, name) in names.enumerated() {
            csv += robust.contains(name) ? "\(name),0.95,0.9,0.98\n" : (n == 0 ? "\(name),,,\n" : "\(name),0.5,0.2,0.7\n")
        }
        let iccURL = dir.appendingPathComponent("icc.csv")
        try csv.write(to: iccURL, atomically: true, encoding: .utf8)
        let options = SignatureTrainingOptions(name: "robust", version: "1", estimates: "infiltration", maxFeatures: 3,
                                               validationStatus: "test", provenance: "test.")
        let targets = folder.appendingPathComponent("truth.csv")
        let restriction = try ICCRestriction.load(iccURL, minICC: 0.9)
        let trained = try SignatureTraining.run(store: store, targets: targets, targetColumn: "infiltration",
                                                options: options, restriction: restriction)
        XCTAssertFalse(trained.signature.terms.isEmpty)
        for t in trained.signature.terms { XCTAssertTrue(robust.contains(t.feature), t.feature) }
        let filter = try XCTUnwrap(trained.signature.featureFilter)
        XCTAssertEqual(filter.minICC, 0.9)
        XCTAssertEqual(filter.candidatesKept, robust.count)
        XCTAssertEqual(filter.candidatesBefore, names.count)
        XCTAssertEqual(filter.iccTable, "icc.csv")
        XCTAssertTrue(trained.signature.provenance.contains("restricted to the \(robust.count) of \(names.count) with ICC(1,1) >= 0.9"))
        // The file records it, and reads back.
        let json = String(decoding: try JSONEncoder().encode(trained.signature), as: UTF8.self)
        XCTAssertTrue(json.contains("\"feature_filter\"") && json.contains("\"min_icc\":0.9"), json)
        XCTAssertEqual(try JSONDecoder().decode(Signature.self, from: Data(json.utf8)).featureFilter, filter)
        // Without a restriction nothing is recorded (files of earlier versions read and write as before).
        var plain = trained.signature
        plain.featureFilter = nil
        XCTAssertFalse(String(decoding: try JSONEncoder().encode(plain), as: UTF8.self).contains("feature_filter"))

        // No feature at the bound: one clear error.
        XCTAssertThrowsError(try SignatureTraining.run(store: store, targets: targets, targetColumn: "infiltration", options: options,
                                                       restriction: try ICCRestriction.load(iccURL, minICC: 0.99))) { error in
            XCTAssertTrue("\(error)".contains("no feature of the store has an ICC of at least 0.99"), "\(error)")
        }
    }

    func testMalformedOrMissingICCTablesAreRefused() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        func refused(_ text: String?, _ expected: [String], bound: Double = 0.9) throws {
            let url = dir.appendingPathComponent("t.csv")
            try? FileManager.default.removeItem(at: url)
            if let text { try text.write(to: url, atomically: true, encoding: .utf8) }
            XCTAssertThrowsError(try ICCRestriction.load(url, minICC: bound)) { error in
                let m = ErrorText.plain(error)
                for e in expected { XCTAssertTrue(m.contains(e), "\(e) missing from: \(m)") }
            }
        }
        try refused(nil, ["t.csv"])
        try refused("name,value\na,1\n", ["not an ICC table", "feature and icc"])
        try refused("feature,icc\na,0.9\nb,high\na,0.8\nc,1.5\n", ["row 3: icc 'high' is not a number", "row 4: feature a is listed twice", "row 5: icc '1.5'"])
        try refused("feature,icc\n", ["lists no feature"])
        try refused("feature,icc\na,0.9\n", ["--min-icc 2.0", "between -1 and 1"], bound: 2)
        let ok = dir.appendingPathComponent("ok.csv")
        try "feature,icc,icc_low,icc_high\nx,0.91,0.8,0.95\ny,,,\nz,0.2,0,0.4\n".write(to: ok, atomically: true, encoding: .utf8)
        let r = try ICCRestriction.load(ok, minICC: 0.9)
        XCTAssertTrue(r.allows("x"))
        XCTAssertFalse(r.allows("y"))
        XCTAssertFalse(r.allows("z"))
        XCTAssertFalse(r.allows("not.listed"))
    }
}

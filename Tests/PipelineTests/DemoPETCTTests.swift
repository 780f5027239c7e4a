import XCTest
import Foundation
import Cohort
import Radiomics
import FeatureStore
import Synthesis
import Signatures
import Statistics
import Aggregation
import TestSupport
@testable import Pipeline

/// Issue 13 item 6: the demo chain (`Demo.run`: synth --pet, extract per modality, score, validate, compare, plan,
/// cohort and patient reports) on a small synthetic PET/CT cohort, the way `lesionmap demo` runs the shipped one.
final class DemoPETCTTests: XCTestCase {
    /// A demo cohort definition like cohorts/demo/cohort.json, on the coarse test grid.
    static func writeDefinition(_ folder: URL, patients: Int) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let definition = DemoCohortDefinition(description: "test", seed: 11, patients: patients, pet: true, gridSize: [66, 54, 24])
        try JSONEncoder().encode(definition).write(to: folder.appendingPathComponent("cohort.json"))
    }

    /// The demo's per-modality settings with a quick CT (no resampling, as `testSettings`) and the PET preset as shipped.
    static let settings = ModalitySettings.perModality(["CT": testSettings, "PT": .petDefault])

    /// A signature on a CT feature; `{"mode":"3D"}` matches both modalities' settings, so scoring picks by each
    /// lesion's contour modality (CT for every synthetic lesion).
    static let signature = Signature(
        name: "demo test", version: "1", estimates: "test", direction: "higher = more infiltrated",
        validationStatus: "unit test only", intercept: 0,
        terms: [.init(feature: "tumour.intensity.mean", coefficient: 1, mean: 0, sd: 100)],
        covariates: [], cutoffs: [.init(name: "q25", value: -0.5, source: "test")],
        preprocessing: try! JSONValue.parse(#"{"mode":"3D"}"#), provenance: "test")

    func testDemoChainOnAPETCTCohortStoresAndReportsBothModalities() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let cohortDir = dir.appendingPathComponent("demo")
        try Self.writeDefinition(cohortDir, patients: 5)
        let out = dir.appendingPathComponent("out")
        let comparison = ComparisonOptions(methods: [.aggregator(.mean), .aggregator(.min)], bootstrapResamples: 50,
                                           permutations: 0, milFolds: 2, milRepeats: 1)
        let summary = try Demo.run(cohortDirectory: cohortDir, out: out, signature: (Self.signature, "0", "test"),
                                   settings: Self.settings, comparison: comparison, pdf: .never, quiet: true)
        XCTAssertTrue(summary.extraction.succeeded, "\(summary.extraction.failed)")
        XCTAssertTrue(summary.failures.isEmpty, "\(summary.failures)")

        // The generated cohort is PET/CT: every lesion row names its patient's PET.
        let cohort = try CohortManifest.load(summary.cohortFolder)
        let entries = cohort.patients.flatMap(\.lesions)
        XCTAssertFalse(entries.isEmpty)
        XCTAssertTrue(entries.allSatisfy { $0.furtherImages.map(\.modality) == ["PT"] })

        // Both modalities' features for every lesion, and the PET measures.
        let contents = try StoreContents.read(from: summary.store)
        let n = contents.lesions.rowCount
        XCTAssertEqual(n, entries.count)
        XCTAssertEqual(try contents.lesions.texts("modalities"), [String](repeating: "CT,PT", count: n))
        for region in ["ct.tumour", "ct.ring", "pt.tumour", "pt.ring"] {
            let m = try XCTUnwrap(contents.features[region], region)
            XCTAssertEqual(m.rowCount, n, region)
        }
        let ptMean = try XCTUnwrap(contents.features["pt.tumour"]?.column(named: "intensity.mean"))
        let ctMean = try XCTUnwrap(contents.features["ct.tumour"]?.column(named: "intensity.mean"))
        let suvMean = try contents.lesions.numbers("suv_mean"), suvMax = try contents.lesions.numbers("suv_max")
        for i in 0..<n {
            XCTAssertTrue(ptMean[i].isFinite && ctMean[i].isFinite, "row \(i)")
            XCTAssertTrue(suvMax[i] >= suvMean[i] && suvMean[i] > 0, "row \(i): SUVmax \(suvMax[i]), SUVmean \(suvMean[i])")
        }
        XCTAssertNotEqual(ptMean, ctMean, "PET features are not the CT's")
        // Measured SUVmean follows the synthetic truth (the noiseless mean uptake; blur and the carried mask's partial
        // volume lower small lesions' measured mean, so only the ranking is asserted).
        let truth = try CSVTable.parse(String(contentsOf: summary.cohortFolder.appendingPathComponent("truth.csv"), encoding: .utf8))
        let ti = try XCTUnwrap(truth.header.firstIndex(of: "suv_mean_true"))
        let trueMean = truth.rows.map { Double($0.fields[ti])! }
        XCTAssertEqual(trueMean.count, n)
        let r = try Correlation.spearman(trueMean, suvMean).coefficient
        print("demo PET/CT test: \(n) lesions, Spearman r of measured SUVmean vs true mean uptake \(String(format: "%.3f", r))")
        XCTAssertGreaterThan(r, 0.7)

        // The CT signature scored every lesion (each is contoured on CT).
        let scores = try XCTUnwrap(contents.tables[CohortScoring.scoresPath(Self.signature)]?.table.numbers("score"))
        XCTAssertEqual(scores.count, n)
        XCTAssertTrue(scores.allSatisfy(\.isFinite))

        // The cohort report says PET/CT; each patient report shows CT and PET: the CT views, the PET views and the
        // PET uptake table with the store's values.
        let cohortHTML = try String(contentsOf: summary.report, encoding: .utf8)
        XCTAssertTrue(cohortHTML.contains("synthetic PET/CT"), "title")
        XCTAssertTrue(cohortHTML.contains("<span id=\"imaging\"><b>PET/CT</b> (\(n) lesions with CT and PET features)</span>"))
        let ids = try contents.lesions.texts("patient_id"), lesionIDs = try contents.lesions.texts("lesion_id")
        let diameters = try XCTUnwrap(contents.features["ct.tumour"]?.column(named: "morphology.diam"))
        for patient in cohort.patients {
            let html = try String(contentsOf: out.appendingPathComponent("patients/\(patient.id).html"), encoding: .utf8)
            let rows = ids.indices.filter { ids[$0] == patient.id }
            XCTAssertEqual(html.components(separatedBy: "class=\"lesion-row\"").count - 1, rows.count, patient.id)
            XCTAssertEqual(html.components(separatedBy: "class=\"pet-row\"").count - 1, rows.count, patient.id)
            XCTAssertTrue(html.contains("Coronal maximum-intensity projection"), patient.id)
            XCTAssertTrue(html.contains("id=\"pet-map\""), patient.id)
            XCTAssertTrue(html.contains("PET coronal maximum-intensity projection (SUV 0-8, inverted)"), patient.id)
            XCTAssertEqual(html.components(separatedBy: "alt=\"axial PET slice through lesion").count - 1, rows.count, patient.id)
            XCTAssertEqual(html.components(separatedBy: "alt=\"axial CT slice through lesion").count - 1, rows.count, patient.id)
            XCTAssertFalse(html.contains("the patient has 2 images"), "the PET is not a second contour scan")
            for i in rows {
                let petRow = "<tr class=\"pet-row\" data-lesion=\"\(lesionIDs[i])\"><td class=\"id\">\(lesionIDs[i])</td><td class=\"num\">\(String(format: "%.2f", suvMax[i]))</td><td class=\"num\">\(String(format: "%.2f", suvMean[i]))</td>"
                XCTAssertTrue(html.contains(petRow), "\(patient.id) \(lesionIDs[i]): \(petRow)")
                XCTAssertTrue(html.contains("<td class=\"num\">\(String(format: "%.1f", diameters[i]))</td>"), "CT max diameter of \(lesionIDs[i])")
            }
        }
    }
}

import XCTest
import Foundation
import Cohort
import FeatureStore
import Pipeline
import Radiomics
import Signatures
import TestSupport

/// Features of filtered images in a cohort's store: `<region>.<filter>.<family>.<feature>` columns in the
/// export, catalogue rows naming the response map, signatures scoring them.
final class FilteredFeatureStoreTests: XCTestCase {
    func testResponseMapFeaturesAreStoredExportedAndScored() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let folder = try smallCohort(dir, patients: 1)
        var settings = testSettings
        settings.families = [.intensity, .histogram]
        settings.filtering = .init(filters: [.laplacianOfGaussian(sigmaMM: 1.5, truncate: nil, dimensions: nil, boundary: nil),
                                             .square],
                                   families: [.intensity, .glcm], discretisation: .fixedBinNumber(count: 16))
        let store = dir.appendingPathComponent("s.h5")
        let summary = try CohortExtraction.run(cohort: try CohortManifest.load(folder), store: store, settings: settings)
        XCTAssertTrue(summary.succeeded, "\(summary.failed)")
        let contents = try StoreContents.read(from: store)
        let tumour = try XCTUnwrap(contents.features["ct.tumour"]).names
        for name in ["intensity.mean", "histogram.entropy", "log_s1.5.intensity.mean", "log_s1.5.glcm.joint_max_3D_comb",
                     "square.intensity.p10"] {
            XCTAssertTrue(tumour.contains(name), name)
        }
        XCTAssertFalse(tumour.contains { $0.hasPrefix("log_s1.5.histogram.") }, "response maps get their own families")
        XCTAssertTrue(try XCTUnwrap(contents.features["ct.ring"]).names.contains("square.intensity.mean"))
        let catalog = try XCTUnwrap(contents.tables[CohortExtraction.catalogPath]?.table)
        let names = try catalog.texts("name"), notes = try catalog.texts("note"), ids = try catalog.texts("ibsi_id")
        let row = try XCTUnwrap(names.firstIndex(of: "log_s1.5.intensity.mean"))
        XCTAssertEqual(notes[row], "of the response map log_s1.5")
        XCTAssertEqual(ids[row], try XCTUnwrap(FeatureCatalog.entry(storeName: "intensity.mean")).ibsiID)

        let csv = dir.appendingPathComponent("e.csv")
        _ = try StoreExport.csv(store: store, to: csv)
        let header = try CSVTable.parse(String(contentsOf: csv, encoding: .utf8)).header
        XCTAssertTrue(header.contains("ct.tumour.log_s1.5.intensity.mean"))
        XCTAssertTrue(header.contains("ct.ring.square.intensity.mean"))

        let column = try XCTUnwrap(contents.features["ct.tumour"]?.column(named: "log_s1.5.intensity.mean"))
        let signature = Signature(
            name: "filtered", version: "1", estimates: "test", direction: "higher = more infiltrated",
            validationStatus: "unit test only", intercept: 0,
            terms: [.init(feature: "tumour.log_s1.5.intensity.mean", coefficient: 1, mean: 0, sd: 10)],
            covariates: [], cutoffs: [.init(name: "q25", value: 0, source: "test")],
            preprocessing: try JSONValue.parse(#"{"mode":"3D"}"#), provenance: "test")
        XCTAssertEqual(signature.validate(), [])
        let scores = try CohortScoring.run(store: store, signature: signature, fileHash: "0", source: "test")
        for (s, x) in zip(scores, column) { XCTAssertEqual(s, x / 10, accuracy: 1e-12) }
    }
}

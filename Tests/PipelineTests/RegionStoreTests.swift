import XCTest
import Foundation
import Cohort
import Radiomics
import FeatureStore
import TestSupport
@testable import Pipeline

/// The regions `core` and `tumour_ring` in the store (`<modality>.core`, `<modality>.tumour_ring`) and the CSV export.
final class RegionStoreTests: XCTestCase {
    func testCoreAndTumourRingFlowIntoTheStoreAndTheCSV() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let cohort = try CohortManifest.load(try smallCohort(dir, patients: 2))
        var settings = testSettings
        settings.families = [.morphology, .intensity]
        settings.regions = [.tumour, .ring, .core, .tumourRing]
        // The test grid has 4 x 4 x 8 mm voxels: a 4 mm margin erodes one voxel in-plane and none across slices.
        settings.coreMarginMM = 4
        let store = dir.appendingPathComponent("regions.h5")
        let summary = try CohortExtraction.run(cohort: cohort, store: store, settings: settings)
        XCTAssertTrue(summary.succeeded, summary.text)
        let contents = try StoreContents.read(from: store)
        XCTAssertEqual(Set(contents.features.keys), ["ct.tumour", "ct.ring", "ct.core", "ct.tumour_ring"])
        let volume = "morphology.vol_approx"
        let tumour = try XCTUnwrap(contents.features["ct.tumour"]?.column(named: volume))
        let ring = try XCTUnwrap(contents.features["ct.ring"]?.column(named: volume))
        let core = try XCTUnwrap(contents.features["ct.core"]?.column(named: volume))
        let both = try XCTUnwrap(contents.features["ct.tumour_ring"]?.column(named: volume))
        let ids = try contents.lesions.texts("lesion_id"), patients = try contents.lesions.texts("patient_id")
        var emptyCores = 0
        for n in tumour.indices {
            XCTAssertEqual(both[n], tumour[n] + (ring[n].isNaN ? 0 : ring[n]), accuracy: 1e-6)
            if core[n].isNaN {
                emptyCores += 1
                XCTAssertTrue(summary.warnings.contains {
                    $0.contains("patient \(patients[n]), lesion \(ids[n])") && $0.contains("intratumoral core is empty")
                        && $0.contains("4 mm")
                }, "lesion \(patients[n]) \(ids[n]): \(summary.warnings)")
            } else {
                XCTAssertLessThan(core[n], tumour[n])
            }
        }
        XCTAssertLessThan(emptyCores, tumour.count, "some lesions keep a core")
        let csv = dir.appendingPathComponent("features.csv")
        _ = try StoreExport.csv(store: store, to: csv)
        let header = try String(contentsOf: csv, encoding: .utf8).prefix { $0 != "\n" }.components(separatedBy: ",")
        for column in ["ct.tumour.intensity.mean", "ct.ring.intensity.mean", "ct.core.intensity.mean",
                       "ct.tumour_ring.intensity.mean"] {
            XCTAssertTrue(header.contains(column), column)
        }
    }
}

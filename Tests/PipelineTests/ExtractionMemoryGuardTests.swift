import XCTest
import Foundation
import Cohort
import Radiomics
import FeatureStore
import TestSupport
@testable import Pipeline

/// Issue 12, item 2: settings that would need more memory than there is (bin count 10^9 or 10^5,
/// spacing 0.01 mm) used to end in a Swift fatal allocation error that killed the whole cohort. Each
/// lesion's memory is now estimated before any work: the patient fails alone, recorded in the store
/// with a message naming patient, lesion, file, the estimate and the setting responsible; the run
/// goes on and finishes.
final class ExtractionMemoryGuardTests: XCTestCase {
    /// Settings made in code skip the bounds (which the command line, settings files and presets
    /// apply), so only the memory estimate stands between them and the allocator.
    private func runRefused(_ change: (inout ExtractionSettings) -> Void, expecting setting: String) throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let folder = try smallCohort(dir, patients: 3)
        let cohort = try CohortManifest.load(folder)
        var settings = testSettings
        change(&settings)
        let store = dir.appendingPathComponent("s.h5")
        // The default (automatic) budget, as a library caller gets it; the call compiles on the code
        // before the fix, where it died of a fatal allocation error.
        let summary = try CohortExtraction.run(cohort: cohort, store: store, settings: settings)
        XCTAssertEqual(summary.failed.map(\.patientID), ["SYN001", "SYN002", "SYN003"])
        for (patient, message) in summary.failed {
            for part in ["patient \(patient), lesion L01", "masks/\(patient)_lesions.nii.gz", "extraction would need about",
                         "more than the budget of", "already in use", setting] {
                XCTAssertTrue(message.contains(part), "'\(part)' missing from: \(message)")
            }
        }
        XCTAssertTrue(summary.text.contains("3 failed"), summary.text)
        // The store was written and records every failure at the extract stage.
        let contents = try StoreContents.read(from: store)
        XCTAssertEqual(try contents.failureList().map(\.patientID), ["SYN001", "SYN002", "SYN003"])
        XCTAssertEqual(contents.lesions.rowCount, 0)
    }

    func testBinCountOfTenToTheNineFailsEachPatientAloneWithoutCrashing() throws {
        try runRefused({ $0.discretisation = .fixedBinNumber(count: 1_000_000_000) },
                       expecting: "texture matrices of 1000000000 grey levels, set by bin count 1000000000 (--bin-count")
    }

    func testBinCountOfTenToTheFiveFailsEachPatientAloneWithoutCrashing() throws {
        try runRefused({ $0.discretisation = .fixedBinNumber(count: 100_000) },
                       expecting: "set by bin count 100000 (--bin-count")
    }

    func testSpacingOfOneHundredthMillimetreFailsEachPatientAloneWithoutCrashing() throws {
        try runRefused({ $0.resampling = .isotropic(0.01) }, expecting: "resampling spacing 0.01 mm (--spacing")
    }

    /// With a budget between the patients' needs, the patient whose lesion needs more fails alone and
    /// the others are extracted.
    func testOnlyThePatientOverTheBudgetFailsAndTheOthersAreExtracted() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let folder = try smallCohort(dir, patients: 3)
        let cohort = try CohortManifest.load(folder)
        // Each patient's largest lesion estimate, as the extraction will compute it.
        var largest: [String: Double] = [:]
        for entry in cohort.patients {
            let patient = try PatientLoader().load(entry, relativeTo: cohort.folder)
            for lesion in patient.lesions {
                let box = try XCTUnwrap(lesion.mask.boundingBox)
                let e = try ExtractionMemory.estimate(image: patient.scans[lesion.scanIndex].image, lesionBox: box,
                                                      settings: testSettings)
                largest[entry.id] = max(largest[entry.id] ?? 0, e.bytes)
            }
        }
        let needs = largest.values.sorted()
        let top = needs.last!, below = needs.last { $0 < top }!
        let budget = (top + below) / 2
        let over = largest.filter { $0.value > budget }.map(\.key).sorted()
        let store = dir.appendingPathComponent("s.h5")
        let summary = try CohortExtraction.run(cohort: cohort, store: store, settings: testSettings,
                                               memoryLimit: .bytes(budget))
        XCTAssertEqual(summary.failed.map(\.patientID), over)
        XCTAssertEqual(summary.extracted, cohort.patients.map(\.id).filter { !over.contains($0) })
        XCTAssertFalse(summary.extracted.isEmpty)
        XCTAssertTrue(summary.failed[0].message.contains("more than the budget"), summary.failed[0].message)
        let contents = try StoreContents.read(from: store)
        XCTAssertEqual(try contents.failureList().map(\.patientID), over)
        XCTAssertEqual(contents.lesions.rowCount,
                       cohort.patients.filter { !over.contains($0.id) }.reduce(0) { $0 + $1.lesions.count })
    }

    /// `lesionmap features` refuses clearly too.
    func testSingleImageFeaturesRefuseWhatDoesNotFit() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let folder = try smallCohort(dir, patients: 1)
        var settings = testSettings
        settings.discretisation = .fixedBinNumber(count: 100_000)
        XCTAssertThrowsError(try SingleImageExtraction.run(
            image: folder.appendingPathComponent("images/SYN001_ct.nii.gz"),
            mask: folder.appendingPathComponent("masks/SYN001_lesions.nii.gz"), label: "1", settings: settings,
            memoryLimit: .bytes(1_073_741_824))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("label 1 of SYN001_lesions.nii.gz") && text.contains("bin count 100000")
                          && text.contains("more than the budget of 1.0 GB"), text)
        }
    }
}

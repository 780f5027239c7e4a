import XCTest
import Foundation
import ImagingCore
import ImageIO
import Cohort
import Radiomics
import FeatureStore
import Synthesis
import Signatures
import TestSupport
@testable import Pipeline

/// Small, fast settings for debug-build tests: no resampling, a 6 mm ring, every family.
let testSettings: ExtractionSettings = {
    var s = ExtractionSettings.clinicalDefault
    s.resampling = nil
    s.ring?.widthMM = 6
    return s
}()

/// A small synthetic cohort (coarse grid, so debug builds stay quick).
func smallCohort(_ dir: URL, patients: Int, seed: UInt64 = 3) throws -> URL {
    let folder = dir.appendingPathComponent("cohort")
    _ = try SyntheticCohort.generate(SynthesisOptions(patients: patients, seed: seed, gridSize: [66, 54, 24]), into: folder)
    return folder
}

final class PipelineTests: XCTestCase {
    func testChainOnRealFilesAndOneCorruptPatientFailsAlone() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let folder = try smallCohort(dir, patients: 3)
        // Corrupt the second patient's image: a truncated gzip stream.
        let victim = folder.appendingPathComponent(SyntheticCohort.imagePath("SYN002"))
        let bytes = try Data(contentsOf: victim)
        try bytes.prefix(bytes.count / 3).write(to: victim)

        let cohort = try CohortManifest.load(folder)
        let store = dir.appendingPathComponent("s.h5")
        let summary = try CohortExtraction.run(cohort: cohort, store: store, settings: testSettings)
        XCTAssertEqual(summary.extracted, ["SYN001", "SYN003"])
        XCTAssertEqual(summary.failed.map(\.patientID), ["SYN002"])
        let message = summary.failed[0].message
        XCTAssertTrue(message.contains("patient SYN002") && message.contains("SYN002_ct.nii.gz"), message)
        XCTAssertFalse(summary.succeeded)

        let contents = try StoreContents.read(from: store)
        let manifestLesions = cohort.patients.filter { $0.id != "SYN002" }.flatMap(\.lesions)
        XCTAssertEqual(contents.lesions.rowCount, manifestLesions.count)
        XCTAssertEqual(try contents.lesions.texts("lesion_id"), manifestLesions.map { $0.lesionID! })
        XCTAssertEqual(try contents.failureList().map(\.patientID), ["SYN002"])
        let tumour = try XCTUnwrap(contents.features["ct.tumour"])
        XCTAssertEqual(tumour.rowCount, manifestLesions.count)
        XCTAssertTrue(tumour.names.contains("intensity.mean"))
        XCTAssertTrue(tumour.names.contains("glcm.joint_max_3D_comb"))
        XCTAssertNotNil(contents.features["ct.ring"])
        let catalog = try XCTUnwrap(contents.tables[CohortExtraction.catalogPath]?.table)
        XCTAssertEqual(catalog.rowCount, tumour.columnCount + (contents.features["ct.ring"]?.columnCount ?? 0))
        XCTAssertFalse(try catalog.texts("ibsi_id").contains(""), "every stored feature has its IBSI identifier")
        // Volumes in the store agree with the label maps' voxel counts.
        let truth = try CSVTable.parse(String(contentsOf: folder.appendingPathComponent("truth.csv"), encoding: .utf8))
        let vi = truth.header.firstIndex(of: "volume_ml")!
        let expectedVolumes = truth.rows.filter { $0.fields[0] != "SYN002" }.map { Double($0.fields[vi])! }
        for (a, b) in zip(try contents.lesions.numbers("volume_ml"), expectedVolumes) {
            XCTAssertEqual(a, b, accuracy: 1e-3)
        }

        // Downstream stages on the same store: score, aggregate, plan, report, export.
        let ringMean = try XCTUnwrap(contents.features["ct.ring"]?.column(named: "intensity.mean"))
        let signature = Signature(
            name: "unit test/sig", version: "1", estimates: "test", direction: "higher = more infiltrated",
            validationStatus: "unit test only", intercept: 0,
            terms: [.init(feature: "ring.intensity.mean", coefficient: 1, mean: 0, sd: 100)],
            covariates: [.init(name: "location", levels: ["lung": 0.5])],
            cutoffs: [.init(name: "q25", value: 0, source: "test")],
            preprocessing: try JSONValue.parse(#"{"mode":"3D"}"#), provenance: "test")
        let scores = try CohortScoring.run(store: store, signature: signature, fileHash: "0", source: "test")
        let locations = try contents.lesions.texts("location")
        for i in scores.indices {
            XCTAssertEqual(scores[i], ringMean[i] / 100 + (locations[i] == "lung" ? 0.5 : 0), accuracy: 1e-9)
        }
        let agg = try CohortAggregation.run(store: store, signatureName: signature.name)
        XCTAssertEqual(agg.patients, ["SYN001", "SYN003"])
        let firstRows = try contents.lesions.texts("patient_id").indices.filter { try! contents.lesions.texts("patient_id")[$0] == "SYN001" }
        XCTAssertEqual(agg.values[.min]![0], firstRows.map { scores[$0] }.min()!, accuracy: 1e-12)
        let plans = try CohortPlanning.run(store: store, signatureName: signature.name, policy: .standard)
        XCTAssertEqual(plans.planned.count, scores.count)
        let report = dir.appendingPathComponent("r/report.html")
        try CohortReporting.write(store: store, signature: signature, title: "t", to: report)
        let html = try String(contentsOf: report, encoding: .utf8)
        XCTAssertEqual(html.components(separatedBy: "class=\"lesion-row\"").count - 1, scores.count)
        XCTAssertTrue(html.contains("SYN002"), "the failed patient is listed in the report")
        let csv = dir.appendingPathComponent("e.csv")
        let shape = try StoreExport.csv(store: store, to: csv)
        XCTAssertEqual(shape.rows, scores.count)
        let exported = try CSVTable.parse(String(contentsOf: csv, encoding: .utf8))
        XCTAssertTrue(exported.header.contains("score.unit_test_sig"))
        XCTAssertTrue(exported.header.contains("plan.unit_test_sig.category"))
        XCTAssertTrue(exported.header.contains("ct.tumour.intensity.mean"))
        XCTAssertTrue(exported.header.contains("kvp"))

    }

    /// The pipelined extraction (three threads, patients finishing out of order) writes the store a one-thread
    /// run writes, and a corrupt patient fails alone with the same message.
    func testPipelinedExtractionEqualsOneThread() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let folder = try smallCohort(dir, patients: 5, seed: 7)
        let victim = folder.appendingPathComponent(SyntheticCohort.imagePath("SYN003"))
        let bytes = try Data(contentsOf: victim)
        try bytes.prefix(bytes.count / 2).write(to: victim)
        let cohort = try CohortManifest.load(folder)
        let one = dir.appendingPathComponent("one.h5"), three = dir.appendingPathComponent("three.h5")
        let s1 = try CohortExtraction.run(cohort: cohort, store: one, settings: testSettings, jobs: 1)
        let s3 = try CohortExtraction.run(cohort: cohort, store: three, settings: testSettings, jobs: 3)
        XCTAssertEqual(s3.extracted, ["SYN001", "SYN002", "SYN004", "SYN005"])
        XCTAssertEqual(s3.extracted, s1.extracted)
        XCTAssertEqual(s3.lesionCount, s1.lesionCount)
        XCTAssertEqual(s3.failed.map(\.patientID), ["SYN003"])
        XCTAssertEqual(s3.failed.map(\.message), s1.failed.map(\.message))
        XCTAssertEqual(s3.warnings, s1.warnings)
        let a = try StoreContents.read(from: one)
        var b = try StoreContents.read(from: three)
        b.attributes.createdUTC = a.attributes.createdUTC
        XCTAssertEqual(a, b, "the store does not depend on --jobs")
    }

    func testKilledExtractionResumesToTheSameStore() throws {
        try killAndResume(referenceJobs: nil, killedJobs: nil)
    }

    /// The pipelined extraction killed with two patients in flight (`--jobs 2`: two threads, each holding a
    /// patient being loaded or extracted) and resumed gives the store of an uninterrupted one-thread run.
    func testKilledPipelinedExtractionResumesToTheSameStore() throws {
        try killAndResume(referenceJobs: 1, killedJobs: 2)
    }

    private func killAndResume(referenceJobs: Int?, killedJobs: Int?) throws {
        let exe = try lesionmapExecutable()
        let dir = try SharedData.temporaryDirectory(for: self)
        let folder = try smallCohort(dir, patients: 6, seed: 11)
        let settingsFile = dir.appendingPathComponent("settings.json")
        try Data(try CohortExtraction.settingsJSON(testSettings).utf8).write(to: settingsFile)

        func extract(_ store: URL, jobs: Int? = killedJobs) -> Process {
            let p = Process()
            p.executableURL = exe
            p.arguments = ["extract", folder.path, "--store", store.path, "--settings", settingsFile.path, "--quiet"]
                + (jobs.map { ["--jobs", "\($0)"] } ?? [])
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            return p
        }
        let reference = dir.appendingPathComponent("reference.h5")
        let full = extract(reference, jobs: referenceJobs)
        try full.run(); full.waitUntilExit()
        XCTAssertEqual(full.terminationStatus, 0)

        // Kill the second run as soon as two patients are durable.
        let killed = dir.appendingPathComponent("killed.h5")
        let parts = ExtractionStoreWriter.partsDirectory(for: killed)
        let run1 = extract(killed)
        try run1.run()
        let deadline = Date().addingTimeInterval(600)
        while Date() < deadline, run1.isRunning {
            let n = (try? FileManager.default.contentsOfDirectory(atPath: parts.path))?.filter { $0.hasPrefix("p-") && $0.hasSuffix(".part") }.count ?? 0
            if n >= 2 { break }
            usleep(20_000)
        }
        XCTAssertTrue(run1.isRunning, "extraction finished before it could be killed")
        kill(run1.processIdentifier, SIGKILL)
        run1.waitUntilExit()
        XCTAssertEqual(run1.terminationReason, .uncaughtSignal)
        // What was already written is readable.
        let partial = try StoreContents.read(from: killed)
        XCTAssertLessThan(partial.patients.rowCount, 6)

        let run2 = extract(killed)
        try run2.run(); run2.waitUntilExit()
        XCTAssertEqual(run2.terminationStatus, 0)
        var a = try StoreContents.read(from: reference), b = try StoreContents.read(from: killed)
        b.attributes.createdUTC = a.attributes.createdUTC
        a.attributes.createdUTC = b.attributes.createdUTC
        XCTAssertEqual(a, b, "a killed and resumed extraction must equal an uninterrupted one")
        XCTAssertFalse(FileManager.default.fileExists(atPath: parts.path))
    }

}

extension XCTestCase {
    /// The `lesionmap` binary built beside the test bundle (or `LESIONMAP_BIN`); the command-line tests of this
    /// target run it as a user would.
    func lesionmapExecutable() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["LESIONMAP_BIN"] { return URL(fileURLWithPath: path) }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("lesionmap")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        let message = "lesionmap executable not built next to the tests (run `swift build --build-tests` first)"
        if SharedData.isCI { XCTFail(message) }
        throw XCTSkip(message)
    }
}

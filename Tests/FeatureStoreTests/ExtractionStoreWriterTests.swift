import FeatureStore
import Foundation
import HDF5Support
import TestSupport
import XCTest

final class ExtractionStoreWriterTests: XCTestCase {
    private let manifest = StoreFixtures.manifest

    /// Collects warnings from a writer.
    private final class Warnings: @unchecked Sendable {
        private let lock = NSLock()
        private var messages: [String] = []
        func add(_ message: String) { lock.lock(); messages.append(message); lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return messages }
    }

    private func writer(_ url: URL, interval: TimeInterval = 2, force: Bool = false,
                        settings: String = StoreFixtures.settingsJSON, warnings: Warnings = Warnings()) throws
        -> ExtractionStoreWriter {
        try ExtractionStoreWriter(storeURL: url, settingsJSON: settings, patientOrder: manifest, force: force,
                                  consolidationInterval: interval, warn: warnings.add)
    }

    /// Commits `ids` in the given (completion) order; the failing patient records a failure.
    private func run(_ ids: [String], on writer: ExtractionStoreWriter) throws {
        for id in ids {
            if id == StoreFixtures.failingPatient {
                try writer.recordFailure(patientID: id, stage: "radiomics", message: "mask of lesion 1 is empty")
            } else {
                try writer.commit(StoreFixtures.result(id))
            }
        }
    }

    private func uninterruptedStore(in dir: URL) throws -> URL {
        let url = dir.appendingPathComponent("cohort.h5")
        let writer = try writer(url)
        try run(["P03", "P01", "P02", "P05", "P09", "P04", "P08", "P06", "P07"], on: writer)
        try writer.finish()
        return url
    }

    func testUninterruptedRunOrdersRowsByManifest() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let url = try uninterruptedStore(in: dir)
        let contents = try StoreContents.read(from: url)
        XCTAssertEqual(try contents.patients.texts("patient_id"), manifest.filter { $0 != "P05" })
        XCTAssertEqual(contents.patients.columnNames, ["patient_id", "age", "sex", "stage"])
        XCTAssertEqual(try contents.patients.texts("stage"), ["", "", "", "", "", "IV", "IV", "IV"])
        XCTAssertEqual(try contents.lesions.texts("lesion_id"),
                       ["P01-L1", "P02-L1", "P02-L2", "P04-L1", "P07-L1", "P08-L1", "P08-L2"])
        XCTAssertEqual(contents.lesions.columnNames,
                       ["patient_id", "lesion_id", "timepoint", "location", "volume_ml", "irradiated", "kvp"])
        XCTAssertEqual(contents.lesions["kvp"], .number([120, .nan, .nan, .nan, 120, .nan, .nan]))
        XCTAssertEqual(contents.features["tumour"]?.names, ["firstorder_Mean", "glcm_Contrast", "shape_extra"])
        XCTAssertEqual(contents.features["tumour"]?.row(4), [700, 702, 701])
        // Column equality treats NaN as equal to NaN.
        XCTAssertEqual(contents.features["ring"]?.column(named: "firstorder_Mean").map(Column.number),
                       .number([.nan, -2, -3, -4, .nan, -8, -9]))
        XCTAssertEqual(try contents.failureList(),
                       [.init(patientID: "P05", stage: "radiomics", message: "mask of lesion 1 is empty")])
        XCTAssertEqual(contents.attributes.settingsHash, SHA256.hex(of: StoreFixtures.settingsJSON))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["cohort.h5"])
    }

    func testKilledAndResumedRunEqualsUninterruptedRun() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let reference = try uninterruptedStore(in: dir.appendingPathComponent("reference", isDirectory: true)
            .creatingDirectory())
        let referenceContents = try StoreContents.read(from: reference)
        let referenceDump = try StoreFixtures.dump(reference)

        // Interval 0: the main store is rewritten after every commit; infinity: only on opening.
        for interval in [0, TimeInterval.infinity] {
            let runDir = try dir.appendingPathComponent("run-\(interval)", isDirectory: true).creatingDirectory()
            let url = runDir.appendingPathComponent("cohort.h5")
            do {
                let first = try writer(url, interval: interval)
                try run(["P07", "P02", "P05", "P09", "P01"], on: first)
                // The process dies here: no finish().
            }
            let parts = ExtractionStoreWriter.partsDirectory(for: url)
            // A consolidation and a part write that were cut short, and a part file
            // for P04 holding only the first half of a valid part.
            try Data(repeating: 0x89, count: 3000).write(to: runDir.appendingPathComponent(".cohort.h5.tmp-DEAD"))
            try Data(repeating: 0x48, count: 100).write(to: parts.appendingPathComponent(".p-P04.h5.tmp-BEEF"))
            let valid = try Data(contentsOf: ExtractionStoreWriter.partFileURL(for: "P01", store: url))
            try valid.prefix(valid.count / 2).write(to: ExtractionStoreWriter.partFileURL(for: "P04", store: url))

            let warnings = Warnings()
            let second = try writer(url, interval: interval, warnings: warnings)
            XCTAssertEqual(second.finishedPatientIDs, ["P01", "P02", "P07", "P09"])
            XCTAssertEqual(second.pendingPatientIDs, ["P03", "P04", "P05", "P06", "P08"])
            XCTAssertEqual(second.recordedFailures.map(\.patientID), ["P05"])
            XCTAssertEqual(warnings.all.count, 1)
            XCTAssertTrue(warnings.all.first?.contains("patient 'P04' will be computed again") ?? false,
                          "\(warnings.all)")
            XCTAssertEqual(try StoreContents.read(from: url).attributes.settingsHash, second.settingsHash)
            try run(second.pendingPatientIDs.reversed(), on: second)
            try second.finish()

            var resumed = try StoreContents.read(from: url)
            resumed.attributes.createdUTC = referenceContents.attributes.createdUTC
            XCTAssertEqual(resumed, referenceContents, "interval \(interval)")
            XCTAssertEqual(try StoreFixtures.dump(url), referenceDump, "interval \(interval)")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: runDir.path), ["cohort.h5"])
        }

        if let samplePath = ProcessInfo.processInfo.environment["LESIONMAP_SAMPLE_STORE"] {
            let sample = URL(fileURLWithPath: samplePath)
            try? FileManager.default.removeItem(at: sample)
            try FileManager.default.copyItem(at: reference, to: sample)
        }
    }

    /// Patients committed in batches (`commit(_:)` of several results, as `extract` commits the patients that
    /// finished together) each get their own durable part file at once: a run killed after two batches, then
    /// resumed with batches, writes the store an uninterrupted run writes, byte for byte.
    func testBatchCommitsKilledAndResumedEqualUninterruptedRun() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let reference = try uninterruptedStore(in: dir.appendingPathComponent("reference", isDirectory: true)
            .creatingDirectory())
        let referenceDump = try StoreFixtures.dump(reference)
        let url = try dir.appendingPathComponent("batched", isDirectory: true).creatingDirectory()
            .appendingPathComponent("cohort.h5")
        do {
            let first = try writer(url, interval: .infinity)
            try first.commit([try StoreFixtures.result("P07"), try StoreFixtures.result("P02")])
            try run(["P05"], on: first)
            try first.commit([try StoreFixtures.result("P09"), try StoreFixtures.result("P01"),
                              try StoreFixtures.result("P03")])
            XCTAssertEqual(first.finishedPatientIDs, ["P01", "P02", "P03", "P07", "P09"])
            // The process dies here: no finish(). Each patient of a batch has its own part file.
            for id in ["P01", "P02", "P03", "P05", "P07", "P09"] {
                XCTAssertTrue(FileManager.default.fileExists(
                    atPath: ExtractionStoreWriter.partFileURL(for: id, store: url).path), id)
            }
        }
        let second = try writer(url)
        XCTAssertEqual(second.finishedPatientIDs, ["P01", "P02", "P03", "P07", "P09"])
        XCTAssertEqual(second.pendingPatientIDs, ["P04", "P05", "P06", "P08"])
        try second.commit([try StoreFixtures.result("P08"), try StoreFixtures.result("P04"),
                           try StoreFixtures.result("P06")])
        try run(["P05"], on: second)
        try second.finish()
        XCTAssertEqual(try StoreFixtures.dump(url), referenceDump)
        XCTAssertFalse(FileManager.default.fileExists(atPath: ExtractionStoreWriter.partsDirectory(for: url).path))
    }

    /// A batch holding a result the store cannot take (a column of another kind) is refused whole, before
    /// anything of it is written; its other patients can then be committed on their own.
    func testBatchWithAnUnstorableResultWritesNothing() throws {
        let url = try SharedData.temporaryDirectory(for: self).appendingPathComponent("cohort.h5")
        let first = try writer(url)
        try first.commit(StoreFixtures.result("P01"))
        let conflicting = try PatientExtraction(patientID: "P02", patient: try Table(["age": .text(["old"])]))
        XCTAssertThrowsError(try first.commit([try StoreFixtures.result("P03"), conflicting])) { error in
            XCTAssertTrue("\(error)".contains("'age'"), "\(error)")
        }
        XCTAssertThrowsError(try first.commit([try StoreFixtures.result("P03"), try StoreFixtures.result("P03")]))
        XCTAssertEqual(first.finishedPatientIDs, ["P01"])
        let parts = try FileManager.default.contentsOfDirectory(atPath: ExtractionStoreWriter.partsDirectory(for: url).path)
        XCTAssertEqual(parts.filter { $0.hasPrefix("p-") },
                       [ExtractionStoreWriter.partFileURL(for: "P01", store: url).lastPathComponent])
        XCTAssertEqual(parts.filter { $0.contains(".tmp-") }, [])
        try first.commit([try StoreFixtures.result("P03")])
        XCTAssertEqual(try first.finish().patients.texts("patient_id"), ["P01", "P03"])
    }

    /// A run of an earlier version, killed, left HDF5 part files (`p-….h5`); this version resumes from them
    /// beside its own part files and writes the store an uninterrupted run writes.
    func testHDF5PartFilesOfEarlierVersionsAreResumed() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let reference = try uninterruptedStore(in: dir.appendingPathComponent("reference", isDirectory: true)
            .creatingDirectory())
        let url = try dir.appendingPathComponent("resumed", isDirectory: true).creatingDirectory()
            .appendingPathComponent("cohort.h5")
        do {
            let first = try writer(url, interval: .infinity)
            try run(["P01"], on: first)
        }
        func legacyPart(_ id: String) -> URL {
            ExtractionStoreWriter.partFileURL(for: id, store: url).deletingPathExtension().appendingPathExtension("h5")
        }
        let attributes = StoreAttributes(settingsJSON: StoreFixtures.settingsJSON)
        let p02 = try StoreFixtures.result("P02")
        try StoreContents(attributes: attributes, patients: p02.patient, lesions: p02.lesions, scans: p02.scans,
                          features: p02.features).write(to: legacyPart("P02"))
        try StoreContents(attributes: attributes, failures: StoreContents.failureTable([
            .init(patientID: "P05", stage: "radiomics", message: "mask of lesion 1 is empty")])).write(to: legacyPart("P05"))

        let warnings = Warnings()
        let second = try writer(url, warnings: warnings)
        XCTAssertEqual(warnings.all, [])
        XCTAssertEqual(second.finishedPatientIDs, ["P01", "P02"])
        XCTAssertEqual(second.recordedFailures.map(\.patientID), ["P05"])
        try run(second.pendingPatientIDs, on: second)
        try second.finish()
        XCTAssertEqual(try StoreFixtures.dump(url), try StoreFixtures.dump(reference))
    }

    /// `finish` removes the sidecar folder after the final store is durable, its part files several at a time. A
    /// kill in the middle of that leaves some part files of finished patients: the next run takes them as
    /// finished, computes nothing again, and writes the same store.
    func testRemovalOfTheSidecarCutShortResumesToTheSameStore() throws {
        let dir = try SharedData.temporaryDirectory(for: self)
        let url = dir.appendingPathComponent("cohort.h5")
        let saved = try dir.appendingPathComponent("saved", isDirectory: true).creatingDirectory()
        let writer = try writer(url)
        try run(["P03", "P01", "P02", "P05", "P09", "P04", "P08", "P06", "P07"], on: writer)
        let parts = ExtractionStoreWriter.partsDirectory(for: url)
        for name in ["P02", "P05", "P08"].map({ ExtractionStoreWriter.partFileURL(for: $0, store: url).lastPathComponent }) {
            try FileManager.default.copyItem(at: parts.appendingPathComponent(name), to: saved.appendingPathComponent(name))
        }
        try writer.finish()
        let finished = try StoreFixtures.dump(url)
        XCTAssertFalse(FileManager.default.fileExists(atPath: parts.path))

        // The removal was cut short: three part files (one of them a failure) are left.
        try FileManager.default.moveItem(at: saved, to: parts)
        let warnings = Warnings()
        let second = try self.writer(url, warnings: warnings)
        XCTAssertEqual(warnings.all, [])
        XCTAssertEqual(second.pendingPatientIDs, ["P05"])
        XCTAssertEqual(second.recordedFailures.map(\.patientID), ["P05"])
        try run(["P05"], on: second)
        try second.finish()
        XCTAssertEqual(try StoreFixtures.dump(url), finished)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["cohort.h5"])
    }

    func testCorruptPartIsIgnoredWithWarningAndRecomputed() throws {
        let url = try SharedData.temporaryDirectory(for: self).appendingPathComponent("cohort.h5")
        do {
            let first = try writer(url, interval: .infinity)
            try run(["P01", "P02"], on: first)
        }
        let part = ExtractionStoreWriter.partFileURL(for: "P02", store: url)
        let bytes = try Data(contentsOf: part)
        try bytes.prefix(bytes.count / 2).write(to: part)

        let warnings = Warnings()
        let second = try writer(url, warnings: warnings)
        XCTAssertTrue(second.isFinished("P01"))
        XCTAssertFalse(second.isFinished("P02"))
        XCTAssertEqual(warnings.all.count, 1)
        XCTAssertTrue(warnings.all[0].contains(part.path) && warnings.all[0].contains("'P02'"), warnings.all[0])
        XCTAssertFalse(FileManager.default.fileExists(atPath: part.path))
        try second.commit(StoreFixtures.result("P02"))
        let contents = try second.finish()
        XCTAssertEqual(try contents.patients.texts("patient_id"), ["P01", "P02"])
        XCTAssertEqual(try StoreContents.read(from: url), contents)
    }

    func testDifferentSettingsNeedForce() throws {
        let url = try SharedData.temporaryDirectory(for: self).appendingPathComponent("cohort.h5")
        let first = try writer(url)
        try run(["P01", "P02"], on: first)
        try first.finish()

        let other = #"{"bin_width":10}"#
        XCTAssertThrowsError(try writer(url, settings: other)) { error in
            guard case .settingsMismatch(let store, let stored, let requested)? = error as? FeatureStoreError else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(store, url.path)
            XCTAssertEqual(stored, SHA256.hex(of: StoreFixtures.settingsJSON))
            XCTAssertEqual(requested, SHA256.hex(of: other))
            XCTAssertTrue("\(error)".contains("force"))
        }
        XCTAssertEqual(try StoreContents.read(from: url).patients.rowCount, 2, "the old store is untouched")

        let forced = try writer(url, force: true, settings: other)
        XCTAssertEqual(forced.finishedPatientIDs, [])
        XCTAssertEqual(try StoreContents.read(from: url).attributes.settingsJSON, other)
        try forced.commit(StoreFixtures.result("P03"))
        let contents = try forced.finish()
        XCTAssertEqual(try contents.patients.texts("patient_id"), ["P03"])
    }

    func testFailedPatientIsRetriedAndFailureCleared() throws {
        let url = try SharedData.temporaryDirectory(for: self).appendingPathComponent("cohort.h5")
        let first = try writer(url)
        try run(["P01", "P05"], on: first)
        XCTAssertThrowsError(try first.recordFailure(patientID: "P01", stage: "x", message: "y"))
        try first.finish()
        XCTAssertThrowsError(try first.commit(StoreFixtures.result("P02")))

        let second = try writer(url)
        XCTAssertTrue(second.isFinished("P01"))
        XCTAssertFalse(second.isFinished("P05"))
        XCTAssertEqual(second.recordedFailures.map(\.stage), ["radiomics"])
        try second.commit(StoreFixtures.result("P05"))
        let contents = try second.finish()
        XCTAssertEqual(try contents.patients.texts("patient_id"), ["P01", "P05"])
        XCTAssertEqual(contents.failures.rowCount, 0)
        XCTAssertEqual(contents.failures.columnNames, ["patient_id", "stage", "message"])
    }

    func testRejectsUnknownPatientsSecondWriterAndKindConflicts() throws {
        let url = try SharedData.temporaryDirectory(for: self).appendingPathComponent("cohort.h5")
        let first = try writer(url)
        XCTAssertThrowsError(try writer(url)) { error in
            XCTAssertEqual(error as? FeatureStoreError, .storeInUse(url.path))
        }
        XCTAssertThrowsError(try first.commit(try PatientExtraction(patientID: "X99"))) { error in
            XCTAssertEqual(error as? FeatureStoreError, .unknownPatient("X99", store: url.path))
        }
        try first.commit(StoreFixtures.result("P01"))
        let conflicting = try PatientExtraction(patientID: "P02", patient: try Table(["age": .text(["old"])]))
        XCTAssertThrowsError(try first.commit(conflicting)) { error in
            XCTAssertTrue("\(error)".contains("'age'"), "\(error)")
        }
        XCTAssertFalse(first.isFinished("P02"))
        XCTAssertThrowsError(try PatientExtraction(patientID: "P02", lesions: try Table(["volume_ml": .number([1])])))
        XCTAssertThrowsError(try PatientExtraction(
            patientID: "P02", lesions: try Table(["lesion_id": .text(["a"])]),
            features: ["tumour": try FeatureMatrix(names: ["f"], rows: [[1], [2]])]))
        XCTAssertThrowsError(try PatientExtraction(
            patientID: "P02", lesions: try Table(["patient_id": .text(["P03"]), "lesion_id": .text(["a"])])))
        try first.finish()
    }

    func testLaterTablesSurviveUnchangedRerunButNotNewLesions() throws {
        let url = try SharedData.temporaryDirectory(for: self).appendingPathComponent("cohort.h5")
        let first = try writer(url)
        try run(["P01", "P05"], on: first)
        var contents = try first.finish()
        contents.tables["scores"] = StoreTable(table: try Table(["cd8": .number([0.3])]), attributes: ["id": "cd8"])
        try contents.write(to: url)

        let unchanged = try writer(url)
        try unchanged.recordFailure(patientID: "P05", stage: "radiomics", message: "again")
        XCTAssertEqual(try unchanged.finish().tables.keys.sorted(), ["scores"])

        let warnings = Warnings()
        let changed = try writer(url, warnings: warnings)
        try changed.commit(StoreFixtures.result("P02"))
        XCTAssertEqual(try changed.finish().tables, [:])
        XCTAssertTrue(warnings.all.contains { $0.contains("/scores") }, "\(warnings.all)")
    }
}

private extension URL {
    func creatingDirectory() throws -> URL {
        try FileManager.default.createDirectory(at: self, withIntermediateDirectories: true)
        return self
    }
}

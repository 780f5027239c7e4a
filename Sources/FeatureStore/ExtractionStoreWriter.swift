import Foundation
import HDF5Support
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a cohort's extraction results into a feature store one patient at a
/// time, so that an interrupted run loses nothing it committed and a re-run
/// resumes where it stopped.
///
/// Each `commit(_:)` is durable at once: the patient's result goes atomically
/// into its own part file in the sidecar folder `<store>.parts/`. The main store
/// is then rewritten atomically from all results (throttled to at most one
/// rewrite every `consolidationInterval` seconds, and never more than a fifth
/// of the time), and always at `finish()`, which also removes the sidecar.
///
/// Rows follow the cohort manifest order, not completion order; table columns
/// and feature names are the union over patients in first-seen order (in
/// manifest order), with NaN or "" where a patient lacks one. Hence a run that
/// was killed and resumed writes the same store as an uninterrupted run
/// (apart from `created_utc`).
///
/// On opening, an existing store must carry the same settings hash, and the same
/// lesion matching record (`StoreAttributes.lesionMatching`) when both it and this
/// run record one, unless `force` discards it. Its patients, and those of part files left by a killed
/// run, count as finished; unreadable part files (e.g. from a failing disk)
/// are reported through `warn`, removed, and their patients computed again.
/// Failed patients are recorded in /failures but are not finished, so the
/// next run retries them. One writer per store at a time (an advisory lock in
/// the sidecar folder enforces this). Methods may be called from any thread.
public final class ExtractionStoreWriter: @unchecked Sendable {
    public let storeURL: URL
    /// The sidecar folder of part files, `<store>.parts`.
    public let partsURL: URL
    /// SHA-256 of the settings JSON.
    public let settingsHash: String
    /// The cohort manifest order.
    public let patientOrder: [String]

    private let consolidationInterval: TimeInterval
    private let warn: (String) -> Void
    private let manifestPosition: [String: Int]
    private let lock = NSLock()
    private var attributes: StoreAttributes
    private var results: [String: PatientExtraction] = [:]
    private var failures: [String: StoreContents.Failure] = [:]
    private var columnKinds: [String: [String: String]] = ["patient": [:], "lesion": [:], "scan": [:]]
    /// Further tables of an existing store, kept until a commit changes the lesion rows they refer to.
    private var carriedTables: [String: StoreTable] = [:]
    private var lesionRowsChanged = false
    private var lastConsolidation: TimeInterval = -.infinity
    private var lastConsolidationDuration: TimeInterval = 0
    private var lockDescriptor: Int32 = -1
    private var isFinishedWriting = false

    /// Opens (or creates) the store at `storeURL` for the cohort `patientOrder`.
    ///
    /// - Parameters:
    ///   - settingsJSON: the full extraction settings; their hash must match an existing store's.
    ///   - lesionMatching: how this run names follow-up lesions (JSON, `PatientLoader.matchingRecord`); an existing
    ///     store or part file recording another is refused (`FeatureStoreError.lesionMatchingMismatch`), since
    ///     one store would then hold follow-up rows named two ways. A store that records none (written before it
    ///     was recorded) is taken as it is and gets this run's record.
    ///   - force: discard an existing store and part files (different settings or not) and start afresh.
    ///   - consolidationInterval: least seconds between rewrites of the main store after commits.
    ///   - warn: receives warnings such as an unreadable part file; defaults to standard error.
    public init(storeURL: URL, settingsJSON: String, lesionMatching: String? = nil, patientOrder: [String],
                software: String = StoreAttributes.defaultSoftware, force: Bool = false,
                consolidationInterval: TimeInterval = 2,
                warn: @escaping (String) -> Void = ExtractionStoreWriter.warnOnStandardError) throws {
        self.storeURL = storeURL
        self.partsURL = ExtractionStoreWriter.partsDirectory(for: storeURL)
        self.patientOrder = patientOrder
        self.consolidationInterval = consolidationInterval
        self.warn = warn
        attributes = StoreAttributes(settingsJSON: settingsJSON, software: software, lesionMatching: lesionMatching)
        settingsHash = attributes.settingsHash
        var positions: [String: Int] = [:]
        for (index, id) in patientOrder.enumerated() {
            guard !id.isEmpty else { throw FeatureStoreError.writerState("the cohort manifest has an empty patient id") }
            guard positions[id] == nil else {
                throw FeatureStoreError.writerState("the cohort manifest lists patient '\(id)' twice")
            }
            positions[id] = index
        }
        manifestPosition = positions

        try FileManager.default.createDirectory(at: partsURL, withIntermediateDirectories: true)
        try acquireLock()
        for leftover in HDF5File.leftoverTemporaryFiles(for: storeURL) {
            try? FileManager.default.removeItem(at: leftover)
        }
        // HDF5 is loaded by its first call: loaded here, its loading is not counted in the first rewrite's
        // duration, which spaces the next rewrites (see `consolidateIfDue`).
        HDF5Runtime.load()
        let storeExists = FileManager.default.fileExists(atPath: storeURL.path)
        if storeExists && !force { try loadStore() }
        let mergedParts = try loadParts(discard: force)
        if !storeExists || force || mergedParts { try consolidate() }
    }

    deinit {
        if lockDescriptor >= 0 { close(lockDescriptor) }
    }

    /// The sidecar folder of the store at `store`.
    public static func partsDirectory(for store: URL) -> URL {
        store.deletingLastPathComponent().appendingPathComponent(store.lastPathComponent + ".parts")
    }

    /// The part file of `patientID` in the sidecar folder of `store`: a readable
    /// prefix of the id plus a hash of all of it, `p-<id>-<hash>.part` (`PartFile`).
    public static func partFileURL(for patientID: String, store: URL) -> URL {
        partsDirectory(for: store).appendingPathComponent(partFileStem(for: patientID) + "." + PartFile.fileExtension)
    }

    /// The name of `patientID`'s part file without its extension (also that of an HDF5 part file, `.h5`,
    /// written by versions before `PartFile`).
    private static func partFileStem(for patientID: String) -> String {
        let readable = String(patientID.unicodeScalars.prefix(40).map { scalar -> Character in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "-_.".unicodeScalars.contains(scalar))
                ? Character(scalar) : "_"
        })
        return "p-\(readable)-\(SHA256.hex(of: patientID).prefix(16))"
    }

    /// Prints "warning: …" on standard error.
    public static func warnOnStandardError(_ message: String) {
        FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
    }

    // MARK: Progress

    /// Whether `patientID` has a committed result (failed patients are not finished).
    public func isFinished(_ patientID: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return results[patientID] != nil
    }

    /// Patients with a committed result, in manifest order.
    public var finishedPatientIDs: [String] {
        lock.lock()
        defer { lock.unlock() }
        return patientOrder.filter { results[$0] != nil }
    }

    /// Patients still to compute (never finished, or failed), in manifest order.
    public var pendingPatientIDs: [String] {
        lock.lock()
        defer { lock.unlock() }
        return patientOrder.filter { results[$0] == nil }
    }

    /// Recorded failures of patients not finished since, in manifest order.
    public var recordedFailures: [StoreContents.Failure] {
        lock.lock()
        defer { lock.unlock() }
        return patientOrder.compactMap { failures[$0] }
    }

    // MARK: Writing

    /// Makes one patient's result durable (replacing any earlier result or failure of that patient).
    public func commit(_ result: PatientExtraction) throws {
        try commit([result])
    }

    /// Makes the results of several patients durable at once, each in its own part file as `commit(_:)`
    /// writes it; returns when all are. The part files are written, synced and renamed together and the
    /// sidecar folder synced once (`AtomicFiles`), so the disk's delay is paid about once
    /// per batch instead of once per patient. Every result is checked before anything is written: one that
    /// cannot be stored (a column of another kind than the other patients') fails the whole batch, and
    /// nothing of it is written. When the disk refuses a part file, the patients whose parts were renamed
    /// before it are durable and count as finished on a re-run.
    public func commit(_ batch: [PatientExtraction]) throws {
        guard !batch.isEmpty else { return }
        lock.lock()
        defer { lock.unlock() }
        try requireOpen()
        var kinds = columnKinds
        var ids = Set<String>()
        for result in batch {
            try requireInManifest(result.patientID)
            guard ids.insert(result.patientID).inserted else {
                throw FeatureStoreError.writerState("patient '\(result.patientID)' is twice in one commit")
            }
            try ExtractionStoreWriter.recordKinds(of: result.patient, as: "patient", in: &kinds, patient: result.patientID)
            try ExtractionStoreWriter.recordKinds(of: result.lesions, as: "lesion", in: &kinds, patient: result.patientID)
            try ExtractionStoreWriter.recordKinds(of: result.scans, as: "scan", in: &kinds, patient: result.patientID)
        }
        try writeParts(batch.map { result in
            (StoreContents(attributes: attributes, patients: result.patient, lesions: result.lesions,
                           scans: result.scans, features: result.features), result.patientID)
        })
        columnKinds = kinds
        for result in batch {
            results[result.patientID] = result
            failures[result.patientID] = nil
        }
        lesionRowsChanged = true
        consolidateIfDue()
    }

    /// Records that `patientID` failed at `stage`; the patient stays unfinished.
    public func recordFailure(patientID: String, stage: String, message: String) throws {
        lock.lock()
        defer { lock.unlock() }
        try requireOpen()
        try requireInManifest(patientID)
        guard results[patientID] == nil else {
            throw FeatureStoreError.writerState(
                "patient '\(patientID)' already has a committed result; its failure at \(stage) is not recorded")
        }
        let failure = StoreContents.Failure(patientID: patientID, stage: stage, message: message)
        let part = StoreContents(attributes: attributes, failures: StoreContents.failureTable([failure]))
        try writePart(part, of: patientID)
        failures[patientID] = failure
        consolidateIfDue()
    }

    /// Writes the final store, removes the sidecar folder, and returns what was written.
    ///
    /// `addingTables` gives further tables computed from the final contents (e.g. a catalogue of its feature
    /// names), written with them in the same rewrite instead of reading the store back and writing it again.
    @discardableResult
    public func finish(addingTables extra: (StoreContents) throws -> [String: StoreTable] = { _ in [:] }) throws -> StoreContents {
        lock.lock()
        defer { lock.unlock() }
        try requireOpen()
        let contents = try consolidate(adding: extra)
        isFinishedWriting = true
        try removeSidecar()
        close(lockDescriptor)
        lockDescriptor = -1
        return contents
    }

    // MARK: Internals

    /// What a failed write keeps and how to go on, for `FeatureStoreError.cannotWrite`.
    private var resumeAdvice: String {
        let count = results.count
        return "the \(count) patient\(count == 1 ? "" : "s") finished so far \(count == 1 ? "is" : "are") kept in "
            + "\(storeURL.path) and \(partsURL.path); run the same command again to resume"
    }

    /// Writes the part file of `patientID`; a refused write names the store and the patient.
    private func writePart(_ part: StoreContents, of patientID: String) throws {
        try writeParts([(part, patientID)])
    }

    /// Writes the part files of several patients together (`PartFile`, `AtomicFiles`: written, synced and
    /// renamed at once, the sidecar folder synced once); a refused write names the store and the patient.
    private func writeParts(_ parts: [(part: StoreContents, patientID: String)]) throws {
        let urls = parts.map { ExtractionStoreWriter.partFileURL(for: $0.patientID, store: storeURL) }
        for (part, url) in zip(parts.map(\.part), urls) { try part.validate(file: url.path) }
        do {
            try AtomicFiles.write(urls) { PartFile.encode(parts[$0].part) }
        } catch let error as HDF5Error where error.systemErrorNumber != nil {
            let index = urls.firstIndex { $0.path == error.file } ?? 0
            throw FeatureStoreError.cannotWrite(
                file: "the feature store \(storeURL.path) (part file \(urls[index].lastPathComponent) of patient '\(parts[index].patientID)')",
                reason: error.reason, advice: resumeAdvice)
        }
    }

    /// Removes the sidecar folder once the final store is durable. Its files are unlinked several at a time
    /// (`BlockingIO`): on a file system mounted with `discard` each unlink waits for the disk (about 4 ms
    /// here, 160 ms for 40 part files one after another). Whatever is left (an unlink refused) is removed
    /// by `FileManager`, which reports what it cannot remove. A kill meanwhile leaves part files of finished
    /// patients, which the next run merges into the same store.
    private func removeSidecar() throws {
        let paths = try FileManager.default.contentsOfDirectory(atPath: partsURL.path)
            .map { partsURL.appendingPathComponent($0).path }
        BlockingIO.forEach(paths.count) { n in _ = unlink(paths[n]) }
        try FileManager.default.removeItem(at: partsURL)
    }

    private func requireOpen() throws {
        guard !isFinishedWriting else {
            throw FeatureStoreError.writerState("the extraction writer of \(storeURL.path) has already finished")
        }
    }

    private func requireInManifest(_ patientID: String) throws {
        guard manifestPosition[patientID] != nil else {
            throw FeatureStoreError.unknownPatient(patientID, store: storeURL.path)
        }
    }

    private func acquireLock() throws {
        let path = partsURL.appendingPathComponent(".lock").path
        let descriptor = open(path, O_RDWR | O_CREAT, 0o644)
        guard descriptor >= 0 else {
            throw FeatureStoreError.writerState("cannot create the lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw FeatureStoreError.storeInUse(storeURL.path)
        }
        lockDescriptor = descriptor
    }

    /// Loads the finished patients and failures of the existing store.
    private func loadStore() throws {
        let stored: StoreAttributes
        let hasChecksums: Bool
        do {
            let reader = try StoreReader(url: storeURL)
            stored = reader.attributes
            hasChecksums = reader.hasChecksums
        } catch let error as FeatureStoreError {
            if case .damagedStore = error { throw error }
            throw FeatureStoreError.invalidStore(
                file: storeURL.path,
                reason: "it cannot be resumed (\(error)); choose another store path, or use the force option to replace it")
        } catch {
            throw FeatureStoreError.invalidStore(
                file: storeURL.path,
                reason: "it cannot be resumed (\(error)); choose another store path, or use the force option to replace it")
        }
        guard stored.settingsHash == settingsHash else {
            throw FeatureStoreError.settingsMismatch(store: storeURL.path, storedHash: stored.settingsHash,
                                                     requestedHash: settingsHash)
        }
        try checkLesionMatching(stored.lesionMatching)
        if !hasChecksums {
            warn("\(storeURL.path) has no checksums (it was written before LesionMap checksummed its stores); "
                 + "its data is taken as it is, and the store is rewritten with checksums")
        }
        let contents = try StoreContents.read(from: storeURL)
        // A harmonised store (`lesionmap harmonise`) holds ComBat-adjusted values: newly extracted, unadjusted
        // features may not join them.
        if contents.tables.keys.contains(where: { $0.hasPrefix("harmonisation/") }) {
            throw FeatureStoreError.invalidStore(
                file: storeURL.path,
                reason: "it is a harmonised store (written by lesionmap harmonise), which cannot take newly extracted, unharmonised features; extract into the store it was made from and harmonise again, or extract the new patients into a new store and harmonise it with --apply-model")
        }
        attributes.createdUTC = contents.attributes.createdUTC
        carriedTables = contents.tables
        try absorb(contents, source: storeURL.path)
    }

    /// Merges (or with `discard`, deletes) the part files of an earlier run;
    /// returns whether any part was merged.
    private func loadParts(discard: Bool) throws -> Bool {
        let names = try FileManager.default.contentsOfDirectory(atPath: partsURL.path).sorted()
        var merged = false
        let owners = Dictionary(patientOrder.map { (ExtractionStoreWriter.partFileStem(for: $0), $0) },
                                uniquingKeysWith: { first, _ in first })
        for name in names where name != ".lock" {
            let url = partsURL.appendingPathComponent(name)
            // Part files, and HDF5 part files of a run of an earlier version.
            let isPart = name.hasSuffix("." + PartFile.fileExtension), isHDF5Part = name.hasSuffix(".h5")
            guard !discard, name.hasPrefix("p-"), isPart || isHDF5Part else {
                // Discarded parts, and temporary files of part writes that were cut short.
                try FileManager.default.removeItem(at: url)
                continue
            }
            let part: StoreContents
            do {
                part = isPart ? try PartFile.read(from: url) : try StoreContents.read(from: url)
            } catch {
                let owner = owners[url.deletingPathExtension().lastPathComponent].map { "patient '\($0)'" } ?? "its patient"
                warn("ignoring the unreadable part file \(url.path) (\(ExtractionStoreWriter.partProblem(error))); "
                     + "\(owner) will be computed again")
                try FileManager.default.removeItem(at: url)
                continue
            }
            guard part.attributes.settingsHash == settingsHash else {
                throw FeatureStoreError.settingsMismatch(store: storeURL.path, storedHash: part.attributes.settingsHash,
                                                         requestedHash: settingsHash)
            }
            try checkLesionMatching(part.attributes.lesionMatching)
            try absorb(part, source: url.path)
            merged = true
        }
        return merged
    }

    /// What is wrong with an unreadable part file, without the advice its error gives for a whole store
    /// (extracting again, restoring a backup): the writer itself recomputes the part's patient.
    static func partProblem(_ error: Error) -> String {
        switch error as? FeatureStoreError {
        case .damagedStore(_, let object, let reason)?:
            return object == "/" ? reason : "\(object): \(reason)"
        case .invalidStore(_, let reason)?:
            return reason
        default:
            return "\(error)"
        }
    }

    /// Refuses an existing store or part file that named follow-up lesions otherwise than this run; adopts its
    /// record when this run has none.
    private func checkLesionMatching(_ stored: String?) throws {
        guard let stored else { return }
        guard let requested = attributes.lesionMatching else {
            attributes.lesionMatching = stored
            return
        }
        guard stored == requested else {
            throw FeatureStoreError.lesionMatchingMismatch(store: storeURL.path, stored: stored, requested: requested)
        }
    }

    /// Takes over the results and failures in `contents`, replacing earlier ones of the same patients.
    private func absorb(_ contents: StoreContents, source: String) throws {
        let (found, failed) = try contents.splitByPatient(file: source)
        for result in found {
            try requireInManifest(result.patientID)
            try ExtractionStoreWriter.recordKinds(of: result.patient, as: "patient", in: &columnKinds,
                                                  patient: result.patientID)
            try ExtractionStoreWriter.recordKinds(of: result.lesions, as: "lesion", in: &columnKinds,
                                                  patient: result.patientID)
            try ExtractionStoreWriter.recordKinds(of: result.scans, as: "scan", in: &columnKinds,
                                                  patient: result.patientID)
            results[result.patientID] = result
            failures[result.patientID] = nil
        }
        for failure in failed {
            try requireInManifest(failure.patientID)
            if results[failure.patientID] == nil { failures[failure.patientID] = failure }
        }
    }

    /// Notes the kind of each column, rejecting a column that is text for one patient and numbers for another.
    private static func recordKinds(of table: Table, as what: String, in kinds: inout [String: [String: String]],
                                    patient: String) throws {
        for (name, column) in table.columns {
            if let seen = kinds[what]![name], seen != column.kindName {
                throw FeatureStoreError.invalidResult(
                    patient: patient,
                    reason: "\(what) column '\(name)' holds \(column.kindName) but \(seen) for other patients")
            }
            kinds[what]![name] = column.kindName
        }
    }

    /// Rewrites the main store when enough time has passed. The patient's part
    /// file is already durable, so a failed rewrite is reported and retried later.
    private func consolidateIfDue() {
        let now = ProcessInfo.processInfo.systemUptime
        guard now - lastConsolidation >= max(consolidationInterval, 4 * lastConsolidationDuration) else { return }
        do {
            try consolidate()
        } catch FeatureStoreError.cannotWrite(_, let reason, _) {
            warn("could not update \(storeURL.path) yet: \(reason); the results are kept in \(partsURL.path)")
        } catch {
            warn("could not update \(storeURL.path) yet (\(error)); the results are kept in \(partsURL.path)")
        }
    }

    /// Rewrites the main store from all results, in manifest order.
    @discardableResult
    private func consolidate(adding extra: (StoreContents) throws -> [String: StoreTable] = { _ in [:] }) throws -> StoreContents {
        let start = ProcessInfo.processInfo.systemUptime
        if lesionRowsChanged && !carriedTables.isEmpty {
            warn("removing the tables \(carriedTables.keys.sorted().map { "/" + $0 }.joined(separator: ", ")) of "
                 + "\(storeURL.path): they refer to the earlier lesion rows; compute them again")
            carriedTables = [:]
        }
        var contents = try StoreContents.assembling(
            attributes: attributes, results: patientOrder.compactMap { results[$0] },
            failures: patientOrder.compactMap { failures[$0] }, tables: carriedTables)
        for (path, table) in try extra(contents) { contents.tables[path] = table }
        try contents.write(to: storeURL, advice: resumeAdvice)
        lastConsolidation = ProcessInfo.processInfo.systemUptime
        lastConsolidationDuration = lastConsolidation - start
        return contents
    }
}

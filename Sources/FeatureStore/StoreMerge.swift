import Foundation
import HDF5Support

/// Why extraction stores could not be merged into one: the message names the stores (and the patient) at fault.
public struct StoreMergeError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension StoreContents {
    /// A store of per-patient results and failures, each list in the order given: the layout the
    /// extraction writer produces. Table columns and feature names are the union over patients in
    /// first-seen order, NaN or "" where a patient lacks one.
    public static func assembling(attributes: StoreAttributes, results: [PatientExtraction], failures: [Failure],
                                  tables: [String: StoreTable] = [:]) throws -> StoreContents {
        let regions = Set(results.flatMap { $0.features.keys })
        var features: [String: FeatureMatrix] = [:]
        for region in regions {
            features[region] = FeatureMatrix.concatenating(results.map {
                $0.features[region] ?? FeatureMatrix(rowCount: $0.lesions.rowCount)
            })
        }
        return StoreContents(attributes: attributes,
                             patients: try Table.concatenating(results.map(\.patient)),
                             lesions: try Table.concatenating(results.map(\.lesions)),
                             scans: try Table.concatenating(results.map(\.scans)),
                             features: features, failures: StoreContents.failureTable(failures), tables: tables)
    }
}

/// Merging the extraction stores of a cohort's shards (e.g. one `lesionmap extract` per cluster job) into
/// the store a single extraction of the whole cohort writes.
///
/// Every patient's rows, feature rows and failure are taken over unchanged and laid out as the extraction
/// writer lays out a cohort (`StoreContents.assembling`), in the manifest order when it is given, otherwise
/// in the order of the stores and of the patients within each. Hence the shards of a manifest, merged with
/// its order, give the store one extraction of that manifest gives, bar `created_utc` (the merge time).
///
/// Refused, naming the files: stores of another schema version, stores extracted with different settings
/// (`settings_hash`), a patient present (with a result or a failure) in two stores, a store still being
/// written (its `.parts` sidecar exists), and further tables (scores, aggregates, plans, comparisons): they
/// describe one store's lesion rows, so later steps run on the merged store instead. Tables named in
/// `rebuiltTables` (e.g. the feature catalogue, which the caller writes again) are dropped.
public enum StoreMerge {
    /// The merged contents of `stores`; `patientOrder`, when given, must list exactly the stores' patients.
    public static func merge(_ stores: [URL], patientOrder: [String]? = nil,
                             rebuiltTables: Set<String> = []) throws -> StoreContents {
        guard !stores.isEmpty else { throw StoreMergeError("no store to merge: give the extraction stores of the shards") }
        var seenPaths: [String: Int] = [:]
        for (index, url) in stores.enumerated() {
            if seenPaths[url.standardizedFileURL.path] != nil {
                throw StoreMergeError("\(url.path) is given twice; give each shard's store once")
            }
            seenPaths[url.standardizedFileURL.path] = index
        }

        var first: (url: URL, attributes: StoreAttributes)?
        var owner: [String: URL] = [:]
        var resultsByPatient: [String: PatientExtraction] = [:]
        var failuresByPatient: [String: StoreContents.Failure] = [:]
        var storeOrderResults: [String] = []
        var storeOrderFailures: [String] = []
        for url in stores {
            try requireFinished(url)
            try requireSchema(url, comparedWith: first?.url)
            let contents: StoreContents
            do {
                contents = try StoreContents.read(from: url)
            } catch let error as FeatureStoreError {
                throw StoreMergeError("cannot merge \(url.path): \(error)")
            }
            if let first {
                guard contents.attributes.settingsHash == first.attributes.settingsHash else {
                    throw StoreMergeError(
                        "cannot merge \(first.url.path) and \(url.path): they were extracted with different settings "
                        + "(settings_hash \(first.attributes.settingsHash.prefix(12))… and "
                        + "\(contents.attributes.settingsHash.prefix(12))…); extract every shard with the same "
                        + "--preset/--settings options")
                }
                if let a = first.attributes.lesionMatching, let b = contents.attributes.lesionMatching, a != b {
                    throw StoreMergeError(
                        "cannot merge \(first.url.path) and \(url.path): their follow-up lesions were named with "
                        + "different lesion matching options (\(a) and \(b)); extract every shard with the same "
                        + "--match, --match-gate and --match-max-shift options")
                }
            } else {
                first = (url, contents.attributes)
            }
            if let table = contents.tables.keys.sorted().first(where: { !rebuiltTables.contains($0) }) {
                throw StoreMergeError(
                    "cannot merge \(url.path): it holds the table /\(table), written by a later step (score, plan, "
                    + "compare, harmonise...) for that store's lesions only; merge the stores written by "
                    + "`lesionmap extract`, then run the later steps on the merged store")
            }
            let (results, failures) = try contents.splitByPatient(file: url.path)
            for id in results.map(\.patientID) + failures.map(\.patientID) {
                if let other = owner[id] {
                    throw StoreMergeError(
                        "cannot merge: patient '\(id)' is in both \(other.path) and \(url.path); a patient belongs to "
                        + "one shard only (were two stores made from overlapping manifests, or one store given twice "
                        + "under two names?)")
                }
                owner[id] = url
            }
            for r in results { resultsByPatient[r.patientID] = r; storeOrderResults.append(r.patientID) }
            for f in failures { failuresByPatient[f.patientID] = f; storeOrderFailures.append(f.patientID) }
        }

        var resultOrder = storeOrderResults, failureOrder = storeOrderFailures
        if let patientOrder {
            let listed = Set(patientOrder)
            let strays = (storeOrderResults + storeOrderFailures).filter { !listed.contains($0) }
            if let stray = strays.first {
                throw StoreMergeError(
                    "cannot merge: patient '\(stray)' of \(owner[stray]!.path) is not in the manifest"
                    + (strays.count > 1 ? " (nor are \(strays.count - 1) other patients of the stores)" : "")
                    + "; give the manifest the shards were made from")
            }
            let missing = patientOrder.filter { owner[$0] == nil }
            if !missing.isEmpty {
                let shown = missing.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
                throw StoreMergeError(
                    "cannot merge: \(missing.count) patient\(missing.count == 1 ? "" : "s") of the manifest "
                    + "(\(shown)\(missing.count > 5 ? ", ..." : "")) \(missing.count == 1 ? "is" : "are") "
                    + (stores.count == 1 ? "not in the store given" : "in none of the \(stores.count) stores")
                    + "; give the store of every shard")
            }
            resultOrder = patientOrder.filter { resultsByPatient[$0] != nil }
            failureOrder = patientOrder.filter { failuresByPatient[$0] != nil }
        }
        var attributes = first!.attributes
        attributes.createdUTC = StoreAttributes.nowUTC()
        do {
            return try StoreContents.assembling(attributes: attributes,
                                                results: resultOrder.map { resultsByPatient[$0]! },
                                                failures: failureOrder.map { failuresByPatient[$0]! })
        } catch let error as FeatureStoreError {
            throw StoreMergeError("cannot merge \(stores.map(\.path).joined(separator: ", ")): \(error)")
        }
    }

    /// Refuses a store whose extraction left its sidecar folder of part files (killed, or still running).
    static func requireFinished(_ url: URL) throws {
        let parts = ExtractionStoreWriter.partsDirectory(for: url)
        guard !FileManager.default.fileExists(atPath: parts.path) else {
            throw StoreMergeError(
                "cannot merge \(url.path): its extraction has not finished (\(parts.path) exists: the run was "
                + "stopped, or is still running); run the same `lesionmap extract` command again to finish it")
        }
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw StoreMergeError("cannot merge \(url.path): no such file")
        }
    }

    /// Refuses a store of another schema version than this LesionMap's, naming the first store for comparison.
    static func requireSchema(_ url: URL, comparedWith reference: URL?) throws {
        let version: Int64?
        do {
            let file = try HDF5File.open(at: url)
            defer { file.close() }
            version = try file.attribute("schema_version")?.int64
        } catch {
            throw StoreMergeError("cannot merge \(url.path): it is not a readable feature store (\(error))")
        }
        guard let version else {
            throw StoreMergeError("cannot merge \(url.path): it has no schema_version; it is not a LesionMap feature store")
        }
        guard version == StoreAttributes.currentSchemaVersion else {
            let others = reference.map { " (as \($0.path) has)" } ?? ""
            throw StoreMergeError(
                "cannot merge \(url.path): its schema_version is \(version) but this LesionMap writes and merges "
                + "schema_version \(StoreAttributes.currentSchemaVersion)\(others); extract it again with this "
                + "LesionMap, or merge with the LesionMap that wrote it")
        }
    }
}

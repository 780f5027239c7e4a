import Foundation
import HDF5Support

// The HDF5 feature store of a cohort (schema_version 2), readable with h5py.
//
//     /                         attributes:
//                                 schema_version  int64, 2 (stores of schema 1 are read, see StoreReader)
//                                 software        str, e.g. "LesionMap 0.1.0"
//                                 created_utc     str, ISO 8601, e.g. "2025-01-31T12:00:00Z"
//                                 settings_json   str, the full extraction settings as JSON
//                                 settings_hash   str, SHA-256 of settings_json's UTF-8 bytes, 64 hex digits
//                                 lesion_matching str, optional: how `extract` named follow-up lesions, JSON
//                                                 (`PatientLoader.matchingRecord`: match, gate_mm, ...); absent
//                                                 in stores written before it was recorded
//                                 integrity       str, "sha256-v1": every dataset is checksummed (StoreIntegrity)
//     /patients/                one row per patient, in cohort manifest order
//     /lesions/                 one row per lesion and time point, grouped by patient in manifest order;
//                               `timepoint` (days from the baseline scan, 0 = baseline, negative = before it)
//     /scans/                   one row per image used: patient_id, timepoint, modality, image, ...
//     /features/<modality>.<region>/values
//                               float64 [n_lesion_rows, n_features]; row i is row i of /lesions, NaN where
//                               that lesion row has no image of the modality (e.g. `ct.tumour`, `pt.ring`)
//     /features/<modality>.<region>/names
//                               str [n_features], `[<filter>.]<family>.<feature>`
//     /failures/                patients whose extraction failed: patient_id, stage, message
//     /<path>/                  further tables written by later steps (e.g. /scores,
//                               /aggregates/<signature>, /plans), with str attributes of their own
//
// A table is a group holding one 1-D dataset per column, all of the same length:
// float64 for numbers (NaN = missing) or variable-length UTF-8 strings for text
// ("" = missing). Group attributes: `columns` (str array, the column order) and
// `n_rows` (int64). /patients, /lesions and /scans always have a `patient_id` text
// column; /lesions also has `lesion_id` and `timepoint`; further lesion columns are whatever
// the extraction provides (location, irradiated, lesion_response, volume_ml,
// voxel_count, centroid_x/y/z, kvp, modality, modalities, ...).
//
// A feature's full name, as CSV exports and signatures use it, is
// `<modality>.<region>.[<filter>.]<family>.<feature>` (`FeatureColumnName`).
//
// In h5py, attributes read as str; string datasets read as bytes unless opened
// with `.asstr()`, e.g. `f["features/tumour/names"].asstr()[()]`.
//
// Every dataset has a str attribute `sha256` over its contents, and numeric
// datasets are chunked with HDF5's Fletcher32 filter; readers refuse a store
// whose data no longer matches (see StoreIntegrity).
//
// Stores are always replaced atomically (temporary file, fsync, rename), so a
// store on disk is always complete.

/// The root attributes of a store: schema, provenance and the extraction settings.
public struct StoreAttributes: Equatable, Sendable {
    /// The layout version this module writes and reads.
    public static let currentSchemaVersion: Int64 = 2
    /// Layout versions this module reads (older ones are translated on reading, see `StoreReader`).
    public static let readableSchemaVersions: ClosedRange<Int64> = 1...2
    /// Default `software` text.
    public static let defaultSoftware = "LesionMap 0.1.0"

    public var schemaVersion: Int64
    public var software: String
    /// Creation time, ISO 8601 in UTC.
    public var createdUTC: String
    /// The full extraction settings as JSON, exactly as given.
    public var settingsJSON: String
    /// SHA-256 of `settingsJSON`, 64 lowercase hex digits.
    public var settingsHash: String
    /// How the extraction named follow-up lesions (`extract --match`, `--match-gate`, `--match-max-shift`), as
    /// JSON; nil when not recorded. Kept apart from the settings: it decides which rows are the same lesion, not
    /// how features are computed, so a signature trained on one store applies to a store matched otherwise; but
    /// one store must not mix two namings, so a resume with other options is refused (`ExtractionStoreWriter`).
    public var lesionMatching: String?

    /// Attributes for new settings; the hash is computed and the time defaults to now.
    public init(settingsJSON: String, software: String = StoreAttributes.defaultSoftware,
                createdUTC: String = StoreAttributes.nowUTC(), lesionMatching: String? = nil) {
        self.schemaVersion = StoreAttributes.currentSchemaVersion
        self.software = software
        self.createdUTC = createdUTC
        self.settingsJSON = settingsJSON
        self.settingsHash = SHA256.hex(of: settingsJSON)
        self.lesionMatching = lesionMatching
    }

    /// Attributes exactly as stored.
    public init(schemaVersion: Int64, software: String, createdUTC: String, settingsJSON: String,
                settingsHash: String, lesionMatching: String? = nil) {
        self.schemaVersion = schemaVersion
        self.software = software
        self.createdUTC = createdUTC
        self.settingsJSON = settingsJSON
        self.settingsHash = settingsHash
        self.lesionMatching = lesionMatching
    }

    /// Root attribute name of `lesionMatching`.
    public static let lesionMatchingAttribute = "lesion_matching"

    /// The current time as ISO 8601 UTC, e.g. "2025-01-31T12:00:00Z".
    public static func nowUTC() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date())
    }
}

/// A further table of a store (scores, aggregates, plans) with its text attributes,
/// e.g. a signature's id and file hash.
public struct StoreTable: Equatable, Sendable {
    public var table: Table
    public var attributes: [String: String]

    public init(table: Table, attributes: [String: String] = [:]) {
        self.table = table
        self.attributes = attributes
    }
}

/// Everything in a feature store, in memory.
public struct StoreContents: Equatable, Sendable {
    /// Top-level names used by the fixed layout; further tables may not use them.
    public static let reservedNames: Set<String> = ["patients", "lesions", "scans", "features", "failures"]
    /// Attribute names that describe a table's shape rather than its meaning.
    static let tableShapeAttributes: Set<String> = ["columns", "n_rows", StoreIntegrity.datasetAttribute]

    public var attributes: StoreAttributes
    /// One row per patient; has a `patient_id` text column when not empty.
    public var patients: Table
    /// One row per lesion and time point; has `patient_id` (text) and `lesion_id` columns when not
    /// empty, and `timepoint` (days from baseline; a table without it is all baseline).
    public var lesions: Table
    /// One row per image used (patient, time point, modality); may be empty.
    public var scans: Table
    /// Feature values by `<modality>.<region>` (e.g. "ct.tumour", "pt.ring"); each has one row per lesion row.
    public var features: [String: FeatureMatrix]
    /// Columns `patient_id`, `stage`, `message`.
    public var failures: Table
    /// Further tables by path without the leading "/", e.g. "scores" or "aggregates/cd8_v1".
    public var tables: [String: StoreTable]

    public init(attributes: StoreAttributes, patients: Table = Table(), lesions: Table = Table(),
                scans: Table = Table(), features: [String: FeatureMatrix] = [:],
                failures: Table = StoreContents.failureTable([]), tables: [String: StoreTable] = [:]) {
        self.attributes = attributes
        self.patients = patients
        self.lesions = lesions
        self.scans = scans
        self.features = features
        self.failures = failures
        self.tables = tables
    }

    /// One failure of a patient's processing.
    public struct Failure: Equatable, Sendable {
        public var patientID: String
        public var stage: String
        public var message: String

        public init(patientID: String, stage: String, message: String) {
            self.patientID = patientID
            self.stage = stage
            self.message = message
        }
    }

    /// The failures table for `failures`, in the given order.
    /// (A NUL, which text columns refuse, is shown as U+FFFD: a failure must always be recordable.)
    public static func failureTable(_ failures: [Failure]) -> Table {
        func clean(_ s: String) -> String { s.utf8.contains(0) ? s.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : s }
        var table = Table()
        try! table.append("patient_id", .text(failures.map { clean($0.patientID) }))
        try! table.append("stage", .text(failures.map { clean($0.stage) }))
        try! table.append("message", .text(failures.map { clean($0.message) }))
        return table
    }

    /// The rows of the failures table.
    public func failureList() throws -> [Failure] {
        guard !failures.isEmpty else { return [] }
        let ids = try failures.texts("patient_id"), stages = try failures.texts("stage")
        let messages = try failures.texts("message")
        return ids.indices.map { Failure(patientID: ids[$0], stage: stages[$0], message: messages[$0]) }
    }

    /// Reads a whole store.
    public static func read(from url: URL) throws -> StoreContents {
        try StoreReader(url: url).contents()
    }

    /// Writes the whole store atomically: a crash, a kill or a failed write (e.g.
    /// a full disk) at any moment leaves either the previous file at `url` or this
    /// complete one. Every dataset gets its checksum (see `StoreIntegrity`).
    ///
    /// Throws `FeatureStoreError.cannotWrite` when the disk refuses the write;
    /// `advice` then ends its message (what was kept, how to go on).
    public func write(to url: URL, advice: String = "the file is unchanged") throws {
        try StoreContents.write([(self, url)], advice: advice)
    }

    /// Writes several stores, each atomically as `write(to:advice:)` does, with their waits for the disk
    /// overlapping (`HDF5File.writeAtomically(_:)`); returns when all are durable. When the disk refuses one,
    /// `FeatureStoreError.cannotWrite` names it; the stores written before it are complete and durable.
    public static func write(_ stores: [(contents: StoreContents, url: URL)],
                             advice: String = "the file is unchanged") throws {
        for store in stores { try store.contents.validate(file: store.url.path) }
        do {
            try HDF5File.writeAtomically(stores.map { store in
                HDF5File.AtomicFile(url: store.url) { try store.contents.write(into: $0) }
            })
        } catch let error as HDF5Error where error.systemErrorNumber != nil {
            throw FeatureStoreError.cannotWrite(file: error.file, reason: error.reason, advice: advice)
        }
    }

    private func write(into file: HDF5File) throws {
            try file.setAttribute("schema_version", .int64(attributes.schemaVersion))
            try file.setAttribute("software", .text(attributes.software))
            try file.setAttribute("created_utc", .text(attributes.createdUTC))
            try file.setAttribute("settings_json", .text(attributes.settingsJSON))
            try file.setAttribute("settings_hash", .text(attributes.settingsHash))
            if let matching = attributes.lesionMatching {
                try file.setAttribute(StoreAttributes.lesionMatchingAttribute, .text(matching))
            }
            try file.setFixedLengthTextAttribute(StoreIntegrity.rootAttribute, StoreIntegrity.scheme)
            try file.setFixedLengthTextAttribute(StoreIntegrity.datasetAttribute,
                                                 StoreIntegrity.digest(rootAttributes: attributes))
            try StoreContents.write(patients, to: file.createGroup("patients"))
            try StoreContents.write(lesions, to: file.createGroup("lesions"))
            try StoreContents.write(scans, to: file.createGroup("scans"))
            let featureGroup = try file.createGroup("features")
            for region in features.keys.sorted() {
                let matrix = features[region]!
                let group = try featureGroup.createGroup(region)
                try StoreIntegrity.writeNumbers(matrix.values, shape: [matrix.rowCount, matrix.columnCount],
                                                at: "values", in: group)
                try StoreIntegrity.writeTexts(matrix.names, at: "names", in: group)
            }
            try StoreContents.write(failures, to: file.createGroup("failures"))
            for path in tables.keys.sorted() {
                let entry = tables[path]!
                try StoreContents.write(entry.table, to: file.createGroup(path), attributes: entry.attributes)
            }
    }

    static func write(_ table: Table, to group: HDF5Group, attributes: [String: String] = [:]) throws {
        for (name, column) in table.columns {
            switch column {
            case .text(let values): try StoreIntegrity.writeTexts(values, at: name, in: group)
            case .number(let values): try StoreIntegrity.writeNumbers(values, at: name, in: group)
            }
        }
        try group.setAttribute("columns", .texts(table.columnNames))
        try group.setAttribute("n_rows", .int64(Int64(table.rowCount)))
        for (name, value) in attributes.sorted(by: { $0.key < $1.key }) {
            try group.setAttribute(name, .text(value))
        }
        try group.setFixedLengthTextAttribute(
            StoreIntegrity.datasetAttribute, StoreIntegrity.digest(columns: table.columnNames, attributes: attributes))
    }

    /// Checks the cross-table rules of the layout; `file` names the store in errors.
    public func validate(file: String) throws {
        func fail(_ reason: String) -> FeatureStoreError { .invalidStore(file: file, reason: reason) }
        for (name, table) in [("patients", patients), ("lesions", lesions), ("scans", scans)] where !table.isEmpty {
            guard table["patient_id"]?.texts != nil else { throw fail("/\(name) needs a text column 'patient_id'") }
        }
        if !lesions.isEmpty && lesions["lesion_id"] == nil { throw fail("/lesions needs a column 'lesion_id'") }
        for (name, table) in [("lesions", lesions), ("scans", scans)] where !table.isEmpty {
            if let column = table["timepoint"], column.numbers == nil {
                throw fail("/\(name) column 'timepoint' must hold numbers (days from the baseline scan)")
            }
        }
        for (region, matrix) in features {
            guard StoreContents.isPlainName(region) else {
                throw fail("feature region '\(region)' must be non-empty and free of '/'")
            }
            guard matrix.rowCount == lesions.rowCount else {
                throw fail("/features/\(region) has \(matrix.rowCount) rows but /lesions has \(lesions.rowCount)")
            }
        }
        for name in ["patient_id", "stage", "message"] where failures[name]?.texts == nil {
            throw fail("/failures needs a text column '\(name)'")
        }
        for path in tables.keys {
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            guard !parts.isEmpty, parts.allSatisfy({ StoreContents.isPlainName(String($0)) }) else {
                throw fail("table path '\(path)' must be names separated by '/', without a leading '/'")
            }
            guard !StoreContents.reservedNames.contains(String(parts[0])) else {
                throw fail("table path '\(path)' is inside the reserved group /\(parts[0])")
            }
            if let outer = tables.keys.first(where: { path.hasPrefix($0 + "/") }) {
                throw fail("table '\(path)' would lie inside table '\(outer)'")
            }
            for name in tables[path]!.attributes.keys where StoreContents.tableShapeAttributes.contains(name) {
                throw fail("table '\(path)' may not set the attribute '\(name)', which describes its columns")
            }
        }
    }

    static func isPlainName(_ name: String) -> Bool { !name.isEmpty && name != "." && !name.contains("/") }
}

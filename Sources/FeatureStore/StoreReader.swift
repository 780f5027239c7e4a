import Foundation
import HDF5Support

/// Reads a feature store piece by piece, for commands that need only part of it
/// (e.g. scoring reads one region's features). `contents()` reads everything.
///
/// A store of schema 1 (written before modalities and time points were stored) is read in the layout of
/// schema 2: its feature region `R` reads as `<modality>.R` for the modality of each lesion row (CT when
/// none), /lesions gains `timepoint` 0 and `modalities`, /scans is empty, and `attributes.schemaVersion` is
/// 2, so whatever is written back from it is a store of schema 2.
public final class StoreReader {
    public let url: URL
    /// The root attributes, read and checked on opening (`schemaVersion` is the layout they are read in).
    public let attributes: StoreAttributes
    /// The schema version written in the file (1 for a store read through translation).
    public let storedSchemaVersion: Int64
    /// Whether the store carries checksums (root attribute `integrity`); those of
    /// every dataset read are verified. False for stores written before checksums
    /// existed, which are read unverified.
    public let hasChecksums: Bool
    private let file: HDF5File
    private let verifier: VerifyingReader

    /// Opens the store at `url` and checks its schema version and checksum scheme.
    public init(url: URL) throws {
        let file: HDF5File
        do {
            file = try HDF5File.open(at: url)
        } catch let error as HDF5Error where error.isChecksumFailure {
            throw FeatureStoreError.damagedStore(file: url.path, object: "its superblock or root group",
                                                 reason: "failed HDF5's checksum (\(error.reason))")
        }
        let scheme: HDF5AttributeValue?
        do {
            scheme = try file.attribute(StoreIntegrity.rootAttribute)
        } catch let error as HDF5Error where error.isChecksumFailure {
            throw FeatureStoreError.damagedStore(file: url.path, object: "the root group",
                                                 reason: "failed HDF5's checksum (\(error.reason))")
        }
        /// A root text attribute, nil when absent.
        func optionalText(_ name: String) throws -> String? {
            do {
                return try file.attribute(name)?.text
            } catch let error as HDF5Error where scheme != nil || error.isChecksumFailure {
                throw FeatureStoreError.damagedStore(file: url.path, object: "the root attribute \(name)",
                                                     reason: "cannot be read (\(error.reason))")
            }
        }
        func text(_ name: String) throws -> String {
            guard let value = try optionalText(name) else {
                throw FeatureStoreError.invalidStore(file: url.path, reason: "missing text attribute '\(name)'")
            }
            return value
        }
        guard let version = try file.attribute("schema_version")?.int64 else {
            throw FeatureStoreError.invalidStore(file: url.path, reason: "missing integer attribute 'schema_version'")
        }
        guard StoreAttributes.readableSchemaVersions.contains(version) else {
            let readable = StoreAttributes.readableSchemaVersions
            throw FeatureStoreError.invalidStore(
                file: url.path,
                reason: "schema_version is \(version) but this LesionMap reads \(readable.lowerBound) to \(readable.upperBound)"
                    + (version > readable.upperBound ? "; it was written by a newer LesionMap" : ""))
        }
        var attributes = StoreAttributes(schemaVersion: version, software: try text("software"),
                                         createdUTC: try text("created_utc"), settingsJSON: try text("settings_json"),
                                         settingsHash: try text("settings_hash"),
                                         lesionMatching: try optionalText(StoreAttributes.lesionMatchingAttribute))
        if let scheme, scheme.text != StoreIntegrity.scheme {
            throw FeatureStoreError.invalidStore(
                file: url.path,
                reason: "its checksums follow the scheme \(scheme.text.map { "'\($0)'" } ?? "of another kind"), "
                    + "which this LesionMap cannot verify (it knows '\(StoreIntegrity.scheme)')")
        }
        guard SHA256.hex(of: attributes.settingsJSON) == attributes.settingsHash || scheme == nil else {
            throw FeatureStoreError.damagedStore(file: url.path, object: "the root attribute settings_json",
                                                 reason: "does not match settings_hash")
        }
        hasChecksums = scheme != nil
        verifier = VerifyingReader(file: url.path, requiresChecksums: scheme != nil)
        try verifier.verifyGroup(file, StoreIntegrity.digest(rootAttributes: attributes))
        storedSchemaVersion = version
        attributes.schemaVersion = StoreAttributes.currentSchemaVersion
        self.attributes = attributes
        self.url = url
        self.file = file
    }

    /// Whether the file is of schema 1, read through translation.
    private var isSchema1: Bool { storedSchemaVersion == 1 }
    /// A schema-1 store's lesions and features in the layout of schema 2, translated once.
    private var schema1Translation: (lesions: Table, features: [String: FeatureMatrix])?

    private func translatedSchema1() throws -> (lesions: Table, features: [String: FeatureMatrix]) {
        if let schema1Translation { return schema1Translation }
        var stored: [String: FeatureMatrix] = [:]
        for region in try storedRegions() { stored[region] = try storedFeatures(region: region) }
        let translated = try StoreContents.translatingSchema1(lesions: try readTable("lesions").table, features: stored)
        schema1Translation = translated
        return translated
    }

    /// Closes the file now rather than when the reader is released.
    public func close() { file.close() }

    public func patients() throws -> Table { try readTable("patients").table }

    public func lesions() throws -> Table {
        isSchema1 ? try translatedSchema1().lesions : try readTable("lesions").table
    }

    /// One row per image used (empty for a store of schema 1, which did not record them).
    public func scans() throws -> Table { isSchema1 ? Table() : try readTable("scans").table }

    public func failures() throws -> Table { try readTable("failures").table }

    /// Keys of the feature matrices (`<modality>.<region>`), in name order.
    public func regions() throws -> [String] {
        isSchema1 ? try translatedSchema1().features.keys.sorted() : try storedRegions()
    }

    /// The feature matrix `region` (`<modality>.<region>`, e.g. `ct.tumour`).
    public func features(region: String) throws -> FeatureMatrix {
        guard isSchema1 else { return try storedFeatures(region: region) }
        guard let matrix = try translatedSchema1().features[region] else {
            throw invalid("no feature region /features/\(region) (a store of schema 1, read as schema 2)")
        }
        return matrix
    }

    private func storedRegions() throws -> [String] {
        guard try file.kind(of: "features") == .group else { throw invalid("missing group /features") }
        let group = try file.openGroup("features")
        return try group.childNames().filter { try group.kind(of: $0) == .group }
    }

    private func storedFeatures(region: String) throws -> FeatureMatrix {
        let path = "features/\(region)"
        guard try file.kind(of: path) == .group else { throw invalid("no feature region /\(path)") }
        let group = try file.openGroup(path)
        let values = try group.openDataset("values")
        let names = try verifier.texts(try group.openDataset("names"))
        guard values.shape.count == 2, values.shape[1] == names.count else {
            throw invalid("/\(path)/values has shape \(values.shape) but there are \(names.count) names")
        }
        let numbers = try verifier.numbers(values)
        do {
            return try FeatureMatrix(names: names, rowCount: values.shape[0], values: numbers)
        } catch let error as FeatureStoreError {
            throw invalid("/\(path): \(error)")
        }
    }

    /// Paths (without leading "/") of the further tables, in name order.
    public func tablePaths() throws -> [String] {
        var paths: [String] = []
        func visit(_ group: HDF5Group, _ prefix: String) throws {
            for name in try group.childNames() {
                let path = prefix.isEmpty ? name : prefix + "/" + name
                if prefix.isEmpty && StoreContents.reservedNames.contains(name) { continue }
                guard try group.kind(of: name) == .group else { continue }
                let child = try group.openGroup(name)
                if try child.attribute("columns") != nil {
                    paths.append(path)
                } else {
                    try visit(child, path)
                }
            }
        }
        try visit(file, "")
        return paths
    }

    /// The further table at `path` with its text attributes.
    public func table(at path: String) throws -> StoreTable { try readTable(path) }

    /// Everything in the store, checked against the layout rules.
    public func contents() throws -> StoreContents {
        var features: [String: FeatureMatrix] = [:]
        for region in try regions() { features[region] = try self.features(region: region) }
        var tables: [String: StoreTable] = [:]
        for path in try tablePaths() { tables[path] = try readTable(path) }
        let contents = StoreContents(attributes: attributes, patients: try patients(), lesions: try lesions(),
                                     scans: try scans(), features: features, failures: try failures(), tables: tables)
        try contents.validate(file: url.path)
        return contents
    }

    private func readTable(_ path: String) throws -> StoreTable {
        guard try file.kind(of: path) == .group else { throw invalid("missing table /\(path)") }
        let group = try file.openGroup(path)
        let (columns, rowCount, attributes) = try verifier.attributes(of: group) {
            var attributes: [String: String] = [:]
            for name in try group.attributeNames() where !StoreContents.tableShapeAttributes.contains(name) {
                if let value = try group.attribute(name)?.text { attributes[name] = value }
            }
            return (try group.attribute("columns")?.texts, try group.attribute("n_rows")?.int64, attributes)
        }
        guard let names = columns, let rows = rowCount else {
            throw invalid("/\(path) lacks the 'columns' and 'n_rows' attributes of a table")
        }
        try verifier.verifyGroup(group, StoreIntegrity.digest(columns: names, attributes: attributes))
        var table = Table()
        for name in names {
            let dataset = try group.openDataset(name)
            guard dataset.shape == [Int(rows)] else {
                throw invalid("/\(path)/\(name) has shape \(dataset.shape) but the table has \(rows) rows")
            }
            let column: Column = dataset.elementKind == .string
                ? .text(try verifier.texts(dataset)) : .number(try verifier.numbers(dataset))
            do {
                try table.append(name, column)
            } catch let error as FeatureStoreError {
                throw invalid("/\(path): \(error)")
            }
        }
        return StoreTable(table: table, attributes: attributes)
    }

    private func invalid(_ reason: String) -> FeatureStoreError { .invalidStore(file: url.path, reason: reason) }
}

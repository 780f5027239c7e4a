import Foundation
import HDF5Support

/// Reads a feature store piece by piece, for commands that need only part of it
/// (e.g. scoring reads one region's features). `contents()` reads everything.
public final class StoreReader {
    public let url: URL
    /// The root attributes, read and checked on opening.
    public let attributes: StoreAttributes
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
        func text(_ name: String) throws -> String {
            let read: HDF5AttributeValue?
            do {
                read = try file.attribute(name)
            } catch let error as HDF5Error where scheme != nil || error.isChecksumFailure {
                throw FeatureStoreError.damagedStore(file: url.path, object: "the root attribute \(name)",
                                                     reason: "cannot be read (\(error.reason))")
            }
            guard let value = read?.text else {
                throw FeatureStoreError.invalidStore(file: url.path, reason: "missing text attribute '\(name)'")
            }
            return value
        }
        guard let version = try file.attribute("schema_version")?.int64 else {
            throw FeatureStoreError.invalidStore(file: url.path, reason: "missing integer attribute 'schema_version'")
        }
        guard version == StoreAttributes.currentSchemaVersion else {
            throw FeatureStoreError.invalidStore(
                file: url.path,
                reason: "schema_version is \(version) but this LesionMap reads \(StoreAttributes.currentSchemaVersion)")
        }
        attributes = StoreAttributes(schemaVersion: version, software: try text("software"),
                                     createdUTC: try text("created_utc"), settingsJSON: try text("settings_json"),
                                     settingsHash: try text("settings_hash"))
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
        self.url = url
        self.file = file
    }

    /// Closes the file now rather than when the reader is released.
    public func close() { file.close() }

    public func patients() throws -> Table { try readTable("patients").table }

    public func lesions() throws -> Table { try readTable("lesions").table }

    public func failures() throws -> Table { try readTable("failures").table }

    /// Names of the feature regions, in name order.
    public func regions() throws -> [String] {
        guard try file.kind(of: "features") == .group else { throw invalid("missing group /features") }
        let group = try file.openGroup("features")
        return try group.childNames().filter { try group.kind(of: $0) == .group }
    }

    /// The feature matrix of `region`.
    public func features(region: String) throws -> FeatureMatrix {
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
                                     features: features, failures: try failures(), tables: tables)
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

import Foundation
import HDF5Support

/// The part files of `ExtractionStoreWriter` (`<store>.parts/p-….part`): one patient's result, or one failure,
/// as the writer keeps it until the main store is rewritten, in a compact binary form with a checksum.
///
/// Why not HDF5, like the store: a part file lives for seconds and is read only by the writer of the same
/// store, while creating an HDF5 file of some 60 checksummed datasets costs about 5 ms of processor time,
/// which on a short cohort was a fifth of the whole extraction (perf, 40 patients, comparable settings).
/// This form costs a small fraction of that. The main store is written exactly as before. Part files of the
/// HDF5 form (`p-….h5`, left by a killed run of an earlier version) are still read.
///
/// Layout, all integers unsigned 64-bit little-endian:
///
///     "LMPART1\n"                              8 bytes
///     root: schema_version (as a bit pattern), software, created_utc, settings_json, settings_hash,
///           lesion_matching (1 then the text, or 0)
///     tables patients, lesions, scans, failures: column count, then per column its name, kind (0 text,
///           1 numbers), row count and values
///     features: region count, then per region (in name order) its name, row count, feature count, the
///           feature names and the row-major values
///     SHA-256 of everything above             32 bytes
///
/// A text is its UTF-8 byte count then the bytes; a number the bit pattern of its float64 (NaN kept exactly).
/// A file whose checksum does not match (cut short, damaged) is refused naming the file.
enum PartFile {
    static let fileExtension = "part"
    private static let magic = Array("LMPART1\n".utf8)

    /// The bytes of a part file holding `contents` (its further tables are not part of the form).
    static func encode(_ contents: StoreContents) -> [UInt8] {
        var out = Writer()
        out.bytes.append(contentsOf: magic)
        let attributes = contents.attributes
        out.integer(UInt64(bitPattern: attributes.schemaVersion))
        out.text(attributes.software)
        out.text(attributes.createdUTC)
        out.text(attributes.settingsJSON)
        out.text(attributes.settingsHash)
        if let matching = attributes.lesionMatching {
            out.integer(1)
            out.text(matching)
        } else {
            out.integer(0)
        }
        for table in [contents.patients, contents.lesions, contents.scans, contents.failures] {
            out.table(table)
        }
        out.integer(UInt64(contents.features.count))
        for region in contents.features.keys.sorted() {
            let matrix = contents.features[region]!
            out.text(region)
            out.integer(UInt64(matrix.rowCount))
            out.integer(UInt64(matrix.columnCount))
            for name in matrix.names { out.text(name) }
            out.numbers(matrix.values)
        }
        out.bytes.append(contentsOf: SHA256.digest(out.bytes))
        return out.bytes
    }

    /// The contents of the part file `url`; a file that is not a whole, undamaged part file is refused
    /// (`FeatureStoreError.damagedStore` for a checksum that does not match, `invalidStore` otherwise).
    static func read(from url: URL) throws -> StoreContents {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw FeatureStoreError.invalidStore(file: url.path, reason: "it cannot be read (\(error.localizedDescription))")
        }
        return try decode([UInt8](data), file: url.path)
    }

    static func decode(_ bytes: [UInt8], file: String) throws -> StoreContents {
        guard bytes.count >= magic.count + 32, Array(bytes.prefix(magic.count)) == magic else {
            throw FeatureStoreError.invalidStore(file: file, reason: "it is not a LesionMap part file (or it was cut short)")
        }
        let body = bytes.count - 32
        guard SHA256.digest(bytes[0..<body]) == Array(bytes[body...]) else {
            throw FeatureStoreError.damagedStore(
                file: file, object: "/", reason: "the part file does not match its SHA-256 checksum (cut short or damaged)")
        }
        var input = Reader(bytes: bytes, position: magic.count, end: body, file: file)
        let schemaVersion = Int64(bitPattern: try input.integer())
        let software = try input.text(), createdUTC = try input.text()
        let settingsJSON = try input.text(), settingsHash = try input.text()
        let hasLesionMatching = try input.integer() == 1
        let lesionMatching = hasLesionMatching ? try input.text() : nil
        let attributes = StoreAttributes(schemaVersion: schemaVersion, software: software, createdUTC: createdUTC,
                                         settingsJSON: settingsJSON, settingsHash: settingsHash,
                                         lesionMatching: lesionMatching)
        let patients = try input.table(), lesions = try input.table(), scans = try input.table()
        let failures = try input.table()
        var features: [String: FeatureMatrix] = [:]
        for _ in 0..<(try input.count()) {
            let region = try input.text()
            let rows = try input.count(), columns = try input.count()
            let names = try (0..<columns).map { _ in try input.text() }
            let (total, overflow) = rows.multipliedReportingOverflow(by: columns)
            guard !overflow else { throw input.error("a feature matrix is too large") }
            features[region] = try FeatureMatrix(names: names, rowCount: rows, values: try input.numbers(total))
        }
        guard input.position == body else { throw input.error("bytes are left after the last feature matrix") }
        let contents = StoreContents(attributes: attributes, patients: patients, lesions: lesions, scans: scans,
                                     features: features, failures: failures)
        try contents.validate(file: file)
        return contents
    }

    private struct Writer {
        var bytes: [UInt8] = []

        mutating func integer(_ value: UInt64) {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }

        mutating func text(_ value: String) {
            integer(UInt64(value.utf8.count))
            bytes.append(contentsOf: value.utf8)
        }

        mutating func numbers(_ values: [Double]) {
            bytes.reserveCapacity(bytes.count + 8 * values.count)
            for value in values { integer(value.bitPattern) }
        }

        mutating func table(_ table: Table) {
            let columns = table.columns
            integer(UInt64(columns.count))
            for (name, column) in columns {
                text(name)
                switch column {
                case .text(let values):
                    integer(0)
                    integer(UInt64(values.count))
                    for value in values { text(value) }
                case .number(let values):
                    integer(1)
                    integer(UInt64(values.count))
                    numbers(values)
                }
            }
        }
    }

    private struct Reader {
        let bytes: [UInt8]
        var position: Int
        let end: Int
        let file: String

        func error(_ reason: String) -> FeatureStoreError {
            .invalidStore(file: file, reason: "it is not a valid part file: \(reason)")
        }

        mutating func integer() throws -> UInt64 {
            guard end - position >= 8 else { throw error("it ends in the middle of a value") }
            var value: UInt64 = 0
            for k in 0..<8 { value |= UInt64(bytes[position + k]) << (8 * UInt64(k)) }
            position += 8
            return value
        }

        /// A count or length, which cannot exceed the bytes left.
        mutating func count() throws -> Int {
            let value = try integer()
            guard value <= UInt64(end - position) else { throw error("a count exceeds the file's length") }
            return Int(value)
        }

        mutating func text() throws -> String {
            let length = try count()
            defer { position += length }
            return String(decoding: bytes[position..<(position + length)], as: UTF8.self)
        }

        mutating func numbers(_ count: Int) throws -> [Double] {
            guard count <= (end - position) / 8 else { throw error("it ends in the middle of a value") }
            return try (0..<count).map { _ in Double(bitPattern: try integer()) }
        }

        mutating func table() throws -> Table {
            var table = Table()
            for _ in 0..<(try count()) {
                let name = try text()
                let kind = try integer()
                let rows = try count()
                switch kind {
                case 0: try table.append(name, .text(try (0..<rows).map { _ in try text() }))
                case 1: try table.append(name, .number(try numbers(rows)))
                default: throw error("column '\(name)' has an unknown kind \(kind)")
                }
            }
            return table
        }
    }
}

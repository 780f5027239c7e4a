import Foundation
import HDF5Support

/// Checksums that let a reader refuse a store damaged after it was written
/// (a failing disk, a bad copy, a stray write), naming the damaged dataset.
///
/// Every dataset of a store carries the attribute `sha256`: the SHA-256 of its
/// contents as 64 hex digits (a fixed-length ASCII string, kept in the dataset's
/// checksummed object header; h5py reads it as bytes), in a canonical byte form
/// that h5py reproduces (see `Tests/python/check_store.py`):
///
/// - numbers: the float64 values, little-endian, in row-major order, i.e.
///   `hashlib.sha256(np.ascontiguousarray(ds[()], "<f8").tobytes())`;
/// - text: each string's UTF-8 bytes followed by one zero byte, in order, i.e.
///   `hashlib.sha256(b"".join(s.encode() + b"\0" for s in ds.asstr()[()]))`.
///
/// In addition, numeric datasets are stored in chunks with HDF5's Fletcher32
/// filter, so HDF5 itself (and h5py) refuse a damaged chunk, and the file uses
/// the HDF5 1.8 format, whose object headers (holding attributes such as
/// `columns`, `n_rows`, `settings_json` and these checksums) carry checksums of
/// their own. Text needs the SHA-256: Fletcher32 on variable-length strings would
/// cover only their references into the heap, not the characters.
///
/// Text attributes are variable-length strings whose characters also live in the
/// global heap, so the groups that carry them have a `sha256` of their own:
///
/// - each table group: over the texts [number of columns, the column names...,
///   then each further text attribute's name and value, sorted by name];
/// - the root group: over the texts [software, created_utc, settings_json, settings_hash].
///
/// The root attribute `integrity` ("sha256-v1", fixed-length like every `sha256`)
/// marks a store written this way; then a dataset or table without `sha256` is
/// damage too. Stores written before the
/// checksums existed lack `integrity` and are read unverified (as before); any
/// command that rewrites such a store adds the checksums.
public enum StoreIntegrity {
    /// Root attribute naming the checksum scheme.
    public static let rootAttribute = "integrity"
    /// The scheme this module writes and verifies.
    public static let scheme = "sha256-v1"
    /// Per-dataset attribute holding the SHA-256 of the contents.
    public static let datasetAttribute = "sha256"

    /// SHA-256 of numbers as little-endian float64 bytes, as 64 hex digits.
    public static func digest(numbers: [Double]) -> String {
        var hasher = SHA256.Hasher()
        #if _endian(little)
        numbers.withUnsafeBytes { hasher.update($0) }
        #else
        numbers.map { $0.bitPattern.littleEndian }.withUnsafeBytes { hasher.update($0) }
        #endif
        return hasher.finalizeHex()
    }

    /// SHA-256 of each text's UTF-8 bytes and a zero byte, as 64 hex digits. A text
    /// is taken up to its first zero byte, as HDF5 stores it.
    public static func digest(texts: [String]) -> String {
        var hasher = SHA256.Hasher()
        var buffer = [UInt8]()
        buffer.reserveCapacity(64 * 1024)
        for text in texts {
            for byte in text.utf8 {
                if byte == 0 { break }
                buffer.append(byte)
            }
            buffer.append(0)
            if buffer.count >= 60 * 1024 {
                hasher.update(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        hasher.update(buffer)
        return hasher.finalizeHex()
    }

    /// SHA-256 of a table group's column names and further text attributes.
    public static func digest(columns: [String], attributes: [String: String]) -> String {
        let pairs = attributes.sorted { $0.key < $1.key }.flatMap { [$0.key, $0.value] }
        return digest(texts: [String(columns.count)] + columns + pairs)
    }

    /// SHA-256 of the root group's text attributes (`lesion_matching` only when present, so stores without it
    /// keep their digest).
    public static func digest(rootAttributes a: StoreAttributes) -> String {
        digest(texts: [a.software, a.createdUTC, a.settingsJSON, a.settingsHash] + (a.lesionMatching.map { [$0] } ?? []))
    }

    /// Writes numbers as a checksummed dataset (Fletcher32 chunks and `sha256`).
    static func writeNumbers(_ values: [Double], shape: [Int]? = nil, at path: String, in group: HDF5Group) throws {
        let dataset = try group.createDataset(path, doubles: values, shape: shape, fletcher32: true)
        try dataset.setFixedLengthTextAttribute(datasetAttribute, digest(numbers: values))
    }

    /// Writes texts as a checksummed dataset (`sha256`).
    static func writeTexts(_ values: [String], at path: String, in group: HDF5Group) throws {
        let dataset = try group.createDataset(path, strings: values)
        try dataset.setFixedLengthTextAttribute(datasetAttribute, digest(texts: values))
    }
}

/// Reads datasets of one store, verifying their checksums when the store has them.
struct VerifyingReader {
    /// The store file, for messages.
    var file: String
    /// Whether the store declares checksums (a missing one is then damage).
    var requiresChecksums: Bool

    /// Checks a group's `sha256` against `digest` of what was read from it.
    func verifyGroup(_ group: HDF5Group, _ digest: String) throws {
        guard requiresChecksums else { return }
        try verify(group, digest)
    }

    /// Runs reads of a group's attributes; in a checksummed store a failure is damage of that group.
    func attributes<T>(of group: HDF5Group, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as HDF5Error where requiresChecksums || error.isChecksumFailure {
            throw FeatureStoreError.damagedStore(file: file, object: group.path,
                                                 reason: "has attributes that cannot be read (\(error.reason))")
        }
    }

    func numbers(_ dataset: HDF5Dataset) throws -> [Double] {
        let values = try read(dataset) { try $0.readDoubles() }
        try verify(dataset, StoreIntegrity.digest(numbers: values))
        return values
    }

    func texts(_ dataset: HDF5Dataset) throws -> [String] {
        let values = try read(dataset) { try $0.readStrings() }
        try verify(dataset, StoreIntegrity.digest(texts: values))
        return values
    }

    /// Runs a read, turning a checksum failure found by HDF5 into `damagedStore`. In a
    /// checksummed store (well-formed when written) any failure to read the data is damage too.
    private func read<T>(_ dataset: HDF5Dataset, _ body: (HDF5Dataset) throws -> T) throws -> T {
        do {
            return try body(dataset)
        } catch let error as HDF5Error where error.isChecksumFailure {
            throw FeatureStoreError.damagedStore(file: file, object: dataset.path,
                                                 reason: "failed HDF5's checksum (\(error.reason))")
        } catch let error as HDF5Error where requiresChecksums {
            throw FeatureStoreError.damagedStore(file: file, object: dataset.path,
                                                 reason: "cannot be read (\(error.reason))")
        }
    }

    private func verify(_ dataset: HDF5Object, _ actual: @autoclosure () -> String) throws {
        let stored: HDF5AttributeValue?
        do {
            stored = try dataset.attribute(StoreIntegrity.datasetAttribute)
        } catch let error as HDF5Error where error.isChecksumFailure {
            throw FeatureStoreError.damagedStore(file: file, object: dataset.path,
                                                 reason: "has a damaged header (\(error.reason))")
        }
        guard let stored else {
            if requiresChecksums {
                throw FeatureStoreError.damagedStore(file: file, object: dataset.path,
                                                     reason: "has lost its '\(StoreIntegrity.datasetAttribute)' checksum")
            }
            return
        }
        guard let expected = stored.text else {
            throw FeatureStoreError.damagedStore(file: file, object: dataset.path,
                                                 reason: "has a '\(StoreIntegrity.datasetAttribute)' checksum that is not text")
        }
        let computed = actual()
        guard computed == expected else {
            throw FeatureStoreError.damagedStore(
                file: file, object: dataset.path,
                reason: "does not match its SHA-256 checksum (stored \(expected.prefix(12))…, read \(computed.prefix(12))…)")
        }
    }
}

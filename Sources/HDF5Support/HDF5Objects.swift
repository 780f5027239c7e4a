import CHDF5
import Foundation

/// An open HDF5 file identifier and the objects opened through it.
///
/// Every object keeps the handle alive; the file closes when the last of them
/// goes away, or at once (closing its objects first) on `HDF5File.close()`.
final class HDF5FileHandle {
    let path: String
    private(set) var id: hid_t
    private var members: [ObjectIdentifier: WeakHDF5Object] = [:]

    init(path: String, id: hid_t) {
        self.path = path
        self.id = id
    }

    var isOpen: Bool { id >= 0 }

    func register(_ object: HDF5Object) { members[ObjectIdentifier(object)] = WeakHDF5Object(object) }
    func unregister(_ object: HDF5Object) { members[ObjectIdentifier(object)] = nil }

    /// Closes every open object of the file, then the file. Call holding the library lock.
    func close() throws {
        guard id >= 0 else { return }
        for member in members.values { member.object?.releaseIdentifier() }
        members = [:]
        let status = lm_H5Fclose(id)
        id = -1
        try HDF5Site(file: path, object: "/").check(status, "close file")
    }

    deinit { HDF5Library.locked { try? close() } }
}

struct WeakHDF5Object {
    weak var object: HDF5Object?
    init(_ object: HDF5Object) { self.object = object }
}

/// What an HDF5 path names.
public enum HDF5ObjectKind: Equatable, Sendable {
    case group
    case dataset
    /// A named datatype or another object class.
    case other
}

/// An object in an HDF5 file (the file's root group, a group or a dataset);
/// carries attributes.
///
/// The object's identifier is released when the object is deallocated,
/// when `close()` is called, or when its file is closed.
public class HDF5Object {
    let handle: HDF5FileHandle
    /// Absolute path of the object inside its file.
    public let path: String
    var id: hid_t
    private let ownsIdentifier: Bool

    init(handle: HDF5FileHandle, path: String, id: hid_t, ownsIdentifier: Bool = true) {
        self.handle = handle
        self.path = path
        self.id = id
        self.ownsIdentifier = ownsIdentifier
        if ownsIdentifier { handle.register(self) }
    }

    deinit { HDF5Library.locked { releaseIdentifier() } }

    /// Path of the file holding this object.
    public var filePath: String { handle.path }

    var site: HDF5Site { HDF5Site(file: handle.path, object: path) }

    /// Closes the object now; later use throws.
    public func close() {
        HDF5Library.locked { releaseIdentifier() }
    }

    /// Closes the identifier (once). Call holding the library lock.
    func releaseIdentifier() {
        guard id >= 0 else { return }
        if ownsIdentifier {
            chdf5_close_object(id)
            handle.unregister(self)
        }
        id = -1
    }

    /// The open identifier, or an error if the object or its file was closed.
    func openID(_ operation: String) throws -> hid_t {
        guard id >= 0, handle.isOpen else { throw site.error(operation, "the object or its file has been closed") }
        return id
    }

    // MARK: Attributes

    /// Writes attribute `name`, replacing any existing attribute of that name.
    public func setAttribute(_ name: String, _ value: HDF5AttributeValue) throws {
        try HDF5Library.locked {
            let site = HDF5Site(file: handle.path, object: path + "@" + name)
            let object = try openID("write attribute")
            if try site.checkBool(lm_H5Aexists(object, name), "look up attribute") {
                try site.check(lm_H5Adelete(object, name), "replace attribute")
            }
            let payload = value.payload
            let space = try createDataspace(value.isScalar ? [] : [payload.count], site)
            defer { lm_H5Sclose(space) }
            try payload.withBuffer(site) { fileType, memType, buffer in
                let attribute = try site.check(
                    lm_H5Acreate2(object, name, fileType, space, chdf5_p_default(), chdf5_p_default()),
                    "create attribute")
                defer { lm_H5Aclose(attribute) }
                if payload.count > 0 { try site.check(lm_H5Awrite(attribute, memType, buffer), "write attribute") }
            }
        }
    }

    /// Writes attribute `name` as one fixed-length ASCII string (replacing any attribute
    /// of that name). Unlike variable-length text, whose characters live in the file's
    /// global heap, the characters are stored in the object's header, which the HDF5 1.8
    /// format checksums. It reads back as `.text`; h5py reads it as `bytes`.
    public func setFixedLengthTextAttribute(_ name: String, _ value: String) throws {
        try HDF5Library.locked {
            let site = HDF5Site(file: handle.path, object: path + "@" + name)
            guard !value.isEmpty, value.utf8.allSatisfy({ $0 > 0 && $0 < 0x80 }) else {
                throw site.error("write attribute", "a fixed-length text attribute must be non-empty ASCII")
            }
            let object = try openID("write attribute")
            if try site.checkBool(lm_H5Aexists(object, name), "look up attribute") {
                try site.check(lm_H5Adelete(object, name), "replace attribute")
            }
            let bytes = Array(value.utf8)
            let type = try site.check(chdf5_fixed_ascii_string_type(bytes.count), "create string type")
            defer { lm_H5Tclose(type) }
            let space = try createDataspace([], site)
            defer { lm_H5Sclose(space) }
            let attribute = try site.check(
                lm_H5Acreate2(object, name, type, space, chdf5_p_default(), chdf5_p_default()), "create attribute")
            defer { lm_H5Aclose(attribute) }
            try bytes.withUnsafeBytes { try site.check(lm_H5Awrite(attribute, type, $0.baseAddress), "write attribute") }
        }
    }

    /// Attribute `name`, or nil when the object has no such attribute.
    public func attribute(_ name: String) throws -> HDF5AttributeValue? {
        try HDF5Library.locked {
            let site = HDF5Site(file: handle.path, object: path + "@" + name)
            let object = try openID("read attribute")
            guard try site.checkBool(lm_H5Aexists(object, name), "look up attribute") else { return nil }
            let attribute = try site.check(lm_H5Aopen(object, name, chdf5_p_default()), "open attribute")
            defer { lm_H5Aclose(attribute) }
            let type = try site.check(lm_H5Aget_type(attribute), "read attribute type")
            defer { lm_H5Tclose(type) }
            let space = try site.check(lm_H5Aget_space(attribute), "read attribute dataspace")
            defer { lm_H5Sclose(space) }
            let (shape, count) = try dataspaceShape(space, site)
            let reader = HDF5ElementReader(site: site, fileType: type, space: space, count: count) {
                lm_H5Aread(attribute, $0, $1)
            }
            let scalar = shape.isEmpty && count == 1
            switch try classifyElements(of: type, site) {
            case .string:
                let values = try reader.strings()
                return scalar ? .text(values[0]) : .texts(values)
            case .integer:
                let values = try reader.int64s()
                return scalar ? .int64(values[0]) : .int64s(values)
            case .float:
                let values = try reader.doubles()
                return scalar ? .double(values[0]) : .doubles(values)
            case .other:
                throw site.error("read attribute", "its datatype is neither number nor string")
            }
        }
    }

    /// Names of the object's attributes, in name order.
    public func attributeNames() throws -> [String] {
        try HDF5Library.locked {
            let object = try openID("list attributes")
            let count = chdf5_attribute_count(object)
            if count < 0 { throw site.libraryError("list attributes") }
            return try (0..<count).map { index in
                try nameByIndex("list attributes") { buffer, size in
                    lm_H5Aget_name_by_idx(object, ".", H5_INDEX_NAME, H5_ITER_INC, hsize_t(index),
                                       buffer, size, chdf5_p_default())
                }
            }
        }
    }

    /// Removes attribute `name` if present.
    public func removeAttribute(_ name: String) throws {
        try HDF5Library.locked {
            let site = HDF5Site(file: handle.path, object: path + "@" + name)
            let object = try openID("remove attribute")
            if try site.checkBool(lm_H5Aexists(object, name), "look up attribute") {
                try site.check(lm_H5Adelete(object, name), "remove attribute")
            }
        }
    }

    /// Calls an HDF5 "get name" function twice: for the length, then for the text.
    func nameByIndex(_ operation: String, _ get: (UnsafeMutablePointer<CChar>?, Int) -> Int) throws -> String {
        let length = get(nil, 0)
        if length < 0 { throw site.libraryError(operation) }
        var buffer = [CChar](repeating: 0, count: length + 1)
        if get(&buffer, buffer.count) < 0 { throw site.libraryError(operation) }
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A group: a folder of groups and datasets. Paths given to its methods are
/// relative to the group (nested with "/") or absolute (starting with "/").
public class HDF5Group: HDF5Object {
    /// A link creation property list that creates missing intermediate groups.
    private func withIntermediateGroups<T>(_ site: HDF5Site, _ body: (hid_t) throws -> T) throws -> T {
        let list = try site.check(lm_H5Pcreate(chdf5_p_link_create()), "create link property list")
        defer { lm_H5Pclose(list) }
        try site.check(lm_H5Pset_create_intermediate_group(list, 1), "set link property list")
        return try body(list)
    }

    /// Creates group `path`, and any missing groups above it; fails if it exists.
    @discardableResult
    public func createGroup(_ path: String) throws -> HDF5Group {
        try HDF5Library.locked {
            let site = HDF5Site(file: handle.path, object: joinHDF5Path(self.path, path))
            let location = try openID("create group")
            let creation = try site.check(chdf5_untimed_group_creation(), "create group property list")
            defer { lm_H5Pclose(creation) }
            let group = try withIntermediateGroups(site) { links in
                try site.check(lm_H5Gcreate2(location, path, links, creation, chdf5_p_default()), "create group")
            }
            return HDF5Group(handle: handle, path: site.object, id: group)
        }
    }

    /// Removes the link `path` (a group or dataset) when present; the space it used is freed when the file
    /// is rewritten (stores are always rewritten whole, see `HDF5File.writeAtomically`).
    public func removeLink(_ path: String) throws {
        try HDF5Library.locked {
            let site = HDF5Site(file: handle.path, object: joinHDF5Path(self.path, path))
            let location = try openID("remove link")
            guard try kindLocked(of: path) != nil else { return }
            try site.check(lm_H5Ldelete(location, path, chdf5_p_default()), "remove link")
        }
    }

    /// Opens the existing group `path`.
    public func openGroup(_ path: String) throws -> HDF5Group {
        try HDF5Library.locked {
            let site = HDF5Site(file: handle.path, object: joinHDF5Path(self.path, path))
            let location = try openID("open group")
            guard try kindLocked(of: path) == .group else { throw site.error("open group", "no group at this path") }
            let group = try site.check(lm_H5Gopen2(location, path, chdf5_p_default()), "open group")
            return HDF5Group(handle: handle, path: site.object, id: group)
        }
    }

    /// Opens group `path`, creating it (and groups above it) when missing.
    public func requireGroup(_ path: String) throws -> HDF5Group {
        try HDF5Library.locked {
            try exists(path) ? openGroup(path) : createGroup(path)
        }
    }

    /// Opens the existing dataset `path`.
    public func openDataset(_ path: String) throws -> HDF5Dataset {
        try HDF5Library.locked {
            let site = HDF5Site(file: handle.path, object: joinHDF5Path(self.path, path))
            let location = try openID("open dataset")
            guard try kindLocked(of: path) == .dataset else {
                throw site.error("open dataset", "no dataset at this path")
            }
            let dataset = try site.check(lm_H5Dopen2(location, path, chdf5_p_default()), "open dataset")
            return try HDF5Dataset(handle: handle, path: site.object, id: dataset)
        }
    }

    /// Whether `path` names an object (every link along it must exist).
    public func exists(_ path: String) throws -> Bool {
        try HDF5Library.locked {
            let site = HDF5Site(file: handle.path, object: joinHDF5Path(self.path, path))
            let location = try openID("look up")
            let parts = path.split(separator: "/", omittingEmptySubsequences: true)
            if parts.isEmpty { return true }
            var prefix = path.hasPrefix("/") ? "/" : ""
            for (index, part) in parts.enumerated() {
                prefix += (index == 0 ? "" : "/") + part
                guard try site.checkBool(lm_H5Lexists(location, prefix, chdf5_p_default()), "look up link") else {
                    return false
                }
            }
            return try site.checkBool(lm_H5Oexists_by_name(location, path, chdf5_p_default()), "look up object")
        }
    }

    /// What `path` names, or nil when nothing is there.
    public func kind(of path: String) throws -> HDF5ObjectKind? {
        try HDF5Library.locked { try kindLocked(of: path) }
    }

    private func kindLocked(of path: String) throws -> HDF5ObjectKind? {
        guard try exists(path) else { return nil }
        let site = HDF5Site(file: handle.path, object: joinHDF5Path(self.path, path))
        let object = try site.check(lm_H5Oopen(try openID("look up"), path, chdf5_p_default()), "open object")
        defer { lm_H5Oclose(object) }
        switch lm_H5Iget_type(object) {
        case H5I_GROUP, H5I_FILE: return .group
        case H5I_DATASET: return .dataset
        default: return .other
        }
    }

    /// Names of the group's direct members, in name order.
    public func childNames() throws -> [String] {
        try HDF5Library.locked {
            let location = try openID("list members")
            let count = chdf5_link_count(location)
            if count < 0 { throw site.libraryError("list members") }
            return try (0..<hsize_t(count)).map { index in
                try nameByIndex("list members") { buffer, size in
                    lm_H5Lget_name_by_idx(location, ".", H5_INDEX_NAME, H5_ITER_INC, index, buffer, size,
                                       chdf5_p_default())
                }
            }
        }
    }

    // MARK: Datasets

    /// Creates a dataset of 64-bit floats; `shape` defaults to one dimension. With
    /// `fletcher32`, the values are stored in chunks that each carry a Fletcher32
    /// checksum, which HDF5 (and h5py) verify on every read.
    @discardableResult
    public func createDataset(_ path: String, doubles: [Double], shape: [Int]? = nil,
                              fletcher32: Bool = false) throws -> HDF5Dataset {
        try createDataset(path, .doubles(doubles), shape: shape ?? [doubles.count], fletcher32: fletcher32)
    }

    /// Creates a dataset of 64-bit integers; `shape` defaults to one dimension; `fletcher32` as for floats.
    @discardableResult
    public func createDataset(_ path: String, int64s: [Int64], shape: [Int]? = nil,
                              fletcher32: Bool = false) throws -> HDF5Dataset {
        try createDataset(path, .int64s(int64s), shape: shape ?? [int64s.count], fletcher32: fletcher32)
    }

    /// Creates a one-dimensional dataset of variable-length UTF-8 strings.
    ///
    /// No `fletcher32` here: on variable-length strings it would cover only the
    /// references into the heap, not the text.
    @discardableResult
    public func createDataset(_ path: String, strings: [String]) throws -> HDF5Dataset {
        try createDataset(path, .strings(strings), shape: [strings.count], fletcher32: false)
    }

    /// Bytes per chunk of a checksummed dataset: small enough that reading one value
    /// reads little, large enough that the chunk index stays small.
    static let checksumChunkBytes = 256 * 1024

    /// Chunk extents for `shape` of 8-byte elements: whole trailing dimensions, and as
    /// many leading rows as fit `checksumChunkBytes` (at least one). Nil when the
    /// dataset is empty or scalar, which is stored without chunks.
    static func chunkShape(for shape: [Int]) -> [Int]? {
        guard !shape.isEmpty, !shape.contains(0) else { return nil }
        let rowElements = shape.dropFirst().reduce(1, *)
        let rows = max(1, min(shape[0], checksumChunkBytes / 8 / max(rowElements, 1)))
        var chunk = shape
        chunk[0] = rows
        // A single row wider than the chunk budget is split along its last dimension too.
        if rows == 1 && rowElements * 8 > checksumChunkBytes, shape.count >= 2 {
            let inner = shape.dropFirst().dropLast().reduce(1, *)
            chunk[shape.count - 1] = max(1, min(shape[shape.count - 1], checksumChunkBytes / 8 / max(inner, 1)))
        }
        return chunk
    }

    private func createDataset(_ path: String, _ payload: HDF5Payload, shape: [Int],
                               fletcher32: Bool) throws -> HDF5Dataset {
        try HDF5Library.locked {
            let site = HDF5Site(file: handle.path, object: joinHDF5Path(self.path, path))
            let location = try openID("create dataset")
            guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == payload.count else {
                throw site.error("create dataset", "shape \(shape) does not hold \(payload.count) values")
            }
            let space = try createDataspace(shape, site)
            defer { lm_H5Sclose(space) }
            let chunk = fletcher32 ? HDF5Group.chunkShape(for: shape).map { $0.map { hsize_t($0) } } : nil
            let creation = try site.check(chdf5_dataset_creation(Int32(chunk?.count ?? 0), chunk ?? []),
                                          "create dataset property list")
            defer { lm_H5Pclose(creation) }
            let dataset = try payload.withBuffer(site) { fileType, memType, buffer in
                let dataset = try withIntermediateGroups(site) { links in
                    try site.check(lm_H5Dcreate2(location, path, fileType, space, links, creation,
                                              chdf5_p_default()), "create dataset")
                }
                if payload.count > 0 {
                    let transfer = chdf5_transfer_list(fileType, memType, payload.count)
                    if transfer < 0 {
                        let error = site.libraryError("create transfer property list")
                        lm_H5Dclose(dataset)
                        throw error
                    }
                    let status = lm_H5Dwrite(dataset, memType, chdf5_s_all(), chdf5_s_all(), transfer, buffer)
                    lm_H5Pclose(transfer)
                    if status < 0 {
                        let error = site.libraryError("write dataset")
                        lm_H5Dclose(dataset)
                        throw error
                    }
                }
                return dataset
            }
            return try HDF5Dataset(handle: handle, path: site.object, id: dataset)
        }
    }
}

/// Whether the file holds the HDF5 format signature where HDF5 looks for it (offset 0, 512, 1024, 2048, ...).
/// Unreadable files answer true, so that HDF5 reports why.
func hasHDF5Signature(_ url: URL) -> Bool {
    guard let handle = try? FileHandle(forReadingFrom: url) else { return true }
    defer { try? handle.close() }
    let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
    var offset: UInt64 = 0
    while true {
        let bytes: Data?
        do {
            try handle.seek(toOffset: offset)
            bytes = try handle.read(upToCount: 8)
        } catch {
            return true
        }
        guard let bytes, bytes.count == 8 else { return false }  // the end of the file
        if Array(bytes) == signature { return true }
        offset = offset == 0 ? 512 : offset * 2
    }
}

/// An open HDF5 file; also its root group ("/"), so groups, datasets and the
/// file's own attributes are reached directly from it.
public final class HDF5File: HDF5Group {
    /// Location of the file.
    public let url: URL

    private init(url: URL, id: hid_t) {
        self.url = url
        super.init(handle: HDF5FileHandle(path: url.path, id: id), path: "/", id: id, ownsIdentifier: false)
    }

    /// Creates a new file at `url`, replacing any existing file, written by HDF5 as it goes.
    ///
    /// HDF5 1.10 cannot recover when writing such a file fails while it is closed
    /// (e.g. on a full disk): the process then crashes on exit. Files that must
    /// survive write failures are made with `writeAtomically(to:_:)`, which builds
    /// them in memory and writes them out itself.
    public static func create(at url: URL) throws -> HDF5File {
        try HDF5Library.locked {
            let site = HDF5Site(file: url.path, object: "/")
            let creation = try site.check(chdf5_untimed_file_creation(), "create file property list")
            defer { lm_H5Pclose(creation) }
            let id = try site.check(lm_H5Fcreate(url.path, chdf5_acc_trunc(), creation, chdf5_p_default()),
                                    "create file")
            return HDF5File(url: url, id: id)
        }
    }

    /// Creates a new file that lives in memory only; `url` names it in errors and is
    /// where `writeAtomically(to:_:)` puts its image. Nothing touches the disk.
    /// The image grows in 64 KiB steps, each cleared when it is added (most files written
    /// are a few tens of kilobytes; 1 MiB steps cleared a megabyte per file).
    static func createInMemory(naming url: URL) throws -> HDF5File {
        try HDF5Library.locked {
            let site = HDF5Site(file: url.path, object: "/")
            let creation = try site.check(chdf5_untimed_file_creation(), "create file property list")
            defer { lm_H5Pclose(creation) }
            let access = try site.check(chdf5_memory_file_access(1 << 16), "create file access property list")
            defer { lm_H5Pclose(access) }
            let id = try site.check(lm_H5Fcreate(url.path, chdf5_acc_trunc(), creation, access), "create file")
            return HDF5File(url: url, id: id)
        }
    }

    /// The complete bytes of the file as it would be stored on disk (flushed first).
    func image() throws -> [UInt8] {
        try HDF5Library.locked {
            let id = try openID("copy file image")
            try site.check(lm_H5Fflush(id, H5F_SCOPE_LOCAL), "flush file")
            let size = lm_H5Fget_file_image(id, nil, 0)
            if size < 0 { throw site.libraryError("copy file image") }
            var bytes = [UInt8](repeating: 0, count: size)
            let copied = bytes.withUnsafeMutableBytes { lm_H5Fget_file_image(id, $0.baseAddress, size) }
            if copied != size { throw site.libraryError("copy file image") }
            let repaired = bytes.withUnsafeMutableBufferPointer {
                chdf5_repair_superblock_checksum($0.baseAddress, $0.count) == 0
                    ? chdf5_clear_header_times_of_image($0.baseAddress, $0.count) : -1
            }
            if repaired != 0 { throw site.error("copy file image", "the image does not start with an HDF5 superblock") }
            return bytes
        }
    }

    /// Opens the existing file at `url`, read-only unless `writable`.
    public static func open(at url: URL, writable: Bool = false) throws -> HDF5File {
        try HDF5Library.locked {
            let site = HDF5Site(file: url.path, object: "/")
            // Files that cannot be HDF5 are named in plain words ("cannot open <file>: ..."), before HDF5 is
            // asked: it would wait forever on a FIFO and answer "file signature not found" for other files.
            func refuse(_ reason: String, _ number: Int32) -> HDF5Error {
                HDF5Error(file: url.path, object: "/", operation: "open file", reason: reason, systemErrorNumber: number)
            }
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
                throw refuse("no such file", ENOENT)
            }
            let type = (try? FileManager.default.attributesOfItem(atPath: url.resolvingSymlinksInPath().path))?[.type] as? FileAttributeType
            guard !isFolder.boolValue, type == nil || type == .typeRegular else {
                throw refuse(isFolder.boolValue ? "it is a folder, not an HDF5 file" : "it is not a regular file (a FIFO, socket or device)",
                             isFolder.boolValue ? EISDIR : EINVAL)
            }
            if !hasHDF5Signature(url) {
                throw refuse("it is not an HDF5 file (no HDF5 signature at its start)", EINVAL)
            }
            let flags = writable ? chdf5_acc_rdwr() : chdf5_acc_rdonly()
            let id = try site.check(lm_H5Fopen(url.path, flags, chdf5_p_default()), "open file")
            return HDF5File(url: url, id: id)
        }
    }

    /// Closes every object opened through this file, then the file itself.
    public override func close() {
        HDF5Library.locked { try? handle.close() }
    }

    /// Closes every object opened through this file, then the file, reporting failures.
    public func closeReportingErrors() throws {
        try HDF5Library.locked { try handle.close() }
    }

    /// Writes all data of the file to disk without closing it.
    public func flush() throws {
        try HDF5Library.locked {
            try site.check(lm_H5Fflush(try openID("flush file"), H5F_SCOPE_GLOBAL), "flush file")
        }
    }
}

/// A dataset: an n-dimensional array of numbers or strings, stored row-major.
public final class HDF5Dataset: HDF5Object {
    /// Extent of each dimension (empty for a scalar).
    public let shape: [Int]
    /// What the stored elements are.
    public let elementKind: HDF5ElementKind

    init(handle: HDF5FileHandle, path: String, id: hid_t) throws {
        let site = HDF5Site(file: handle.path, object: path)
        let space = lm_H5Dget_space(id)
        let type = lm_H5Dget_type(id)
        defer {
            if space >= 0 { lm_H5Sclose(space) }
            if type >= 0 { lm_H5Tclose(type) }
        }
        do {
            try site.check(space, "read dataspace")
            try site.check(type, "read datatype")
            shape = try dataspaceShape(space, site).shape
            elementKind = try classifyElements(of: type, site)
        } catch {
            lm_H5Dclose(id)
            throw error
        }
        super.init(handle: handle, path: path, id: id)
    }

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// Whether the stored data carries Fletcher32 checksums (verified by every read).
    public func hasFletcher32() throws -> Bool {
        try HDF5Library.locked {
            let value = chdf5_dataset_has_fletcher32(try openID("read dataset filters"))
            if value < 0 { throw site.libraryError("read dataset filters") }
            return value == 1
        }
    }

    /// Where the dataset's stored bytes lie in its file (byte offset and length):
    /// one range for contiguous data, one per chunk for chunked data, none when
    /// nothing is stored. Variable-length strings are stored as references here,
    /// their text elsewhere in the file.
    public func storageRanges() throws -> [(offset: UInt64, size: UInt64)] {
        try HDF5Library.locked {
            let dataset = try openID("locate dataset storage")
            let total = chdf5_dataset_storage_ranges(dataset, nil, nil, 0)
            if total < 0 { throw site.libraryError("locate dataset storage") }
            var offsets = [UInt64](repeating: 0, count: Int(total))
            var sizes = [UInt64](repeating: 0, count: Int(total))
            let filled = offsets.withUnsafeMutableBufferPointer { o in
                sizes.withUnsafeMutableBufferPointer { s in
                    chdf5_dataset_storage_ranges(dataset, o.baseAddress, s.baseAddress, total)
                }
            }
            if filled < 0 { throw site.libraryError("locate dataset storage") }
            return zip(offsets, sizes).filter { $0.1 > 0 }.map { (offset: $0.0, size: $0.1) }
        }
    }

    /// All elements as 64-bit floats (integers are converted), row-major.
    public func readDoubles() throws -> [Double] { try withReader { try $0.doubles() } }

    /// All elements as 64-bit integers, row-major; fails for floating-point data.
    public func readInt64s() throws -> [Int64] { try withReader { try $0.int64s() } }

    /// All elements as strings (variable or fixed length), row-major.
    public func readStrings() throws -> [String] { try withReader { try $0.strings() } }

    private func withReader<T>(_ body: (HDF5ElementReader) throws -> T) throws -> T {
        try HDF5Library.locked {
            let dataset = try openID("read dataset")
            let type = try site.check(lm_H5Dget_type(dataset), "read datatype")
            defer { lm_H5Tclose(type) }
            let space = try site.check(lm_H5Dget_space(dataset), "read dataspace")
            defer { lm_H5Sclose(space) }
            let count = try dataspaceShape(space, site).count
            let reader = HDF5ElementReader(site: site, fileType: type, space: space, count: count) {
                let transfer = chdf5_transfer_list(type, $0, count)
                guard transfer >= 0 else { return -1 }
                defer { lm_H5Pclose(transfer) }
                return lm_H5Dread(dataset, $0, chdf5_s_all(), chdf5_s_all(), transfer, $1)
            }
            return try body(reader)
        }
    }
}

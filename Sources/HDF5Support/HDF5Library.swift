import CHDF5
import Foundation

/// A failure reported by the HDF5 library, or a type or shape mismatch found
/// while reading, naming the file and the object path involved.
public struct HDF5Error: Error, Equatable, Sendable, CustomStringConvertible {
    /// Path of the HDF5 file.
    public var file: String
    /// Path of the object inside the file ("/" for the root group).
    public var object: String
    /// What was being attempted, e.g. "open dataset".
    public var operation: String
    /// Why it failed: the innermost HDF5 message, or our own check.
    public var reason: String
    /// The `errno` of a failed system call (writing, syncing or renaming the file), if that was the cause.
    public var systemErrorNumber: Int32?
    /// Whether HDF5 found a stored checksum that does not match the bytes read (a damaged file).
    public var isChecksumFailure: Bool

    public init(file: String, object: String, operation: String, reason: String,
                systemErrorNumber: Int32? = nil, isChecksumFailure: Bool = false) {
        self.file = file
        self.object = object
        self.operation = operation
        self.reason = reason
        self.systemErrorNumber = systemErrorNumber
        self.isChecksumFailure = isChecksumFailure
    }

    /// Whether the file could not be written because its disk (or the user's quota) is full.
    public var isOutOfSpace: Bool {
        guard let number = systemErrorNumber else { return false }
        return number == ENOSPC || number == EDQUOT
    }

    /// Whether the file outgrew the process's file-size limit (`ulimit -f`).
    public var isOverFileSizeLimit: Bool { systemErrorNumber == EFBIG }

    public var description: String {
        if systemErrorNumber != nil { return "cannot \(operation) \(file): \(reason)" }
        return "HDF5: cannot \(operation) '\(object)' in \(file): \(reason)"
    }
}

/// Plain words for a failed file operation's `errno`, with what to do for the common
/// ones, e.g. "the disk is full (no space left on the device); free some space".
public func describeFileSystemError(_ number: Int32) -> String {
    switch number {
    case ENOSPC: return "the disk is full (no space left on the device); free some space"
    case EDQUOT: return "the disk quota is used up; free some space"
    case EFBIG: return "the file would exceed the file-size limit (ulimit -f)"
    case EIO: return "the disk reported an input/output error"
    case EROFS: return "the file system is read-only; choose a writable location"
    case EACCES, EPERM: return "permission denied; check the folder's permissions or choose another location"
    case ENOENT: return "no such folder"
    case ENOTDIR: return "a part of the path is a file, not a folder"
    case ENAMETOOLONG: return "the file name is too long (at most 255 bytes per name)"
    default: return String(cString: strerror(number)).lowercased()
    }
}

/// Whether this process has loaded the HDF5 library.
///
/// HDF5 is not linked but loaded by the first HDF5 call (see CHDF5.h): commands that neither read nor write a
/// store (`lesionmap features IMAGE MASK`) never load it and its 35 dependent libraries.
public enum HDF5Runtime {
    public static var isLoaded: Bool { chdf5_is_loaded() != 0 }

    /// Loads the library now unless it is loaded already, so that the one-time loading (some 10 ms) is not
    /// counted in the first HDF5 operation that is timed. The process stops (exit 70, naming the library and
    /// its Debian package) when it cannot be loaded.
    public static func load() { chdf5_load() }
}

/// Process-wide access to the HDF5 library.
///
/// Debian's serial HDF5 is not thread-safe, so every call into the library
/// goes through one recursive lock; HDF5's automatic printing of its error
/// stack is switched off and failures become `HDF5Error`s instead.
enum HDF5Library {
    private static let lock = NSRecursiveLock()

    /// Runs `body` holding the library lock.
    static func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        // Per-thread in thread-safe builds, global otherwise; cheap either way.
        _ = chdf5_silence_errors()
        return try body()
    }

    /// The innermost message on HDF5's error stack and whether the stack reports
    /// a checksum mismatch (the stack is then cleared).
    static func takeError() -> (message: String, isChecksumFailure: Bool) {
        let checksum = chdf5_error_is_checksum_failure() != 0
        return (takeErrorMessage(), checksum)
    }

    /// The innermost message on HDF5's error stack (which is then cleared).
    static func takeErrorMessage() -> String {
        var buffer = [CChar](repeating: 0, count: 1024)
        chdf5_take_error_message(&buffer, buffer.count)
        let message = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return message.isEmpty ? "HDF5 reported a failure without a message" : message
    }
}

/// Where an HDF5 call happens, for error messages.
struct HDF5Site {
    var file: String
    var object: String

    func error(_ operation: String, _ reason: String) -> HDF5Error {
        HDF5Error(file: file, object: object, operation: operation, reason: reason)
    }

    /// An error carrying the message (and checksum verdict) of HDF5's error stack.
    func libraryError(_ operation: String) -> HDF5Error {
        let (message, checksum) = HDF5Library.takeError()
        return HDF5Error(file: file, object: object, operation: operation, reason: message,
                         isChecksumFailure: checksum)
    }

    /// Turns a negative identifier into an error carrying HDF5's own message.
    @discardableResult
    func check(_ id: hid_t, _ operation: String) throws -> hid_t {
        if id < 0 { throw libraryError(operation) }
        return id
    }

    /// Turns a negative status into an error carrying HDF5's own message.
    func check(_ status: herr_t, _ operation: String) throws {
        if status < 0 { throw libraryError(operation) }
    }

    /// Turns a negative tri-state (htri_t) into an error, otherwise its truth.
    func checkBool(_ value: htri_t, _ operation: String) throws -> Bool {
        if value < 0 { throw libraryError(operation) }
        return value > 0
    }
}

/// Joins an object path and a relative name into an absolute HDF5 path.
func joinHDF5Path(_ base: String, _ name: String) -> String {
    if name.hasPrefix("/") { return name }
    let trimmed = name.hasSuffix("/") ? String(name.dropLast()) : name
    return base == "/" ? "/" + trimmed : base + "/" + trimmed
}

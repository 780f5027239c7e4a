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

    public init(file: String, object: String, operation: String, reason: String) {
        self.file = file
        self.object = object
        self.operation = operation
        self.reason = reason
    }

    public var description: String {
        "HDF5: cannot \(operation) '\(object)' in \(file): \(reason)"
    }
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

    /// Turns a negative identifier into an error carrying HDF5's own message.
    @discardableResult
    func check(_ id: hid_t, _ operation: String) throws -> hid_t {
        if id < 0 { throw error(operation, HDF5Library.takeErrorMessage()) }
        return id
    }

    /// Turns a negative status into an error carrying HDF5's own message.
    func check(_ status: herr_t, _ operation: String) throws {
        if status < 0 { throw error(operation, HDF5Library.takeErrorMessage()) }
    }

    /// Turns a negative tri-state (htri_t) into an error, otherwise its truth.
    func checkBool(_ value: htri_t, _ operation: String) throws -> Bool {
        if value < 0 { throw error(operation, HDF5Library.takeErrorMessage()) }
        return value > 0
    }
}

/// Joins an object path and a relative name into an absolute HDF5 path.
func joinHDF5Path(_ base: String, _ name: String) -> String {
    if name.hasPrefix("/") { return name }
    let trimmed = name.hasSuffix("/") ? String(name.dropLast()) : name
    return base == "/" ? "/" + trimmed : base + "/" + trimmed
}

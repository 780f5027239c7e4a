import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file the user named that cannot be used, in one plain sentence: which file and why.
public struct InputFileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// Reading files the user names (manifests, settings, signatures, label tables), refusing what is not a
/// regular file before opening it: a FIFO would block the reader forever, and Foundation reports a folder
/// or a FIFO as "You don't have permission".
public enum InputFile {
    /// What sits at a path, following symbolic links.
    public enum Kind: Sendable, Equatable {
        case missing, regular, directory, fifo, socket, characterDevice, blockDevice, other

        /// "a folder", "a FIFO (named pipe)", ... for messages.
        public var phrase: String {
            switch self {
            case .missing: return "missing"
            case .regular: return "a file"
            case .directory: return "a folder"
            case .fifo: return "a FIFO (named pipe)"
            case .socket: return "a socket"
            case .characterDevice: return "a character device"
            case .blockDevice: return "a block device"
            case .other: return "not a regular file"
            }
        }
    }

    /// What `url` is (symbolic links followed).
    public static func kind(_ url: URL) -> Kind {
        var st = stat()
        guard stat(url.path, &st) == 0 else { return .missing }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        case S_IFIFO: return .fifo
        case S_IFSOCK: return .socket
        case S_IFCHR: return .characterDevice
        case S_IFBLK: return .blockDevice
        default: return .other
        }
    }

    /// Throws a plain error unless `url` is an existing regular file; `what` names it ("settings file").
    public static func requireRegularFile(_ url: URL, what: String) throws {
        switch kind(url) {
        case .regular: return
        case .missing:
            let parent = url.deletingLastPathComponent()
            let hint = kind(parent) == .directory ? "" : " (the folder \(parent.path) does not exist either)"
            throw InputFileError(path: url.path, message: "no such \(what)\(hint)")
        case let k:
            throw InputFileError(path: url.path, message: "is \(k.phrase), not a regular file; give the \(what) itself")
        }
    }

    /// The bytes of a regular file, or a plain error naming it.
    public static func contents(_ url: URL, what: String) throws -> Data {
        try requireRegularFile(url, what: what)
        do {
            return try Data(contentsOf: url)
        } catch {
            throw InputFileError(path: url.path, message: "cannot be read: " + ErrorText.reason(error))
        }
    }

    /// The text of a regular UTF-8 file (a leading byte-order mark is dropped), or a plain error: UTF-16 and
    /// other encodings are named with the way to fix them.
    public static func utf8Text(_ url: URL, what: String) throws -> String {
        let data = try contents(url, what: what)
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
            throw InputFileError(path: url.path, message: "is UTF-16 text; save it as UTF-8 (in a spreadsheet: \"CSV UTF-8\")")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            let bad = firstInvalidUTF8(bytes)
            throw InputFileError(path: url.path, message: "is not UTF-8 text (invalid byte at line \(bad.line)); save it as UTF-8")
        }
        return text
    }

    /// Offset and line (1-based) of the first byte that breaks UTF-8.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> (offset: Int, line: Int) {
        var i = 0, line = 1
        while i < bytes.count {
            let b = bytes[i]
            let length = b < 0x80 ? 1 : (b & 0xE0 == 0xC0 ? 2 : (b & 0xF0 == 0xE0 ? 3 : (b & 0xF8 == 0xF0 ? 4 : 0)))
            guard length > 0, i + length <= bytes.count,
                  String(validating: bytes[i..<(i + length)], as: UTF8.self) != nil else { break }
            if b == 0x0A { line += 1 }
            i += length
        }
        return (i, line)
    }
}

/// Plain one-line descriptions of errors, for messages users read: no `Error Domain=NSCocoaErrorDomain ...`
/// dumps and no `DecodingError.keyNotFound(...)` reflections.
public enum ErrorText {
    /// The error as a plain sentence: LesionMap's own errors as they describe themselves, Foundation file
    /// errors as "cannot write /x/y.h5: permission denied; ...", decoding errors by key path.
    public static func plain(_ error: Error) -> String {
        if let e = error as? CocoaError { return cocoa(e) }
        if let e = error as? POSIXError { return posixReason(e.code.rawValue) }
        if let e = error as? DecodingError { return decoding(e) }
        let ns = error as NSError
        if ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain {
            if ns.domain == NSPOSIXErrorDomain { return posixReason(Int32(ns.code)) }
            return cocoa(CocoaError(CocoaError.Code(rawValue: ns.code), userInfo: ns.userInfo))
        }
        return String(describing: error)
    }

    /// The reason part only ("permission denied", "no such file or folder"), for messages that already name the file.
    public static func reason(_ error: Error) -> String {
        if let e = error as? CocoaError { return cocoaReason(e) }
        return plain(error)
    }

    static func cocoa(_ e: CocoaError) -> String {
        let code = e.code.rawValue
        let verb = (256..<512).contains(code) ? "cannot read" : ((512..<1024).contains(code) ? "cannot write" : "cannot use")
        let path = e.filePath ?? e.url?.path
        return path.map { "\(verb) \($0): " } .map { $0 + cocoaReason(e) } ?? "\(verb) a file: \(cocoaReason(e))"
    }

    static func cocoaReason(_ e: CocoaError) -> String {
        let path = e.filePath ?? e.url?.path
        if let errno = (e.underlying as? POSIXError)?.code.rawValue ?? underlyingErrno(e) {
            // Foundation reports a FIFO or a device as "no permission": say what it is instead.
            if errno == EACCES, let path, InputFile.kind(URL(fileURLWithPath: path)) != .regular,
               InputFile.kind(URL(fileURLWithPath: path)) != .missing, InputFile.kind(URL(fileURLWithPath: path)) != .directory {
                return "it is \(InputFile.kind(URL(fileURLWithPath: path)).phrase), not a regular file"
            }
            return posixReason(errno)
        }
        switch e.code {
        case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file or folder"
        case .fileReadNoPermission, .fileWriteNoPermission: return "permission denied; check the folder's permissions or choose another location"
        case .fileWriteVolumeReadOnly: return "the file system is read-only; choose a writable location"
        case .fileWriteOutOfSpace: return "no space left on the device"
        case .fileWriteInvalidFileName: return "the file name is invalid (too long, or a character the file system refuses)"
        case .fileWriteFileExists: return "a file of that name already exists"
        case .fileReadCorruptFile, .fileReadInapplicableStringEncoding, .fileReadUnknownStringEncoding:
            return "the contents are not in the expected format or text encoding"
        default: return "error \(e.code.rawValue)"
        }
    }

    private static func underlyingErrno(_ e: CocoaError) -> Int32? {
        guard let u = e.userInfo[NSUnderlyingErrorKey] as? NSError, u.domain == NSPOSIXErrorDomain else { return nil }
        return Int32(u.code)
    }

    /// A system error number in words, with what to do for the common ones.
    public static func posixReason(_ code: Int32) -> String {
        switch code {
        case EACCES, EPERM: return "permission denied; check the folder's permissions or choose another location"
        case EROFS: return "the file system is read-only; choose a writable location"
        case ENOSPC: return "no space left on the device; free some space or choose another location"
        case EDQUOT: return "the disk quota is exceeded"
        case ENOENT: return "no such file or folder"
        case ENOTDIR: return "a part of the path is a file, not a folder"
        case EISDIR: return "it is a folder; give a file"
        case ENAMETOOLONG: return "the file name is too long (at most 255 bytes per name)"
        case EEXIST: return "it already exists"
        default: return String(cString: strerror(code)).lowercased()
        }
    }

    /// A decoding error by key path: "missing key 'resampling.spacing'", "key 'mode': expected text".
    public static func decoding(_ e: DecodingError) -> String {
        func path(_ c: [CodingKey], _ last: CodingKey? = nil) -> String {
            let keys = c + (last.map { [$0] } ?? [])
            return keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
                .replacingOccurrences(of: ".[", with: "[")
        }
        switch e {
        case .keyNotFound(let key, let c):
            return "missing key '\(path(c.codingPath, key))'"
        case .typeMismatch(let type, let c):
            return "key '\(path(c.codingPath))' has the wrong type (expected \(typeName(type)))"
        case .valueNotFound(let type, let c):
            return "key '\(path(c.codingPath))' is null but needs \(typeName(type))"
        case .dataCorrupted(let c):
            let at = c.codingPath.isEmpty ? "" : "key '\(path(c.codingPath))': "
            return at + c.debugDescription
        @unknown default:
            return "the data cannot be decoded"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        let name = String(describing: type)
        switch name {
        case "Int", "Double", "Float", "Int64", "UInt64", "Int32": return "a number"
        case "String": return "text"
        case "Bool": return "true or false"
        default:
            if name.hasPrefix("Array") { return "a list" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "a value of type \(name)"
        }
    }
}

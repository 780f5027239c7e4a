import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension HDF5File {
    /// Writes a complete new file at `url` through `body`, so that a crash at
    /// any moment leaves either the previous file or the complete new one.
    ///
    /// The file is built under a temporary name in the same directory, closed,
    /// synced to disk, renamed over `url`, and the directory entry synced.
    /// On failure the temporary file is removed and `url` is untouched.
    public static func writeAtomically(to url: URL, _ body: (HDF5File) throws -> Void) throws {
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(temporaryPrefix(for: url) + UUID().uuidString)
        // A folder where no file can be made (read-only, no permission, full) is reported with its system
        // reason as a Foundation file error, not as HDF5's internal open message.
        let probe = createProbe(temporary.path)
        guard probe >= 0 else {
            let code = errno
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path,
                                                           NSUnderlyingErrorKey: NSError(domain: NSPOSIXErrorDomain, code: Int(code))])
        }
        closeProbe(probe)
        unlink(temporary.path)
        do {
            let file = try create(at: temporary)
            do {
                try body(file)
            } catch {
                file.close()
                throw error
            }
            try file.closeReportingErrors()
            try syncToDisk(temporary, target: url)
            if rename(temporary.path, url.path) != 0 {
                throw HDF5Error(file: url.path, object: "/", operation: "replace file",
                                reason: "rename from \(temporary.lastPathComponent) failed: \(errnoText())")
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
        try syncToDisk(url.deletingLastPathComponent(), target: url)
    }

    /// Temporary files that an interrupted `writeAtomically(to: url)` left behind.
    public static func leftoverTemporaryFiles(for url: URL) -> [URL] {
        let directory = url.deletingLastPathComponent()
        let prefix = temporaryPrefix(for: url)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasPrefix(prefix) }.sorted().map { directory.appendingPathComponent($0) }
    }

    private static func temporaryPrefix(for url: URL) -> String {
        "." + url.lastPathComponent + ".tmp-"
    }
}

/// fsync of a file or directory, reporting failures against `target`.
private func syncToDisk(_ path: URL, target: URL) throws {
    let descriptor = open(path.path, O_RDONLY)
    guard descriptor >= 0 else {
        throw HDF5Error(file: target.path, object: "/", operation: "sync \(path.path)", reason: errnoText())
    }
    defer { close(descriptor) }
    if fsync(descriptor) != 0 {
        throw HDF5Error(file: target.path, object: "/", operation: "sync \(path.path)", reason: errnoText())
    }
}

/// A new empty file (O_EXCL), or -1 with errno set.
private func createProbe(_ path: String) -> Int32 {
    #if canImport(Glibc)
    Glibc.open(path, O_CREAT | O_EXCL | O_WRONLY, 0o600)
    #else
    Darwin.open(path, O_CREAT | O_EXCL | O_WRONLY, 0o600)
    #endif
}

private func closeProbe(_ descriptor: Int32) {
    #if canImport(Glibc)
    _ = Glibc.close(descriptor)
    #else
    _ = Darwin.close(descriptor)
    #endif
}

private func errnoText() -> String { String(cString: strerror(errno)) }

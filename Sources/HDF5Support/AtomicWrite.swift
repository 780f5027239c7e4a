import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension HDF5File {
    /// Writes a complete new file at `url` through `body`, so that a crash, a kill
    /// or a failed write (full disk, file-size limit, I/O error) at any moment leaves
    /// either the previous file or the complete new one.
    ///
    /// A temporary file is made first in the same directory (so a folder where no
    /// file can be made fails at once, before any work). The file is then built in
    /// memory by `body`, its image written into the temporary file and synced to
    /// disk, the temporary file renamed over `url`, and the directory entry synced.
    /// HDF5 itself never writes to disk here: HDF5 1.10 cannot recover from a write
    /// that fails while a disk file is closed (the process later crashes in HDF5's
    /// exit handler), whereas a failed write of the image is an ordinary error.
    /// On failure the temporary file is removed, `url` is untouched, and the error
    /// names `url`, with `systemErrorNumber` set when the system refused the write.
    public static func writeAtomically(to url: URL, _ body: (HDF5File) throws -> Void) throws {
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(temporaryPrefix(for: url) + UUID().uuidString)
        let descriptor = createExclusively(temporary.path)
        guard descriptor >= 0 else { throw fileSystemError(url, errno) }
        var isOpen = true
        do {
            let image = try buildImage(naming: url, body)
            try writeAll(image, to: descriptor, target: url)
            if fsync(descriptor) != 0 { throw fileSystemError(url, errno) }
            isOpen = false
            // Some file systems (e.g. NFS) report a failed write only when the file is closed.
            if closeDescriptor(descriptor) != 0 { throw fileSystemError(url, errno) }
            if rename(temporary.path, url.path) != 0 { throw fileSystemError(url, errno) }
        } catch {
            if isOpen { _ = closeDescriptor(descriptor) }
            unlink(temporary.path)
            throw error
        }
        try syncDirectory(of: url)
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

    /// The bytes of a file built in memory by `body`.
    private static func buildImage(naming url: URL, _ body: (HDF5File) throws -> Void) throws -> [UInt8] {
        let file = try createInMemory(naming: url)
        let image: [UInt8]
        do {
            try body(file)
            image = try file.image()
        } catch {
            file.close()
            throw error
        }
        try file.closeReportingErrors()
        return image
    }
}

/// A new file (O_EXCL) open for writing, or -1 with errno set.
private func createExclusively(_ path: String) -> Int32 {
    open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
}

private func closeDescriptor(_ descriptor: Int32) -> Int32 { close(descriptor) }

/// Writes all of `bytes` to `descriptor`, reporting failures against `target`.
private func writeAll(_ bytes: [UInt8], to descriptor: Int32, target: URL) throws {
    try bytes.withUnsafeBytes { buffer in
        var written = 0
        while written < buffer.count {
            let count = write(descriptor, buffer.baseAddress! + written, buffer.count - written)
            if count < 0 {
                if errno == EINTR { continue }
                throw fileSystemError(target, errno)
            }
            written += count
        }
    }
}

/// fsync of the directory holding `target`, so that its new name is durable.
private func syncDirectory(of target: URL) throws {
    let descriptor = open(target.deletingLastPathComponent().path, O_RDONLY)
    guard descriptor >= 0 else { throw fileSystemError(target, errno) }
    defer { close(descriptor) }
    if fsync(descriptor) != 0 { throw fileSystemError(target, errno) }
}

private func fileSystemError(_ target: URL, _ number: Int32) -> HDF5Error {
    HDF5Error(file: target.path, object: "/", operation: "write", reason: describeFileSystemError(number),
              systemErrorNumber: number)
}

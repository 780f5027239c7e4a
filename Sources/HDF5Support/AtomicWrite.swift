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
        try withoutActuallyEscaping(body) { body in
            try writeAtomically([AtomicFile(url: url, body: body)])
        }
    }

    /// A file for `writeAtomically(_:)`: where it goes and what builds it.
    public struct AtomicFile {
        public let url: URL
        public let body: (HDF5File) throws -> Void
        public init(url: URL, body: @escaping (HDF5File) throws -> Void) {
            self.url = url
            self.body = body
        }
    }

    /// Writes several complete new files, each atomically as `writeAtomically(to:_:)` does, and returns
    /// when all are durable.
    ///
    /// The images are built one after another (HDF5 is serial), then written, synced and renamed on several
    /// threads at once (`BlockingIO`), and each directory is synced once at the end: the waits for the disk
    /// overlap instead of adding up. Each file on its own is either its previous version or complete. When
    /// one fails, the error of the first failing file (in the order given) is thrown after the others have
    /// finished; files that were renamed before it are complete and durable, the others untouched.
    public static func writeAtomically(_ files: [AtomicFile]) throws {
        try AtomicFiles.write(files.map(\.url)) { try buildImage(naming: files[$0].url, files[$0].body) }
    }

    /// Temporary files that an interrupted `writeAtomically(to: url)` left behind.
    public static func leftoverTemporaryFiles(for url: URL) -> [URL] {
        let directory = url.deletingLastPathComponent()
        let prefix = temporaryPrefix(for: url)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasPrefix(prefix) }.sorted().map { directory.appendingPathComponent($0) }
    }

    static func temporaryPrefix(for url: URL) -> String {
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

/// Complete new files written so that a crash, a kill or a failed write (full disk, file-size limit, I/O
/// error) at any moment leaves each either as it was or complete: a temporary file in the same directory,
/// written, synced, renamed over the target, and the directory synced.
public enum AtomicFiles {
    /// Writes `bytes` to `url` atomically (see `write(_:image:)`).
    public static func write(_ bytes: [UInt8], to url: URL) throws {
        try write([url]) { _ in bytes }
    }

    /// Writes the files `urls`, the bytes of file `n` given by `image(n)`, each atomically, and returns
    /// when all are durable.
    ///
    /// The temporary files are made first (a folder where no file can be made fails at once, before any
    /// work), the images built one after another, then written, synced and renamed on several threads at
    /// once (`BlockingIO`), and each directory synced once at the end: the waits for the disk overlap instead
    /// of adding up. When one fails, the error of the first failing file (in the order given) is thrown
    /// after the others have finished; files renamed before it are complete and durable, the others
    /// untouched. Errors name the target file, with `systemErrorNumber` set when the system refused.
    public static func write(_ urls: [URL], image: (Int) throws -> [UInt8]) throws {
        var temporaries: [(path: String, descriptor: Int32)] = []
        let images: [[UInt8]]
        do {
            for url in urls {
                let temporary = url.deletingLastPathComponent()
                    .appendingPathComponent(HDF5File.temporaryPrefix(for: url) + UUID().uuidString).path
                let descriptor = createExclusively(temporary)
                guard descriptor >= 0 else { throw fileSystemError(url, errno) }
                temporaries.append((temporary, descriptor))
            }
            images = try urls.indices.map(image)
        } catch {
            for temporary in temporaries {
                _ = closeDescriptor(temporary.descriptor)
                unlink(temporary.path)
            }
            throw error
        }
        let opened = temporaries
        let outcomes = WriteOutcomes(count: urls.count)
        BlockingIO.forEach(urls.count) { n in
            let (temporary, descriptor) = opened[n], target = urls[n]
            var isOpen = true
            do {
                try writeAll(images[n], to: descriptor, target: target)
                if fsync(descriptor) != 0 { throw fileSystemError(target, errno) }
                isOpen = false
                // Some file systems (e.g. NFS) report a failed write only when the file is closed.
                if closeDescriptor(descriptor) != 0 { throw fileSystemError(target, errno) }
                if rename(temporary, target.path) != 0 { throw fileSystemError(target, errno) }
                outcomes.set(n, nil)
            } catch {
                if isOpen { _ = closeDescriptor(descriptor) }
                unlink(temporary)
                outcomes.set(n, error)
            }
        }
        let failures = outcomes.errors
        // Each directory that got a new name, once, reported against the first file renamed into it.
        var directories: [(directory: URL, target: URL)] = []
        for (n, url) in urls.enumerated() where failures[n] == nil {
            let directory = url.deletingLastPathComponent()
            if !directories.contains(where: { $0.directory == directory }) { directories.append((directory, url)) }
        }
        for (directory, target) in directories { try syncDirectory(directory, naming: target) }
        if let failure = failures.compactMap({ $0 }).first { throw failure }
    }
}

/// A new file (O_EXCL) open for writing, or -1 with errno set.
private func createExclusively(_ path: String) -> Int32 {
    open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
}

private func closeDescriptor(_ descriptor: Int32) -> Int32 { close(descriptor) }

/// The error (or nil) of each file of a batch write, set from several threads.
private final class WriteOutcomes: @unchecked Sendable {
    // @unchecked: `slots` is read and written only with `lock` held.
    private let lock = NSLock()
    private var slots: [(any Error)?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ error: (any Error)?) {
        lock.lock()
        slots[index] = error
        lock.unlock()
    }

    var errors: [(any Error)?] {
        lock.lock()
        defer { lock.unlock() }
        return slots
    }
}

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

/// fsync of `directory`, so that the new names in it are durable; failures are reported against `target`.
private func syncDirectory(_ directory: URL, naming target: URL) throws {
    let descriptor = open(directory.path, O_RDONLY)
    guard descriptor >= 0 else { throw fileSystemError(target, errno) }
    defer { close(descriptor) }
    if fsync(descriptor) != 0 { throw fileSystemError(target, errno) }
}

private func fileSystemError(_ target: URL, _ number: Int32) -> HDF5Error {
    HDF5Error(file: target.path, object: "/", operation: "write", reason: describeFileSystemError(number),
              systemErrorNumber: number)
}

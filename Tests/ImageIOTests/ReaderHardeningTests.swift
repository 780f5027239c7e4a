import Foundation
import ImageIO
import ImagingCore
import TestSupport
import XCTest
import ZlibSupport

/// Inputs found by (or written after) fuzzing the image readers: files that are not regular files,
/// NRRD headers whose data is read as text. Each must be refused promptly with a message naming the file.
final class ReaderHardeningTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = try SharedData.temporaryDirectory(for: self)
    }

    /// Runs `body` on another thread; when it has not returned after `seconds`, opens `fifo` for
    /// writing and closes it again (so a reader blocked opening the FIFO sees end of file and the
    /// thread ends) and fails: the reader waited on the FIFO instead of refusing it.
    private func refusesPromptly(_ fifo: URL, seconds: Double = 10, file: StaticString = #filePath, line: UInt = #line,
                                 _ body: @escaping @Sendable () -> Error?) -> Error? {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var outcome: Error?
        Thread.detachNewThread {
            outcome = body()
            done.signal()
        }
        if done.wait(timeout: .now() + seconds) == .timedOut {
            XCTFail("the reader blocked on the FIFO for \(Int(seconds)) s instead of refusing it", file: file, line: line)
            let fd = open(fifo.path, O_WRONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
            _ = done.wait(timeout: .now() + 10)
            return nil
        }
        return outcome
    }

    func testAnImageFileThatIsAFIFOIsRefusedNotWaitedOn() throws {
        for name in ["pipe.nii", "pipe.nii.gz", "pipe.nrrd"] {
            let fifo = dir.appendingPathComponent(name)
            XCTAssertEqual(mkfifo(fifo.path, 0o644), 0)
            let error = refusesPromptly(fifo) {
                do { _ = try ImageFile.readImage(fifo); return nil } catch { return error }
            }
            guard let e = error as? ImageIOError else { XCTFail("\(name): not refused with an ImageIOError: \(String(describing: error))"); continue }
            XCTAssertEqual(e.file, fifo)
            XCTAssertTrue(e.reason.contains("FIFO"), e.reason)
        }
    }

    func testANRRDDataFileThatIsAFIFOIsRefusedNotWaitedOn() throws {
        let fifo = dir.appendingPathComponent("data.raw")
        XCTAssertEqual(mkfifo(fifo.path, 0o644), 0)
        let header = dir.appendingPathComponent("image.nhdr")
        try Data("NRRD0004\ntype: short\ndimension: 3\nsizes: 2 2 2\nencoding: raw\ndata file: data.raw\n".utf8).write(to: header)
        let error = refusesPromptly(fifo) {
            do { _ = try ImageFile.readImage(header); return nil } catch { return error }
        }
        let e = try XCTUnwrap(error as? ImageIOError, String(describing: error))
        XCTAssertEqual(e.file, header)
        XCTAssertTrue(e.reason.contains("data.raw") && e.reason.contains("FIFO"), e.reason)
    }

    /// `data file: /dev/zero` would be read until memory runs out; a folder cannot be read either.
    func testANRRDDataFileThatIsADeviceOrFolderIsRefused() throws {
        let header = dir.appendingPathComponent("image.nhdr")
        for (target, word) in [("/dev/zero", "device"), ("/dev/urandom", "device"), (".", "folder"), ("/", "folder")] {
            try Data("NRRD0004\ntype: short\ndimension: 3\nsizes: 2 2 2\nencoding: raw\ndata file: \(target)\n".utf8)
                .write(to: header)
            XCTAssertThrowsError(try ImageFile.readImage(header), target) { error in
                let reason = (error as? ImageIOError)?.reason ?? "\(error)"
                XCTAssertTrue(reason.contains(word) && reason.contains("not a regular file"), reason)
            }
        }
        XCTAssertThrowsError(try ImageFile.readImage(URL(fileURLWithPath: "/dev/zero.nii"))) // absent: "cannot be read"
    }

    func testAFolderNamedLikeAnImageIsRefused() throws {
        let folder = dir.appendingPathComponent("scan.nii")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        XCTAssertThrowsError(try ImageFile.readImage(folder)) { error in
            XCTAssertTrue((error as? ImageIOError)?.reason.contains("is a folder") ?? false, "\(error)")
        }
    }

    /// Found by fuzzing: an attached NRRD whose blank line is missing had its voxel bytes echoed as a
    /// "header line" into the message. The message gives the line number and says what is wrong instead.
    func testVoxelBytesReadAsAHeaderLineAreDescribedNotEchoed() throws {
        let url = dir.appendingPathComponent("noblank.nrrd")
        let voxels = Data((0..<16).map { UInt8($0 * 17) })
        try (Data("NRRD0004\ntype: short\ndimension: 3\nsizes: 2 2 2\nencoding: raw\n".utf8) + voxels).write(to: url)
        XCTAssertThrowsError(try ImageFile.readImage(url)) { error in
            let reason = (error as? ImageIOError)?.reason ?? "\(error)"
            XCTAssertTrue(reason.contains("malformed header line 6"), reason)
            XCTAssertTrue(reason.contains("blank line"), reason)
            XCTAssertFalse(reason.unicodeScalars.contains { $0.value < 0x20 || $0 == "\u{FFFD}" }, reason)
        }
        // A text line keeps being quoted, cut at 80 characters.
        try Data(("NRRD0004\ntype short " + String(repeating: "x", count: 200) + "\n").utf8).write(to: url)
        XCTAssertThrowsError(try ImageFile.readImage(url)) { error in
            let reason = (error as? ImageIOError)?.reason ?? "\(error)"
            XCTAssertTrue(reason.contains("malformed header line 2: \"type short xxx"), reason)
            XCTAssertLessThan(reason.count, 140, reason)
        }
    }
    // MARK: - Compressed data larger than the header describes

    private func smallImage() -> Volume<Int16> {
        let grid = ImageGrid(size: Size3(4, 4, 4), spacing: Vector3(1, 1, 2))
        return Volume(grid: grid, voxels: (0..<64).map { Int16($0 * 3 - 90) })
    }

    /// A 4x4x4 image whose gzip stream carries 64 MB more (a decompression bomb, 64 KB on disk): refused
    /// after decompressing at most the described size plus 1 MB, instead of being expanded and accepted.
    func testCompressedNIfTIExpandingFarBeyondItsHeaderIsRefused() throws {
        let plain = dir.appendingPathComponent("small.nii")
        try NIfTI.write(smallImage(), to: plain)
        let bomb = dir.appendingPathComponent("bomb.nii.gz")
        try Gzip.compress(try Data(contentsOf: plain) + Data(count: 64 << 20), level: 9).write(to: bomb)
        XCTAssertLessThan(try Data(contentsOf: bomb).count, 200_000)
        XCTAssertThrowsError(try NIfTI.readImage(bomb)) { error in
            let reason = (error as? ImageIOError)?.reason ?? "\(error)"
            XCTAssertTrue(reason.contains("describes 480 bytes") && reason.contains("decompression bomb"), reason)
        }
        // A little padding after the voxels is still read, as other readers do.
        let padded = dir.appendingPathComponent("padded.nii.gz")
        try Gzip.compress(try Data(contentsOf: plain) + Data(count: 1000)).write(to: padded)
        XCTAssertEqual(try NIfTI.readImage(padded).voxels, smallImage().voxels.map(Float.init))
    }

    /// A header claiming 32767³ float64 voxels (2.8e14 bytes) in a 300-byte .nii.gz is refused from the
    /// header alone: the compressed bytes cannot hold that much.
    func testCompressedNIfTIWhoseHeaderClaimsMoreThanTheFileCanHoldIsRefusedBeforeDecompressing() throws {
        let plain = dir.appendingPathComponent("small.nii")
        try NIfTI.write(smallImage(), to: plain)
        var bytes = [UInt8](try Data(contentsOf: plain))
        for axis in 1...3 { bytes[40 + 2 * axis] = 0xFF; bytes[41 + 2 * axis] = 0x7F }
        bytes[70] = 64; bytes[71] = 0; bytes[72] = 64; bytes[73] = 0
        let url = dir.appendingPathComponent("claims.nii.gz")
        try Gzip.compress(Data(bytes)).write(to: url)
        XCTAssertThrowsError(try NIfTI.readImage(url)) { error in
            let reason = (error as? ImageIOError)?.reason ?? "\(error)"
            XCTAssertTrue(reason.contains("more than its") && reason.contains("can hold"), reason)
        }
    }

    /// The same for NRRD gzip encoding: 2x2x2 shorts whose gzip stream expands to 32 MB.
    func testNRRDGzipDataExpandingFarBeyondItsHeaderIsRefused() throws {
        let url = dir.appendingPathComponent("bomb.nrrd")
        let header = Data("NRRD0004\ntype: short\ndimension: 3\nsizes: 2 2 2\nencoding: gzip\n\n".utf8)
        try (header + Gzip.compress(Data(count: 32 << 20), level: 9)).write(to: url)
        XCTAssertThrowsError(try ImageFile.readImage(url)) { error in
            let reason = (error as? ImageIOError)?.reason ?? "\(error)"
            XCTAssertTrue(reason.contains("describes 16 bytes") && reason.contains("decompression bomb"), reason)
        }
        let fine = dir.appendingPathComponent("fine.nrrd")
        try (header + Gzip.compress(Data((0..<16).map { UInt8($0) }))).write(to: fine)
        XCTAssertEqual(try ImageFile.readImage(fine).voxels.count, 8)
    }
}

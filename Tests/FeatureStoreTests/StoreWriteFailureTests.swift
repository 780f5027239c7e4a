import FeatureStore
import Foundation
import HDF5Support
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A store that cannot be written because the disk is full (issue 12, item 1).
///
/// The write runs in a child process (this test binary, re-run on one test) under a file-size
/// limit: writes past the limit fail with EFBIG exactly as writes to a full disk fail with
/// ENOSPC, and no privileges are needed. HDF5 1.10 used to crash (SIGSEGV in its exit handler)
/// after such a failure; the child must instead end with a clear error and exit status 1, and a
/// re-run without the limit must resume to the store an uninterrupted run writes.
final class StoreWriteFailureTests: XCTestCase {
    private static let childDirectory = "LESIONMAP_WRITE_FAILURE_DIR"
    private static let childLimit = "LESIONMAP_WRITE_FAILURE_LIMIT"
    /// "extract" (default): the extraction writer; "add-table": read the store, add a table, write
    /// it back, as `score`, `plan` and `compare` do.
    private static let childMode = "LESIONMAP_WRITE_FAILURE_MODE"

    /// Patients big enough (about 50 kB of features each) that the store outgrows a small limit.
    static let manifest = (1...12).map { String(format: "B%02d", $0) }

    static func result(_ id: String) throws -> PatientExtraction {
        let n = Int(id.dropFirst())!
        let rows = 6
        let lesions = try Table([
            "lesion_id": .text((0..<rows).map { "\(id)-L\($0)" }),
            "location": .text((0..<rows).map { $0 % 2 == 0 ? "liver" : "lung" }),
            "volume_ml": .number((0..<rows).map { Double(n) + Double($0) / 8 }),
        ])
        let names = (0..<500).map { "intensity.f\($0)" }
        let matrix = try FeatureMatrix(names: names, rows: (0..<rows).map { r in
            names.indices.map { Double(n * 100_000 + r * 1000 + $0) / 7 }
        })
        return try PatientExtraction(patientID: id, lesions: lesions, features: ["tumour": matrix])
    }

    /// The child: commits every patient and finishes, under the file-size limit if one is given.
    /// Prints "committed <id>" per commit and "error: <message>" (then exits 1) on failure.
    func testChildProcessWritesStore() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let directory = environment[Self.childDirectory] else {
            throw XCTSkip("runs only as the child process of testFullDiskEndsWithCleanErrorAndResumes")
        }
        if let limit = environment[Self.childLimit].flatMap({ rlim_t($0) }) {
            // As `lesionmap` does: a file-size limit is an error to report, not a signal to die of.
            signal(SIGXFSZ, SIG_IGN)
            var bounds = rlimit(rlim_cur: limit, rlim_max: limit)
            guard setrlimit(Int32(RLIMIT_FSIZE.rawValue), &bounds) == 0 else { fatalError("setrlimit failed") }
        }
        let store = URL(fileURLWithPath: directory).appendingPathComponent("cohort.h5")
        if environment[Self.childMode] == "add-table" {
            do {
                var contents = try StoreContents.read(from: store)
                let ids = try contents.lesions.texts("lesion_id")
                contents.tables["scores/big"] = StoreTable(table: try Table([
                    "lesion_id": .text(ids),
                    "score": .number(ids.indices.map { Double($0) / 3 }),
                    "note": .text(ids.map { String(repeating: "score of lesion \($0); ", count: 40) }),
                ]))
                try contents.write(to: store)
                Self.say("finished")
            } catch {
                Self.say("error: \(error)")
                exit(1)
            }
            exit(0)
        }
        do {
            let opening = ProcessInfo.processInfo.systemUptime
            let writer = try ExtractionStoreWriter(storeURL: store, settingsJSON: StoreFixtures.settingsJSON,
                                                   patientOrder: Self.manifest, consolidationInterval: 0,
                                                   warn: { Self.say("warning: \($0)") })
            // The writer spaces rewrites of the main store by 4 times the last rewrite's duration, here at most the
            // time opening took (it wrote the empty store). Waiting that long makes the first commit rewrite the
            // store, with one patient, under the limit: otherwise whether any rewrite came before the store outgrew
            // the limit depended on timing (the store then held no patient; about 1 run in 25).
            let opened = ProcessInfo.processInfo.systemUptime
            Thread.sleep(forTimeInterval: 4 * (opened - opening) + 0.01)
            for id in Self.manifest where !writer.isFinished(id) {
                try writer.commit(Self.result(id))
                Self.say("committed \(id)")
            }
            try writer.finish()
            Self.say("finished")
        } catch {
            Self.say("error: \(error)")
            exit(1)
        }
        exit(0)
    }

    /// One line on standard error, unbuffered, so that it survives a crash of the child.
    private static func say(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    private struct ChildRun {
        var status: Int32
        var crashed: Bool
        var output: String
    }

    private func runChild(directory: URL, limit: Int?, mode: String = "extract") throws -> ChildRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["FeatureStoreTests.StoreWriteFailureTests/testChildProcessWritesStore"]
        var environment = ProcessInfo.processInfo.environment
        environment[Self.childDirectory] = directory.path
        environment[Self.childLimit] = limit.map(String.init)
        environment[Self.childMode] = mode
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ChildRun(status: process.terminationStatus, crashed: process.terminationReason == .uncaughtSignal,
                        output: String(decoding: data, as: UTF8.self))
    }

    private func makeDirectory(_ parent: URL, _ name: String) throws -> URL {
        let url = parent.appendingPathComponent(name, isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func testFullDiskEndsWithCleanErrorAndResumes() throws {
        let root = try SharedData.temporaryDirectory(for: self)
        let reference = try makeDirectory(root, "reference")
        let clean = try runChild(directory: reference, limit: nil)
        XCTAssertEqual(clean.status, 0, clean.output)
        let referenceStore = reference.appendingPathComponent("cohort.h5")
        let referenceSize = try XCTUnwrap(
            try FileManager.default.attributesOfItem(atPath: referenceStore.path)[.size] as? Int)

        let directory = try makeDirectory(root, "limited")
        let store = directory.appendingPathComponent("cohort.h5")
        // Room for the part files and a store of a few patients, not for the whole store.
        let limited = try runChild(directory: directory, limit: referenceSize / 3)
        XCTAssertFalse(limited.crashed, "the writer died of a signal:\n\(limited.output)")
        XCTAssertEqual(limited.status, 1, limited.output)
        let errorLine: String? = limited.output.split(separator: "\n").first { $0.hasPrefix("error: ") }.map { String($0) }
        let message = try XCTUnwrap(errorLine, "no error line in:\n\(limited.output)")
        XCTAssertTrue(message.contains(store.path), message)
        XCTAssertTrue(message.contains("file-size limit"), message)
        XCTAssertTrue(message.contains("run the same command again"), message)
        XCTAssertFalse(message.contains("buf = 0x"), "raw HDF5 error text: \(message)")

        // What was committed stays readable: the store of the last successful rewrite and the part files.
        let committed = limited.output.split(separator: "\n").filter { $0.hasPrefix("committed ") }.count
        XCTAssertGreaterThan(committed, 0, limited.output)
        let partial = try StoreContents.read(from: store)
        XCTAssertGreaterThan(partial.patients.rowCount, 0)

        // Space freed: the same run resumes and writes the store an uninterrupted run writes.
        let resumed = try runChild(directory: directory, limit: nil)
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertEqual(resumed.output.split(separator: "\n").filter { $0.hasPrefix("committed ") }.count,
                       Self.manifest.count - committed, resumed.output)
        var contents = try StoreContents.read(from: store)
        let expected = try StoreContents.read(from: referenceStore)
        contents.attributes.createdUTC = expected.attributes.createdUTC
        XCTAssertEqual(contents, expected)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["cohort.h5"])

        // A later step adding a table to the store (as score, plan and compare do) on a full disk:
        // a clear error, and the store as it was.
        let before = try Data(contentsOf: store)
        let adding = try runChild(directory: directory, limit: before.count + 4096, mode: "add-table")
        XCTAssertFalse(adding.crashed, "the writer died of a signal:\n\(adding.output)")
        XCTAssertEqual(adding.status, 1, adding.output)
        XCTAssertTrue(adding.output.contains("error: cannot write \(store.path): the file would exceed the file-size "
                                             + "limit (ulimit -f); the file is unchanged"), adding.output)
        XCTAssertEqual(try Data(contentsOf: store), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["cohort.h5"])
        let added = try runChild(directory: directory, limit: nil, mode: "add-table")
        XCTAssertEqual(added.status, 0, added.output)
        XCTAssertEqual(try StoreContents.read(from: store).tables["scores/big"]?.table.rowCount,
                       Self.manifest.count * 6)
    }
}

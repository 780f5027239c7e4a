import Foundation
import XCTest

/// Locates the reference data in `../shared/data` beside the checkout.
///
/// Under CI (`CI=true`) a missing folder is a hard failure, so a green CI run
/// always means the reference tests ran; elsewhere such tests are skipped.
public enum SharedData {
    /// The `shared/data` folder, found from the package root (or `LESIONMAP_SHARED_DATA`).
    public static var root: URL {
        if let env = ProcessInfo.processInfo.environment["LESIONMAP_SHARED_DATA"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
    }

    /// The package root: three levels above this source file (Tests/TestSupport/SharedData.swift).
    public static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// URL of `relative` inside shared/data; skips the test when missing outside CI, fails under CI.
    public static func url(_ relative: String, file: StaticString = #filePath, line: UInt = #line) throws -> URL {
        let u = root.appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: u.path) else {
            let message = "reference data \(u.path) is missing"
            if isCI {
                XCTFail(message + " (CI=true requires ../shared/data)", file: file, line: line)
                throw CocoaError(.fileNoSuchFile)
            }
            throw XCTSkip(message)
        }
        return u
    }

    /// A fresh temporary directory, removed when the test case finishes.
    public static func temporaryDirectory(for testCase: XCTestCase) throws -> URL {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("lesionmap-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        testCase.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }
}

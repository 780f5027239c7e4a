import Foundation

/// A failure of headless Chromium, with what it printed.
public struct ChromiumError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Headless Chromium, for rendering reports to PDF and PNG and reading back their DOM.
public struct HeadlessChromium: Sendable {
    public let executable: URL

    public init(executable: URL) { self.executable = executable }

    /// Names looked up on the PATH, in order.
    public static let executableNames = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]

    /// `LESIONMAP_CHROMIUM` when set, else the first of `executableNames` found on the PATH; nil when none.
    public static func find(environment: [String: String] = ProcessInfo.processInfo.environment) -> HeadlessChromium? {
        let fm = FileManager.default
        if let explicit = environment["LESIONMAP_CHROMIUM"], !explicit.isEmpty {
            return fm.isExecutableFile(atPath: explicit) ? HeadlessChromium(executable: URL(fileURLWithPath: explicit)) : nil
        }
        let dirs = (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map(String.init)
        for name in executableNames {
            for d in dirs where fm.isExecutableFile(atPath: d + "/" + name) {
                return HeadlessChromium(executable: URL(fileURLWithPath: d + "/" + name))
            }
        }
        return nil
    }

    /// Prints `html` to `pdf` (A4 as the page stylesheet asks, no browser header or footer).
    public func printPDF(_ html: URL, to pdf: URL, timeout: TimeInterval = 180) throws {
        try? FileManager.default.removeItem(at: pdf)
        _ = try run(["--no-pdf-header-footer", "--print-to-pdf=\(pdf.path)", html.absoluteString], timeout: timeout)
        guard let size = try? FileManager.default.attributesOfItem(atPath: pdf.path)[.size] as? Int, size > 0 else {
            throw ChromiumError("Chromium did not write \(pdf.path)")
        }
    }

    /// Saves a `width` x `height` screenshot of `html` as PNG.
    public func screenshot(_ html: URL, to png: URL, width: Int = 1100, height: Int = 1800, timeout: TimeInterval = 180) throws {
        try? FileManager.default.removeItem(at: png)
        _ = try run(["--hide-scrollbars", "--window-size=\(width),\(height)", "--screenshot=\(png.path)", html.absoluteString],
                    timeout: timeout)
        guard FileManager.default.fileExists(atPath: png.path) else { throw ChromiumError("Chromium did not write \(png.path)") }
    }

    /// The document's DOM after loading (scripts and image load handlers have run).
    public func dumpDOM(_ html: URL, timeout: TimeInterval = 180) throws -> String {
        try run(["--dump-dom", html.absoluteString], timeout: timeout)
    }

    /// Runs Chromium headless with a throw-away profile; returns its standard output.
    func run(_ arguments: [String], timeout: TimeInterval) throws -> String {
        let fm = FileManager.default
        let work = fm.temporaryDirectory.appendingPathComponent("lesionmap-chromium-\(UUID().uuidString)")
        try fm.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: work) }
        let out = work.appendingPathComponent("stdout"), err = work.appendingPathComponent("stderr")
        guard fm.createFile(atPath: out.path, contents: nil), fm.createFile(atPath: err.path, contents: nil) else {
            throw ChromiumError("cannot create files in \(work.path)")
        }
        let p = Process()
        p.executableURL = executable
        p.arguments = ["--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--no-default-browser-check",
                       "--disable-extensions", "--disable-dev-shm-usage", "--user-data-dir=\(work.appendingPathComponent("profile").path)",
                       "--run-all-compositor-stages-before-draw", "--virtual-time-budget=15000"] + arguments
        var env = ProcessInfo.processInfo.environment
        env["HOME"] = work.path
        p.environment = env
        let outHandle = try FileHandle(forWritingTo: out), errHandle = try FileHandle(forWritingTo: err)
        p.standardOutput = outHandle
        p.standardError = errHandle
        p.standardInput = FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        do { try p.run() } catch { throw ChromiumError("cannot start \(executable.path): \(error)") }
        if done.wait(timeout: .now() + timeout) == .timedOut {
            p.terminate()
            _ = done.wait(timeout: .now() + 5)
            throw ChromiumError("\(executable.lastPathComponent) did not finish within \(Int(timeout)) s")
        }
        try? outHandle.close(); try? errHandle.close()
        let stdout = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        guard p.terminationStatus == 0 else {
            let stderr = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
            let tail = stderr.split(separator: "\n").suffix(5).joined(separator: "\n")
            throw ChromiumError("\(executable.lastPathComponent) exited with status \(p.terminationStatus): \(tail)")
        }
        return stdout
    }
}

import Foundation

/// A progress bar on standard error: redrawn in place on a terminal, one line per step otherwise
/// (so CI logs stay readable).
public final class ProgressBar: @unchecked Sendable {
    private let total: Int
    private let label: String
    private var done = 0
    private let lock = NSLock()
    private let isTTY = isatty(FileHandle.standardError.fileDescriptor) != 0
    private let start = Date()
    private let quiet: Bool

    public init(label: String, total: Int, quiet: Bool = false) {
        self.label = label
        self.total = max(total, 1)
        self.quiet = quiet
    }

    /// Marks one more item finished, with a short note (e.g. the patient id and its outcome).
    public func advance(_ note: String) {
        lock.lock(); defer { lock.unlock() }
        done += 1
        guard !quiet else { return }
        let width = 30
        let filled = width * done / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let elapsed = Date().timeIntervalSince(start)
        let line = "\(label) [\(bar)] \(done)/\(total) \(String(format: "%.1fs", elapsed)) \(note)"
        if isTTY {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line + (done == total ? "\n" : "")).utf8))
        } else {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    /// Prints a message above the bar.
    public func message(_ text: String) {
        lock.lock(); defer { lock.unlock() }
        guard !quiet else { return }
        FileHandle.standardError.write(Data(((isTTY ? "\r\u{1B}[K" : "") + text + "\n").utf8))
    }
}

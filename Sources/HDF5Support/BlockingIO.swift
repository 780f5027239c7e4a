import Foundation

/// Runs blocking file-system calls (`fsync`, `unlink`) of many files on several threads at once.
///
/// Why threads beyond the cores: these calls mostly wait for the disk, not the processor. On a file system
/// mounted with `discard`, each `unlink` waits for the freed blocks to be trimmed (about 4 ms here), and each
/// `fsync` of a new file for the device to flush (4-8 ms); issued one after another, 40 of them take 160-300 ms
/// of a cohort extraction's wall time, issued together about the time of one or two.
public enum BlockingIO {
    /// Runs `body(0)`, ..., `body(count - 1)` on up to `threads` threads (the calling thread among them) and
    /// returns when all have finished. The order of the calls is not defined.
    public static func forEach(_ count: Int, threads: Int = 8, _ body: @Sendable (Int) -> Void) {
        let helpers = min(count, max(1, threads)) - 1
        guard helpers > 0 else {
            for n in 0..<count { body(n) }
            return
        }
        withoutActuallyEscaping(body) { body in
            // The closure must not outlive this call. The helper threads reach it only through `work` (a
            // Thread object may be released after its thread has signalled that it is done), each call
            // holds its copy only while it runs, and `work` drops it once every helper is done.
            let work = SharedWork(count: count, helpers: helpers, body: body)
            for _ in 0..<helpers {
                Thread {
                    while work.runNext() {}
                    work.helperDone()
                }.start()
            }
            while work.runNext() {}
            work.waitForHelpers()
            work.dropBody()
        }
    }
}

/// The body, the next index to run and the helpers still running, guarded by `condition`.
private final class SharedWork: @unchecked Sendable {
    // @unchecked: `body`, `nextIndex` and `running` are read and written only with `condition` locked; the
    // body is `@Sendable` and called after the lock is released.
    private let condition = NSCondition()
    private let count: Int
    private var body: (@Sendable (Int) -> Void)?
    private var nextIndex = 0
    private var running: Int

    init(count: Int, helpers: Int, body: @escaping @Sendable (Int) -> Void) {
        self.count = count
        self.body = body
        running = helpers
    }

    /// Runs the next index, if any is left; false when none is.
    func runNext() -> Bool {
        condition.lock()
        guard nextIndex < count, let body else {
            condition.unlock()
            return false
        }
        let n = nextIndex
        nextIndex += 1
        condition.unlock()
        body(n)
        return true
    }

    func helperDone() {
        condition.lock()
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    func waitForHelpers() {
        condition.lock()
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    func dropBody() {
        condition.lock()
        body = nil
        condition.unlock()
    }
}

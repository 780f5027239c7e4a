import Foundation

/// A fixed set of threads shared by nested parallel loops: a cohort's patients and, inside each, its lesions.
///
/// Why not `DispatchQueue.concurrentPerform` at both levels: each patient's lesion loop would ask for every
/// core again, so `jobs` patients in flight would run up to `jobs` x cores threads on `cores` cores, and the
/// lesions' memory budget would be reserved by more lesions than there are cores. Here the threads are the
/// `jobs` workers of `WorkPool.pipeline` and nothing else: a lesion loop (`WorkPool.forEach`) puts its
/// iterations in the pool's one queue and the calling worker runs queued iterations — its own first, then
/// those of other patients — until its loop is done, so a worker whose patient is still loading (reading,
/// decoding) leaves the other workers free to share the lesions of the patients already loaded.
///
/// Ordering: iterations are taken first-in first-out, a loop's own iterations before others', so the patient
/// that started first finishes first (its memory is freed first).
public final class WorkPool: @unchecked Sendable {
    // @unchecked: the stored `var` below (`queue`) and every `Loop`'s counters are read and written
    // only while `condition` is locked; the closures queued are `@Sendable`. The compiler cannot see a lock
    // guarding plain stored properties, so the conformance is asserted here rather than checked.
    private let condition = NSCondition()
    private var queue: [(loop: Loop, index: Int)] = []

    /// The threads that run work (the workers of `pipeline`), for the budget of nested loops.
    public let threads: Int

    /// The pool of the thread that is running, when it is a worker of `pipeline` (bound per thread).
    @TaskLocal public static var current: WorkPool?

    init(threads: Int) {
        self.threads = max(1, threads)
    }

    /// One `forEach` call: its body and how many of its iterations are not finished.
    private final class Loop: @unchecked Sendable {
        // @unchecked: `body` and `remaining` are touched only with the owning pool's `condition` locked
        // (`body` is read under the lock, called after it is released).
        /// Nil once every iteration has finished: `forEach` drops it before it returns, so the closure
        /// (not really escaping) is referenced by nothing else then.
        var body: (@Sendable (Int) -> Void)?
        var remaining: Int
        init(body: @escaping @Sendable (Int) -> Void, count: Int) {
            self.body = body
            self.remaining = count
        }
    }

    /// Runs `body(0)`, ..., `body(count - 1)` and returns when all have finished.
    ///
    /// On a worker of `WorkPool.pipeline` the iterations go into that pool's queue and run on its workers
    /// (the calling thread among them); elsewhere, `DispatchQueue.concurrentPerform` runs them on all cores.
    public static func forEach(_ count: Int, _ body: @Sendable (Int) -> Void) {
        guard count > 0 else { return }
        guard let pool = current else {
            DispatchQueue.concurrentPerform(iterations: count, execute: body)
            return
        }
        guard count > 1, pool.threads > 1 else {
            for n in 0..<count { body(n) }
            return
        }
        withoutActuallyEscaping(body) { body in
            // The closure does not outlive this call: the loop below returns only once every iteration
            // has run (`remaining == 0`), and no queue entry of this loop is left behind.
            let loop = Loop(body: body, count: count)
            pool.run(loop)
            loop.body = nil
        }
    }

    /// `body(0)`, ..., `body(count - 1)` run as `forEach` runs them, their results in index order.
    public static func map<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
        let slots = Slots<T>(count: count)
        forEach(count) { n in slots.set(n, body(n)) }
        return slots.values()
    }

    private func run(_ loop: Loop) {
        condition.lock()
        for n in 0..<loop.remaining { queue.append((loop, n)) }
        condition.broadcast()
        while loop.remaining > 0 {
            if let job = take(preferring: loop) {
                execute(job)
            } else {
                condition.wait()
            }
        }
        condition.unlock()
    }

    /// Runs queued iterations of any loop until `done()` holds (checked with the lock held, after every
    /// change of the pool's state: call `changed()` when what `done` reads changes). With `helping` false
    /// the thread only waits (the thread that delivers results is not one of the pool's workers).
    func help(helping: Bool = true, until done: () -> Bool) {
        condition.lock()
        while !done() {
            if helping, let job = take(preferring: nil) {
                execute(job)
            } else {
                condition.wait()
            }
        }
        condition.unlock()
    }

    /// Runs `body` with the pool's lock held, then wakes every waiting worker (for state `help` checks).
    func changed<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.broadcast(); condition.unlock() }
        return try body()
    }

    /// The next queued iteration, `loop`'s own first. Called with the lock held.
    private func take(preferring loop: Loop?) -> (loop: Loop, index: Int)? {
        guard !queue.isEmpty else { return nil }
        var pick = 0
        if let loop, queue[0].loop !== loop, let own = queue.firstIndex(where: { $0.loop === loop }) {
            pick = own
        }
        // Removed, not skipped: the queue keeps no reference to a finished loop's closure.
        return queue.remove(at: pick)
    }

    /// Runs one queued iteration: called with the lock held, releases it while the body runs. The copy of
    /// the body dies when this returns, before the lock is given up again, so when the loop's owner sees its
    /// count reach zero (under the lock) no other thread holds the loop's closure.
    private func execute(_ job: (loop: Loop, index: Int)) {
        let body = job.loop.body!
        condition.unlock()
        body(job.index)
        condition.lock()
        job.loop.remaining -= 1
        if job.loop.remaining == 0 { condition.broadcast() }
    }
}

extension WorkPool {
    /// Runs `work` for items `0..<count` on `jobs` worker threads, at most `jobs` items in flight (each worker
    /// holds one item from start to delivery), and hands every result to `deliver` on the calling thread, in
    /// the order they finish.
    ///
    /// Loops inside `work` (`WorkPool.forEach`) share the same `jobs` threads. Items start in order. When
    /// `deliver` throws, no further item starts, the items in flight finish (their results are dropped) and
    /// the error is rethrown: a caller that must stop (a full disk) stops without leaving threads behind.
    ///
    /// Memory: at most `jobs` items' working sets at once, plus the results waiting for `deliver` — at most
    /// `jobs` of them, since a worker waits for its result to be taken before it starts another item.
    ///
    /// - Parameters:
    ///   - stackSize: each worker's stack in bytes (the default matches a Linux main thread's 8 MiB).
    public static func pipeline<Output: Sendable>(count: Int, jobs: Int, stackSize: Int = 8 << 20,
                                                  work: @escaping @Sendable (Int) -> Output,
                                                  deliver: (Int, Output) throws -> Void) throws {
        try runPipeline(count: count, jobs: jobs, backlog: 0, batched: false, stackSize: stackSize, work: work) {
            for (item, output) in $0 { try deliver(item, output) }
        }
    }

    /// `pipeline`, with every result that finished while the calling thread was busy handed over at once
    /// (in the order they finished), and workers that go on to their next item while up to `backlog` results
    /// wait for delivery.
    ///
    /// For a `deliver` whose cost is mostly per call rather than per result (a durable write that ends with
    /// one `fsync`, whatever it holds): while the calling thread delivers one batch, the workers keep
    /// extracting instead of waiting for it, and the results that finish meanwhile make the next batch.
    /// With `backlog` 0 a worker waits for its own result to be taken before it starts another item.
    ///
    /// Memory: at most `jobs` items' working sets at once, plus finished results: at most `backlog + jobs`
    /// waiting to be taken, besides the batch being delivered (itself at most `backlog + jobs`).
    public static func pipelineBatches<Output: Sendable>(count: Int, jobs: Int, backlog: Int,
                                                         stackSize: Int = 8 << 20,
                                                         work: @escaping @Sendable (Int) -> Output,
                                                         deliver: ([(Int, Output)]) throws -> Void) throws {
        try runPipeline(count: count, jobs: jobs, backlog: backlog, batched: true, stackSize: stackSize, work: work,
                        deliver: deliver)
    }

    /// Both pipelines; `batched` false hands results over one at a time.
    private static func runPipeline<Output: Sendable>(count: Int, jobs: Int, backlog: Int, batched: Bool,
                                                      stackSize: Int, work: @escaping @Sendable (Int) -> Output,
                                                      deliver: ([(Int, Output)]) throws -> Void) throws {
        guard count > 0 else { return }
        let workers = max(1, min(jobs, count))
        let pool = WorkPool(threads: workers)
        let state = PipelineState<Output>(pool: pool, backlog: max(0, backlog))
        for _ in 0..<workers {
            let thread = Thread {
                WorkPool.$current.withValue(pool) {
                    while let item = state.nextItem(count: count) {
                        let output = work(item)
                        state.put(item, output)
                    }
                    // Out of items: help the others with their loops until every worker is done.
                    state.workerDone()
                    pool.help(until: { state.allWorkersDone(workers) })
                }
            }
            thread.stackSize = stackSize
            thread.start()
        }
        var failure: Error?
        while let batch = state.take(workers: workers, all: batched) {
            guard failure == nil else { continue }
            do {
                try deliver(batch)
            } catch {
                failure = error
                state.cancel()
            }
        }
        if let failure { throw failure }
    }
}

/// The shared state of one `WorkPool.pipeline`, guarded by its pool's lock.
private final class PipelineState<Output: Sendable>: @unchecked Sendable {
    // @unchecked: every `var` here is read and written only inside `pool.changed` or the `done` closure
    // of `pool.help`, both with the pool's lock held; `Output` is Sendable.
    let pool: WorkPool
    /// How many finished results may wait for delivery while their workers go on.
    let backlog: Int
    var next = 0
    var cancelled = false
    var results: [(Int, Output)] = []
    var workersDone = 0
    var delivered = 0
    let resultTaken = NSCondition()

    init(pool: WorkPool, backlog: Int) {
        self.pool = pool
        self.backlog = backlog
    }

    func nextItem(count: Int) -> Int? {
        pool.changed {
            guard !cancelled, next < count else { return nil }
            defer { next += 1 }
            return next
        }
    }

    func put(_ item: Int, _ output: Output) {
        pool.changed { results.append((item, output)) }
        // Wait until the caller took it, or the results waiting are within the backlog, so finished results
        // never pile up beyond the backlog plus one per worker.
        pool.help(until: { results.count <= backlog || !results.contains { $0.0 == item } })
    }

    func workerDone() { pool.changed { workersDone += 1 } }

    func allWorkersDone(_ workers: Int) -> Bool { workersDone == workers }

    func cancel() { pool.changed { cancelled = true } }

    /// The next finished result, or with `all` every one not yet taken (at least one), in the order they
    /// finished; nil once every worker has stopped and every result was taken.
    func take(workers: Int, all: Bool) -> [(Int, Output)]? {
        var taken: [(Int, Output)]?
        pool.help(helping: false, until: {
            if !results.isEmpty {
                if all {
                    taken = results
                    results = []
                } else {
                    taken = [results.removeFirst()]
                }
                return true
            }
            return workersDone == workers
        })
        // Wake the workers waiting for these results to be taken.
        pool.changed {}
        return taken
    }
}

/// The results of a parallel `map`, one slot per index.
private final class Slots<T: Sendable>: @unchecked Sendable {
    // @unchecked: `slots` is read and written only with `lock` held.
    private let lock = NSLock()
    private var slots: [T?]

    init(count: Int) { slots = [T?](repeating: nil, count: count) }

    func set(_ index: Int, _ value: T) {
        lock.lock()
        slots[index] = value
        lock.unlock()
    }

    /// Every slot's value; each was set exactly once by `map` before this is called.
    func values() -> [T] {
        lock.lock()
        defer { lock.unlock() }
        return slots.map { $0! }
    }
}

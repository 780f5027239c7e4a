import Foundation
import Synchronization
import XCTest
@testable import WorkPool

/// Counts threads busy at once (the largest count seen) and what ran where.
private final class Occupancy: Sendable {
    private struct State {
        var busy = 0, peak = 0
        var itemsInFlight = 0, peakItems = 0
        var threadsOfLoop: [Int: Set<String>] = [:]
        var iterations: [Int: Int] = [:]
        var started: [Int] = []
    }
    private let state = Mutex(State())

    func enter() { state.withLock { $0.busy += 1; $0.peak = max($0.peak, $0.busy) } }
    func leave() { state.withLock { $0.busy -= 1 } }
    func startItem(_ item: Int) {
        state.withLock { $0.itemsInFlight += 1; $0.peakItems = max($0.peakItems, $0.itemsInFlight); $0.started.append(item) }
    }
    func endItem() { state.withLock { $0.itemsInFlight -= 1 } }
    func ran(item: Int, iteration: Int) {
        let thread = "\(pthread_self())"
        state.withLock {
            $0.threadsOfLoop[item, default: []].insert(thread)
            $0.iterations[item * 1000 + iteration, default: 0] += 1
        }
    }
    var peak: Int { state.withLock { $0.peak } }
    var peakItems: Int { state.withLock { $0.peakItems } }
    var started: [Int] { state.withLock { $0.started } }
    func threads(ofLoop item: Int) -> Int { state.withLock { $0.threadsOfLoop[item]?.count ?? 0 } }
    var iterationCounts: [Int: Int] { state.withLock { $0.iterations } }
}

final class WorkPoolTests: XCTestCase {
    private struct Stop: Error {}

    /// Every item is worked once and delivered once; items start in order; never more than `jobs` items in
    /// flight nor more than `jobs` threads busy, nested loops included; every nested iteration runs once.
    func testPipelineDeliversEveryItemOnceWithinItsThreads() throws {
        let occupancy = Occupancy()
        var delivered: [Int: Int] = [:]
        try WorkPool.pipeline(count: 12, jobs: 3, work: { item in
            occupancy.startItem(item)
            defer { occupancy.endItem() }
            occupancy.enter()
            usleep(2_000)  // loading
            occupancy.leave()
            WorkPool.forEach(item % 4 + 1) { n in
                occupancy.enter()
                occupancy.ran(item: item, iteration: n)
                usleep(3_000)
                occupancy.leave()
            }
            return item * item
        }, deliver: { item, value in
            XCTAssertNil(delivered[item], "item \(item) delivered twice")
            delivered[item] = value
        })
        XCTAssertEqual(delivered.count, 12)
        for (item, value) in delivered { XCTAssertEqual(value, item * item) }
        // Items are taken in order, but two threads that took items 9 and 10 may reach `startItem` in either
        // order (a busy machine showed [..., 8, 10, 9, 11]): only "each once" can be asserted from inside `work`.
        XCTAssertEqual(occupancy.started.sorted(), Array(0..<12), "every item starts once")
        XCTAssertLessThanOrEqual(occupancy.peakItems, 3)
        XCTAssertLessThanOrEqual(occupancy.peak, 3, "never more busy threads than jobs")
        var expected: [Int: Int] = [:]
        for item in 0..<12 { for n in 0..<(item % 4 + 1) { expected[item * 1000 + n] = 1 } }
        XCTAssertEqual(occupancy.iterationCounts, expected)
    }

    /// A worker without an item of its own runs the loop iterations of another: the lesions of the patient in
    /// flight use every thread.
    func testIdleWorkersShareAnotherItemsLoop() throws {
        let occupancy = Occupancy()
        try WorkPool.pipeline(count: 2, jobs: 2, work: { item in
            if item == 0 {
                WorkPool.forEach(8) { n in
                    occupancy.ran(item: 0, iteration: n)
                    usleep(50_000)
                }
            }
            return item
        }, deliver: { _, _ in })
        XCTAssertEqual(occupancy.threads(ofLoop: 0), 2)
        XCTAssertEqual(occupancy.iterationCounts.count, 8)
    }

    /// When `deliver` throws (a full disk), no further item starts, the items in flight finish, and the error
    /// is rethrown after every worker has stopped.
    func testDeliverErrorStopsThePipeline() {
        let occupancy = Occupancy()
        let finished = Mutex(0)
        XCTAssertThrowsError(try WorkPool.pipeline(count: 50, jobs: 2, work: { item in
            occupancy.startItem(item)
            usleep(5_000)
            finished.withLock { $0 += 1 }
            return item
        }, deliver: { item, _ in
            if item == 1 { throw Stop() }
        })) { XCTAssertTrue($0 is Stop) }
        let started = occupancy.started.count
        XCTAssertLessThan(started, 10, "items stopped starting after the error")
        XCTAssertEqual(finished.withLock { $0 }, started, "every item started has finished when the error is thrown")
    }

    /// With a backlog, workers go on while the calling thread delivers, and the results that finished
    /// meanwhile come as one batch: every item delivered once, never more waiting than backlog plus jobs.
    func testBatchedPipelineLetsWorkersGoOnWhileDelivering() throws {
        let finished = Mutex(0)
        var delivered: [Int] = []
        var batches = 0, largest = 0
        try WorkPool.pipelineBatches(count: 40, jobs: 2, backlog: 6, work: { item in
            usleep(2_000)
            finished.withLock { $0 += 1 }
            return item
        }, deliver: { batch in
            XCTAssertLessThanOrEqual(batch.count, 6 + 2)
            for (item, value) in batch { XCTAssertEqual(item, value) }
            delivered += batch.map(\.0)
            batches += 1
            largest = max(largest, batch.count)
            usleep(15_000)  // a slow durable write: the workers finish several items meanwhile
        })
        XCTAssertEqual(delivered.sorted(), Array(0..<40))
        XCTAssertLessThan(batches, 40)
        XCTAssertGreaterThan(largest, 2, "results that finished during a delivery come together")
        XCTAssertEqual(finished.withLock { $0 }, 40)
    }

    /// A batched pipeline whose `deliver` throws stops like `pipeline`: no further item starts, the error is
    /// rethrown after every worker has stopped.
    func testBatchedDeliverErrorStopsThePipeline() {
        let occupancy = Occupancy()
        let finished = Mutex(0)
        XCTAssertThrowsError(try WorkPool.pipelineBatches(count: 60, jobs: 2, backlog: 4, work: { item in
            occupancy.startItem(item)
            usleep(5_000)
            finished.withLock { $0 += 1 }
            return item
        }, deliver: { batch in
            if batch.contains(where: { $0.0 >= 1 }) { throw Stop() }
        })) { XCTAssertTrue($0 is Stop) }
        let started = occupancy.started.count
        XCTAssertLessThan(started, 20, "items stopped starting after the error")
        XCTAssertEqual(finished.withLock { $0 }, started, "every item started has finished when the error is thrown")
    }

    /// Off a pipeline, `forEach` runs every iteration once (on all cores).
    func testForEachOutsideAPipeline() {
        let counts = Mutex([Int](repeating: 0, count: 100))
        WorkPool.forEach(100) { n in counts.withLock { $0[n] += 1 } }
        XCTAssertEqual(counts.withLock { $0 }, [Int](repeating: 1, count: 100))
        XCTAssertNil(WorkPool.current)
    }

    /// One job: items and their loops run one at a time, in order.
    func testOneJobRunsInOrder() throws {
        let order = Mutex([String]())
        var delivered: [Int] = []
        try WorkPool.pipeline(count: 3, jobs: 1, work: { item in
            WorkPool.forEach(2) { n in order.withLock { $0.append("\(item).\(n)") } }
            return item
        }, deliver: { item, _ in delivered.append(item) })
        XCTAssertEqual(order.withLock { $0 }, ["0.0", "0.1", "1.0", "1.1", "2.0", "2.1"])
        XCTAssertEqual(delivered, [0, 1, 2])
    }
}

/// Right-censored follow-up: one time and event indicator per subject.
public struct SurvivalData: Sendable, Hashable {
    /// Follow-up times (any unit, ≥ 0).
    public let times: [Double]
    /// True when the event was observed at `times[i]`, false when follow-up was censored there.
    public let events: [Bool]

    /// Checks that the arrays have the same length and every time is finite and non-negative.
    public init(times: [Double], events: [Bool]) throws {
        guard times.count == events.count else {
            throw StatisticsError("survival data has \(times.count) times but \(events.count) event indicators")
        }
        if let bad = times.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
            throw StatisticsError("survival time \(times[bad]) of subject \(bad) is not a finite non-negative number")
        }
        self.times = times
        self.events = events
    }

    public var count: Int { times.count }
    public var eventCount: Int { events.lazy.filter { $0 }.count }

    /// The subjects at `indices`, in that order.
    public func subset(_ indices: [Int]) -> SurvivalData {
        try! SurvivalData(times: indices.map { times[$0] }, events: indices.map { events[$0] })
    }

    /// Subject indices by ascending time; among equal times events come before censorings, then input order.
    var ascendingOrder: [Int] {
        times.indices.sorted { a, b in
            if times[a] != times[b] { return times[a] < times[b] }
            if events[a] != events[b] { return events[a] }
            return a < b
        }
    }
}

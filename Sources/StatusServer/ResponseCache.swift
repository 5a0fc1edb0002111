import Foundation
import Hummingbird
import Synchronization
import Telemetry

/// Keeps a popular response body rebuilt off the request path, so no request pays for building
/// it and its cost does not grow with the request rate: `/api/drones` with 1,000 drones is ~525 KB
/// of JSON, and building it inside a request put that request (and every request queued behind
/// it on the same event loop) at the p99 of the status page under load. This is the way readsb
/// writes aircraft.json on a timer instead of per viewer.
///
/// Demand-driven: the first request starts a refresher thread, which rebuilds the body every
/// `interval` while requests keep coming and ends itself after `idleAfter` without one, so an
/// unwatched gateway spends nothing on it and no shutdown wiring is needed. A request returns the
/// newest body; only when there is none younger than `staleAfter` (the very first request, or the
/// first after the refresher went idle) does it build one itself.
final class ResponseCache: Sendable {
    private struct State {
        var body: ByteBuffer?
        var builtNanoseconds: UInt64 = 0
        var lastRequestNanoseconds: UInt64 = 0
        var refresherRunning = false
        var refresherBuilds = 0
        var requestBuilds = 0
    }

    /// The refresher thread's name (15 bytes show).
    private let name: String
    private let interval: UInt64
    private let staleAfter: UInt64
    private let idleAfter: UInt64
    private let clock: @Sendable () -> UInt64
    private let build: @Sendable () -> ByteBuffer
    private let state = Mutex(State())
    /// Serialises builds, so a cold start under concurrent requests builds once, not once each.
    private let building = Mutex(())

    init(
        name: String, interval: Duration = Limits.Status.fleetBodyRefreshInterval,
        staleAfter: Duration = Limits.Status.fleetBodyStaleAfter,
        idleAfter: Duration = Limits.Status.fleetBodyIdleAfter,
        clock: @escaping @Sendable () -> UInt64 = SystemClock.monotonicNanoseconds,
        build: @escaping @Sendable () -> ByteBuffer
    ) {
        self.name = name
        self.interval = interval.nanosecondsClamped
        self.staleAfter = staleAfter.nanosecondsClamped
        self.idleAfter = idleAfter.nanosecondsClamped
        self.clock = clock
        self.build = build
    }

    /// How many times the body has been built, by the refresher and by requests that found none
    /// young enough.
    var buildCounts: (refresher: Int, requests: Int) { state.withLock { ($0.refresherBuilds, $0.requestBuilds) } }

    /// Whether a refresher thread is running now.
    var isRefreshing: Bool { state.withLock { $0.refresherRunning } }

    /// The newest body, built here only when none is young enough.
    func body() -> ByteBuffer {
        let now = clock()
        let (cached, startRefresher) = state.withLock { state -> (ByteBuffer?, Bool) in
            state.lastRequestNanoseconds = now
            let start = !state.refresherRunning
            state.refresherRunning = true
            let fresh = state.body != nil && now &- state.builtNanoseconds < staleAfter
            return (fresh ? state.body : nil, start)
        }
        if startRefresher {
            ThreadHandle.detach(name: name) { [self] in refreshLoop() }
        }
        if let cached { return cached }
        return building.withLock { _ in
            // Another request may have built it while this one waited.
            if let body = state.withLock({ $0.body != nil && clock() &- $0.builtNanoseconds < staleAfter ? $0.body : nil }) {
                return body
            }
            return rebuild(byRefresher: false)
        }
    }

    @discardableResult
    private func rebuild(byRefresher: Bool) -> ByteBuffer {
        // The body's age counts from the snapshot it was built from, not from when it was done.
        let started = clock()
        let body = build()
        state.withLock { state in
            state.body = body
            state.builtNanoseconds = started
            if byRefresher { state.refresherBuilds += 1 } else { state.requestBuilds += 1 }
        }
        return body
    }

    /// Bounded by demand: each pass sleeps `interval`, and the loop ends once no request came
    /// for `idleAfter`.
    private func refreshLoop() {
        while true {
            let shouldStop = state.withLock { state -> Bool in
                if clock() &- state.lastRequestNanoseconds >= idleAfter {
                    state.refresherRunning = false
                    return true
                }
                return false
            }
            if shouldStop { return }
            building.withLock { _ in _ = rebuild(byRefresher: true) }
            Thread.sleep(forTimeInterval: Double(interval) / 1e9)
        }
    }
}

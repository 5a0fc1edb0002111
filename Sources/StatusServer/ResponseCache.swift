import Hummingbird
import Synchronization

/// Keeps one rendered response body for a short time, so the cost of a popular endpoint does not
/// grow with the request rate: `/api/drones` with 10,000 drones is a few MB of JSON, and at most
/// one request per `maxAge` pays for building it (the way readsb writes aircraft.json on a timer
/// instead of per viewer). Builders run under the lock, so concurrent misses build it once.
final class ResponseCache: Sendable {
    /// Freshness of the cached body; the page polls once a second, so 250 ms is invisible to it.
    static let maxAgeNanoseconds: UInt64 = 250_000_000

    private let state = Mutex<(builtNanoseconds: UInt64, body: ByteBuffer?)>((0, nil))

    func body(nowNanoseconds: UInt64, build: () -> ByteBuffer) -> ByteBuffer {
        state.withLock { state in
            if let body = state.body, nowNanoseconds &- state.builtNanoseconds < Self.maxAgeNanoseconds {
                return body
            }
            let body = build()
            state = (nowNanoseconds, body)
            return body
        }
    }
}

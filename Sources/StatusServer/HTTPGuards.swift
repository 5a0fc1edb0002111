import Hummingbird
import NIOCore
import Synchronization
import Telemetry

/// The bounds the HTTP side keeps on its clients, made once per server and shared by its
/// routes: the connection guard (cap and idle timeout), the store-read limiter (tracks and
/// events), the event-stream slots per client, and the access policy. docs/security.md, "HTTP".
public struct HTTPGuards: Sendable {
    public var access: HTTPAccessPolicy
    /// nil in in-process tests, where there are no connections.
    public var connections: HTTPConnectionGuard?
    public var storeReads: StoreReadLimiter
    public var streams: PeerStreamSlots

    public init(
        access: HTTPAccessPolicy = HTTPAccessPolicy(), connections: HTTPConnectionGuard? = nil,
        storeReads: StoreReadLimiter = StoreReadLimiter(), streams: PeerStreamSlots = PeerStreamSlots()
    ) {
        self.access = access
        self.connections = connections
        self.storeReads = storeReads
        self.streams = streams
    }

    /// `http` of `/api/stats`.
    public var report: StatsReport.HTTP {
        let counts = connections?.counts
        return StatsReport.HTTP(
            connections_open: counts?.open ?? 0, connections_max: connections?.connectionsMax ?? 0,
            connections_accepted: counts?.accepted ?? 0, connections_refused: counts?.refused ?? 0,
            connections_timed_out: counts?.timedOut ?? 0,
            idle_timeout_seconds: connections.map { Double($0.idleTimeout.nanosecondsClamped) / 1e9 } ?? 0,
            host_refused: access.hostCheck?.refusedCount ?? 0, store_reads_refused: storeReads.refusedCount,
            streams_refused_per_client: streams.refusedCount)
    }
}

/// Event-stream slots per client address (`Limits.streamClientsPerPeerMax`), beside the hub's
/// global `Limits.Events.streamClientsMax`, so one client cannot take every slot.
public final class PeerStreamSlots: Sendable {
    private let held = Mutex<[String: Int]>([:])
    private let refused = Atomic<UInt64>(0)
    public let perPeerMax: Int

    public init(perPeerMax: Int = Limits().streamClientsPerPeerMax) {
        precondition(perPeerMax >= 1)
        self.perPeerMax = perPeerMax
    }

    public var refusedCount: UInt64 { refused.load(ordering: .relaxed) }

    /// Streams `peer` holds now.
    public func count(for peer: String) -> Int { held.withLock { $0[peer] ?? 0 } }

    /// Takes a slot for `peer`; false (counted) when it holds `perPeerMax` already. The table
    /// holds only peers with a slot, so it is bounded by the hub's global stream bound.
    func acquire(_ peer: String) -> Bool {
        let taken = held.withLock { table in
            let count = table[peer] ?? 0
            guard count < perPeerMax else { return false }
            table[peer] = count + 1
            return true
        }
        if !taken { refused.add(1, ordering: .relaxed) }
        return taken
    }

    func release(_ peer: String) {
        held.withLock { table in
            let count = (table[peer] ?? 0) - 1
            assert(count >= 0, "a stream slot released twice")
            table[peer] = count > 0 ? count : nil
        }
    }
}

/// The request context of the status server: Hummingbird's basics and the client's address,
/// which the stream slots are counted by.
public struct StatusRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address (no port), or "unknown" (in-process tests).
    public let peer: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}

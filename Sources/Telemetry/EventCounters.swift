/// The event counters `/api/stats` and `/metrics` show.
public struct EventCounters: Sendable, Equatable {
    public var byKind: [EventKind: UInt64]
    /// More events in one batch than `Limits.Events.perBatchMax`.
    public var droppedBurst: UInt64
    /// The store writer's queue was full (a long store outage).
    public var droppedStoreQueueFull: UInt64
    /// Events a slow SSE client did not take in time.
    public var droppedStream: UInt64
    /// Events beyond a drone's rate (`Limits.Events.perDroneBurst`).
    public var droppedRateLimited: UInt64 = 0
    public var storeQueueDepth: Int
    public var streamClients: Int

    public init(
        byKind: [EventKind: UInt64] = [:], droppedBurst: UInt64 = 0, droppedStoreQueueFull: UInt64 = 0, droppedStream: UInt64 = 0,
        storeQueueDepth: Int = 0, streamClients: Int = 0
    ) {
        self.byKind = byKind
        self.droppedBurst = droppedBurst
        self.droppedStoreQueueFull = droppedStoreQueueFull
        self.droppedStream = droppedStream
        self.storeQueueDepth = storeQueueDepth
        self.streamClients = streamClients
    }

    public var total: UInt64 { byKind.values.reduce(0, +) }
}

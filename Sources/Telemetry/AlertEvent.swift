import Synchronization

/// What an event says happened (docs/events.md). The raw value is stored; the name is the API's,
/// the webhook body's and the `kind` label of `skygate_events_total`.
public enum EventKind: UInt8, Sendable, Hashable, CaseIterable, Codable {
    /// The drone entered a zone (for a keep-out zone: an alarm).
    case zoneEnter = 1
    /// The drone left a zone by more than the hysteresis margin (for a keep-in zone: an alarm).
    case zoneExit = 2
    /// Battery percentage fell below the rule's threshold.
    case lowBattery = 3
    /// No frame from the drone for the rule's number of seconds.
    case lostLink = 4
    /// A frame arrived from a drone whose link was lost.
    case linkRestored = 5
    /// The drone had a GPS fix and reports none now.
    case gpsFixLost = 6
    /// Ground speed above the rule's threshold.
    case overspeed = 7
    /// Altitude above the rule's ceiling.
    case altitudeCeiling = 8
    /// One gap of at least the rule's number of frames in the drone's sequence numbers.
    case sequenceGapBurst = 9

    public var name: String {
        switch self {
        case .zoneEnter: "zone_enter"
        case .zoneExit: "zone_exit"
        case .lowBattery: "low_battery"
        case .lostLink: "lost_link"
        case .linkRestored: "link_restored"
        case .gpsFixLost: "gps_fix_lost"
        case .overspeed: "overspeed"
        case .altitudeCeiling: "altitude_ceiling"
        case .sequenceGapBurst: "sequence_gap_burst"
        }
    }

    public init?(name: String) {
        guard let kind = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = kind
    }

    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let kind = EventKind(name: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown event kind '\(name)'"))
        }
        self = kind
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}

/// One event: a rule or a zone crossing, for one drone at one time. Its identity is (drone, kind,
/// zone, time): two gateways that hear the same frames make the same event, and a shared store
/// keeps it once.
public struct AlertEvent: Sendable, Hashable, Codable {
    /// Assigned by the gateway that published it (increasing within one run; 0 before). The SSE
    /// stream's `id:`; a stored event has the store's own.
    public var id: UInt64
    /// When it happened: the sample's timestamp, or the gateway's clock for `lost_link` (µs since
    /// the Unix epoch).
    public var timeMicroseconds: UInt64
    public var drone: DroneIdentity
    public var kind: EventKind
    /// The zone's name for zone events, empty otherwise.
    public var zone: String
    /// Whether ops should act on it: entering a keep-out zone, leaving a keep-in zone, every rule
    /// but `link_restored`.
    public var alarm: Bool
    /// The measured value that triggered it: battery %, seconds silent, m/s, metres, frames lost;
    /// 0 for zone events.
    public var value: Double
    /// The drone's last position (1e-7 degrees, millimetres).
    public var latitudeE7: Int32
    public var longitudeE7: Int32
    public var altitudeMM: Int32

    public init(
        id: UInt64 = 0, timeMicroseconds: UInt64, drone: DroneIdentity, kind: EventKind, zone: String = "", alarm: Bool,
        value: Double = 0, latitudeE7: Int32, longitudeE7: Int32, altitudeMM: Int32
    ) {
        self.id = id
        self.timeMicroseconds = timeMicroseconds
        self.drone = drone
        self.kind = kind
        self.zone = zone
        self.alarm = alarm
        self.value = value
        self.latitudeE7 = latitudeE7
        self.longitudeE7 = longitudeE7
        self.altitudeMM = altitudeMM
    }

    /// The JSON shape of `/api/events`, the SSE stream and webhook bodies (docs/events.md).
    enum CodingKeys: String, CodingKey {
        case id, time_us, `protocol`, drone, kind, zone, alarm, value, lat, lon, alt_m
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(UInt64.self, forKey: .id)
        timeMicroseconds = try container.decode(UInt64.self, forKey: .time_us)
        let protocolName = try container.decode(String.self, forKey: .protocol)
        guard let telemetryProtocol = TelemetryProtocol(name: protocolName) else {
            throw DecodingError.dataCorruptedError(forKey: .protocol, in: container, debugDescription: "unknown protocol '\(protocolName)'")
        }
        drone = DroneIdentity(protocol: telemetryProtocol, number: try container.decode(UInt32.self, forKey: .drone))
        kind = try container.decode(EventKind.self, forKey: .kind)
        zone = try container.decode(String.self, forKey: .zone)
        alarm = try container.decode(Bool.self, forKey: .alarm)
        value = try container.decode(Double.self, forKey: .value)
        latitudeE7 = Int32((try container.decode(Double.self, forKey: .lat) * 1e7).rounded())
        longitudeE7 = Int32((try container.decode(Double.self, forKey: .lon) * 1e7).rounded())
        altitudeMM = Int32((try container.decode(Double.self, forKey: .alt_m) * 1e3).rounded())
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(timeMicroseconds, forKey: .time_us)
        try container.encode(drone.protocol.name, forKey: .protocol)
        try container.encode(drone.number, forKey: .drone)
        try container.encode(kind, forKey: .kind)
        try container.encode(zone, forKey: .zone)
        try container.encode(alarm, forKey: .alarm)
        try container.encode(value, forKey: .value)
        try container.encode(Double(latitudeE7) / 1e7, forKey: .lat)
        try container.encode(Double(longitudeE7) / 1e7, forKey: .lon)
        try container.encode(Double(altitudeMM) / 1e3, forKey: .alt_m)
    }
}

/// Takes events the gateway published (webhook dispatch, the SSE stream). Called on the batch
/// processor's thread, once per batch with events: it must copy what it keeps and return at once,
/// never block or wait on I/O.
public protocol EventSink: AnyObject, Sendable {
    func accept(_ events: UnsafeBufferPointer<AlertEvent>)
}

/// A bounded FIFO of events between one producer and one consumer thread (the processor and the
/// store writer): `offer` never blocks and drops what does not fit, counted.
public final class EventQueue: Sendable {
    public let capacity: Int
    private let state: Mutex<State>
    private let droppedCount = Atomic<UInt64>(0)

    struct State: ~Copyable {
        var events: [AlertEvent]
        var head = 0
    }

    public init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
        var events: [AlertEvent] = []
        events.reserveCapacity(capacity)
        state = Mutex(State(events: events))
    }

    /// Events that did not fit.
    public var dropped: UInt64 { droppedCount.load(ordering: .relaxed) }
    /// Events waiting.
    public var count: Int { state.withLock { $0.events.count - $0.head } }

    /// Appends what fits; returns how many were dropped.
    @discardableResult
    public func offer(_ events: UnsafeBufferPointer<AlertEvent>) -> Int {
        let kept = state.withLock { state -> Int in
            if state.head > 0 && state.events.count + events.count > capacity {
                state.events.removeFirst(state.head)
                state.head = 0
            }
            let room = capacity - state.events.count
            let kept = min(room, events.count)
            state.events.append(contentsOf: events.prefix(kept))
            return kept
        }
        let dropped = events.count - kept
        if dropped > 0 { droppedCount.add(UInt64(dropped), ordering: .relaxed) }
        return dropped
    }

    /// Up to `max` of the oldest events, without removing them: `remove(count:)` after they are kept.
    public func peek(max: Int) -> [AlertEvent] {
        state.withLock { state in Array(state.events[state.head..<min(state.events.count, state.head + max)]) }
    }

    /// Removes the `count` oldest events (after the consumer stored what `peek` gave it).
    public func remove(count: Int) {
        state.withLock { state in
            state.head = min(state.events.count, state.head + count)
            if state.head == state.events.count {
                state.events.removeAll(keepingCapacity: true)
                state.head = 0
            }
        }
    }
}

/// A live SSE stream and how to end it.
public struct EventSubscription: Sendable {
    public let events: AsyncStream<AlertEvent>
    public let cancel: @Sendable () -> Void
    public init(events: AsyncStream<AlertEvent>, cancel: @escaping @Sendable () -> Void) {
        self.events = events
        self.cancel = cancel
    }
}

/// The event counters `/api/stats` and `/metrics` show.
public struct EventCounters: Sendable, Equatable {
    public var byKind: [EventKind: UInt64]
    /// More events in one batch than `Limits.Events.perBatchMax`.
    public var droppedBurst: UInt64
    /// The store writer's queue was full (a long store outage).
    public var droppedStoreQueueFull: UInt64
    /// Events a slow SSE client did not take in time.
    public var droppedStream: UInt64
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

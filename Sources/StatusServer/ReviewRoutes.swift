import Foundation
import Hummingbird
import Telemetry
import TelemetryStore

/// Flight review's API (docs/operations.md, "Flight review API"): the fleet at an instant
/// (`/api/fleet?at=`), the activity and events over a range (`/api/timeline`) and one drone's
/// downsampled series (`/api/drones/{protocol}/{id}/series`). Every answer comes from the store,
/// SQLite or PostgreSQL, through `TelemetryStoreReading`, on a read connection of its own (pooled by
/// the gateway) through the `StoreReadLimiter` the track and event endpoints share; every answer is bounded
/// (`Limits.Status`).
enum ReviewRoutes {
    static func add(to router: Router<StatusRequestContext>, source: some StatusSource, settings: StatusSettings, guards: HTTPGuards) {
        router.getAndHead("/api/fleet") { request, _ in
            let parameters = request.uri.queryParameters
            let query = try FleetQuery(nowMicroseconds: SystemClock.realtimeNanoseconds() / 1_000) { parameters.get($0).map { String($0) } }
            let samples = try await read(guards, what: "fleet") { () throws(StoreError) in
                try source.withStoreForReading { store throws(StoreError) in
                    try store.lastSamples(in: query.timeRange, dronesMax: Limits.Status.reviewFleetDronesMax)
                }
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: FleetAtReply(query: query, samples: samples, settings: settings).json)))
        }
        router.getAndHead("/api/timeline") { request, _ in
            let parameters = request.uri.queryParameters
            let query = try TimelineQuery { parameters.get($0).map { String($0) } }
            let timeline = try await read(guards, what: "timeline") { () throws(StoreError) in
                try source.withStoreForReading { store throws(StoreError) in
                    try Timeline.read(store: store, query: query, nowMicroseconds: SystemClock.realtimeNanoseconds() / 1_000)
                }
            }
            return StatusRoutes.jsonResponse(timeline.reply)
        }
        router.getAndHead("/api/drones/:protocol/:id/series") { request, context in
            let drone = try StatusRoutes.droneIdentity(context)
            let parameters = request.uri.queryParameters
            let query = try SeriesQuery(nowMicroseconds: SystemClock.realtimeNanoseconds() / 1_000) { parameters.get($0).map { String($0) } }
            let series = try await read(guards, what: "series") { () throws(StoreError) in
                try source.withStoreForReading { store throws(StoreError) in try Series.read(store: store, drone: drone, query: query) }
            }
            return StatusRoutes.jsonResponse(series.reply)
        }
    }

    /// Runs `work` through the limiter (503 when it is full); a store failure is a 500 naming it.
    static func read<Value: Sendable>(
        _ guards: HTTPGuards, what: String, _ work: @escaping @Sendable () throws(StoreError) -> Value
    ) async throws -> Value {
        switch try await guards.storeReads.run(what: what, work) {
        case .success(let value): return value
        case .failure(let error): throw HTTPError(.internalServerError, message: "reading the \(what) failed: \(error)")
        }
    }
}

/// Query parameters, checked: a bad one is a 400 that names it.
struct ReviewParameters {
    let parameter: (String) -> String?

    func time(_ name: String) throws -> UInt64? {
        guard let text = parameter(name) else { return nil }
        guard let value = TimeText.microseconds(from: text), value <= UInt64(Int64.max) else {
            throw HTTPError(.badRequest, message: "\(name)='\(text)' is not ISO 8601 UTC (2026-01-01T12:00:00Z) or µs since the epoch")
        }
        return value
    }

    func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = parameter(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw HTTPError(.badRequest, message: "\(name)='\(text)' must be a whole number in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }
}

// MARK: /api/fleet?at=

/// `at` (default now) and `window` in seconds (default `reviewWindowDefault`).
struct FleetQuery: Sendable {
    var atMicroseconds: UInt64
    var windowSeconds: Int

    init(nowMicroseconds: UInt64, parameter: @escaping (String) -> String?) throws {
        let parameters = ReviewParameters(parameter: parameter)
        atMicroseconds = try parameters.time("at") ?? nowMicroseconds
        windowSeconds = try parameters.integer("window", in: 1...Int(Limits.Status.reviewWindowMax.components.seconds))
            ?? Int(Limits.Status.reviewWindowDefault.components.seconds)
    }

    /// (at − window, at] as a half-open range of whole µs.
    var timeRange: Range<UInt64> {
        let window = UInt64(windowSeconds) * 1_000_000
        let lower = atMicroseconds >= window ? atMicroseconds - window + 1 : 0
        return lower..<(atMicroseconds + 1)
    }
}

struct FleetAtReply: Encodable {
    var at_us: UInt64
    var window_s: Int
    var drones: [Entry]

    init(query: FleetQuery, samples: [StoredSample], settings: StatusSettings) {
        at_us = query.atMicroseconds
        window_s = query.windowSeconds
        drones = samples.map { Entry($0, atMicroseconds: query.atMicroseconds, settings: settings) }
    }

    /// One drone's last sample. `status` is the live page's state word, judged at `at`: how long
    /// before the cursor the sample is, against the gateway's stale and offline thresholds;
    /// `flags` is the sample's status flags (`/api/drones`' `status` number).
    struct Entry: Encodable {
        var `protocol`: String
        var id: UInt32
        var time_us: UInt64
        var lat: Double
        var lon: Double
        var alt_m: Double
        var ground_speed_mps: Double
        var heading_deg: Double?
        var battery_percent: Int?
        var status: String
        var flags: UInt32

        init(_ row: StoredSample, atMicroseconds: UInt64, settings: StatusSettings) {
            let s = row.sample
            self.protocol = row.drone.protocol.name
            id = row.drone.number
            time_us = row.timestampMicroseconds
            lat = Double(s.latitudeE7) / 1e7
            lon = Double(s.longitudeE7) / 1e7
            alt_m = Double(s.altitudeMM) / 1_000
            ground_speed_mps = SeriesColumns.groundSpeed(row)
            heading_deg = s.headingCentidegrees == DroneStatus.headingUnknown ? nil : Double(s.headingCentidegrees) / 100
            battery_percent = s.batteryPercent == DroneStatus.batteryPercentUnknown ? nil : Int(s.batteryPercent)
            let ago = Double(atMicroseconds &- min(row.timestampMicroseconds, atMicroseconds)) / 1e6
            status = ago >= settings.offlineAfterSeconds ? "offline" : ago >= settings.staleAfterSeconds ? "stale" : "online"
            flags = s.status.rawValue
        }

        // Unknown values are null, not missing keys: every entry has every field.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(self.protocol, forKey: .protocol)
            try container.encode(id, forKey: .id)
            try container.encode(time_us, forKey: .time_us)
            try container.encode(lat, forKey: .lat)
            try container.encode(lon, forKey: .lon)
            try container.encode(alt_m, forKey: .alt_m)
            try container.encode(ground_speed_mps, forKey: .ground_speed_mps)
            try container.encode(heading_deg, forKey: .heading_deg)
            try container.encode(battery_percent, forKey: .battery_percent)
            try container.encode(status, forKey: .status)
            try container.encode(flags, forKey: .flags)
        }

        enum CodingKeys: String, CodingKey {
            case `protocol`, id, time_us, lat, lon, alt_m, ground_speed_mps, heading_deg, battery_percent, status, flags
        }

        /// The entry as `encode(to:)` writes it, written directly: every string is a fixed ASCII
        /// word (nothing to escape) and every number is finite.
        func write(to text: inout String) {
            text += #"{"protocol":""#
            text += self.protocol
            text += #"","id":\#(id),"time_us":\#(time_us),"lat":\#(lat),"lon":\#(lon),"alt_m":\#(alt_m),"#
            text += #""ground_speed_mps":\#(ground_speed_mps),"heading_deg":"#
            text += heading_deg.map { "\($0)" } ?? "null"
            text += #","battery_percent":"#
            text += battery_percent.map { "\($0)" } ?? "null"
            text += #","status":""#
            text += status
            text += #"","flags":\#(flags)}"#
        }
    }

    /// The answer as JSON, written directly rather than through `JSONEncoder`, as it grows with
    /// the fleet (10,000 entries at a busy site); a test holds it equal to the encoder's.
    var json: String {
        var text = #"{"at_us":\#(at_us),"window_s":\#(window_s),"drones":["#
        text.reserveCapacity(64 + drones.count * 240)
        for (index, entry) in drones.enumerated() {
            if index > 0 { text += "," }
            entry.write(to: &text)
        }
        text += "]}"
        return text
    }
}

// MARK: /api/timeline

/// `from`/`until` (default: the whole stored range) and `buckets`.
struct TimelineQuery: Sendable {
    var fromMicroseconds: UInt64?
    var untilMicroseconds: UInt64?
    var buckets: Int

    init(parameter: @escaping (String) -> String?) throws {
        let parameters = ReviewParameters(parameter: parameter)
        fromMicroseconds = try parameters.time("from")
        untilMicroseconds = try parameters.time("until")
        if let from = fromMicroseconds, let until = untilMicroseconds, from >= until {
            throw HTTPError(.badRequest, message: "from must be before until")
        }
        buckets = try parameters.integer("buckets", in: 1...Limits.Status.timelineBucketsMax) ?? Limits.Status.timelineBucketsDefault
    }
}

struct Timeline: Sendable {
    var reply: Reply

    struct Reply: Encodable, Sendable {
        var first_us: UInt64?
        var last_us: UInt64?
        var from_us: UInt64
        var until_us: UInt64
        var bucket_us: UInt64
        var buckets: [Bucket]
        var events: [Event]
        var events_truncated: Bool

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(first_us, forKey: .first_us)
            try container.encode(last_us, forKey: .last_us)
            try container.encode(from_us, forKey: .from_us)
            try container.encode(until_us, forKey: .until_us)
            try container.encode(bucket_us, forKey: .bucket_us)
            try container.encode(buckets, forKey: .buckets)
            try container.encode(events, forKey: .events)
            try container.encode(events_truncated, forKey: .events_truncated)
        }

        enum CodingKeys: String, CodingKey {
            case first_us, last_us, from_us, until_us, bucket_us, buckets, events, events_truncated
        }
    }

    struct Bucket: Encodable, Sendable, Equatable {
        var start_us: UInt64
        var drones: Int
        var samples: Int
    }

    /// An event as `/api/events` has it, except that `id` is the drone's number (beside
    /// `protocol`, as everywhere in the review API; `drone` says the same) and the store's event
    /// number is `event_id`; `detail` is a short text for a tooltip.
    struct Event: Encodable, Sendable, Equatable {
        var time_us: UInt64
        var kind: String
        var `protocol`: String
        var id: UInt32
        var detail: String
        var drone: UInt32
        var event_id: UInt64
        var zone: String
        var alarm: Bool
        var value: Double
        var lat: Double
        var lon: Double
        var alt_m: Double

        init(_ event: AlertEvent) {
            time_us = event.timeMicroseconds
            kind = event.kind.name
            self.protocol = event.drone.protocol.name
            id = event.drone.number
            drone = event.drone.number
            event_id = event.id
            zone = event.zone
            alarm = event.alarm
            value = event.value
            lat = Double(event.latitudeE7) / 1e7
            lon = Double(event.longitudeE7) / 1e7
            alt_m = Double(event.altitudeMM) / 1_000
            detail = Self.detail(event)
        }

        static func detail(_ event: AlertEvent) -> String {
            let value = (event.value * 10).rounded() / 10
            switch event.kind {
            case .zoneEnter: return "entered zone \(event.zone)"
            case .zoneExit: return "left zone \(event.zone)"
            case .lowBattery: return "battery \(value) %"
            case .lostLink: return "no frame for \(value) s"
            case .linkRestored: return "link restored"
            case .gpsFixLost: return "GPS fix lost"
            case .overspeed: return "ground speed \(value) m/s"
            case .altitudeCeiling: return "altitude \(value) m"
            case .sequenceGapBurst: return "\(Int(event.value)) frames lost at once"
            }
        }
    }

    /// The stored range, the activity per bucket and the events, from one read connection. The
    /// buckets are `ceil((until − from) / buckets)` wide, so there are at most as many as asked.
    static func read(store: any TelemetryStoreReading, query: TimelineQuery, nowMicroseconds: UInt64) throws(StoreError) -> Timeline {
        let bounds = try store.sampleTimeBounds()
        let fallback = min(nowMicroseconds, UInt64(Int64.max) - 1)
        let from = query.fromMicroseconds ?? bounds?.lowerBound ?? fallback
        var until = query.untilMicroseconds ?? (bounds.map { $0.upperBound + 1 } ?? fallback + 1)
        if until <= from { until = from + 1 }
        let span = until - from
        let width = max((span + UInt64(query.buckets) - 1) / UInt64(query.buckets), 1)
        let count = Int((span + width - 1) / width)
        let buckets = ActivityBuckets(originMicroseconds: from, widthMicroseconds: width, count: count)
        let activity = try store.activity(buckets)
        var events = try store.readEvents(EventQuery(timeRangeMicroseconds: from..<until, limit: Limits.Status.timelineEventsMax + 1))
        let isTruncated = events.count > Limits.Status.timelineEventsMax
        // Newest first from the store: keep the newest `timelineEventsMax`, then list them in time order.
        events = Array(events.prefix(Limits.Status.timelineEventsMax).reversed())
        return Timeline(reply: Reply(
            first_us: bounds?.lowerBound, last_us: bounds?.upperBound, from_us: from, until_us: until, bucket_us: width,
            buckets: activity.enumerated().map { index, bucket in
                Bucket(start_us: from + UInt64(index) * width, drones: bucket.drones, samples: bucket.samples)
            },
            events: events.map(Event.init), events_truncated: isTruncated))
    }
}

// MARK: /api/drones/{protocol}/{id}/series

/// `from`/`until` (default: the hour before now, as the track endpoint) and `points`.
struct SeriesQuery: Sendable {
    var fromMicroseconds: UInt64
    var untilMicroseconds: UInt64
    var points: Int

    init(nowMicroseconds: UInt64, parameter: @escaping (String) -> String?) throws {
        let parameters = ReviewParameters(parameter: parameter)
        untilMicroseconds = try parameters.time("until") ?? min(nowMicroseconds + 60_000_000, UInt64(Int64.max))
        fromMicroseconds = try parameters.time("from")
            ?? untilMicroseconds - min(untilMicroseconds, Limits.Status.trackRangeDefault.microsecondsClamped)
        guard fromMicroseconds < untilMicroseconds else { throw HTTPError(.badRequest, message: "from must be before until") }
        points = try parameters.integer("points", in: 2...Limits.Status.seriesPointsMax) ?? Limits.Status.seriesPointsDefault
    }
}

/// A drone's samples over a range as columns, one sample per time bucket.
struct SeriesColumns: Sendable, Equatable {
    var times: [UInt64] = []
    var latitudes: [Double] = []
    var longitudes: [Double] = []
    var altitudes: [Double] = []
    var groundSpeeds: [Double] = []
    var headings: [Double?] = []
    var batteryPercents: [Int?] = []
    var linkQualities: [Double?] = []

    /// Metres per second from the sample's north and east velocities (cm/s).
    static func groundSpeed(_ row: StoredSample) -> Double {
        let north = Double(row.sample.velocityNorthCMS)
        let east = Double(row.sample.velocityEastCMS)
        return (north * north + east * east).squareRoot() / 100
    }

    mutating func append(_ row: StoredSample) {
        let s = row.sample
        times.append(row.timestampMicroseconds)
        latitudes.append(Double(s.latitudeE7) / 1e7)
        longitudes.append(Double(s.longitudeE7) / 1e7)
        altitudes.append(Double(s.altitudeMM) / 1_000)
        groundSpeeds.append(Self.groundSpeed(row))
        headings.append(s.headingCentidegrees == DroneStatus.headingUnknown ? nil : Double(s.headingCentidegrees) / 100)
        batteryPercents.append(s.batteryPercent == DroneStatus.batteryPercentUnknown ? nil : Int(s.batteryPercent))
        linkQualities.append(nil)
    }
}

struct Series: Sendable {
    var drone: DroneIdentity
    var query: SeriesQuery
    var bucketMicroseconds: UInt64
    var columns: SeriesColumns
    var rowsRead: Int
    /// The row budget (`seriesRowsReadMax`) ran out before the range did.
    var isTruncated: Bool

    /// Counts a drone's frames from their sequence numbers: a sample whose sequence differs from
    /// the previous sample's is a new frame (a Skygate frame carries several samples under one
    /// number); the numbers skipped before it are frames that were expected and not received.
    /// A jump backwards or beyond `seriesSequenceJumpMax` is a restarted sender, not a loss.
    struct FrameCounter {
        var previous: UInt32?
        var received = 0
        var expected = 0

        mutating func count(_ sequence: UInt32) {
            defer { previous = sequence }
            guard let previous else {
                received += 1
                expected += 1
                return
            }
            guard sequence != previous else { return }
            let step = sequence &- previous
            received += 1
            expected += step <= Limits.Status.seriesSequenceJumpMax ? Int(step) : 1
        }

        /// received / expected since the last call (nil when no frame began), and a fresh count.
        mutating func take() -> Double? {
            defer { received = 0; expected = 0 }
            return expected > 0 ? Double(received) / Double(expected) : nil
        }
    }

    /// Reads the drone's samples in the range (at most `seriesRowsReadMax`) and keeps the first of
    /// each bucket of `ceil((until − from) / points)` µs, so there are at most `points`. Link
    /// quality is per bucket, from every sample in it; MAVLink's sequence number counts every
    /// message the vehicle sends, not only positions, so its gaps say nothing and it is null.
    static func read(store: any TelemetryStoreReading, drone: DroneIdentity, query: SeriesQuery) throws(StoreError) -> Series {
        let span = query.untilMicroseconds - query.fromMicroseconds
        let width = max((span + UInt64(query.points) - 1) / UInt64(query.points), 1)
        var columns = SeriesColumns()
        var frames = FrameCounter()
        let knowsFrames = drone.protocol == .skygate
        var lastBucket = UInt64.max
        var rowsRead = 0
        var isTruncated = false
        try store.readSamples(
            drone: drone, timeRangeMicroseconds: query.fromMicroseconds..<query.untilMicroseconds, pageSize: Limits.Status.trackPageRows
        ) { page in
            for row in page {
                let bucket = (row.timestampMicroseconds - query.fromMicroseconds) / width
                if bucket != lastBucket {
                    if !columns.times.isEmpty, knowsFrames { columns.linkQualities[columns.times.count - 1] = frames.take() }
                    lastBucket = bucket
                    columns.append(row)
                }
                if knowsFrames { frames.count(row.sequence) }
            }
            rowsRead += page.count
            if rowsRead >= Limits.Status.seriesRowsReadMax {
                isTruncated = true
                return false
            }
            return true
        }
        if !columns.times.isEmpty, knowsFrames { columns.linkQualities[columns.times.count - 1] = frames.take() }
        return Series(drone: drone, query: query, bucketMicroseconds: width, columns: columns, rowsRead: rowsRead, isTruncated: isTruncated)
    }

    var reply: Reply {
        Reply(
            protocol: drone.protocol.name, id: drone.number, from_us: query.fromMicroseconds, until_us: query.untilMicroseconds,
            points: columns.times.count, bucket_us: bucketMicroseconds, rows_read: rowsRead, truncated: isTruncated,
            time_us: columns.times, lat: columns.latitudes, lon: columns.longitudes, alt_m: columns.altitudes,
            ground_speed_mps: columns.groundSpeeds, heading_deg: columns.headings, battery_percent: columns.batteryPercents,
            link_quality: columns.linkQualities)
    }

    /// `points` is the columns' length; `bucket_us`, `rows_read` and `truncated` say how they were made.
    struct Reply: Encodable, Sendable {
        var `protocol`: String
        var id: UInt32
        var from_us: UInt64
        var until_us: UInt64
        var points: Int
        var bucket_us: UInt64
        var rows_read: Int
        var truncated: Bool
        var time_us: [UInt64]
        var lat: [Double]
        var lon: [Double]
        var alt_m: [Double]
        var ground_speed_mps: [Double]
        var heading_deg: [Double?]
        var battery_percent: [Int?]
        var link_quality: [Double?]
    }
}

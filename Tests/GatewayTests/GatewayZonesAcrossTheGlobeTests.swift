import AsyncHTTPClient
import Foundation
import Gateway
import NIOCore
import ServiceLifecycle
import SkygateTestSupport
import Synchronization
import Telemetry
import TelemetryStore
import TelemetryWire
import Testing

/// Issue 20, hostile input: a zone file whose zones together span the globe (more than 214.7°
/// of longitude, which wrapped the grid's `Int32` difference and trapped the gateway on the first
/// position) and drones sweeping every longitude from -180° to 180° along latitudes from pole to
/// pole, half over UDP and half through `POST /api/telemetry`, with garbage coordinates among
/// them. The gateway stays up, the zone events stored equal what an independent model of the
/// stored flight predicts (plain rectangle tests and the documented flat-earth circle), the
/// garbage is rejected as `position_out_of_range`, and received == stored + duplicate +
/// rejected + dropped.
@Suite(.serialized) struct GatewayZonesAcrossTheGlobeTests {
    static let hysteresis = 5.0

    struct Rectangle { var name: String; var kind: String; var west, east, south, north: Double }
    struct Circle { var name: String; var kind: String; var longitude, latitude, radius: Double }

    /// Each zone under 180° of longitude (the file's rule); together from -179.9° to 179.9°.
    static let rectangles = [
        Rectangle(name: "west", kind: "keep-out", west: -170, east: -100, south: -10, north: 10),
        Rectangle(name: "east", kind: "keep-out", west: 100, east: 170, south: -10, north: 10),
        Rectangle(name: "dateline east", kind: "keep-out", west: 175, east: 179.9, south: -5, north: 5),
        Rectangle(name: "dateline west", kind: "keep-out", west: -179.9, east: -175, south: -5, north: 5),
        Rectangle(name: "south", kind: "keep-in", west: -60, east: 60, south: -89.99, north: -80),
        Rectangle(name: "wide", kind: "keep-out", west: -20, east: 150, south: 40, north: 50),
    ]
    static let circles = [Circle(name: "north pole", kind: "keep-out", longitude: 0, latitude: 89.9, radius: 50_000)]

    static var zonesFile: String {
        var features: [String] = []
        for r in rectangles {
            features.append("""
                {"type":"Feature","properties":{"name":"\(r.name)","kind":"\(r.kind)"},"geometry":{"type":"Polygon","coordinates":\
                [[[\(r.west),\(r.south)],[\(r.east),\(r.south)],[\(r.east),\(r.north)],[\(r.west),\(r.north)],[\(r.west),\(r.south)]]]}}
                """)
        }
        for c in circles {
            features.append("""
                {"type":"Feature","properties":{"name":"\(c.name)","kind":"\(c.kind)","radius_m":\(c.radius)},\
                "geometry":{"type":"Point","coordinates":[\(c.longitude),\(c.latitude)]}}
                """)
        }
        return "{\"type\":\"FeatureCollection\",\"features\":[\n" + features.joined(separator: ",\n") + "\n]}"
    }

    /// How far (metres, negative inside) a position is outside each zone, by the documented
    /// model: rectangles in longitude/latitude, circles in the flat frame at their centre (east
    /// metres scaled by the cosine of the centre's latitude, at least 0.01, as docs/events.md says).
    static func distances(latitude: Double, longitude: Double) -> [(name: String, isAlarmOnEntry: Bool, metres: Double)] {
        let metresPerDegree = 111_319.49
        var result: [(String, Bool, Double)] = []
        for r in rectangles {
            let east = metresPerDegree * max(0.01, cos((r.south + r.north) / 2 * .pi / 180))
            let dx = max(r.west - longitude, 0, longitude - r.east) * east
            let dy = max(r.south - latitude, 0, latitude - r.north) * metresPerDegree
            let outside = (dx * dx + dy * dy).squareRoot()
            let inside = min(longitude - r.west, r.east - longitude, latitude - r.south, r.north - latitude) * min(east, metresPerDegree)
            result.append((r.name, r.kind == "keep-out", outside > 0 ? outside : -inside))
        }
        for c in circles {
            let dx = (longitude - c.longitude) * metresPerDegree * max(0.01, cos(c.latitude * .pi / 180))
            let dy = (latitude - c.latitude) * metresPerDegree
            result.append((c.name, c.kind == "keep-out", (dx * dx + dy * dy).squareRoot() - c.radius))
        }
        return result
    }

    struct Event: Hashable { var drone: UInt32; var kind: EventKind; var zone: String; var time: UInt64 }

    /// The sweeps: one drone per latitude, every 1.3° of longitude from -180° and exactly 180°
    /// last; none lands within 50 m of a zone's edge, so the model is unambiguous.
    static let latitudes = [-90.0, -85, -45, -7, 0, 3, 45, 60, 89.95, 90]
    static var longitudes: [Double] { Array(stride(from: -180.0, through: 180, by: 1.3)) + [180] }

    @Test func zonesSpanningTheGlobeWithPositionsEverywhere() async throws {
        let directory = TemporaryDirectory()
        try Data(Self.zonesFile.utf8).write(to: URL(fileURLWithPath: directory.file("zones.geojson")))
        for latitude in Self.latitudes {
            for longitude in Self.longitudes {
                let near = Self.distances(latitude: latitude, longitude: longitude).filter { abs($0.metres) < 50 }
                try #require(near.isEmpty, "the sweep passes within 50 m of \(near) at \(latitude), \(longitude)")
            }
        }

        var configuration = GatewayConfiguration()
        configuration.udpAddress = "127.0.0.1:0"
        configuration.httpAddress = "127.0.0.1:0"
        configuration.databasePath = directory.file("gateway.db")
        configuration.limits.commitInterval = .milliseconds(50)
        configuration.zonesPath = directory.file("zones.geojson")
        configuration.rules.zoneHysteresisMetres = Self.hysteresis
        configuration.rules.lowBatteryPercent = 0
        configuration.rules.lostLinkSeconds = 0
        configuration.rules.sequenceGapFrames = 0
        configuration.rules.gpsFixLost = false
        let gateway = try Gateway(configuration: configuration)
        let httpPort = Mutex(0)
        let group = try gateway.makeServiceGroup(logger: .init(label: "test"), onRunning: { port in httpPort.withLock { $0 = port } }, onStopped: { _ in })
        let service = Task { try await group.run() }
        let deadline = ContinuousClock.now + .seconds(20)
        while httpPort.withLock({ $0 }) == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let port = httpPort.withLock { $0 }
        try #require(port != 0, "the HTTP side did not start")
        let client = HTTPClient(eventLoopGroupProvider: .singleton)

        // One frame per position; times 10 ms apart, ending a minute ago.
        let start = UInt64(Date().timeIntervalSince1970 * 1e6) - 120_000_000
        func frames(drone: UInt32, positions: [(latitudeE7: Int32, longitudeE7: Int32)]) -> [[UInt8]] {
            positions.enumerated().map { index, position in
                FrameEncoder.encode(
                    header: FrameHeader(droneID: drone, sequence: UInt32(index), timestampMicroseconds: start + UInt64(index) * 10_000),
                    samples: [WireSample(latitudeE7: position.latitudeE7, longitudeE7: position.longitudeE7, altitudeMM: 100_000, status: .gpsFix)])
            }
        }
        func post(_ frames: [[UInt8]]) async throws -> UInt {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/telemetry")
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/octet-stream")
            request.body = .bytes(ByteBuffer(bytes: frames.flatMap { $0 }))
            let response = try await client.execute(request, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 20)
            return response.status.code
        }
        var sent = 0
        for (number, latitude) in Self.latitudes.enumerated() {
            let positions = Self.longitudes.map { (latitudeE7: Int32((latitude * 1e7).rounded()), longitudeE7: Int32(($0 * 1e7).rounded())) }
            let drone = UInt32(100 + number)
            if number % 2 == 0 {
                sendRaw(frames(drone: drone, positions: positions), to: gateway.udpPort)
            } else {
                #expect(try await post(frames(drone: drone, positions: positions)) == 202)
            }
            sent += positions.count
        }
        // Garbage coordinates, both ways: past the poles, past the antimeridian, the Int32 ends.
        let garbage: [(latitudeE7: Int32, longitudeE7: Int32)] = [
            (900_000_001, 0), (-900_000_001, 0), (0, 1_800_000_001), (0, -1_800_000_001), (.max, .max), (.min, .min), (.max, .min),
        ]
        sendRaw(frames(drone: 200, positions: garbage), to: gateway.udpPort)
        #expect(try await post(frames(drone: 201, positions: garbage)) == 202)
        let total = sent + 2 * garbage.count
        #expect(await poll { gateway.counters.snapshot().received >= UInt64(total) }, "\(gateway.counters.snapshot())")
        // Still up: the HTTP side answers after every position went through the zones.
        var health = HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz")
        health.method = .GET
        #expect(try await client.execute(health, timeout: .seconds(10)).status.code == 200)

        await group.triggerGracefulShutdown()
        try await service.value
        try? await client.shutdown()

        let final = gateway.counters.snapshot()
        #expect(final.isBalanced, "\(final)")
        #expect(final.received == UInt64(total))
        #expect(final.rejected[.positionOutOfRange] == UInt64(2 * garbage.count))
        #expect(final.dropped.values.reduce(0, +) == 0)

        // The model over the stored flight (what the gateway took in, in time order).
        let rows = try storedRows(directory.file("gateway.db"))
        #expect(rows.values.reduce(0) { $0 + $1.count } == sent)
        var predicted = Set<Event>()
        for (drone, samples) in rows {
            var inside = Set<String>()
            for row in samples.sorted(by: { $0.timestampMicroseconds < $1.timestampMicroseconds }) {
                let latitude = Double(row.sample.latitudeE7) / 1e7, longitude = Double(row.sample.longitudeE7) / 1e7
                for zone in Self.distances(latitude: latitude, longitude: longitude) {
                    if zone.metres <= 0 && !inside.contains(zone.name) {
                        inside.insert(zone.name)
                        predicted.insert(Event(drone: drone.number, kind: .zoneEnter, zone: zone.name, time: row.timestampMicroseconds))
                    } else if zone.metres > Self.hysteresis && inside.contains(zone.name) {
                        inside.remove(zone.name)
                        predicted.insert(Event(drone: drone.number, kind: .zoneExit, zone: zone.name, time: row.timestampMicroseconds))
                    }
                }
            }
        }
        // Every zone is entered by some sweep, the eastern ones (past 214.7° of the grid) too.
        let entered = Set(predicted.filter { $0.kind == .zoneEnter }.map(\.zone))
        #expect(entered == Set(Self.rectangles.map(\.name) + Self.circles.map(\.name)), "\(entered)")

        let store = try TelemetryStore(path: directory.file("gateway.db"))
        defer { store.close() }
        let stored = try store.readEvents(EventQuery(limit: 10_000)).filter { $0.kind == .zoneEnter || $0.kind == .zoneExit }
        let storedEvents = Set(stored.map { Event(drone: $0.drone.number, kind: $0.kind, zone: $0.zone, time: $0.timeMicroseconds) })
        #expect(stored.count == storedEvents.count, "an event stored twice")
        #expect(storedEvents == predicted,
                "stored, not predicted: \(storedEvents.subtracting(predicted).sorted { $0.time < $1.time }.prefix(10)); predicted, not stored: \(predicted.subtracting(storedEvents).sorted { $0.time < $1.time }.prefix(10))")
        let alarms = Dictionary(uniqueKeysWithValues: (Self.rectangles.map { ($0.name, $0.kind) } + Self.circles.map { ($0.name, $0.kind) }))
        #expect(stored.allSatisfy { $0.alarm == (($0.kind == .zoneEnter) == (alarms[$0.zone] == "keep-out")) })
    }

    func poll(seconds: Double = 30, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1_000))
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }
}

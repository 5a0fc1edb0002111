import AsyncHTTPClient
import Foundation
import Gateway
import NIOCore
import Playback
import ServiceLifecycle
import SkygateTestSupport
import StatusServer
import Synchronization
import Telemetry
import TelemetryStore
import Testing

/// Issue 14's acceptance on a real gateway: a seeded fleet crosses a keep-out zone; the enter and
/// exit events equal what an independent model of the stored flight predicts, and each one is
/// stored, streamed over SSE and delivered to a webhook receiver with a valid signature, though
/// the receiver is killed mid-run and comes back later (retries, then delivery; counters exact;
/// ingest loses nothing meanwhile).
@Suite(.serialized) struct GatewayEventsEndToEndTests {
    /// A 1.6 km square around the simulator's area centre (FlightArea.standard), up to 2,000 m.
    static let square = (west: 8.535, east: 8.556, south: 47.390, north: 47.405)
    static let hysteresis = 5.0

    static let zonesFile = """
        {"type":"FeatureCollection","features":[
          {"type":"Feature","properties":{"name":"centre <b>pad</b>","kind":"keep-out","ceiling_m":2000},
           "geometry":{"type":"Polygon","coordinates":[[[\(square.west),\(square.south)],[\(square.east),\(square.south)],
             [\(square.east),\(square.north)],[\(square.west),\(square.north)],[\(square.west),\(square.south)]]]}}
        ]}
        """

    /// Enter/exit events of one drone's samples (time order) under the documented model: enter
    /// on the first fix inside the square, leave on the first fix more than `hysteresis` metres
    /// outside it. Independent of the engine: plain rectangle tests and a flat-earth distance.
    static func predictedCrossings(_ samples: [StoredSample]) -> [(kind: EventKind, time: UInt64)] {
        let metresNorth = 111_319.49, metresEast = 111_319.49 * cos((square.south + square.north) / 2 * .pi / 180)
        var inside = false
        var crossings: [(EventKind, UInt64)] = []
        for row in samples {
            let sample = row.sample
            guard sample.status.contains(.gpsFix), sample.latitudeE7 != 0 || sample.longitudeE7 != 0 else { continue }
            let lat = Double(sample.latitudeE7) / 1e7, lon = Double(sample.longitudeE7) / 1e7
            let altitude = Double(sample.altitudeMM) / 1_000
            let dx = max(square.west - lon, 0, lon - square.east) * metresEast
            let dy = max(square.south - lat, 0, lat - square.north) * metresNorth
            let isInside = dx == 0 && dy == 0 && altitude <= 2_000
            let beyond = (dx * dx + dy * dy).squareRoot() > hysteresis || altitude > 2_000 + hysteresis
            if !inside && isInside {
                inside = true
                crossings.append((.zoneEnter, row.timestampMicroseconds))
            } else if inside && beyond {
                inside = false
                crossings.append((.zoneExit, row.timestampMicroseconds))
            }
        }
        return crossings
    }

    /// Polls without blocking a thread of the concurrency pool (the gateway's HTTP side and the
    /// webhook delivery run there).
    func poll(seconds: Double = 20, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1_000))
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    struct Key: Hashable { var drone: UInt32; var kind: EventKind; var time: UInt64 }

    @Test func fleetCrossingAKeepOutZone() async throws {
        let directory = TemporaryDirectory()
        let secret = Array("a webhook secret for the test".utf8)
        try Data(secret).write(to: URL(fileURLWithPath: directory.file("secret")))
        chmod(directory.file("secret"), 0o600)  // a secret others can read is refused
        try Data(Self.zonesFile.utf8).write(to: URL(fileURLWithPath: directory.file("zones.geojson")))
        // The receiver is a separate process (Scripts/webhook-receiver.py, Python's hmac), so it
        // can be killed for real (SIGKILL: connections reset, nothing answered).
        var receiver = try PythonReceiver(port: 0, secret: directory.file("secret"), out: directory.file("hook.jsonl"))
        let hookPort = receiver.port

        var configuration = GatewayConfiguration()
        configuration.udpAddress = "127.0.0.1:0"
        configuration.httpAddress = "127.0.0.1:0"
        configuration.databasePath = directory.file("gateway.db")
        configuration.limits.commitInterval = .milliseconds(50)
        configuration.zonesPath = directory.file("zones.geojson")
        configuration.rules.zoneHysteresisMetres = Self.hysteresis
        // Only zone events: the other rules off, so the webhook's count is the zone events'.
        configuration.rules.lowBatteryPercent = 0
        configuration.rules.lostLinkSeconds = 0
        configuration.rules.sequenceGapFrames = 0
        configuration.rules.gpsFixLost = false
        configuration.webhookURLs = ["http://127.0.0.1:\(hookPort)/hook"]
        configuration.webhookSecretFile = directory.file("secret")
        let gateway = try Gateway(configuration: configuration)
        let httpPort = Mutex(0)
        let group = try gateway.makeServiceGroup(logger: .init(label: "test"), onRunning: { port in httpPort.withLock { $0 = port } }, onStopped: { _ in })
        let service = Task { try await group.run() }
        let deadline = ContinuousClock.now + .seconds(20)
        while httpPort.withLock({ $0 }) == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let port = httpPort.withLock { $0 }
        try #require(port != 0, "the HTTP side did not start")

        // SSE client: every event streamed, in order.
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let streamed = Mutex<[AlertEvent]>([])
        let stream = Task {
            // Last-Event-ID 0: the gateway replays what it remembers, so a stream that connects
            // after the first events (a loaded machine) still sees them all, once.
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/events/stream")
            request.headers.add(name: "Last-Event-ID", value: "0")
            let response = try await client.execute(request, timeout: .seconds(180))
            #expect(response.headers.first(name: "content-type") == "text/event-stream")
            var pending = ""
            for try await buffer in response.body {
                pending += String(buffer: buffer)
                while let end = pending.range(of: "\n\n") {
                    let message = pending[..<end.lowerBound]
                    pending = String(pending[end.upperBound...])
                    for line in message.split(separator: "\n") where line.hasPrefix("data: ") {
                        let event = try JSONDecoder().decode(AlertEvent.self, from: Data(line.dropFirst(6).utf8))
                        streamed.withLock { $0.append(event) }
                    }
                }
            }
        }
        #expect(await poll { gateway.eventHub.snapshot().streamClients == 1 }, "the SSE client did not connect")

        // Half the fleet, the receiver killed, the other half, then the receiver back.
        let first = try fly(drones: 15, rate: 5, duration: 240, seed: 14, port: gateway.udpPort)
        #expect(await poll { gateway.counters.snapshot().received >= UInt64(first.totals.datagramsIntact) })
        #expect(await poll { (gateway.webhooks?.snapshot().total.pending ?? 1) == 0 })
        receiver.kill()
        let second = try fly(drones: 15, rate: 5, duration: 240, seed: 14, firstDroneID: 16, port: gateway.udpPort)
        let intact = first.totals.datagramsIntact + second.totals.datagramsIntact
        #expect(await poll { gateway.counters.snapshot().received >= UInt64(intact) })
        // Down until a POST has failed (async-http-client keeps trying to connect until the
        // request's 5 s timeout), so the receiver's return is met by a retry.
        #expect(await poll(seconds: 30) { gateway.webhooks!.snapshot().total.requestFailures > 0 }, "\(gateway.webhooks!.snapshot().total)")
        #expect(gateway.webhooks!.snapshot().total.pending > 0)
        receiver = try PythonReceiver(port: hookPort, secret: directory.file("secret"), out: directory.file("hook.jsonl"))
        let delivered = await poll(seconds: 60) {
            let counts = gateway.webhooks!.snapshot().total
            return counts.pending == 0 && counts.accepted > 0
        }
        #expect(delivered)

        await group.triggerGracefulShutdown()
        try await service.value
        stream.cancel()
        try? await client.shutdown()
        receiver.kill()

        // The model, from the stored samples (the flight as the drones sent it).
        let rows = try storedRows(directory.file("gateway.db"))
        #expect(rows.values.reduce(0) { $0 + $1.count } == first.totals.samplesIntact + second.totals.samplesIntact)
        var predicted = Set<Key>()
        for (drone, samples) in rows {
            for crossing in Self.predictedCrossings(samples.sorted { $0.timestampMicroseconds < $1.timestampMicroseconds }) {
                predicted.insert(Key(drone: drone.number, kind: crossing.kind, time: crossing.time))
            }
        }
        #expect(predicted.count >= 6, "the fleet hardly crossed the zone: \(predicted.count) crossings")
        #expect(predicted.contains { $0.kind == .zoneExit })

        let store = try TelemetryStore(path: directory.file("gateway.db"))
        defer { store.close() }
        let stored = try store.readEvents(EventQuery(limit: 10_000))
        let storedKeys = Set(stored.map { Key(drone: $0.drone.number, kind: $0.kind, time: $0.timeMicroseconds) })
        #expect(stored.count == storedKeys.count, "an event stored twice")
        #expect(storedKeys == predicted, "stored \(storedKeys.subtracting(predicted)) not predicted; predicted \(predicted.subtracting(storedKeys)) not stored")
        #expect(stored.allSatisfy { $0.zone == "centre <b>pad</b>" && $0.alarm == ($0.kind == .zoneEnter) })

        let streamedEvents = streamed.withLock { $0 }
        #expect(Set(streamedEvents.map { Key(drone: $0.drone.number, kind: $0.kind, time: $0.timeMicroseconds) }) == predicted)
        #expect(streamedEvents.map(\.id) == streamedEvents.map(\.id).sorted(), "the stream is out of order")

        let lines = try String(contentsOfFile: directory.file("hook.jsonl"), encoding: .utf8).split(separator: "\n")
        let requests = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:] }
        #expect(requests.allSatisfy { $0["ok"] as? Bool == true }, "\(requests.filter { $0["ok"] as? Bool != true })")
        let deliveredIDs = requests.flatMap { ($0["ids"] as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.uint64Value } }
        #expect(Set(deliveredIDs) == Set(streamedEvents.map(\.id)))
        let counts = try #require(gateway.webhooks?.snapshot().total)
        #expect(counts.accepted == UInt64(predicted.count))
        #expect(counts.delivered == counts.accepted && counts.deadLetters == 0 && counts.droppedQueueFull == 0 && counts.droppedShutdown == 0)
        #expect(counts.isBalanced)
        #expect(predicted.contains { $0.drone > 15 } == (counts.retries > 0), "events raised while the receiver was down are retried")
        let final = gateway.counters.snapshot()
        #expect(final.isBalanced)
        #expect(final.dropped.values.reduce(0, +) == 0)
        let stats = gateway.statsReport()
        #expect(stats.events?.by_kind["zone_enter"] == UInt64(predicted.count { $0.kind == .zoneEnter }))
        #expect(stats.events?.stored == UInt64(predicted.count))
    }
}

/// Scripts/webhook-receiver.py in its own process.
struct PythonReceiver {
    let process = Process()
    let port: Int

    init(port requested: Int, secret: String, out: String) throws {
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root.appendingPathComponent("Scripts/webhook-receiver.py").path, "\(requested)", secret, out]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // "listening PORT", bounded by the pipe closing if the script fails.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("listening "), let bound = Int(text.dropFirst(10).prefix { $0.isNumber }) else {
            throw ReceiverError("webhook-receiver.py did not start: \(text)")
        }
        port = bound
    }

    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

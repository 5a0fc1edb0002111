import Foundation
import Hummingbird
import HummingbirdTesting
@testable import StatusServer
import Telemetry
import TelemetryStore
import TelemetryWire
import Testing

/// Flight review's endpoints through the in-process client, against a real pipeline and database
/// (`PipelineSource`): `/api/fleet?at=` equals each drone's last stored sample of the window,
/// `/api/timeline` counts what is stored and lists the events in time order, a series is the
/// downsampled samples with link quality from the sequence numbers; bad parameters are 400s that
/// name the parameter.
@Suite struct ReviewRoutesTests {
    func makeApp(_ source: PipelineSource) -> some ApplicationProtocol {
        Application(router: StatusRoutes.makeRouter(source: source))
    }

    /// The samples of `drone` stored in `source`, in time order.
    func stored(_ source: PipelineSource, _ number: UInt32) throws -> [StoredSample] {
        var rows: [StoredSample] = []
        try source.store.readSamples(drone: DroneIdentity(protocol: .skygate, number: number)) { rows += $0; return true }
        return rows
    }

    @Test func fleetAtAnInstant() async throws {
        let directory = TemporaryDirectory()
        let source = try PipelineSource(directory: directory)
        source.fly(drones: [4, 5], frames: 120)
        let four = try stored(source, 4)
        let five = try stored(source, 5)
        #expect(four.count == 120 && five.count == 120)
        try await makeApp(source).test(.router) { client in
            // At the 50th sample of drone 4 (drone 5 flew the same seconds): both drones, each at
            // its sample of that second, every field as stored.
            let at = four[49].timestampMicroseconds
            try await client.execute(uri: "/api/fleet?at=\(at)", method: .get) { response in
                #expect(response.status == .ok)
                let json = try response.body.json()
                #expect(json["at_us"] as? UInt64 == at)
                #expect(json["window_s"] as? Int == 10)
                let drones = json["drones"] as? [[String: Any]] ?? []
                #expect(drones.map { $0["id"] as? Int } == [4, 5])
                let first = drones.first ?? [:]
                #expect(first["protocol"] as? String == "skygate")
                #expect(first["time_us"] as? UInt64 == at)
                #expect(first["lat"] as? Double == Double(four[49].sample.latitudeE7) / 1e7)
                #expect(first["lon"] as? Double == Double(four[49].sample.longitudeE7) / 1e7)
                #expect(first["alt_m"] as? Double == Double(four[49].sample.altitudeMM) / 1_000)
                #expect(first["ground_speed_mps"] as? Double == 5)
                #expect(first["battery_percent"] as? Int == 80)
                #expect(first["heading_deg"] is NSNull)
                #expect(first["status"] as? String == "online")
                #expect(first["flags"] as? UInt32 == StatusFlags([.gpsFix, .armed, .inAir]).rawValue)
                let second = drones.last ?? [:]
                #expect(second["time_us"] as? UInt64 == five.last { $0.timestampMicroseconds <= at }?.timestampMicroseconds)
            }
            // Half a second after the last samples, a 1 s window still holds them; 20 s later a
            // 10 s window holds none, a 30 s window holds them as stale.
            let last = four.last!.timestampMicroseconds
            let isoFormatter = ISO8601DateFormatter()
            isoFormatter.formatOptions = [.withInternetDateTime]
            let iso = isoFormatter.string(from: Date(timeIntervalSince1970: Double(last / 1_000_000 + 1)))
            try await client.execute(uri: "/api/fleet?at=\(iso)&window=2", method: .get) { response in
                let drones = try response.body.json()["drones"] as? [[String: Any]] ?? []
                #expect(drones.count == 2)
                #expect(drones.first?["time_us"] as? UInt64 == last)
            }
            try await client.execute(uri: "/api/fleet?at=\(last + 20_000_000)", method: .get) { response in
                let json = try response.body.json()
                #expect((json["drones"] as? [Any])?.count == 0)
            }
            try await client.execute(uri: "/api/fleet?at=\(last + 20_000_000)&window=30", method: .get) { response in
                let drones = try response.body.json()["drones"] as? [[String: Any]] ?? []
                #expect(drones.map { $0["status"] as? String } == ["stale", "stale"])
            }
            for (query, mention) in ["at=yesterday": "at=", "window=0": "window=", "window=601": "window=", "window=ten": "window="] {
                try await client.execute(uri: "/api/fleet?\(query)", method: .get) { response in
                    #expect(response.status == .badRequest, "\(query)")
                    #expect(response.body.text.contains(mention), "\(query): \(response.body.text)")
                }
            }
        }
    }

    @Test func fleetJSONIsWhatTheEncoderWrites() throws {
        // The fleet answer is written by hand for speed: for entries with and without heading and
        // battery, at several ages, it parses to exactly what JSONEncoder makes of the same reply.
        var samples: [StoredSample] = []
        for number in 0..<50 {
            let sample = WireSample(
                latitudeE7: -473_700_000 + Int32(number) * 12_345, longitudeE7: 1_799_999_999 - Int32(number), altitudeMM: -500 + Int32(number) * 777,
                velocityNorthCMS: Int16(number * 37 - 900), velocityEastCMS: Int16(number * -11), headingCentidegrees: number % 3 == 0 ? 0xFFFF : UInt16(number * 700),
                batteryMillivolts: 15_000, batteryPercent: number % 4 == 0 ? 0xFF : UInt8(number), satellites: 9, status: StatusFlags(rawValue: UInt32(number * 3)))
            samples.append(StoredSample(
                drone: DroneIdentity(protocol: number % 5 == 0 ? .mavlink : .skygate, number: UInt32(number)), sequence: 1,
                timestampMicroseconds: baseTime - UInt64(number) * 2_000_000, sample: sample, storedMicroseconds: nil))
        }
        let query = try FleetQuery(nowMicroseconds: baseTime) { $0 == "window" ? "600" : nil }
        let reply = FleetAtReply(query: query, samples: samples, settings: StatusSettings())
        let encoder = JSONEncoder()
        let encoded = try JSONSerialization.jsonObject(with: encoder.encode(reply)) as? NSDictionary
        let written = try JSONSerialization.jsonObject(with: Data(reply.json.utf8)) as? NSDictionary
        #expect(written != nil)
        #expect(written == encoded)
        #expect(Set((written?["drones"] as? [[String: Any]] ?? []).compactMap { $0["status"] as? String }) == ["online", "stale", "offline"])
    }

    let baseTime: UInt64 = 1_767_225_600_000_000

    @Test func timeline() async throws {
        let directory = TemporaryDirectory()
        let source = try PipelineSource(directory: directory)
        try await makeApp(source).test(.router) { client in
            // Nothing stored: no range, empty activity.
            try await client.execute(uri: "/api/timeline", method: .get) { response in
                #expect(response.status == .ok)
                let json = try response.body.json()
                #expect(json["first_us"] is NSNull)
                #expect(json["last_us"] is NSNull)
                #expect((json["events"] as? [Any])?.count == 0)
            }
        }
        source.fly(drones: [4, 5, 6], frames: 100)
        let four = try stored(source, 4)
        let first = four.first!.timestampMicroseconds
        let last = try stored(source, 6).last!.timestampMicroseconds
        let kinds: [EventKind] = [.lowBattery, .zoneEnter, .overspeed]
        try source.store.writeEvents(kinds.enumerated().map { index, kind in
            AlertEvent(
                timeMicroseconds: first + UInt64(index + 1) * 10_000_000, drone: DroneIdentity(protocol: .skygate, number: 5), kind: kind,
                zone: kind == .zoneEnter ? "airport" : "", alarm: true, value: 12.5, latitudeE7: 473_700_000, longitudeE7: 85_400_000,
                altitudeMM: 120_000)
        })
        try await makeApp(source).test(.router) { client in
            try await client.execute(uri: "/api/timeline", method: .get) { response in
                let json = try response.body.json()
                #expect(json["first_us"] as? UInt64 == first)
                #expect(json["last_us"] as? UInt64 == last)
                #expect(json["from_us"] as? UInt64 == first)
                #expect(json["until_us"] as? UInt64 == last + 1)
                let buckets = json["buckets"] as? [[String: Any]] ?? []
                #expect(buckets.count <= 240 && buckets.count >= 200)
                #expect(buckets.compactMap { $0["samples"] as? Int }.reduce(0, +) == 300)
                #expect(buckets.compactMap { $0["drones"] as? Int }.max() == 3)
                #expect(buckets.first?["start_us"] as? UInt64 == first)
                let events = json["events"] as? [[String: Any]] ?? []
                #expect(events.map { $0["kind"] as? String } == ["low_battery", "zone_enter", "overspeed"])
                #expect(events.map { $0["id"] as? Int } == [5, 5, 5])
                #expect(events[1]["detail"] as? String == "entered zone airport")
                #expect(events[1]["protocol"] as? String == "skygate")
                #expect(events[0]["time_us"] as? UInt64 == first + 10_000_000)
                #expect(json["events_truncated"] as? Bool == false)
            }
            // Ten buckets of a 50 s stretch: 5 s each, five samples per drone in each.
            let from = first + 20_000_000
            try await client.execute(uri: "/api/timeline?from=\(from)&until=\(from + 50_000_000)&buckets=10", method: .get) { response in
                let json = try response.body.json()
                #expect(json["bucket_us"] as? UInt64 == 5_000_000)
                let buckets = json["buckets"] as? [[String: Any]] ?? []
                #expect(buckets.count == 10)
                #expect(buckets.map { $0["drones"] as? Int } == Array(repeating: 3, count: 10))
                #expect(buckets.compactMap { $0["samples"] as? Int }.reduce(0, +) == 150)
                #expect((json["events"] as? [Any])?.count == 2)
            }
            for (query, mention) in ["buckets=0": "buckets=", "buckets=99999": "buckets=", "from=x": "from=", "from=20&until=10": "before"] {
                try await client.execute(uri: "/api/timeline?\(query)", method: .get) { response in
                    #expect(response.status == .badRequest, "\(query)")
                    #expect(response.body.text.contains(mention), "\(query): \(response.body.text)")
                }
            }
        }
    }

    @Test func seriesWithLinkQuality() async throws {
        // Drone 8 sends 100 frames a second apart but frames 40..<50 are lost: 90 stored. Ten
        // points of 10 s: every bucket's link quality is 1 but the one after the gap, which
        // counts the 10 lost frames against its 10 received (0.5).
        let directory = TemporaryDirectory()
        let source = try PipelineSource(directory: directory)
        let now = UInt64(Date().timeIntervalSince1970 * 1e6)
        let start = now - 100_000_000
        var datagrams: [[UInt8]] = []
        for index in 0..<100 where !(40..<50).contains(index) {
            let sample = WireSample(
                latitudeE7: 473_700_000 + Int32(index), longitudeE7: 85_400_000, altitudeMM: 400_000 + Int32(index) * 1_000,
                velocityNorthCMS: 300, velocityEastCMS: 400, headingCentidegrees: 9_000, batteryMillivolts: 15_800,
                batteryPercent: UInt8(100 - index / 2), satellites: 12, status: .gpsFix)
            let header = FrameHeader(droneID: 8, sequence: UInt32(index), timestampMicroseconds: start + UInt64(index) * 1_000_000)
            datagrams.append(FrameEncoder.encode(header: header, samples: [sample]))
        }
        _ = source.ingest(datagrams: datagrams)
        try await makeApp(source).test(.router) { client in
            try await client.execute(
                uri: "/api/drones/skygate/8/series?from=\(start)&until=\(start + 100_000_000)&points=10", method: .get
            ) { response in
                #expect(response.status == .ok)
                let json = try response.body.json()
                #expect(json["protocol"] as? String == "skygate")
                #expect(json["id"] as? Int == 8)
                #expect(json["points"] as? Int == 9)
                #expect(json["rows_read"] as? Int == 90)
                let times = json["time_us"] as? [UInt64] ?? []
                #expect(times == [0, 10, 20, 30, 50, 60, 70, 80, 90].map { start + UInt64($0) * 1_000_000 })
                #expect(json["alt_m"] as? [Double] == [400, 410, 420, 430, 450, 460, 470, 480, 490])
                #expect(json["heading_deg"] as? [Double] == Array(repeating: 90, count: 9))
                #expect(json["ground_speed_mps"] as? [Double] == Array(repeating: 5, count: 9))
                #expect(json["battery_percent"] as? [Int] == [100, 95, 90, 85, 75, 70, 65, 60, 55])
                #expect(json["link_quality"] as? [Double] == [1, 1, 1, 1, 0.5, 1, 1, 1, 1])
                for column in ["lat", "lon", "alt_m", "ground_speed_mps", "heading_deg", "battery_percent", "link_quality"] {
                    #expect((json[column] as? [Any])?.count == 9, "\(column)")
                }
            }
            // The default 1,000 points keep every sample of this short flight.
            try await client.execute(uri: "/api/drones/skygate/8/series?from=\(start)&until=\(now)", method: .get) { response in
                let json = try response.body.json()
                #expect(json["points"] as? Int == 90)
            }
            // A drone with nothing stored has empty columns.
            try await client.execute(uri: "/api/drones/skygate/9/series?from=\(start)&until=\(now)", method: .get) { response in
                #expect(response.status == .ok)
                let json = try response.body.json()
                #expect((json["time_us"] as? [Any])?.count == 0)
            }
            let bad = ["points=1": "points=", "points=10001": "points=", "from=never": "from=", "from=2026-01-02&until=2026-01-01": "before"]
            for (query, mention) in bad {
                try await client.execute(uri: "/api/drones/skygate/8/series?\(query)", method: .get) { response in
                    #expect(response.status == .badRequest, "\(query)")
                    #expect(response.body.text.contains(mention), "\(query): \(response.body.text)")
                }
            }
            try await client.execute(uri: "/api/drones/ardupilot/8/series", method: .get) { response in
                #expect(response.status == .badRequest)
            }
        }
    }
}

import DroneSimulator
import Foundation
import SkygateTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Flight review end to end with the real executable: `/api/fleet?at=` of a running `serve`
/// agrees with `skygate export` over the same window for every drone, on SQLite and on
/// PostgreSQL; `skygate review` on the real logs in Fixtures/flights loads them into a private
/// temporary database, serves the timeline, the fleet and the series, and removes the database at
/// SIGTERM.
@Suite("review end to end", .serialized)
struct ReviewCommandLineTests {
    /// The last CSV row of each drone in `export --format csv` output (rows come drone by drone,
    /// each in time order), keyed "protocol/number".
    static func lastRows(ofCSV text: String) -> [String: [Substring]] {
        var last: [String: [Substring]] = [:]
        for line in text.split(separator: "\n").dropFirst() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            guard cells.count >= 16 else { continue }
            last["\(cells[0])/\(cells[1])"] = cells
        }
        return last
    }

    /// Flies a fleet with 5 % loss into `serve --db DATABASE`, then at instants across the flight
    /// and windows of 1 and 10 s compares every drone of `/api/fleet?at=` with the last row
    /// `export --from at−window+1µs --until at+1µs` lists for it: the same drones, and the same
    /// time, position and battery.
    func fleetAgreesWithExport(database: String, extra: [String]) async throws {
        let directory = TemporaryDirectory()
        let server = try ServeProcess(database: database, arguments: extra + ["--spill", directory.file("serve.spill")])
        try #require(server.isServing, "serve did not start: \(server.text)")
        let faults = LinkFaults(
            lossFraction: 0.05, corruptFraction: 0, duplicateFraction: 0, reorderFraction: 0, outageRatePerMinute: 0, outageDurationSeconds: 1)
        let summary = try fly(drones: 8, rate: 2, duration: 30, faults: faults, seed: 31, port: server.udpPort)
        _ = try await server.poll("/api/stats") { ($0["received"] as? Int ?? 0) >= summary.totals.samplesIntact }
        _ = try await server.poll("/api/stats") { ($0["batches_waiting"] as? Int) == 0 && ($0["stored"] as? Int ?? 0) > 0 }
        // Let the last batch commit (and, on PostgreSQL, the drones' latest rows flush).
        try await Task.sleep(for: .seconds(1.5))
        let timeline = try await server.json("/api/timeline")
        let first = try #require(timeline["first_us"] as? UInt64)
        let last = try #require(timeline["last_us"] as? UInt64)
        #expect(last > first + 20_000_000)
        var compared = 0
        for step in 0...6 {
            let at = first + (last - first) * UInt64(step) / 6 + UInt64(step * 137)
            for window: UInt64 in [1, 10] {
                let fleet = try await server.json("/api/fleet?at=\(at)&window=\(window)")
                let drones = fleet["drones"] as? [[String: Any]] ?? []
                let export = try SkygateProcess.run(
                    ["export", "--db", database, "--format", "csv", "--from", "\(at - window * 1_000_000 + 1)", "--until", "\(at + 1)"]
                        + extra.filter { $0 != "--gateway-name" && $0 != "review-e2e" })
                #expect(export.status == 0, "\(export.output)")
                let rows = Self.lastRows(ofCSV: export.output)
                #expect(Set(drones.map { "\($0["protocol"] as? String ?? "")/\($0["id"] as? Int ?? -1)" }) == Set(rows.keys), "at \(at) window \(window)")
                for drone in drones {
                    let key = "\(drone["protocol"] as? String ?? "")/\(drone["id"] as? Int ?? -1)"
                    guard let row = rows[key] else { continue }
                    #expect(drone["time_us"] as? UInt64 == UInt64(row[3]), "\(key) at \(at)")
                    #expect(drone["lat"] as? Double == Double(row[5]), "\(key) at \(at)")
                    #expect(drone["lon"] as? Double == Double(row[6]), "\(key) at \(at)")
                    #expect(drone["alt_m"] as? Double == Double(row[7]), "\(key) at \(at)")
                    #expect(drone["battery_percent"] as? Int == Int(row[13]), "\(key) at \(at)")
                    compared += 1
                }
            }
        }
        // Every instant inside the flight shows the whole fleet in a 10 s window.
        #expect(compared >= 8 * 6)
        let stop = server.terminate()
        #expect(stop.status == 0, "\(stop.output)")
    }

    @Test func fleetAgreesWithExportOnSQLite() async throws {
        let directory = TemporaryDirectory()
        try await fleetAgreesWithExport(database: directory.file("review.db"), extra: [])
    }

    @Test(.enabled(if: PostgresServer.isAvailable, "needs SKYGATE_TEST_PG (Scripts/pg-test-server.sh; .ci/run starts one)"))
    func fleetAgreesWithExportOnPostgres() async throws {
        let name = try PostgresServer.freshDatabase()
        defer { PostgresServer.drop(name) }
        let passwordFile = try #require(PostgresServer.passwordFile)
        try await fleetAgreesWithExport(
            database: PostgresServer.url(of: name), extra: ["--db-password-file", passwordFile, "--gateway-name", "review-e2e"])
    }

    @Test func reviewServesTheRealFlights() async throws {
        let flights = SkygateProcess.packageDirectory.appendingPathComponent("Fixtures/flights").path
        let files = try FileManager.default.contentsOfDirectory(atPath: flights)
            .filter { [".tlog", ".bin", ".ulg", ".pcap"].contains(where: $0.hasSuffix) }.sorted().map { flights + "/" + $0 }
        try #require(files.count >= 5)
        let temporary = TemporaryDirectory()
        let process = Process()
        process.executableURL = SkygateProcess.executable
        process.arguments = ["review"] + files
        var environment = ProcessInfo.processInfo.environment
        environment["TMPDIR"] = temporary.path
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        var text = ""
        var url: String?
        let deadline = Date().addingTimeInterval(120)
        while url == nil && Date() < deadline {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
            if let match = text.firstMatch(of: /(http:\/\/127\.0\.0\.1:\d+)\/review\?from=(\d+)&until=(\d+)/) { url = String(match.1) }
        }
        let base = try #require(url, "no review URL: \(text)")
        let stored = Int(try #require(text.firstMatch(of: /(\d+) positions stored/)).1)!
        #expect(stored > 1_000)
        // The database is in a directory of its own under TMPDIR that only this user may enter.
        let made = try FileManager.default.contentsOfDirectory(atPath: temporary.path).filter { $0.hasPrefix("skygate-review-") }
        #expect(made.count == 1)
        let mode = try FileManager.default.attributesOfItem(atPath: temporary.file(made.first ?? ""))[.posixPermissions] as? Int
        #expect(mode == 0o700)

        func json(_ path: String) async throws -> [String: Any] {
            let (data, _) = try await URLSession.shared.data(from: URL(string: base + path)!)
            return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        }
        let timeline = try await json("/api/timeline")
        let first = try #require(timeline["first_us"] as? UInt64)
        let last = try #require(timeline["last_us"] as? UInt64)
        #expect(text.contains("/review?from=\(first)&until=\(last + 1)"))
        let buckets = timeline["buckets"] as? [[String: Any]] ?? []
        #expect(buckets.compactMap { $0["samples"] as? Int }.reduce(0, +) == stored, "every stored position is on the timeline")
        #expect(!(timeline["events"] as? [Any] ?? []).isEmpty, "the default rules raised events over the logs")
        // The last position of the last flight, and that flight's series.
        let fleet = try await json("/api/fleet?at=\(last)")
        let drones = fleet["drones"] as? [[String: Any]] ?? []
        #expect(drones.count == 1)
        #expect(drones.first?["time_us"] as? UInt64 == last)
        #expect(drones.first?["protocol"] as? String == "mavlink")
        let id = drones.first?["id"] as? Int ?? 0
        let series = try await json("/api/drones/mavlink/\(id)/series?from=\(last - 600_000_000)&until=\(last + 1)&points=200")
        let points = series["points"] as? Int ?? 0
        #expect(points > 10 && points <= 200)
        #expect((series["time_us"] as? [UInt64])?.last ?? 0 <= last)

        kill(process.processIdentifier, SIGTERM)
        let stopDeadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < stopDeadline { usleep(20_000) }
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary.path).isEmpty, "the temporary database is removed at exit")
    }
}

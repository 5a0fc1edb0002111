import DroneSimulator
import Foundation
import Telemetry
import TelemetryStore
import SkygateTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `skygate serve` as a user runs it, in its own process: SIGTERM drains and commits everything
/// the gateway received, prints the accounting and exits 0; `kill -9` mid-stream leaves a
/// database that passes `PRAGMA integrity_check`.
@Suite("skygate serve process", .serialized)
struct ServeProcessTests {
    /// The `skygate` executable built beside the test bundle.
    static var executable: URL { SkygateProcess.executable }

    /// A running `skygate serve` with its ports, read from its first lines of output.
    final class Server {
        let process = Process()
        let output = Pipe()
        var text = ""
        var udpPort: UInt16 = 0
        var httpPort: Int = 0

        init(database: String, extraArguments: [String] = []) throws {
            process.executableURL = ServeProcessTests.executable
            process.arguments = ["serve", "--udp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--db", database] + extraArguments
            process.standardOutput = output
            process.standardError = output
            try process.run()
            readOutput { text in text.contains("UDP 127.0.0.1:") && text.contains("http://127.0.0.1:") }
            if let match = text.firstMatch(of: /UDP 127\.0\.0\.1:(\d+)/) { udpPort = UInt16(match.1)! }
            if let match = text.firstMatch(of: /http:\/\/127\.0\.0\.1:(\d+)\//) { httpPort = Int(match.1)! }
        }

        /// Reads the process's output into `text` until `done(text)` holds, the output ends, or
        /// 20 s pass (checked between reads).
        func readOutput(until done: (String) -> Bool) {
            let deadline = Date().addingTimeInterval(20)
            while !done(text) && Date() < deadline {
                let data = output.fileHandleForReading.availableData
                if data.isEmpty { break }
                text += String(decoding: data, as: UTF8.self)
            }
        }

        /// Polls `/api/stats` (bounded: 10 s) until `count` datagrams were received; returns the
        /// last count read.
        func waitUntilReceived(_ count: Int) async throws -> Int {
            var received = 0
            for _ in 0..<500 {
                received = try await stats()["datagrams_received"] as? Int ?? 0
                if received >= count { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            return received
        }

        /// A test that fails before it signals the server must not leave it running.
        deinit {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }

        func stats() async throws -> [String: Any] {
            let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(httpPort)/api/stats")!)
            return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        }

        /// Waits for the process to exit (bounded) and returns its status and remaining output.
        func waitForExit(seconds: Double = 30) -> (status: Int32, output: String) {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            text += String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            return (process.terminationStatus, text)
        }
    }

    @Test("serve says at start when ingest is unauthenticated, and not when every sender must authenticate; the new counters are in /api/stats and /metrics")
    func unauthenticatedIngestIsLogged() async throws {
        let directory = TemporaryDirectory()
        let open = try Server(database: directory.file("open.db"))
        try #require(open.udpPort != 0 && open.httpPort != 0, "serve did not start: \(open.text)")
        #expect(open.text.contains("ingest is unauthenticated: accepting Skygate frames from any drone (no --key-file)"), "\(open.text)")
        let stats = try await open.stats()
        #expect(stats["drones_evicted"] as? Int == 0)
        let events = stats["events"] as? [String: Any]
        #expect((events?["dropped"] as? [String: Any])?["rate_limited"] as? Int == 0)
        let (metrics, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(open.httpPort)/metrics")!)
        let text = String(decoding: metrics, as: UTF8.self)
        #expect(text.contains("skygate_drones_evicted_total") && text.contains("reason=\"timestamp_too_old\""))
        #expect(text.contains("reason=\"rate_limited\""))
        kill(open.process.processIdentifier, SIGTERM)
        #expect(open.waitForExit().status == 0)

        let closed = try Server(
            database: directory.file("closed.db"), extraArguments: ["--require-authentication", "--require-signing"])
        try #require(closed.udpPort != 0 && closed.httpPort != 0, "serve did not start: \(closed.text)")
        #expect(!closed.text.contains("unauthenticated"), "\(closed.text)")
        kill(closed.process.processIdentifier, SIGTERM)
        #expect(closed.waitForExit().status == 0)
    }

    @Test("serve gives its start-up code back to the kernel once up (the resident set falls), unless --keep-startup-pages")
    func startupCodeGivenBack() async throws {
        let directory = TemporaryDirectory()
        // The kernel cannot reclaim pages still dirty in the page cache: a skygate binary linked
        // moments ago would keep its code resident. Its Swift libraries are mapped by this test
        // process too, so they stay resident either way; the binary's own code is what leaves.
        sync()
        let server = try Server(database: directory.file("serve.db"))
        try #require(server.udpPort != 0 && server.httpPort != 0, "serve did not start: \(server.text)")
        // Logged right after the status page line, once the HTTP port and the data path are up:
        // "start-up code given back", or "start-up code kept" where the kernel refuses the advice.
        server.readOutput { $0.contains("start-up code") }
        let line = try #require(server.text.firstMatch(of: /resident_mib_after=(\d+)\.\d resident_mib_before=(\d+)\.\d/), "\(server.text)")
        let (after, before) = (Int(line.1)!, Int(line.2)!)
        #expect(after < before, "resident \(before) MiB before, \(after) MiB after")
        // The gateway works on: frames sent now are stored, and the report shows the resident set.
        let summary = try fly(drones: 5, rate: 10, duration: 1, port: server.udpPort)
        #expect(try await server.waitUntilReceived(summary.totals.datagramsSent) == summary.totals.datagramsSent)
        let memory = try await server.stats()["memory"] as? [String: Any]
        #expect((memory?["resident_bytes"] as? Int ?? 0) > 1 << 20)
        kill(server.process.processIdentifier, SIGTERM)
        let (status, output) = server.waitForExit()
        #expect(status == 0 && output.contains("final accounting: received \(summary.totals.datagramsSent) = stored \(summary.totals.datagramsIntact)"), "\(output)")

        let kept = try Server(database: directory.file("kept.db"), extraArguments: ["--keep-startup-pages"])
        try #require(kept.udpPort != 0 && kept.httpPort != 0, "serve did not start: \(kept.text)")
        _ = try await kept.stats()
        kill(kept.process.processIdentifier, SIGTERM)
        let keptExit = kept.waitForExit()
        #expect(keptExit.status == 0)
        #expect(!keptExit.output.contains("start-up code"), "\(keptExit.output)")
    }

    @Test("SIGTERM commits every frame received, even with a commit interval longer than the test")
    func sigtermDrains() async throws {
        let directory = TemporaryDirectory()
        let database = directory.file("serve.db")
        // A 10 s commit interval: nothing is committed by time before the signal, only by the drain.
        let server = try Server(database: database, extraArguments: ["--commit-interval-ms", "10000"])
        try #require(server.udpPort != 0 && server.httpPort != 0, "serve did not start: \(server.text)")
        let summary = try fly(drones: 20, rate: 10, duration: 5, port: server.udpPort)
        #expect(try await server.waitUntilReceived(summary.totals.datagramsSent) == summary.totals.datagramsSent)
        // With a 10 s commit interval the frames are normally all still uncommitted here; on a
        // heavily loaded machine the interval may pass first, so this is not asserted, only the
        // end result is: every received frame is in the database after the signal.
        kill(server.process.processIdentifier, SIGTERM)
        let (status, output) = server.waitForExit()
        #expect(status == 0, "exit status \(status): \(output)")
        #expect(output.contains("final accounting: received \(summary.totals.datagramsSent) = stored \(summary.totals.datagramsIntact)"))
        #expect(output.contains("(balanced)"))
        let rows = try storedRows(database)
        #expect(rows.values.reduce(0) { $0 + $1.count } == summary.totals.samplesIntact)
    }

    @Test("kill -9 mid-stream leaves a database that passes integrity_check")
    func killNineKeepsDatabaseIntact() async throws {
        let directory = TemporaryDirectory()
        let database = directory.file("crash.db")
        let server = try Server(database: database, extraArguments: ["--commit-interval-ms", "20"])
        try #require(server.udpPort != 0, "serve did not start: \(server.text)")
        // Stream in the background at real time while the gateway commits every 20 ms.
        let port = server.udpPort
        let flight = Task.detached { try fly(drones: 200, rate: 50, duration: 1.5, port: port) }
        var stored = 0
        for _ in 0..<300 {
            stored = try await server.stats()["stored"] as? Int ?? 0
            if stored > 2_000 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(stored > 0)
        kill(server.process.processIdentifier, SIGKILL)
        _ = server.waitForExit()
        _ = try await flight.value
        var options = StoreOptions()
        options.isReadOnly = false
        let store = try TelemetryStore(path: database, options: options)
        defer { store.close() }
        #expect(try store.integrityCheck() == "ok")
        #expect(try store.rowCount() >= stored)
    }

    @Test("kill -9 while the writer catches up from the spill: restart stores the rest, nothing twice")
    func killNineDuringSpillCatchUp() async throws {
        let directory = TemporaryDirectory()
        let database = directory.file("spill.db")
        // The writer sleeps 600 ms before every commit (the hidden test seam) while batches are
        // due every 20 ms: the processor spills most of the flight.
        let slow = try Server(database: database, extraArguments: ["--commit-interval-ms", "20", "--test-commit-delay-ms", "600"])
        try #require(slow.udpPort != 0 && slow.httpPort != 0, "serve did not start: \(slow.text)")
        // Ten bursts of ten drones each, 50 ms apart: each burst is its own batch (a single burst
        // fills a few large batches, and the spill could hold only one or two).
        var datagramsSent = 0
        var samplesIntact = 0
        for burst in 0..<10 {
            let summary = try fly(drones: 10, rate: 50, duration: 2, firstDroneID: UInt32(1 + 10 * burst), port: slow.udpPort)
            datagramsSent += summary.totals.datagramsSent
            samplesIntact += summary.totals.samplesIntact
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try await slow.waitUntilReceived(datagramsSent) == datagramsSent)
        var stats: [String: Any] = [:]
        // Catching up: some spilled batches stored, some still waiting. Then kill -9.
        for _ in 0..<500 {
            stats = try await slow.stats()
            if (stats["spill_batches_stored"] as? Int ?? 0) >= 1 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        let spilled = stats["spill_batches"] as? Int ?? 0
        let pending = stats["spill_pending"] as? Int ?? 0
        #expect(spilled > 0 && pending > 0, "no catch-up to interrupt: \(stats)")
        kill(slow.process.processIdentifier, SIGKILL)
        _ = slow.waitForExit()
        let storedBeforeKill = try TelemetryStore(path: database)
        #expect(try storedBeforeKill.integrityCheck() == "ok")
        let rowsBeforeRestart = try storedBeforeKill.rowCount()
        storedBeforeKill.close()

        // Restarted at full speed: it stores what the spill file still holds, then drains.
        let restarted = try Server(database: database)
        try #require(restarted.udpPort != 0, "serve did not restart: \(restarted.text)")
        for _ in 0..<1_000 {
            stats = try await restarted.stats()
            if (stats["spill_pending"] as? Int ?? 1) == 0 && (stats["recovered"] as? Int ?? 0) > 0 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect((stats["recovered"] as? Int ?? 0) > 0 && stats["spill_pending"] as? Int == 0, "\(stats)")
        kill(restarted.process.processIdentifier, SIGTERM)
        let (status, output) = restarted.waitForExit()
        #expect(status == 0, "exit status \(status): \(output)")
        // The final accounting, printed after the drain, counts every recovered sample (a stats
        // read can fall between the writer taking the last record and committing it).
        let recovered = try #require(Self.recoveredSamples(in: output), "no recovery line: \(output)")

        let store = try TelemetryStore(path: database)
        defer { store.close() }
        #expect(try store.integrityCheck() == "ok")
        var frames = Set<UInt64>()
        var rows = 0
        try store.readSamples { page in
            for row in page { frames.insert(UInt64(row.drone.number) << 32 | UInt64(row.sequence)) }
            rows += page.count
            return true
        }
        #expect(rows == frames.count, "a frame was stored twice")
        // Everything committed before the kill, plus every spilled frame the restart recovered;
        // at most the batches in flight at the kill (ring, processor, writer) are missing.
        #expect(rows == rowsBeforeRestart + recovered)
        #expect(rows <= samplesIntact)
        #expect(rows >= samplesIntact / 2)
    }

    /// "recovered from an earlier run's spill: F frames, S samples" → S.
    static func recoveredSamples(in output: String) -> Int? {
        guard let line = output.split(separator: "\n").first(where: { $0.contains("recovered from an earlier run's spill:") }),
              let samples = line.split(separator: ",").last?.split(separator: " ").first
        else { return nil }
        return Int(samples)
    }
}

import Foundation
import SkygateTestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `skygate demo` end to end with the real executable: after the fleet lands the status server
/// stays up, says the flight can be reviewed and serves it from the database (`/api/timeline`)
/// until SIGTERM; `--exit-when-done` stops by itself instead. Both drain and print a balanced
/// accounting.
@Suite("skygate demo process", .serialized)
struct DemoProcessTests {
    func start(_ arguments: [String]) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = SkygateProcess.executable
        process.arguments = ["demo", "--drones", "3", "--rate", "2", "--duration", "2", "--faults", "0"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        return (process, output)
    }

    @Test func staysUpForReviewUntilSIGTERM() async throws {
        let directory = TemporaryDirectory()
        let (process, output) = try start(["--db", directory.file("demo.db")])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        var text = ""
        var review: Substring?
        let deadline = Date().addingTimeInterval(60)
        while review == nil && Date() < deadline {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
            review = text.firstMatch(of: /Review the flight: (http:\/\/127\.0\.0\.1:\d+)\/review\?from=\d+&until=\d+/)?.1
        }
        let base = try #require(review.map(String.init), "no review line: \(text)")
        // Well after the flight, the gateway still serves the stored flight.
        try await Task.sleep(for: .seconds(1))
        #expect(process.isRunning)
        let (data, _) = try await URLSession.shared.data(from: URL(string: base + "/api/timeline")!)
        let timeline = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        let samples = (timeline["buckets"] as? [[String: Any]] ?? []).compactMap { $0["samples"] as? Int }.reduce(0, +)
        #expect(samples == 3 * 2 * 2, "3 drones × 2 Hz × 2 s stored: \(timeline)")
        kill(process.processIdentifier, SIGTERM)
        let rest = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        text += String(decoding: rest, as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("balanced"), "\(text)")
    }

    @Test func exitWhenDoneStopsByItself() throws {
        let directory = TemporaryDirectory()
        let (process, output) = try start(["--db", directory.file("demo.db"), "--exit-when-done"])
        // Bounded: a demo that does not stop by itself is killed (and the test fails on its status).
        nonisolated(unsafe) let watched = process
        DispatchQueue.global().asyncAfter(deadline: .now() + 60) {
            // Only while it runs, so a finished demo's process id (maybe reused) is never signalled.
            if watched.isRunning { kill(watched.processIdentifier, SIGKILL) }
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("balanced"), "\(text)")
        #expect(!text.contains("Review the flight"))
    }
}

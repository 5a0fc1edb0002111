import FlightRecording
import Foundation
import Gateway
import SkygateTestSupport
import StatusServer
import Telemetry
import Testing

/// The flight recorder's counters in `/api/stats` and `/metrics` agree with what is on disk and
/// what was sent. In process, with files small enough to rotate and a budget small enough to
/// delete: after the drain, files started − deleted are the files on disk, bytes written −
/// deleted are their sizes, and every datagram received was recorded. Through the real
/// `skygate serve --record`: while serving, the stats' recorder object and the `/metrics` lines
/// show the datagrams sent and exactly the bytes of the one file on disk.
@Suite("Recorder counters in the stats and metrics", .serialized)
struct GatewayRecorderCountersTests {
    /// The recordings in `directory` with their sizes, by name.
    static func recordings(in directory: String) -> [String: Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var sizes: [String: Int] = [:]
        for name in names where name.hasPrefix("skygate-") && name.hasSuffix(".skyrec") {
            let attributes = try? FileManager.default.attributesOfItem(atPath: directory + "/" + name)
            sizes[name] = (attributes?[.size] as? NSNumber)?.intValue ?? -1
        }
        return sizes
    }

    /// Samples of the Prometheus text, by name and labels.
    static func samples(_ text: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            samples[String(line[..<space])] = Double(line[line.index(after: space)...])
        }
        return samples
    }

    @Test("rotation and the budget: files and bytes on disk are started − deleted and written − deleted")
    func rotationAndBudget() throws {
        let directory = TemporaryDirectory()
        let recordings = directory.file("recordings")
        var configuration = GatewayConfiguration()
        configuration.udpAddress = "127.0.0.1:0"
        configuration.httpAddress = "127.0.0.1:0"
        configuration.databasePath = directory.file("gateway.db")
        configuration.limits.commitInterval = .milliseconds(50)
        configuration.recordDirectory = recordings
        var options = RecordingOptions()
        options.chunkBytesMax = 4_096
        options.chunkInterval = .milliseconds(10)
        options.syncsEachChunk = false
        options.fileBytesMax = 16_384
        options.directoryBytesMax = 32_768
        configuration.recordingOptions = options
        let gateway = try Gateway(configuration: configuration)
        gateway.start()
        let summary = try fly(drones: 20, rate: 50, duration: 2, samplesPerDatagram: 4, port: gateway.udpPort)
        #expect(waitUntil { gateway.counters.snapshot().datagramsReceived >= UInt64(summary.totals.datagramsSent) })
        let running = try #require(gateway.statsReport().recorder)
        #expect(running.directory == recordings && running.directory_bytes_max == 32_768)
        #expect(running.ring_capacity == configuration.limits.recordingRingBytes)
        let final = gateway.stop()
        #expect(final.isBalanced)

        let recorder = try #require(gateway.statsReport().recorder)
        let onDisk = Self.recordings(in: recordings)
        #expect(recorder.datagrams_recorded == final.datagramsReceived && final.datagramsReceived == UInt64(summary.totals.datagramsSent))
        #expect(recorder.datagram_bytes_recorded == final.bytesReceived)
        #expect(recorder.datagrams_dropped == ["ring_full": 0, "write_failed": 0, "not_framed": 0])
        #expect(recorder.files_deleted > 0 && recorder.files_rotated == recorder.files_started - 1, "\(recorder)")
        #expect(UInt64(onDisk.count) == recorder.files_started - recorder.files_deleted, "\(onDisk) \(recorder)")
        let bytesOnDisk = onDisk.values.reduce(0, +)
        #expect(UInt64(bytesOnDisk) == recorder.bytes_written - recorder.bytes_deleted, "\(onDisk) \(recorder)")
        #expect(recorder.directory_bytes == bytesOnDisk && bytesOnDisk <= 32_768)
        #expect(recorder.current_file == nil && recorder.current_file_bytes == 0, "closed at the drain")
        var chunksOnDisk = 0
        for name in onDisk.keys {
            let report = try openRecording(path: recordings + "/" + name).read { _ in true }
            #expect(report.isIntact && report.hasIndex, "\(name)")
            chunksOnDisk += report.chunksRead
        }
        #expect(chunksOnDisk > 0 && UInt64(chunksOnDisk) <= recorder.chunks_written)
    }

    @Test("serve --record: the stats' recorder object and the /metrics lines match the file on disk")
    func serveReportsTheRecorder() async throws {
        let directory = TemporaryDirectory()
        let recordings = directory.file("recordings")
        let server = try ServeProcess(database: directory.file("serve.db"), arguments: ["--record", recordings, "--record-max-mib", "600"])
        try #require(server.isServing, "serve did not start: \(server.text)")
        let summary = try fly(drones: 5, rate: 20, duration: 1, port: server.udpPort)
        let sent = summary.totals.datagramsSent

        // Settled: every datagram recorded, and its chunk written (within the 1 s chunk interval).
        let stats = try await server.poll("/api/stats") { stats in
            let recorder = stats["recorder"] as? [String: Any] ?? [:]
            // `datagrams_recorded` counts datagrams in the open chunk too: wait for it to be written.
            return stats["datagrams_received"] as? Int == sent && recorder["datagrams_recorded"] as? Int == sent
                && (recorder["chunks_written"] as? Int ?? 0) >= 1
                && recorder["bytes_written"] as? Int == Self.recordings(in: recordings).values.reduce(0, +)
        }
        let recorder = try #require(stats["recorder"] as? [String: Any])
        let onDisk = Self.recordings(in: recordings)
        try #require(onDisk.count == 1, "\(onDisk)")
        let (name, size) = onDisk.first!
        #expect(recorder["datagrams_recorded"] as? Int == sent)
        #expect(recorder["datagram_bytes_recorded"] as? Int == stats["bytes_received"] as? Int)
        #expect(recorder["datagrams_dropped"] as? [String: Int] == ["ring_full": 0, "write_failed": 0, "not_framed": 0])
        #expect(recorder["bytes_written"] as? Int == size && recorder["current_file_bytes"] as? Int == size)
        #expect(recorder["directory_bytes"] as? Int == size && recorder["directory_bytes_max"] as? Int == 600 << 20)
        #expect(recorder["current_file"] as? String == name && recorder["directory"] as? String == recordings)
        #expect(recorder["files_started"] as? Int == 1 && recorder["files_rotated"] as? Int == 0 && recorder["files_deleted"] as? Int == 0)
        #expect((recorder["chunks_written"] as? Int ?? 0) >= 1 && recorder["ring_depth"] as? Int == 0)
        #expect(recorder["failure"] == nil)

        let text = String(decoding: try await server.get("/metrics").body, as: UTF8.self)
        let metrics = Self.samples(text)
        #expect(metrics["skygate_recorder_datagrams_recorded_total"] == Double(sent))
        #expect(metrics["skygate_recorder_recorded_bytes_total"] == Double(stats["bytes_received"] as? Int ?? -1))
        #expect(metrics["skygate_recorder_written_bytes_total"] == Double(size))
        #expect(metrics["skygate_recorder_datagrams_dropped_total{reason=\"ring_full\"}"] == 0)
        #expect(metrics["skygate_recorder_datagrams_dropped_total{reason=\"write_failed\"}"] == 0)
        #expect(metrics["skygate_recorder_files_started_total"] == 1 && metrics["skygate_recorder_files_rotated_total"] == 0)
        #expect(metrics["skygate_recorder_files_deleted_total"] == 0 && metrics["skygate_recorder_deleted_bytes_total"] == 0)
        #expect(metrics["skygate_recorder_chunks_written_total"] == Double(recorder["chunks_written"] as? Int ?? -1))
        #expect(metrics["skygate_recorder_directory_bytes"] == Double(size) && metrics["skygate_recorder_current_file_bytes"] == Double(size))
        #expect(metrics["skygate_recorder_directory_max_bytes"] == Double(600 << 20))
        #expect(metrics["skygate_recorder_ring_depth_slots"] == 0 && metrics["skygate_recorder_failed_bool"] == 0)
        #expect(metrics["skygate_recorder_ring_capacity_bytes"] == Double(recorder["ring_capacity"] as? Int ?? -1))
        #expect(text.contains("# HELP skygate_recorder_datagrams_recorded_total ") && text.contains("# TYPE skygate_recorder_written_bytes_total counter"))

        let (exit, output) = server.terminate()
        #expect(exit == 0, "\(output)")
        let report = try openRecording(path: recordings + "/" + name).read { _ in true }
        #expect(report.datagramsRead == sent && report.isIntact && report.hasIndex)
    }
}

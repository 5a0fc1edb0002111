import FlightRecording
import Foundation
import Gateway
import Playback
import Telemetry
import TelemetryStore
import TelemetryWire
import SkygateTestSupport
import Testing

/// Recording and replay through the real gateway on ephemeral loopback ports and temp
/// directories: `serve --record` keeps every datagram that frames byte for byte, in order, with
/// its receive time and sender, without changing the accounting (garbage is counted
/// `not_framed` and left out); replaying that recording into an empty database stores exactly
/// the rows the live gateway stored; `skygate record` does the same
/// without storing; `replay --to --speed 10` of a 30 s recording takes 3 s ± 3 % at the receiver.
@Suite("Recording and replay end to end", .serialized)
struct RecordingEndToEndTests {
    /// Valid frames from a few drones, interleaved with garbage the gateway rejects.
    static func mixedDatagrams(count: Int) -> [[UInt8]] {
        // Fresh sample times (a minute ago): live ingest refuses samples older than a day.
        let start: UInt64 = realtimeNanoseconds() / 1_000 - 60_000_000
        var datagrams: [[UInt8]] = []
        for index in 0..<count {
            if index % 10 == 9 {
                datagrams.append([0x42] + Array(repeating: UInt8(index & 0xFF), count: index % 50))
                continue
            }
            let drone = UInt32(1 + index % 4)
            let sample = WireSample(
                latitudeE7: 473_977_000 + Int32(index), longitudeE7: 85_456_000 - Int32(index), altitudeMM: 450_000 + Int32(index),
                status: .gpsFix)
            datagrams.append(
                FrameEncoder.encode(
                    header: FrameHeader(droneID: drone, sequence: UInt32(index), timestampMicroseconds: start + UInt64(index) * 10_000),
                    samples: [sample]))
        }
        return datagrams
    }

    /// Every datagram of every recording in `directory`, oldest file first.
    static func recordedDatagrams(in directory: String) throws -> (datagrams: [(time: UInt64, bytes: [UInt8], source: String?)], reports: [ReadReport]) {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".skyrec") }.sorted()
        var datagrams: [(time: UInt64, bytes: [UInt8], source: String?)] = []
        var reports: [ReadReport] = []
        for name in names {
            let reader = try openRecording(path: directory + "/" + name)
            reports.append(
                reader.read { datagram in
                    datagrams.append((datagram.receivedNanoseconds, Array(datagram.bytes), RecordedSource.text(datagram.source)))
                    return true
                })
        }
        return (datagrams, reports)
    }

    /// The port a bound socket sends from (for the expected source address).
    static func localPort(_ fd: Int32) -> UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return UInt16(bigEndian: address.sin_port)
    }

    /// Sends `datagrams` to `port` from one socket; returns the socket's port.
    static func send(_ datagrams: [[UInt8]], to port: UInt16) -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        for (index, datagram) in datagrams.enumerated() {
            _ = datagram.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
            // Pace a little, so a test never depends on the kernel's buffer sizes.
            if index % 200 == 199 { usleep(2_000) }
        }
        return localPort(fd)
    }

    static func realtimeNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    @Test("serve --record keeps every datagram that frames, in order, with its time and sender; replaying it stores the same rows")
    func recordWhileServing() throws {
        let directory = TemporaryDirectory()
        var configuration = GatewayConfiguration()
        configuration.udpAddress = "127.0.0.1:0"
        configuration.httpAddress = "127.0.0.1:0"
        configuration.databasePath = directory.file("live.db")
        configuration.limits.commitInterval = .milliseconds(50)
        configuration.recordDirectory = directory.file("recordings")
        let gateway = try Gateway(configuration: configuration)
        gateway.start()
        let datagrams = Self.mixedDatagrams(count: 2_000)
        let before = Self.realtimeNanoseconds()
        let sourcePort = Self.send(datagrams, to: gateway.udpPort)
        #expect(waitUntil { gateway.counters.snapshot().datagramsReceived >= UInt64(datagrams.count) })
        let final = gateway.stop()
        let after = Self.realtimeNanoseconds()
        #expect(final.isBalanced)
        #expect(final.received == UInt64(datagrams.count) && final.stored == 1_800 && final.rejected[.badMagic] == 200)
        let recorder = try #require(gateway.recorder)
        // The garbage (every tenth datagram, bad magic) is counted and left out of the recording.
        let framed = datagrams.filter { $0.first == WireFormat.magic }
        #expect(recorder.datagramsRecorded == UInt64(framed.count) && recorder.datagramsNotRecorded(.notFramed) == 200)
        #expect(recorder.datagramsNotRecorded == 200 && recorder.failure == nil)

        let (recorded, reports) = try Self.recordedDatagrams(in: directory.file("recordings"))
        #expect(reports.count == 1 && reports.allSatisfy { $0.isIntact && $0.hasIndex })
        #expect(recorded.count == framed.count)
        #expect(recorded.map(\.bytes) == framed, "every datagram that frames byte for byte, in order")
        #expect(recorded.allSatisfy { $0.source == "127.0.0.1:\(sourcePort)" })
        #expect(recorded.allSatisfy { $0.time >= before && $0.time <= after })
        #expect(zip(recorded, recorded.dropFirst()).allSatisfy { $0.time <= $1.time }, "receive times never go back")

        // The recording replayed into an empty database stores what the live gateway stored.
        let runner = try ReplayRunner(databasePath: directory.file("replayed.db"))
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.file("recordings")) {
            _ = try openRecording(path: directory.file("recordings/" + name)).read { datagram in
                runner.feed(datagram)
                return true
            }
        }
        let replayed = runner.finish()
        #expect(replayed.stored == final.stored && replayed.samplesStored == final.samplesStored)
        #expect(replayed.rejected[.badMagic] == 0 && replayed.rejectedTotal == final.rejectedTotal - 200, "only the garbage is missing")
        #expect(try Self.rowsWithoutCommitTime(directory.file("replayed.db")) == Self.rowsWithoutCommitTime(directory.file("live.db")))
    }

    @Test("A full disk stops the recording with an error, and the gateway goes on storing every frame")
    func fullDiskStopsOnlyTheRecording() throws {
        let directory = TemporaryDirectory()
        let recordings = directory.file("recordings")
        try FileManager.default.createDirectory(atPath: recordings, withIntermediateDirectories: true)
        // The first file's name comes from the first datagram's receive time: point every name the
        // next minute could take at /dev/full, whose writes fail with ENOSPC like a full disk.
        let now = Self.realtimeNanoseconds()
        for second in 0..<60 {
            let name = RecordingDirectoryWriter.fileName(startNanoseconds: now + UInt64(second) * 1_000_000_000, sequence: 1)
            try FileManager.default.createSymbolicLink(atPath: recordings + "/" + name, withDestinationPath: "/dev/full")
        }
        var configuration = GatewayConfiguration()
        configuration.udpAddress = "127.0.0.1:0"
        configuration.httpAddress = "127.0.0.1:0"
        configuration.databasePath = directory.file("full-disk.db")
        configuration.limits.commitInterval = .milliseconds(50)
        configuration.recordDirectory = recordings
        let gateway = try Gateway(configuration: configuration)
        gateway.start()
        let datagrams = Self.mixedDatagrams(count: 1_000)
        _ = Self.send(datagrams, to: gateway.udpPort)
        #expect(waitUntil { gateway.counters.snapshot().datagramsReceived >= UInt64(datagrams.count) })
        let final = gateway.stop()
        let recorder = try #require(gateway.recorder)
        #expect(recorder.failure?.contains("no space left") == true, "\(recorder.failure ?? "no failure")")
        #expect(recorder.datagramsRecorded == 0 && recorder.datagramsNotRecorded == UInt64(datagrams.count))
        #expect(final.isBalanced && final.stored == 900 && final.droppedTotal == 0)
        #expect(try storedRows(directory.file("full-disk.db")).values.reduce(0) { $0 + $1.count } == 900)
    }

    /// Stored rows with the commit time cleared (it is the wall clock of the commit).
    static func rowsWithoutCommitTime(_ path: String) throws -> [StoredSample] {
        try storedRows(path).values.flatMap { $0 }.map { row in
            var row = row
            row.storedMicroseconds = nil
            return row
        }.sorted { ($0.drone.number, $0.timestampMicroseconds) < ($1.drone.number, $1.timestampMicroseconds) }
    }

    @Test("skygate record (RecordSession) writes every datagram it receives and stores nothing")
    func recordSession() throws {
        let directory = TemporaryDirectory()
        var limits = Limits()
        limits.recordSessionRingBytes = 1 << 20
        let session = try RecordSession(
            udpAddress: "127.0.0.1:0", outputPath: directory.file("session.skyrec"), limits: try ValidLimits(limits))
        session.start()
        let datagrams = Self.mixedDatagrams(count: 1_000) + [[UInt8](repeating: 0xA7, count: 2_048), []]
        let sourcePort = Self.send(datagrams, to: session.udpPort)
        #expect(waitUntil { session.counters.snapshot().datagramsReceived >= UInt64(datagrams.count) })
        let final = session.stop()
        #expect(session.failure == nil)
        #expect(final.datagramsReceived == UInt64(datagrams.count) && session.datagramsRecorded == UInt64(datagrams.count))
        let reader = try SkygateRecordingReader(path: directory.file("session.skyrec"))
        var recorded: [[UInt8]] = []
        let report = reader.read { datagram in
            recorded.append(Array(datagram.bytes))
            #expect(RecordedSource.text(datagram.source) == "127.0.0.1:\(sourcePort)")
            return true
        }
        #expect(recorded == datagrams)
        #expect(report.isIntact && report.hasIndex)
    }

    @Test("replay --to --speed 10 of a 30 s recording takes 3 s ± 3 % between the first and last datagram received")
    func pacedReplayTiming() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("thirty-seconds.skyrec")
        // 30 s of recorded time, a datagram every 20 ms, each carrying its index.
        let start: UInt64 = 1_767_225_600_000_000_000
        let count = 1_501
        let writer = try RecordingWriter(path: path, startNanoseconds: start, gatewayVersion: "test")
        for index in 0..<count {
            var bytes = [UInt8](repeating: 0x42, count: 64)
            withUnsafeBytes(of: UInt32(index).littleEndian) { bytes.replaceSubrange(0..<4, with: $0) }
            try bytes.withUnsafeBytes { datagram in
                try writer.append(receivedNanoseconds: start + UInt64(index) * 20_000_000, source: UnsafeRawBufferPointer(start: nil, count: 0), datagram: datagram)
            }
        }
        try writer.close()

        let receiver = try LoopbackReceiver()
        let process = Process()
        process.executableURL = SkygateProcess.executable
        process.arguments = ["replay", path, "--to", "127.0.0.1:\(receiver.port)", "--speed", "10"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let arrivals = receiver.receive(count: count, timeoutSeconds: 20)
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(arrivals.count == count, "received \(arrivals.count) of \(count): \(output)")
        #expect(arrivals.map(\.index) == Array(0..<UInt32(arrivals.count)), "in order")
        guard let first = arrivals.first, let last = arrivals.last else { return }
        let seconds = Double(last.nanoseconds - first.nanoseconds) / 1e9
        #expect(abs(seconds - 3.0) <= 0.09, "took \(seconds) s: \(output)")
    }
}

/// A UDP socket on an ephemeral loopback port that records when each datagram arrives
/// (monotonic clock) and the index in its first four bytes.
final class LoopbackReceiver {
    let fd: Int32
    let port: UInt16

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            close(descriptor)
            throw GatewayError("bind failed")
        }
        var size: Int32 = 4 << 20
        setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        fd = descriptor
        port = RecordingEndToEndTests.localPort(descriptor)
    }

    deinit { close(fd) }

    /// Receives until `count` datagrams arrived or `timeoutSeconds` passed.
    func receive(count: Int, timeoutSeconds: Double) -> [(index: UInt32, nanoseconds: UInt64)] {
        var arrivals: [(index: UInt32, nanoseconds: UInt64)] = []
        var buffer = [UInt8](repeating: 0, count: 2_048)
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while arrivals.count < count && Date() < deadline {
            let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard received >= 4 else { continue }
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let index = buffer.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
            arrivals.append((index, UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)))
        }
        return arrivals
    }
}

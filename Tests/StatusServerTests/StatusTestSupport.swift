import Foundation
import Hummingbird
import IngestFraming
import MAVLinkWire
import Pipeline
import StatusServer
import Synchronization
import Telemetry
import TelemetryStore
import TelemetryWire

/// A temporary directory for one test's database, removed afterwards.
final class TemporaryDirectory: Sendable {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "skygate-status-test-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
}

/// A status source built from the real pipeline without threads or sockets: datagrams handed to
/// `ingest` are processed at once by a `BatchProcessor` and committed to a temporary database, so
/// the routes see a real fleet, real counters and real stored tracks.
final class PipelineSource: StatusSource, @unchecked Sendable {
    // @unchecked: every use of the processor and store happens under `lock`.
    let counters = IngestCounters()
    let processor: BatchProcessor<NoAuthentication, MAVLinkNoSigning>
    let store: TelemetryStore
    let path: String
    let lock = NSLock()
    let ringFull = Atomic<Bool>(false)
    let ingested = Atomic<Int>(0)
    let started = Date()

    init(directory: TemporaryDirectory) throws {
        let limits = Limits()
        processor = BatchProcessor(limits: .defaults, counters: counters, batch: TelemetryBatch(samplesMax: limits.commitSamplesMax))
        path = directory.file("status.db")
        store = try TelemetryStore(path: path)
    }

    deinit { store.close() }

    func statsReport() -> StatsReport {
        let snapshot = counters.snapshot()
        return StatsReport(
            uptime_seconds: Date().timeIntervalSince(started), received: snapshot.received, stored: snapshot.stored,
            duplicate: snapshot.duplicate,
            rejected: Dictionary(uniqueKeysWithValues: snapshot.rejected.map { ($0.key.name, $0.value) }),
            dropped: Dictionary(uniqueKeysWithValues: snapshot.dropped.map { ($0.key.name, $0.value) }),
            balanced: snapshot.isBalanced, samples_stored: snapshot.samplesStored, datagrams_received: snapshot.datagramsReceived,
            bytes_received: snapshot.bytesReceived, kernel_drops: 0, ring_capacity: 256, ring_depth: 0, batches_committed: 1,
            batches_waiting: 0, last_batch_samples: 1, commit_latency_ms: .init(p50: 1, p99: 2),
            commit_duration_ms: .init(p50: 1, p99: 2), drones: processor.fleet.count, database_bytes: 4_096)
    }

    var isReady: Bool { true }
    func droneStatuses() -> [DroneStatus] { processor.fleet.snapshot() }
    func droneStatus(of drone: DroneIdentity) -> DroneStatus? { processor.fleet.status(of: drone) }
    func withStoreForReading<Value>(_ body: (any TelemetryStoreReading) throws(StoreError) -> Value) throws(StoreError) -> Value {
        var options = StoreOptions()
        options.isReadOnly = true
        let store = try TelemetryStore(path: path, options: options)
        defer { store.close() }
        return try body(store)
    }
    func zonesJSON() -> [UInt8] { Array(#"{"zones":[]}"#.utf8) }
    func readEvents(_ query: EventQuery) throws(StoreError) -> [AlertEvent] {
        try withStoreForReading { store throws(StoreError) in try store.readEvents(query) }
    }
    func subscribeEvents(after lastID: UInt64?) -> EventSubscription? { nil }
    func commitLatencyBuckets() -> [(upperBoundSeconds: Double, count: UInt64)] { [(0.0009, 3), (0.003, 2), (20, 1)] }

    /// Frames the body as the gateway does (`IngestFraming`), then processes its datagrams.
    func ingest(body: [UInt8], format: IngestBodyFormat) -> IngestOutcome {
        let datagrams: [[UInt8]]
        do {
            switch format {
            case .frames: datagrams = try IngestBody.datagrams(fromBinary: body, datagramBytesMax: Limits().datagramBytesMax)
            case .json:
                datagrams = try IngestBody.datagrams(
                    fromJSON: body, datagramBytesMax: Limits().datagramBytesMax, timeParser: TimeText.microseconds(from:))
            }
        } catch {
            return .malformed(error.message)
        }
        return ingest(datagrams: datagrams)
    }

    /// Processes framed datagrams at once and commits them (or drops them all, `ringFull`).
    func ingest(datagrams: [[UInt8]]) -> IngestOutcome {
        if ringFull.load(ordering: .relaxed) {
            for datagram in datagrams {
                counters.countDatagram(bytes: datagram.count)
                counters.countDropped(.ringFull)
            }
            return .ringFull(accepted: 0)
        }
        lock.lock()
        defer { lock.unlock() }
        let now = UInt64(Date().timeIntervalSince1970 * 1e9)
        for datagram in datagrams {
            counters.countDatagram(bytes: datagram.count)
            datagram.withUnsafeBytes { processor.process(datagram: $0, receivedNanoseconds: now, nowNanoseconds: now) }
        }
        let batch = processor.takeBatch(replacingWith: TelemetryBatch(samplesMax: processor.limits.commitSamplesMax))
        _ = try? store.write([
            StoreBatchPart(protocol: .skygate, columns: batch.skygate), StoreBatchPart(protocol: .mavlink, columns: batch.mavlink),
        ])
        counters.countStored(units: batch.units, samples: batch.sampleCount)
        ingested.add(datagrams.count, ordering: .relaxed)
        return .accepted(datagrams: datagrams.count)
    }

    /// Sends `frames` Skygate frames per drone, one sample each, one second apart and ending now,
    /// flying north-east from near Zurich.
    func fly(drones: [UInt32], frames: Int, batteryPercent: UInt8 = 80) {
        let nowMicroseconds = UInt64(Date().timeIntervalSince1970 * 1e6)
        var datagrams: [[UInt8]] = []
        for drone in drones {
            for index in 0..<frames {
                let sample = WireSample(
                    latitudeE7: 473_700_000 + Int32(index) * 100 + Int32(drone) * 10_000,
                    longitudeE7: 85_400_000 + Int32(index) * 100, altitudeMM: 400_000 + Int32(index) * 10,
                    velocityNorthCMS: 300, velocityEastCMS: 400, batteryMillivolts: 15_800, batteryPercent: batteryPercent,
                    satellites: 12, status: [.gpsFix, .armed, .inAir])
                let header = FrameHeader(
                    droneID: drone, sequence: UInt32(index), timestampMicroseconds: nowMicroseconds - UInt64(frames - index) * 1_000_000)
                datagrams.append(FrameEncoder.encode(header: header, samples: [sample]))
            }
        }
        _ = ingest(datagrams: datagrams)
    }
}

/// One Skygate frame of one sample, for ingest bodies.
func frame(drone: UInt32, sequence: UInt32, secondsAgo: Double = 1) -> [UInt8] {
    let sample = WireSample(latitudeE7: 473_700_000, longitudeE7: 85_400_000, altitudeMM: 400_000, status: .gpsFix)
    let time = UInt64((Date().timeIntervalSince1970 - secondsAgo) * 1e6)
    return FrameEncoder.encode(header: FrameHeader(droneID: drone, sequence: sequence, timestampMicroseconds: time), samples: [sample])
}

extension ByteBuffer {
    var text: String { String(buffer: self) }
    func json() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(readableBytesView)) as? [String: Any] ?? [:]
    }
}

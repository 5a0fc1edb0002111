import MAVLinkWire
import PacketRing
import Pipeline
import Telemetry
import TelemetryWire
import Testing

/// Sample times against the gateway clock (issue 20): live ingest (the rings, `ProcessLoop.pass`)
/// refuses samples older than `Limits.sampleAgeMax` as `timestamp_too_old`; datagrams fed from a
/// file (`ProcessLoop.feed`: replay, imports) keep their history. Proved by sending the same
/// frames through both entries of one kind of loop and comparing what each kept and counted.
@Suite("Sample age")
struct SampleAgeTests {
    typealias Loop = ProcessLoop<NoAuthentication, MAVLinkNoSigning>
    static let now: UInt64 = 1_767_225_600_000_000_000  // ns, 2026-01-01
    static let hour: UInt64 = 3_600_000_000  // µs

    /// Keeps every batch it is given (their samples' times), hands back a fresh one.
    final class KeepingSink: BatchSink {
        var timestamps: [UInt64] = []
        var units = 0
        let counters: IngestCounters
        init(counters: IngestCounters) { self.counters = counters }
        func exchange(_ full: TelemetryBatch) -> TelemetryBatch {
            timestamps += (0..<full.skygate.count).map { full.skygate.timestampsMicroseconds[$0] }
            units += full.units
            counters.countStored(units: full.units, samples: full.sampleCount)
            return TelemetryBatch(samplesMax: full.skygate.capacity)
        }
    }

    func makeLoop(sampleAgeMax: Duration = Limits().sampleAgeMax) throws -> (Loop, KeepingSink, IngestCounters) {
        var limits = Limits()
        limits.commitSamplesMax = 4_096
        limits.dronesMax = 64
        limits.sampleAgeMax = sampleAgeMax
        let counters = IngestCounters()
        let processor = BatchProcessor(limits: try ValidLimits(limits), counters: counters, batch: TelemetryBatch(samplesMax: 4_096))
        let sink = KeepingSink(counters: counters)
        return (ProcessLoop(processor: processor, sink: sink, observer: nil), sink, counters)
    }

    /// One frame per age (hours before `now`), drone 1, one sample each.
    func frames(agesHours: [UInt64]) -> [[UInt8]] {
        agesHours.enumerated().map { index, age in
            FrameEncoder.encode(
                header: FrameHeader(droneID: 1, sequence: UInt32(index), timestampMicroseconds: Self.now / 1_000 - age * Self.hour),
                samples: [WireSample(latitudeE7: 473_977_000, longitudeE7: 85_456_000, altitudeMM: 450_000, status: .gpsFix)])
        }
    }

    func pushAll(_ datagrams: [[UInt8]], into ring: DatagramRing) throws {
        for datagram in datagrams {
            _ = try datagram.withUnsafeBytes { try ring.push(bytes: $0, source: UnsafeRawBufferPointer(start: nil, count: 0), timestamp: Self.now) }
        }
    }

    static let ages: [UInt64] = [0, 1, 23, 25, 24 * 30, 24 * 365]

    @Test("Live ingest refuses samples older than a day by default, counted timestamp_too_old; the rest are stored")
    func liveRefusesOld() throws {
        let (loop, sink, counters) = try makeLoop()
        let ring = DatagramRing(byteCapacity: 1 << 14, datagramCapacity: 2_048)
        try pushAll(frames(agesHours: Self.ages), into: ring)
        _ = loop.pass([ring], nowNanoseconds: Self.now)
        // The ring is empty now: `run`'s first pass takes nothing and hands the batch off.
        loop.run([ring], isFinished: { true })
        let snapshot = counters.snapshot()
        #expect(snapshot.rejected[.timestampTooOld] == 3)
        #expect(snapshot.rejected[.timestampOutOfRange] == 0)
        #expect(sink.timestamps.sorted() == [23, 1, 0].map { Self.now / 1_000 - $0 * Self.hour })
        #expect(snapshot.isBalanced && snapshot.received == UInt64(Self.ages.count))
    }

    @Test("sampleAgeMax 0 turns the check off on live ingest")
    func checkOff() throws {
        let (loop, sink, counters) = try makeLoop(sampleAgeMax: .zero)
        let ring = DatagramRing(byteCapacity: 1 << 14, datagramCapacity: 2_048)
        try pushAll(frames(agesHours: Self.ages), into: ring)
        _ = loop.pass([ring], nowNanoseconds: Self.now)
        // The ring is empty now: `run`'s first pass takes nothing and hands the batch off.
        loop.run([ring], isFinished: { true })
        #expect(counters.snapshot().rejected[.timestampTooOld] == 0)
        #expect(sink.timestamps.count == Self.ages.count)
    }

    @Test("A shorter age limit moves the line: with one hour, samples 23 h old are refused too")
    func shorterLimit() throws {
        let (loop, sink, counters) = try makeLoop(sampleAgeMax: .seconds(3_600))
        let ring = DatagramRing(byteCapacity: 1 << 14, datagramCapacity: 2_048)
        try pushAll(frames(agesHours: Self.ages), into: ring)
        _ = loop.pass([ring], nowNanoseconds: Self.now)
        // The ring is empty now: `run`'s first pass takes nothing and hands the batch off.
        loop.run([ring], isFinished: { true })
        #expect(counters.snapshot().rejected[.timestampTooOld] == 4)
        #expect(sink.timestamps.count == 2)
    }

    @Test("Fed datagrams (replay, imports) keep their history: the same old frames are all stored")
    func feedKeepsHistory() throws {
        let (loop, sink, counters) = try makeLoop()
        for datagram in frames(agesHours: Self.ages) {
            datagram.withUnsafeBytes { loop.feed($0, isTruncated: false, receivedNanoseconds: Self.now) }
        }
        loop.finishFeeding()
        let snapshot = counters.snapshot()
        #expect(snapshot.rejected[.timestampTooOld] == 0)
        #expect(sink.timestamps.count == Self.ages.count)
        #expect(snapshot.isBalanced)
    }

    @Test("The age limit is checked with the other limits: negative or beyond ten years is refused")
    func limitChecked() {
        var limits = Limits()
        limits.sampleAgeMax = .seconds(-1)
        #expect(limits.problems().contains { $0.hasPrefix("sampleAgeMax") })
        limits.sampleAgeMax = .seconds(Limits.sampleAgeMaxSecondsMax + 1)
        #expect(limits.problems().contains { $0.hasPrefix("sampleAgeMax") })
        limits.sampleAgeMax = .zero
        #expect(limits.problems().isEmpty)
    }
}

import MAVLinkWire
import PacketRing
import Pipeline
import Telemetry
import TelemetryWire
import Testing

/// The batch processor from memory, without a socket: each datagram ends in exactly one outcome,
/// duplicates and invalid samples are refused with their reasons, link loss follows sequence gaps
/// (with wrap-around), and the derived speed and distance are right.
@Suite("Batch processor")
struct BatchProcessorTests {
    static let now: UInt64 = 1_767_225_700_000_000_000  // ns, 100 s after the frames' start
    static let start: UInt64 = 1_767_225_600_000_000  // µs

    typealias Processor = BatchProcessor<NoAuthentication, MAVLinkNoSigning>

    func makeProcessor(limits: Limits = Limits()) -> (Processor, IngestCounters) {
        var limits = limits
        limits.commitSamplesMax = 4_096
        limits.dronesMax = max(limits.dronesMax == Limits().dronesMax ? 64 : limits.dronesMax, 1)
        let counters = IngestCounters()
        let processor = Processor(limits: try! ValidLimits(limits), counters: counters, batch: TelemetryBatch(samplesMax: 4_096))
        return (processor, counters)
    }

    func frame(drone: UInt32, sequence: UInt32, time: UInt64 = start, samples: [WireSample]? = nil) -> [UInt8] {
        FrameEncoder.encode(
            header: FrameHeader(droneID: drone, sequence: sequence, timestampMicroseconds: time),
            samples: samples ?? [WireSample(latitudeE7: 473_977_000, longitudeE7: 85_456_000, altitudeMM: 450_000, status: .gpsFix)])
    }

    func feed(_ processor: Processor, _ datagrams: [[UInt8]]) {
        for datagram in datagrams {
            datagram.withUnsafeBytes {
                processor.process(datagram: $0, receivedNanoseconds: Self.now, nowNanoseconds: Self.now)
            }
        }
    }

    @Test("Duplicates are refused once per copy; a new timestamp with the same sequence is a new frame")
    func duplicates() {
        let (processor, counters) = makeProcessor()
        let original = frame(drone: 1, sequence: 5)
        feed(processor, [original, original, original, frame(drone: 1, sequence: 5, time: Self.start + 1_000_000)])
        let snapshot = counters.snapshot()
        #expect(snapshot.duplicate == 2)
        #expect(processor.batch.units == 2 && processor.batch.skygate.count == 2)
        // Frames in the batch are not yet stored: the writer counts them after the commit.
        #expect(snapshot.received == 2 && snapshot.stored == 0)
        counters.countStored(units: processor.batch.units, samples: processor.batch.sampleCount)
        #expect(counters.snapshot().isBalanced && counters.snapshot().received == 4)
    }

    @Test("Out-of-range positions and timestamps are rejected with their reasons, and nothing is kept")
    func validation() {
        let (processor, counters) = makeProcessor()
        let badLatitude = WireSample(latitudeE7: 900_000_001, longitudeE7: 0, altitudeMM: 0)
        let badLongitude = WireSample(latitudeE7: 0, longitudeE7: -1_800_000_001, altitudeMM: 0)
        let good = WireSample(latitudeE7: 1, longitudeE7: 1, altitudeMM: 0)
        feed(processor, [
            frame(drone: 1, sequence: 1, samples: [good, badLatitude]),
            frame(drone: 1, sequence: 2, samples: [badLongitude]),
            frame(drone: 1, sequence: 3, time: 900_000_000_000_000),  // 1998
            frame(drone: 1, sequence: 4, time: Self.now / 1_000 + 301_000_000),  // 301 s ahead
            frame(drone: 1, sequence: 5, time: Self.now / 1_000 + 299_000_000),  // 299 s ahead: fine
        ])
        let snapshot = counters.snapshot()
        #expect(snapshot.rejected[.positionOutOfRange] == 2)
        #expect(snapshot.rejected[.timestampOutOfRange] == 2)
        #expect(processor.batch.units == 1 && processor.batch.skygate.count == 1)
    }

    @Test("Link loss counts sequence gaps, across the 32-bit wrap, and ignores late frames")
    func linkLoss() throws {
        let (processor, _) = makeProcessor()
        let sequences: [UInt32] = [UInt32.max - 2, UInt32.max, 1, 2, 0, 6]  // gaps: 1, 1, 0, late, 3
        feed(processor, sequences.enumerated().map { frame(drone: 7, sequence: $0.element, time: Self.start + UInt64($0.offset) * 1_000) })
        let status = try #require(processor.fleet.status(of: DroneIdentity(protocol: .skygate, number: 7)))
        #expect(status.framesReceived == 6)
        #expect(status.framesLost == 5)
        #expect(abs(status.linkQuality - 6.0 / 11.0) < 1e-9)
    }

    @Test("Ground speed and distance flown are derived per drone; fixes without GPS are skipped")
    func derivation() throws {
        let (processor, _) = makeProcessor()
        // 0.001° of latitude north (≈ 111.2 m), then a sample without fix, then 0.001° further.
        let samples = [
            WireSample(latitudeE7: 473_000_000, longitudeE7: 85_000_000, altitudeMM: 0, velocityNorthCMS: 300, velocityEastCMS: 400, status: .gpsFix),
            WireSample(timeOffsetMicroseconds: 1, latitudeE7: 473_010_000, longitudeE7: 85_000_000, altitudeMM: 0, status: .gpsFix),
            WireSample(timeOffsetMicroseconds: 2, latitudeE7: 0, longitudeE7: 0, altitudeMM: 0, status: []),
            WireSample(timeOffsetMicroseconds: 3, latitudeE7: 473_020_000, longitudeE7: 85_000_000, altitudeMM: 0, velocityNorthCMS: 300, velocityEastCMS: 400, status: .gpsFix),
        ]
        feed(processor, [frame(drone: 3, sequence: 0, samples: samples)])
        let status = try #require(processor.fleet.status(of: DroneIdentity(protocol: .skygate, number: 3)))
        #expect(abs(status.distanceFlownMetres - 222.39) < 0.5, "distance \(status.distanceFlownMetres)")
        #expect(abs(status.groundSpeedMetresPerSecond - 5) < 1e-4)
        #expect(status.hasFix && status.latitudeE7 == 473_020_000)
        #expect(status.samplesReceived == 4)
    }

    @Test("A full fleet table rejects new drones as too_many_drones")
    func fleetFull() {
        var limits = Limits()
        limits.dronesMax = 3
        let (processor, counters) = makeProcessor(limits: limits)
        feed(processor, (1...5).map { frame(drone: UInt32($0), sequence: 0) })
        #expect(counters.snapshot().rejected[.tooManyDrones] == 2)
        #expect(processor.fleet.count == 3)
    }

    @Test("Draining a ring: truncated datagrams are oversized, unknown first bytes bad_magic, a cut MAVLink frame truncated")
    func drainRing() {
        let (processor, counters) = makeProcessor()
        let ring = DatagramRing(byteCapacity: 1 << 14, datagramCapacity: 2_048)
        let datagrams: [[UInt8]] = [frame(drone: 1, sequence: 0), [0x00, 1, 2], [0xFD, 0], []]
        for datagram in datagrams {
            _ = datagram.withUnsafeBytes { try? ring.push(bytes: $0, source: UnsafeRawBufferPointer(start: nil, count: 0), timestamp: Self.now) }
        }
        // What the receiver appends for a datagram longer than its buffer: the first bytes, marked.
        _ = [UInt8](repeating: 0xAA, count: 10).withUnsafeBytes {
            ring.append(datagram: $0, source: UnsafeRawBufferPointer(start: nil, count: 0), timestamp: Self.now, isTruncated: true)
        }
        ring.publish()
        #expect(processor.drain(ring, nowNanoseconds: Self.now) == 5)
        #expect(ring.isEmpty)
        let snapshot = counters.snapshot()
        #expect(snapshot.rejected[.badMagic] == 1)
        #expect(snapshot.rejected[.truncated] == 2)
        #expect(snapshot.rejected[.oversized] == 1)
        #expect(processor.batch.units == 1)
    }

    @Test("A batch is due when full enough or old enough, and swapping hands it over whole")
    func batchDue() {
        var limits = Limits()
        limits.commitInterval = .milliseconds(100)
        let (processor, _) = makeProcessor(limits: limits)
        #expect(!processor.isBatchDue(nowNanoseconds: Self.now))
        feed(processor, [frame(drone: 1, sequence: 0)])
        #expect(!processor.isBatchDue(nowNanoseconds: Self.now + 99_000_000))
        #expect(processor.isBatchDue(nowNanoseconds: Self.now + 100_000_000))
        let full = processor.takeBatch(replacingWith: TelemetryBatch(samplesMax: 4_096))
        #expect(full.units == 1 && processor.batch.units == 0 && !processor.isBatchDue(nowNanoseconds: Self.now + 10_000_000_000))
    }
}

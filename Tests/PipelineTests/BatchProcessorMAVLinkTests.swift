import MAVLinkSigning
import MAVLinkWire
import Pipeline
import Telemetry
import TelemetryWire
import Testing

/// MAVLink through the batch processor, from memory: every frame is one unit with exactly one
/// outcome (positions become rows; HEARTBEAT and other state messages are units without rows;
/// other components, damaged, unmapped, duplicated, badly signed and unsigned-when-required
/// frames are counted with their reasons), the identity holds, drones are (mavlink, system id),
/// link loss follows the 8-bit sequence with wrap-around, and derivation covers MAVLink rows.
@Suite("Batch processor, MAVLink")
struct BatchProcessorMAVLinkTests {
    static let now: UInt64 = 1_767_225_700_000_000_000  // ns
    static let key = [UInt8](repeating: 0x5A, count: 32)

    typealias Processor = BatchProcessor<NoAuthentication, MAVLinkSHA256Verifier>

    func makeProcessor(requireSigning: Bool = false, samplesMax: Int = 4_096) -> (Processor, IngestCounters) {
        var limits = Limits()
        limits.commitSamplesMax = samplesMax
        limits.dronesMax = 64
        let counters = IngestCounters()
        let keys = try! MAVLinkKeys([7: Self.key])
        let processor = Processor(
            limits: try! ValidLimits(limits), counters: counters, authenticator: NoAuthentication(),
            verifier: MAVLinkSHA256Verifier(keys: keys, allowUnsignedFromKeyed: !requireSigning), batch: TelemetryBatch(samplesMax: samplesMax))
        return (processor, counters)
    }

    func frame(_ message: MAVLinkMessage, version: UInt8 = 2, sequence: UInt8, system: UInt8, component: UInt8 = 1) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: MAVLinkFormat.frameLengthMax)
        let length = buffer.withUnsafeMutableBytes {
            MAVLinkEncoder.encode(message, version: version, sequence: sequence, systemID: system, componentID: component, into: $0)
        }
        return Array(buffer[0..<length])
    }

    func position(_ boot: UInt32, latitude: Int32 = 473_977_000, longitude: Int32 = 85_456_000) -> MAVLinkMessage {
        .globalPositionInt(MAVLinkGlobalPositionInt(
            timeBootMilliseconds: boot, latitudeE7: latitude, longitudeE7: longitude, altitudeMM: 450_000,
            relativeAltitudeMM: 0, velocityX: 300, velocityY: 400, velocityZ: -10, heading: 9_000))
    }

    static let heartbeat = MAVLinkMessage.heartbeat(MAVLinkHeartbeat(customMode: 0, vehicleType: 2, autopilot: 3, baseMode: 0x80, systemStatus: 4))

    func feed(_ processor: Processor, _ datagrams: [[UInt8]]) {
        for datagram in datagrams {
            datagram.withUnsafeBytes { processor.process(datagram: $0, receivedNanoseconds: Self.now, nowNanoseconds: Self.now) }
        }
    }

    @Test("Each frame is one unit: positions are rows, state messages units without rows, the rest counted by reason")
    func accounting() {
        let (processor, counters) = makeProcessor()
        var damaged = frame(position(10), sequence: 9, system: 3)
        damaged[15] ^= 0x10
        let unmapped: [UInt8] = {
            var bytes = frame(Self.heartbeat, sequence: 1, system: 2)
            bytes[7] = 253  // STATUSTEXT: not mapped, skipped unchecked
            return bytes
        }()
        var datagram: [UInt8] = []
        for system: UInt8 in 1...3 {
            datagram += frame(Self.heartbeat, sequence: 0, system: system)
            datagram += frame(position(100), version: system == 2 ? 1 : 2, sequence: 1, system: system)
        }
        datagram += frame(position(100), sequence: 0, system: 1, component: 191)  // a companion computer
        datagram += [0x00, 0x01]  // garbage
        datagram += damaged
        datagram += unmapped
        feed(processor, [datagram])
        let snapshot = counters.snapshot()
        #expect(processor.batch.units == 6)
        #expect(processor.batch.mavlink.count == 3 && processor.batch.skygate.count == 0)
        #expect(snapshot.rejected[.mavlinkNotAutopilot] == 1)
        #expect(snapshot.rejected[.badMagic] == 1)
        #expect(snapshot.rejected[.badCRC] == 1)
        #expect(snapshot.rejected[.mavlinkUnknownMessage] == 1)
        #expect(snapshot.received == 4)
        counters.countStored(units: processor.batch.units, samples: processor.batch.sampleCount)
        let final = counters.snapshot()
        #expect(final.isBalanced && final.received == 10 && final.samplesStored == 3)
        let drones = processor.fleet.snapshot().map(\.drone)
        #expect(drones == (1...3).map { DroneIdentity(protocol: .mavlink, number: $0) })
        #expect(Set(processor.batch.mavlink.droneIDs) == [1, 2, 3])
    }

    @Test("A repeated datagram is all duplicates; the same sequence with new content is a new frame")
    func duplicates() {
        let (processor, counters) = makeProcessor()
        let datagram = frame(Self.heartbeat, sequence: 4, system: 5) + frame(position(10), sequence: 5, system: 5)
        feed(processor, [datagram, datagram, frame(position(11), sequence: 5, system: 5)])
        #expect(counters.snapshot().duplicate == 2)
        #expect(processor.batch.units == 3 && processor.batch.mavlink.count == 2)
    }

    @Test("Link loss per system from the 8-bit sequence, across the wrap at 256")
    func linkLoss() {
        let (processor, _) = makeProcessor()
        let sequences: [UInt8] = [250, 251, 254, 255, 1, 2]  // 2 lost before 254, 1 (0) lost before 1
        feed(processor, sequences.enumerated().map { frame(position(UInt32($0.offset + 1) * 100), sequence: $0.element, system: 9) })
        let status = processor.fleet.status(of: DroneIdentity(protocol: .mavlink, number: 9))
        #expect(status?.framesReceived == 6)
        #expect(status?.framesLost == 3)
    }

    @Test("Derivation covers MAVLink rows: ground speed from the velocities, distance between fixes")
    func derivation() {
        let (processor, _) = makeProcessor()
        // About 111 m north between the two fixes (0.001 degrees of latitude).
        feed(processor, [frame(position(100), sequence: 0, system: 4), frame(position(200, latitude: 473_987_000), sequence: 1, system: 4)])
        let status = processor.fleet.status(of: DroneIdentity(protocol: .mavlink, number: 4))
        #expect(status?.hasFix == true)
        #expect(abs((status?.groundSpeedMetresPerSecond ?? 0) - 5) < 0.001)  // 3 m/s north, 4 m/s east
        #expect(abs((status?.distanceFlownMetres ?? 0) - 111.2) < 0.5)
        #expect(status?.latitudeE7 == 473_987_000)
    }

    @Test("Signing: a system with a key needs valid, rising signatures, and signing when required")
    func signing() throws {
        let (processor, counters) = makeProcessor(requireSigning: true)
        let signer = MAVLinkSHA256Verifier(keys: try MAVLinkKeys([7: Self.key]))
        func signed(_ sequence: UInt8, timestamp: UInt64, key: MAVLinkSHA256Verifier = signer) -> [UInt8] {
            var buffer = [UInt8](repeating: 0, count: MAVLinkFormat.frameLengthMax)
            let length = buffer.withUnsafeMutableBytes {
                MAVLinkEncoder.encodeSigned(
                    position(UInt32(sequence) * 100 + 100), sequence: sequence, systemID: 7, componentID: 1, linkID: 1,
                    timestamp: timestamp, signer: key, into: $0)
            }
            return Array(buffer[0..<length!])
        }
        let forger = MAVLinkSHA256Verifier(keys: try MAVLinkKeys([7: [UInt8](repeating: 1, count: 32)]))
        feed(processor, [
            signed(0, timestamp: 1_000),
            signed(1, timestamp: 1_001),
            signed(1, timestamp: 1_001),  // the same frame again: its timestamp does not rise
            signed(2, timestamp: 999),  // an older timestamp
            signed(3, timestamp: 2_000, key: forger),
            frame(position(500), sequence: 4, system: 7),  // unsigned, signing required
            frame(position(500), sequence: 4, system: 8),  // unsigned from a system without a key
        ])
        let snapshot = counters.snapshot()
        #expect(processor.batch.units == 3)
        #expect(snapshot.rejected[.mavlinkReplayed] == 2)
        #expect(snapshot.rejected[.mavlinkBadSignature] == 1)
        #expect(snapshot.rejected[.mavlinkUnsigned] == 1)
    }

    @Test("Frames without rows still bound the batch: it is due before its unit records overflow")
    func unitsBoundTheBatch() {
        let (processor, counters) = makeProcessor(samplesMax: 4_096)
        var datagram: [UInt8] = []
        for sequence in 0..<97 { datagram += frame(Self.heartbeat, sequence: UInt8(sequence), system: 1) }
        #expect(datagram.count <= Limits().datagramBytesMax)
        var fed = 0
        while !processor.isBatchDue(nowNanoseconds: Self.now) {
            // New content each time (the custom mode), so nothing is a duplicate.
            var copy: [UInt8] = []
            for sequence in 0..<97 {
                copy += frame(.heartbeat(MAVLinkHeartbeat(customMode: UInt32(fed * 97 + sequence), vehicleType: 2, autopilot: 3, baseMode: 0, systemStatus: 3)),
                              sequence: UInt8(truncatingIfNeeded: sequence), system: 1)
            }
            feed(processor, [copy])
            fed += 1
            #expect(fed < 100)
            if fed >= 100 { break }
        }
        #expect(processor.batch.units <= 4_096)
        #expect(processor.batch.mavlink.count == 0)
        counters.countStored(units: processor.batch.units, samples: processor.batch.sampleCount)
        #expect(counters.snapshot().isBalanced)
    }
}

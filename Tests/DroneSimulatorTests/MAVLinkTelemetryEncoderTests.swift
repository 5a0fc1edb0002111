import DroneSimulator
import MAVLinkWire
import Telemetry
import TelemetryWire
import Testing

/// The simulator's MAVLink encoder, checked by the gateway's MAVLink decoder: every sample of
/// every drone arrives as exactly one GLOBAL_POSITION_INT from system = drone id, component 1,
/// with the exact position; the first datagram of each drone and then about one a second carry
/// HEARTBEAT, SYS_STATUS, GPS_RAW_INT and BATTERY_STATUS; the 8-bit sequence counts frames per
/// system with no gap; and no datagram exceeds the length the encoder promised. MAVLink 1 and 2,
/// one and several samples per datagram.
@Suite struct MAVLinkTelemetryEncoderTests {
    @Test(arguments: [(UInt8(2), 1), (2, 5), (1, 1), (1, 4)])
    func fleetDecodes(version: UInt8, samplesPerDatagram: Int) {
        var configuration = FleetConfiguration(
            droneCount: 4, sampleRateHz: 10, durationSeconds: 3, samplesPerDatagram: samplesPerDatagram, seed: 7)
        configuration.firstDroneID = 250
        let period = UInt32(10 / samplesPerDatagram)
        let encoder = MAVLinkTelemetryEncoder(
            version: version, statePeriodDatagrams: period, startTimeMicroseconds: configuration.startTimeMicroseconds)
        let fleet = FleetSimulator(configuration: configuration, encoder: encoder)
        var sink = MemoryDatagramSink()
        _ = SimulationRunner.run(fleet, into: &sink, clock: ManualClock(), pacing: .asFastAsPossible)
        let summary = fleet.makeSummary(run: nil)
        #expect(summary.telemetryProtocol == (version == 1 ? "mavlink1" : "mavlink2"))

        let decoder = MAVLinkDecoder()
        let columns = SampleColumns(capacity: 4_096)
        var verifier = MAVLinkNoSigning()
        var stateFrames: [UInt8: Int] = [:]
        var nextSequence: [UInt8: UInt8] = [:]
        var rejections = 0
        let lengthMax = encoder.datagramLengthMax(sampleCount: samplesPerDatagram)
        for datagram in sink.datagrams {
            #expect(datagram.count <= lengthMax)
            datagram.withUnsafeBytes { bytes in
                _ = decoder.decodeDatagram(
                    bytes, receivedMicroseconds: configuration.startTimeMicroseconds, into: columns, verifier: &verifier,
                    onFrame: { frame, message, _ in
                        #expect(frame.version == version && frame.componentID == 1)
                        if let expected = nextSequence[frame.systemID] { #expect(frame.sequence == expected) }
                        nextSequence[frame.systemID] = frame.sequence &+ 1
                        if case .globalPositionInt = message {} else { stateFrames[frame.systemID, default: 0] += 1 }
                        return true
                    }, onRejection: { _ in rejections += 1 })
            }
        }
        #expect(rejections == 0)
        #expect(columns.count == summary.totals.samplesIntact)
        for drone in summary.drones {
            let rows = (0..<columns.count).filter { columns.droneID(at: $0) == drone.droneID }
            #expect(rows.count == drone.counts.samplesIntact)
            let first = columns.sample(at: rows.first!)
            let last = columns.sample(at: rows.last!)
            #expect(first.latitudeE7 == drone.firstIntact?.latitudeE7 && first.longitudeE7 == drone.firstIntact?.longitudeE7)
            #expect(first.altitudeMM == drone.firstIntact?.altitudeMM)
            #expect(last.latitudeE7 == drone.lastIntact?.latitudeE7 && last.longitudeE7 == drone.lastIntact?.longitudeE7)
            // State in every `period`-th datagram (about once a second), the first included.
            let datagrams = (30 + samplesPerDatagram - 1) / samplesPerDatagram
            let groups = (datagrams + Int(period) - 1) / Int(period)
            #expect(stateFrames[UInt8(drone.droneID)] == groups * MAVLinkTelemetryEncoder.stateFrameCount)
            #expect(first.batteryMillivolts > 0)
        }
    }
}

import MAVLinkSigning
import MAVLinkWire
import Testing
import TelemetryWire

/// Position rows carry the system's latest state: battery from SYS_STATUS or BATTERY_STATUS
/// (the later wins), satellites and fix from GPS_RAW_INT, armed, in-air, failsafe, return and
/// landing from HEARTBEAT, low battery from the charge state, heading from ATTITUDE when the
/// position has none; state from other systems or components does not leak in; refused frames
/// change nothing; and the sample time follows the vehicle's boot clock across datagrams.
@Suite struct MAVLinkStateTests {
    static let system: UInt8 = 42

    func frame(_ message: MAVLinkMessage, version: UInt8 = 2, sequence: UInt8 = 0, system: UInt8 = system, component: UInt8 = 1)
        -> [UInt8]
    {
        var buffer = [UInt8](repeating: 0, count: MAVLinkFormat.frameLengthMax)
        let length = buffer.withUnsafeMutableBytes {
            MAVLinkEncoder.encode(message, version: version, sequence: sequence, systemID: system, componentID: component, into: $0)
        }
        return Array(buffer[0..<length])
    }

    func position(_ boot: UInt32, heading: UInt16 = 1_234) -> MAVLinkMessage {
        .globalPositionInt(MAVLinkGlobalPositionInt(
            timeBootMilliseconds: boot, latitudeE7: 473_977_000, longitudeE7: 85_456_000, altitudeMM: 450_000,
            relativeAltitudeMM: 10_000, velocityX: 100, velocityY: -200, velocityZ: 5, heading: heading))
    }

    @Test func rowsInheritState() {
        let decoder = MAVLinkDecoder()
        var datagram: [UInt8] = []
        datagram += frame(.heartbeat(MAVLinkHeartbeat(customMode: 6, vehicleType: 2, autopilot: 3, baseMode: 0x81, systemStatus: 4)))
        datagram += frame(.systemStatus(MAVLinkSystemStatus(voltageBattery: 15_800, currentBattery: 900, batteryRemaining: 64)))
        datagram += frame(.gpsRawInt(MAVLinkGPSRawInt(timeMicroseconds: 1, latitudeE7: 1, longitudeE7: 1, altitudeMM: 1, fixType: 3, satellitesVisible: 17)))
        datagram += frame(.attitude(MAVLinkAttitude(timeBootMilliseconds: 1, roll: 0, pitch: 0, yaw: -Float.pi / 2)))
        // Another component's and another system's state must not leak into system 42's rows.
        datagram += frame(.systemStatus(MAVLinkSystemStatus(voltageBattery: 1, currentBattery: 0, batteryRemaining: 1)), component: 154)
        datagram += frame(.systemStatus(MAVLinkSystemStatus(voltageBattery: 2, currentBattery: 0, batteryRemaining: 2)), system: 43)
        datagram += frame(position(1_000, heading: 0xFFFF))
        datagram += frame(.batteryStatus(MAVLinkBatteryStatus(id: 0, voltageMillivolts: 15_500, batteryRemaining: 12, chargeState: 2)))
        datagram += frame(.batteryStatus(MAVLinkBatteryStatus(id: 1, voltageMillivolts: 9_999, batteryRemaining: 99, chargeState: 1)))
        datagram += frame(position(1_020), version: 1, sequence: 1)
        let decoded = decodeAll(datagram, decoder: decoder)
        #expect(decoded.columns.count == 2)
        let first = decoded.columns.sample(at: 0)
        #expect(first.batteryMillivolts == 15_800)
        #expect(first.batteryPercent == 64)
        #expect(first.satellites == 17)
        #expect(first.headingCentidegrees == 27_000)  // yaw -90 degrees
        #expect(first.status == [.armed, .inAir, .gpsFix, .returningHome])
        let second = decoded.columns.sample(at: 1)
        #expect(second.batteryMillivolts == 15_500)
        #expect(second.batteryPercent == 12)
        #expect(second.headingCentidegrees == 1_234)
        #expect(second.status == [.armed, .inAir, .gpsFix, .returningHome, .lowBattery])
    }

    @Test func fixWithoutGPSRawIntComesFromThePosition() {
        let zero = MAVLinkMessage.globalPositionInt(MAVLinkGlobalPositionInt(
            timeBootMilliseconds: 5, latitudeE7: 0, longitudeE7: 0, altitudeMM: 0, relativeAltitudeMM: 0, velocityX: 0,
            velocityY: 0, velocityZ: 0, heading: 0))
        let decoded = decodeAll(frame(zero) + frame(position(10), sequence: 1))
        #expect(!decoded.columns.sample(at: 0).status.contains(.gpsFix))
        #expect(decoded.columns.sample(at: 1).status.contains(.gpsFix))
        #expect(decoded.columns.sample(at: 1).batteryPercent == 0xFF)
        #expect(decoded.columns.sample(at: 1).satellites == 0xFF)
    }

    @Test func noFixFromGPSRawInt() {
        let gps = MAVLinkMessage.gpsRawInt(MAVLinkGPSRawInt(timeMicroseconds: 0, latitudeE7: 0, longitudeE7: 0, altitudeMM: 0, fixType: 1, satellitesVisible: 3))
        let decoded = decodeAll(frame(gps) + frame(position(10), sequence: 1))
        #expect(!decoded.columns.sample(at: 0).status.contains(.gpsFix))
        #expect(decoded.columns.sample(at: 0).satellites == 3)
    }

    @Test func refusedFramesChangeNothing() {
        let decoder = MAVLinkDecoder()
        let status = frame(.systemStatus(MAVLinkSystemStatus(voltageBattery: 11_111, currentBattery: 0, batteryRemaining: 11)))
        var verifier = MAVLinkNoSigning()
        let columns = SampleColumns(capacity: 16)
        let datagram = status + frame(position(10), sequence: 1)
        datagram.withUnsafeBytes { bytes in
            _ = decoder.decodeDatagram(
                bytes, receivedMicroseconds: 1_763_700_000_000_000, into: columns, verifier: &verifier,
                onFrame: { _, message, _ in
                    if case .systemStatus = message { return false }
                    return true
                }, onRejection: { _ in })
        }
        #expect(columns.count == 1)
        #expect(columns.sample(at: 0).batteryMillivolts == 0)
        // A refused position leaves no row.
        let refused = decodeAllRefusing(frame(position(20), sequence: 2), decoder: decoder)
        #expect(refused.count == 0)
    }

    func decodeAllRefusing(_ datagram: [UInt8], decoder: MAVLinkDecoder) -> SampleColumns {
        var verifier = MAVLinkNoSigning()
        let columns = SampleColumns(capacity: 16)
        datagram.withUnsafeBytes { bytes in
            _ = decoder.decodeDatagram(
                bytes, receivedMicroseconds: 1_763_700_000_000_000, into: columns, verifier: &verifier,
                onFrame: { _, _, _ in false }, onRejection: { _ in })
        }
        return columns
    }

    @Test func sampleTimeFollowsTheBootClockAndReboots() {
        let decoder = MAVLinkDecoder()
        let base: UInt64 = 1_763_700_000_000_000
        // First frame at boot 10 s received at base: epoch = base - 10 s.
        let a = decodeAll(frame(position(10_000)), decoder: decoder, receivedMicroseconds: base)
        #expect(a.columns.timestampMicroseconds(at: 0) == base)
        // Boot 11 s arrives 300 ms late: still placed by the boot clock.
        let b = decodeAll(frame(position(11_000), sequence: 1), decoder: decoder, receivedMicroseconds: base + 1_300_000)
        #expect(b.columns.timestampMicroseconds(at: 0) == base + 1_000_000)
        // A frame arriving earlier than the estimate moves the epoch back.
        let c = decodeAll(frame(position(12_000), sequence: 2), decoder: decoder, receivedMicroseconds: base + 1_900_000)
        #expect(c.columns.timestampMicroseconds(at: 0) == base + 1_900_000)
        // After a reboot (boot clock back to 1 s) the receive time is the new reference.
        let d = decodeAll(frame(position(1_000), sequence: 3), decoder: decoder, receivedMicroseconds: base + 60_000_000)
        #expect(d.columns.timestampMicroseconds(at: 0) == base + 60_000_000)
        let e = decodeAll(frame(position(2_000), sequence: 4), decoder: decoder, receivedMicroseconds: base + 61_500_000)
        #expect(e.columns.timestampMicroseconds(at: 0) == base + 61_000_000)
    }

    /// Every message round-trips through the encoder in both versions.
    @Test(arguments: [UInt8(1), 2])
    func encoderRoundTrip(version: UInt8) {
        let messages: [MAVLinkMessage] = [
            .heartbeat(MAVLinkHeartbeat(customMode: 0x0405_0000, vehicleType: 2, autopilot: 12, baseMode: 0x80, systemStatus: 5)),
            .systemStatus(MAVLinkSystemStatus(voltageBattery: 12_600, currentBattery: -1, batteryRemaining: -1)),
            .gpsRawInt(MAVLinkGPSRawInt(timeMicroseconds: 1 << 60, latitudeE7: -900_000_000, longitudeE7: 1_800_000_000, altitudeMM: -5, fixType: 6, satellitesVisible: 255)),
            .attitude(MAVLinkAttitude(timeBootMilliseconds: .max, roll: -0.5, pitch: 1.5, yaw: 3.1)),
            position(.max),
            .batteryStatus(MAVLinkBatteryStatus(id: 0, voltageMillivolts: 70_000, batteryRemaining: 100, chargeState: version == 1 ? 0 : 4)),
        ]
        for (index, message) in messages.enumerated() {
            let bytes = frame(message, version: version, sequence: UInt8(index), component: 2)
            let decoded = decodeAll(bytes)
            #expect(decoded.units.count == 1)
            if case .frame(let frame, let got, _) = decoded.units.first {
                #expect(got == message)
                #expect(frame.version == version)
                #expect(frame.sequence == UInt8(index))
            } else {
                Issue.record("\(message) did not decode: \(decoded.units)")
            }
        }
    }
}

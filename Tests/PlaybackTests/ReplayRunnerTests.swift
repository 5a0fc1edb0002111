import FlightRecording
import Foundation
import MAVLinkWire
import Playback
import SkygateTestSupport
import Telemetry
import TelemetryStore
import Testing

/// Replay into a database goes through the same processor: a long MAVLink recording whose frames
/// are mostly state messages (units without rows) hands batches off by the processor's own room
/// test, so no batch overflows its unit records, and every frame is stored once.
@Suite("Replay of MAVLink state-heavy traffic")
struct MAVLinkReplayTests {
    @Test("3,000 datagrams of 10 HEARTBEATs and a position each, 1,024-unit batches: all stored, balanced")
    func stateHeavyReplay() throws {
        let directory = TemporaryDirectory()
        var limits = Limits()
        limits.commitSamplesMax = 1_024
        let runner = try ReplayRunner(databasePath: directory.file("replay.db"), limits: try ValidLimits(limits))
        var frame = [UInt8](repeating: 0, count: MAVLinkFormat.frameLengthMax)
        var sequence: UInt8 = 0
        let start: UInt64 = 1_767_225_600_000_000_000
        for index in 0..<3_000 {
            var datagram: [UInt8] = []
            func append(_ message: MAVLinkMessage) {
                let length = frame.withUnsafeMutableBytes {
                    MAVLinkEncoder.encode(message, version: 2, sequence: sequence, systemID: 3, componentID: 1, into: $0)
                }
                datagram += frame[0..<length]
                sequence &+= 1
            }
            for beat in 0..<10 {
                append(.heartbeat(MAVLinkHeartbeat(customMode: UInt32(index * 10 + beat), vehicleType: 2, autopilot: 3, baseMode: 0, systemStatus: 3)))
            }
            append(.globalPositionInt(MAVLinkGlobalPositionInt(
                timeBootMilliseconds: UInt32(index + 1) * 100, latitudeE7: 473_977_000 + Int32(index), longitudeE7: 85_456_000,
                altitudeMM: 450_000, relativeAltitudeMM: 0, velocityX: 0, velocityY: 0, velocityZ: 0, heading: 0)))
            datagram.withUnsafeBytes { bytes in
                runner.feed(RecordedDatagram(
                    receivedNanoseconds: start + UInt64(index) * 100_000_000, bytes: bytes,
                    source: UnsafeRawBufferPointer(start: nil, count: 0), isTruncated: false))
            }
        }
        let final = runner.finish()
        #expect(final.isBalanced)
        #expect(final.stored == 33_000 && final.samplesStored == 3_000)
        #expect(try storedRows(directory.file("replay.db"))[DroneIdentity(protocol: .mavlink, number: 3)]?.count == 3_000)
    }
}

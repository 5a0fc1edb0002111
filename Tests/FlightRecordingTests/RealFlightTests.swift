import FlightRecording
import Foundation
import Testing

/// The real flights in Fixtures/flights, read with the .tlog player and counted by the
/// inventory behind `skygate inspect`: the record count, time span, trailing bytes, protocol
/// versions, systems and per-message counts must equal the independent pymavlink summary beside
/// each file. (Frames whose CRC pymavlink rejected are still records, so the totals are records;
/// the per-type counts are compared for the message names whose ids are listed below.)
@Suite("Real flights: inspect agrees with the summaries")
struct RealFlightTests {
    static let flightsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/flights").path

    static let flights = ["dronekit-python_flight", "ardusub_log_tools_small"]

    /// MAVLink message ids (common.xml and ardupilotmega.xml) of the names in the summaries.
    static let messageIDs: [String: UInt32] = [
        "HEARTBEAT": 0, "SYS_STATUS": 1, "SYSTEM_TIME": 2, "PARAM_REQUEST_READ": 20, "PARAM_REQUEST_LIST": 21, "PARAM_VALUE": 22,
        "GPS_RAW_INT": 24, "RAW_IMU": 27, "SCALED_PRESSURE": 29, "ATTITUDE": 30, "LOCAL_POSITION_NED": 32,
        "GLOBAL_POSITION_INT": 33, "RC_CHANNELS_RAW": 35, "SERVO_OUTPUT_RAW": 36, "MISSION_CURRENT": 42,
        "MISSION_REQUEST_LIST": 43, "MISSION_COUNT": 44, "MISSION_ACK": 47, "GPS_GLOBAL_ORIGIN": 49,
        "NAV_CONTROLLER_OUTPUT": 62, "RC_CHANNELS": 65, "REQUEST_DATA_STREAM": 66, "MANUAL_CONTROL": 69, "VFR_HUD": 74,
        "COMMAND_LONG": 76, "COMMAND_ACK": 77, "RADIO_STATUS": 109, "TIMESYNC": 111, "SCALED_IMU2": 116, "POWER_STATUS": 125,
        "TERRAIN_REPORT": 136, "SCALED_PRESSURE2": 137, "BATTERY_STATUS": 147, "AUTOPILOT_VERSION": 148,
        "SENSOR_OFFSETS": 150, "MEMINFO": 152, "MOUNT_STATUS": 158, "FENCE_STATUS": 162, "AHRS": 163, "HWSTATUS": 165,
        "RADIO": 166, "AHRS2": 178, "EKF_STATUS_REPORT": 193, "GPS_INPUT": 232, "VIBRATION": 241, "HOME_POSITION": 242,
        "NAMED_VALUE_FLOAT": 251, "STATUSTEXT": 253, "STORAGE_INFORMATION": 261, "VIDEO_STREAM_STATUS": 270,
        "PARAM_EXT_REQUEST_LIST": 321, "PARAM_EXT_VALUE": 322,
    ]

    static func summary(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: flightsDirectory + "/\(name).summary.json"))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    @Test("Records, time span, trailing bytes, versions, systems and message counts match", arguments: flights)
    func inventoryMatchesSummary(name: String) throws {
        let path = Self.flightsDirectory + "/\(name).tlog"
        let summary = try Self.summary(name)
        let framing = summary["framing"] as! [String: Any]
        let reader = try openRecording(path: path)
        #expect(reader.kind == .tlog)
        let inventory = RecordingInventory.make(reading: reader, fileBytes: summary["size_bytes"] as! Int)

        #expect(inventory.datagrams == framing["records"] as! Int)
        #expect(inventory.mavlinkFramesV1 == framing["mavlink_v1"] as! Int)
        #expect(inventory.mavlinkFramesV2 == framing["mavlink_v2"] as! Int)
        #expect(inventory.mavlinkFramesSigned == framing["signed_v2"] as! Int)
        #expect(inventory.unframedDatagrams == 0 && inventory.skygateFrames == 0)
        #expect(inventory.firstNanoseconds == UInt64(framing["first_us"] as! Int) * 1_000)
        #expect(inventory.lastNanoseconds == UInt64(framing["last_us"] as! Int) * 1_000)
        #expect(inventory.read.trailingBytes == framing["trailing_bytes"] as! Int)
        #expect(inventory.read.bytesSkipped == framing["skipped_bytes"] as! Int)
        #expect(inventory.read.resyncs == framing["resync_events"] as! Int)

        let systems = Set((summary["system_ids"] as! [Int]).map(UInt32.init))
        #expect(Set(inventory.drones.map(\.id)) == systems)
        let counts = Dictionary(uniqueKeysWithValues: inventory.messageTypes.map { ($0.id, $0.count) })
        let byType = summary["by_type"] as! [String: Int]
        for (typeName, count) in byType {
            guard let id = Self.messageIDs[typeName] else {
                Issue.record("no message id listed for \(typeName)")
                continue
            }
            #expect(counts[id] == count, "\(typeName) (msgid \(id))")
        }
        // Records pymavlink rejected for their CRC are the only frames beyond the valid ones.
        let badCRC = (summary["bad_data"] as! [String: Any])["total"] as! Int
        #expect(inventory.datagrams == (summary["messages_valid"] as! Int) + badCRC)
    }
}

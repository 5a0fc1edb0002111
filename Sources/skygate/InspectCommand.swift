import ArgumentParser
import FlightRecording
import Foundation

/// `skygate inspect`: what a recording, .tlog, autopilot log (.ulg, .bin) or capture (pcap,
/// pcapng) holds — time span, drones (MAVLink: systems), message counts by type, damaged records,
/// gaps; for logs and captures also their own topics, message types or flows, the vehicle and the
/// positions found — as text or JSON.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe a recording, .tlog, PX4 .ulg, ArduPilot .bin or pcap/pcapng capture: time span, drones, message counts, damage, gaps.",
        discussion: "Counts come from the frames' headers (no CRC check), so they describe the file, not what the gateway would accept."
    )

    @Argument(help: "A Skygate recording (.skyrec), MAVLink .tlog, PX4 .ulg, ArduPilot DataFlash .bin, or pcap/pcapng capture.") var file: String
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Option(help: "MAVLink system id for the frames made from a .ulg or .bin (default: the log's MAV_SYS_ID / SYSID_THISMAV, else 1).")
    var systemID: UInt8?

    func validate() throws {
        if systemID == 0 { throw ValidationError("--system-id: 0 is not a MAVLink system id (1...255)") }
    }

    func run() throws {
        let reader: any RecordingReader
        do { reader = try openRecording(path: file, systemID: systemID) } catch { throw ValidationError("FILE: \(error)") }
        let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        let inventory = RecordingInventory.make(reading: reader, fileBytes: size)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(inventory), as: UTF8.self))
            return
        }
        print(Self.text(inventory))
    }

    static func text(_ inventory: RecordingInventory) -> String {
        func time(_ nanoseconds: UInt64?) -> String {
            guard let nanoseconds else { return "-" }
            let date = Date(timeIntervalSince1970: Double(nanoseconds) / 1e9)
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return formatter.string(from: date)
        }
        var lines = [
            "\(inventory.path): \(inventory.format.title), \(inventory.fileBytes) bytes",
            "time:      \(time(inventory.firstNanoseconds)) to \(time(inventory.lastNanoseconds)) (\(String(format: "%.3f", inventory.durationSeconds)) s)",
            "datagrams: \(inventory.datagrams) (\(inventory.datagramBytes) bytes), truncated \(inventory.truncatedDatagrams), unframed \(inventory.unframedDatagrams)",
            "frames:    skygate \(inventory.skygateFrames), mavlink v1 \(inventory.mavlinkFramesV1), v2 \(inventory.mavlinkFramesV2) (signed \(inventory.mavlinkFramesSigned))",
            "damage:    \(inventory.read.summary)",
        ]
        for problem in inventory.read.problems { lines.append("  \(problem)") }
        lines.append("drones:    \(inventory.drones.count)")
        for drone in inventory.drones {
            let components = drone.components.isEmpty ? "" : " components \(drone.components.map(String.init).joined(separator: ","))"
            lines.append("  \(drone.protocol)/\(drone.id): \(drone.frames) frames\(components), \(time(drone.firstNanoseconds)) to \(time(drone.lastNanoseconds))")
        }
        lines.append("messages:  \(inventory.messageTypes.count) types")
        for type in inventory.messageTypes.sorted(by: { $0.count > $1.count }) {
            lines.append("  \(type.protocol) \(type.protocol == "mavlink" ? "msgid" : "type") \(type.id): \(type.count)")
        }
        lines.append("gaps over \(RecordingInventory.gapThresholdNanoseconds / 1_000_000_000) s: \(inventory.gapCount)")
        for gap in inventory.gaps {
            lines.append("  \(String(format: "%.1f", gap.seconds)) s after \(time(gap.startNanoseconds))")
        }
        if let log = inventory.log { lines += logLines(log, format: inventory.format, time: time) }
        return lines.joined(separator: "\n")
    }

    /// What an autopilot log or capture holds beyond its datagrams.
    static func logLines(_ log: LogContents, format: RecordingFormatKind, time: (UInt64?) -> String) -> [String] {
        var lines: [String] = []
        let isCapture = format == .pcap || format == .pcapng
        func position(_ point: LogContents.Position?) -> String {
            guard let point else { return "-" }
            return String(format: "%.7f, %.7f, %.3f m", Double(point.latitudeE7) / 1e7, Double(point.longitudeE7) / 1e7, Double(point.altitudeMM) / 1_000)
                + " at \(time(point.timeMicroseconds * 1_000))"
        }
        if !isCapture {
            lines.append("vehicle:   \(log.vehicle); replayed as MAVLink system \(log.systemID) (\(log.systemIDSource))")
            lines.append(
                "log clock: boot \(String(format: "%.3f", Double(log.bootFirstMicroseconds) / 1e6)) s to \(String(format: "%.3f", Double(log.bootLastMicroseconds) / 1e6)) s; "
                    + (log.hasUTC ? "UTC from the GPS" : "no GPS time (times are the boot clock)"))
            lines.append("log:       \(log.parameters) parameters, \(log.textMessages) text messages, \(log.dropouts) dropouts (\(log.dropoutMilliseconds) ms), \(log.recordsLate) records replayed late")
        }
        lines.append("positions: \(log.positions)" + (isCapture ? " GLOBAL_POSITION_INT from autopilots (framing only, no CRC check)" : ""))
        lines.append("  first: \(position(log.firstPosition))")
        lines.append("  last:  \(position(log.lastPosition))")
        lines.append("\(isCapture ? "UDP flows" : format == .ulog ? "topics" : "types"): \(log.messageCounts.count)")
        for (name, count) in log.messageCounts.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }) {
            lines.append("  \(name): \(count)")
        }
        return lines
    }
}

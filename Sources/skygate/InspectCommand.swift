import ArgumentParser
import FlightRecording
import Foundation

/// `skygate inspect`: what a recording or .tlog holds — time span, drones (MAVLink: systems),
/// message counts by type, damaged records, gaps — as text or JSON.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe a recording or MAVLink .tlog: time span, drones, message counts, damage, gaps.",
        discussion: "Counts come from the frames' headers (no CRC check), so they describe the file, not what the gateway would accept."
    )

    @Argument(help: "A Skygate recording (.skyrec) or MAVLink .tlog.") var file: String
    @Flag(help: "Print one JSON object instead of text.") var json = false

    func run() throws {
        let reader: any RecordingReader
        do { reader = try openRecording(path: file) } catch { throw ValidationError("FILE: \(error)") }
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
            "\(inventory.path): \(inventory.format == .skygate ? "Skygate recording" : "MAVLink telemetry log (.tlog)"), \(inventory.fileBytes) bytes",
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
        return lines.joined(separator: "\n")
    }
}

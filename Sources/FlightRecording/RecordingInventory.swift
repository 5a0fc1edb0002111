import Telemetry
import TelemetryWire

/// What a recording or .tlog holds (`skygate inspect`): its time span, the drones in it, message
/// counts by protocol and type, damage, and gaps in the traffic. Built from framing alone (frame
/// headers, not payloads or CRCs), so it describes what is in the file, not what the gateway
/// would accept from it.
public struct RecordingInventory: Sendable, Codable, Equatable {
    public var path: String
    public var format: RecordingFormatKind
    public var fileBytes: Int
    public var datagrams = 0
    public var datagramBytes = 0
    public var firstNanoseconds: UInt64?
    public var lastNanoseconds: UInt64?
    /// Frames found in the datagrams, by protocol.
    public var skygateFrames = 0
    public var mavlinkFramesV1 = 0
    public var mavlinkFramesV2 = 0
    public var mavlinkFramesSigned = 0
    /// Datagrams (or their tails) that frame as neither protocol.
    public var unframedDatagrams = 0
    /// Datagrams the kernel had truncated when they were recorded.
    public var truncatedDatagrams = 0
    public var drones: [Drone] = []
    public var messageTypes: [MessageType] = []
    /// Silences longer than `gapThresholdNanoseconds` between consecutive datagrams, longest first
    /// (at most `gapsMax`), and how many there were in all.
    public var gaps: [Gap] = []
    public var gapCount = 0
    /// What the player recovered and what it had to skip.
    public var read: ReadReport
    /// For autopilot logs and captures: the file's own message types or flows, the vehicle, the
    /// positions found and the clocks (nil for Skygate recordings and .tlog files).
    public var log: LogContents?

    /// A silence longer than this counts as a gap: 2 s is twenty missed samples at 10 Hz.
    public static let gapThresholdNanoseconds = Limits.Recording.inventoryGapThreshold.nanosecondsClamped
    public static let gapsMax = Limits.Recording.inventoryGapsMax

    /// A drone (or other MAVLink system: a ground station, a radio) and what it sent.
    public struct Drone: Sendable, Codable, Equatable {
        /// `skygate` or `mavlink`.
        public var `protocol`: String
        /// Skygate drone id, or MAVLink system id.
        public var id: UInt32
        public var frames: Int
        /// MAVLink component ids seen.
        public var components: [UInt8]
        public var firstNanoseconds: UInt64
        public var lastNanoseconds: UInt64
    }

    /// Frames of one message type: Skygate message type, or MAVLink message id.
    public struct MessageType: Sendable, Codable, Equatable {
        public var `protocol`: String
        public var id: UInt32
        public var count: Int
    }

    public struct Gap: Sendable, Codable, Equatable {
        public var startNanoseconds: UInt64
        public var seconds: Double
    }

    public var durationSeconds: Double {
        guard let first = firstNanoseconds, let last = lastNanoseconds, last >= first else { return 0 }
        return Double(last - first) / 1e9
    }

    /// Reads the whole of `reader` and counts what it holds.
    public static func make(reading reader: any RecordingReader, fileBytes: Int) -> RecordingInventory {
        var builder = Builder()
        let report = reader.read { datagram in
            builder.add(datagram)
            return true
        }
        var inventory = builder.finish(path: reader.path, format: reader.kind, fileBytes: fileBytes, report: report)
        if let logReader = reader as? any LogContentsReading { inventory.log = logReader.contents }
        return inventory
    }

    /// Accumulates counts datagram by datagram; dictionaries keyed by small integers.
    struct Builder {
        struct DroneKey: Hashable {
            var isMAVLink: Bool
            var id: UInt32
        }
        struct DroneCounts {
            var frames = 0
            /// Component ids seen, one bit each (no hashing per frame).
            var components: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

            mutating func insert(_ component: UInt8) {
                let bit = UInt64(1) << UInt64(component & 63)
                switch component >> 6 {
                case 0: components.0 |= bit
                case 1: components.1 |= bit
                case 2: components.2 |= bit
                default: components.3 |= bit
                }
            }

            var componentList: [UInt8] {
                let words = [components.0, components.1, components.2, components.3]
                return (0...255).filter { words[$0 >> 6] & (UInt64(1) << UInt64($0 & 63)) != 0 }.map { UInt8($0) }
            }
            var first: UInt64
            var last: UInt64
        }
        var inventory = RecordingInventory(path: "", format: .skygate, fileBytes: 0, read: ReadReport())
        var drones: [DroneKey: DroneCounts] = [:]
        var types: [DroneKey: Int] = [:]
        var gaps: [Gap] = []
        var previous: UInt64?

        mutating func add(_ datagram: RecordedDatagram) {
            let time = datagram.receivedNanoseconds
            inventory.datagrams += 1
            inventory.datagramBytes += datagram.bytes.count
            if inventory.firstNanoseconds == nil { inventory.firstNanoseconds = time }
            inventory.lastNanoseconds = time
            if let previous, time > previous, time - previous > RecordingInventory.gapThresholdNanoseconds {
                inventory.gapCount += 1
                gaps.append(Gap(startNanoseconds: previous, seconds: Double(time - previous) / 1e9))
                if gaps.count > 4 * RecordingInventory.gapsMax { trimGaps() }
            }
            previous = time
            if datagram.isTruncated {
                inventory.truncatedDatagrams += 1
                return
            }
            var rest = datagram.bytes
            // Bounded: each pass consumes at least one frame's bytes or ends.
            while let first = rest.first {
                if first == WireFormat.magic {
                    guard rest.count >= WireFormat.headerLength else { break }
                    let length = Int(rest.littleEndian(at: WireFormat.HeaderOffset.frameLength, as: UInt16.self))
                    guard length >= WireFormat.minFrameLength && length <= rest.count else { break }
                    inventory.skygateFrames += 1
                    let drone = rest.littleEndian(at: WireFormat.HeaderOffset.droneID, as: UInt32.self)
                    count(DroneKey(isMAVLink: false, id: drone), component: nil, type: UInt32(rest[WireFormat.HeaderOffset.messageType]), time: time)
                    rest = UnsafeRawBufferPointer(rebasing: rest[length...])
                } else if first == MAVLinkFraming.startV1 || first == MAVLinkFraming.startV2 {
                    guard case .frame(let length) = MAVLinkFraming.frameLength(rest), let header = MAVLinkFraming.header(rest) else { break }
                    if header.version == 1 { inventory.mavlinkFramesV1 += 1 } else { inventory.mavlinkFramesV2 += 1 }
                    if header.isSigned { inventory.mavlinkFramesSigned += 1 }
                    count(DroneKey(isMAVLink: true, id: UInt32(header.systemID)), component: header.componentID, type: header.messageID, time: time)
                    rest = UnsafeRawBufferPointer(rebasing: rest[length...])
                } else {
                    break
                }
            }
            if !rest.isEmpty { inventory.unframedDatagrams += 1 }
        }

        mutating func count(_ drone: DroneKey, component: UInt8?, type: UInt32, time: UInt64) {
            // Updated in place: one lookup, no copy of the entry.
            func update(_ counts: inout DroneCounts) {
                counts.frames += 1
                if let component { counts.insert(component) }
                counts.first = min(counts.first, time)
                counts.last = max(counts.last, time)
            }
            update(&drones[drone, default: DroneCounts(first: time, last: time)])
            types[DroneKey(isMAVLink: drone.isMAVLink, id: type), default: 0] += 1
        }

        mutating func trimGaps() {
            gaps.sort { $0.seconds > $1.seconds }
            gaps.removeLast(max(0, gaps.count - RecordingInventory.gapsMax))
        }

        mutating func finish(path: String, format: RecordingFormatKind, fileBytes: Int, report: ReadReport) -> RecordingInventory {
            trimGaps()
            var result = inventory
            result.path = path
            result.format = format
            result.fileBytes = fileBytes
            result.read = report
            result.gaps = gaps
            result.drones = drones.map { key, counts in
                Drone(
                    protocol: key.isMAVLink ? "mavlink" : "skygate", id: key.id, frames: counts.frames,
                    components: counts.componentList, firstNanoseconds: counts.first, lastNanoseconds: counts.last)
            }.sorted { ($0.protocol, $0.id) < ($1.protocol, $1.id) }
            result.messageTypes = types.map { key, count in
                MessageType(protocol: key.isMAVLink ? "mavlink" : "skygate", id: key.id, count: count)
            }.sorted { ($0.protocol, $0.id) < ($1.protocol, $1.id) }
            return result
        }
    }
}

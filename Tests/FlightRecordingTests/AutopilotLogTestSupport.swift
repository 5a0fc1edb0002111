import FlightRecording
import Foundation
import MAVLinkWire
import TelemetryWire

/// The real logs and captures in Fixtures/flights and what the reference readers see in them.
enum AutopilotFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/flights").path
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static func path(_ name: String) -> String { directory + "/" + name }

    static func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(name)))) }

    static let logs = ["pyulog_sample_log_small.ulg", "dataflashlog_log.bin", "ardusub_log_tools_small_dataflash.bin"]
    static let captures = ["thayer_parsers_longerRun.pcap", "ipal_transcriber_MAVLink.pcap"]
    static let all = logs + captures

    /// Positions as a reference reader gives them: count, first and last (UTC µs, 1e-7 degrees, mm).
    struct Positions: Decodable, Equatable {
        struct Point: Decodable, Equatable {
            var t_us: UInt64
            var lat: Int32
            var lon: Int32
            var alt_mm: Int32
        }
        var reader: String
        var count: Int
        var first: Point?
        var last: Point?
    }

    /// The figures of SOURCES.md and the `*.summary.json` beside each file (pyulog 1.3.0,
    /// pymavlink 2.4.50), used when the reference readers are not installed.
    static let pinned: [String: Positions] = [
        "pyulog_sample_log_small.ulg": Positions(
            reader: "pinned (pyulog 1.3.0)", count: 32,
            first: .init(t_us: 1_618_986_658_600_345, lat: 634_170_622, lon: 104_082_151, alt_mm: 66_814),
            last: .init(t_us: 1_618_986_664_800_341, lat: 634_170_457, lon: 104_082_271, alt_mm: 62_977)),
        "dataflashlog_log.bin": Positions(
            reader: "pinned (pymavlink 2.4.50 DFReader)", count: 254,
            first: .init(t_us: 1_505_040_562_800_000, lat: 520_381_699, lon: 51_448_234, alt_mm: 3_520),
            last: .init(t_us: 1_505_040_613_400_000, lat: 520_384_246, lon: 51_456_054, alt_mm: -2_600)),
        "ardusub_log_tools_small_dataflash.bin": Positions(reader: "pinned (pymavlink 2.4.50 DFReader)", count: 0, first: nil, last: nil),
        "thayer_parsers_longerRun.pcap": Positions(
            reader: "pinned (pymavlink 2.4.50)", count: 161,
            first: .init(t_us: 1_718_885_436_439_430, lat: 437_134_512, lon: -722_849_689, alt_mm: 147_551),
            last: .init(t_us: 1_718_885_514_536_408, lat: 437_136_204, lon: -722_851_511, alt_mm: 147_323)),
        "ipal_transcriber_MAVLink.pcap": Positions(
            reader: "pinned (pymavlink 2.4.50)", count: 1,
            first: .init(t_us: 1_681_821_082_719_582, lat: 0, lon: 0, alt_mm: 0),
            last: .init(t_us: 1_681_821_082_719_582, lat: 0, lon: 0, alt_mm: 0)),
    ]

    /// A Python with pyulog and pymavlink: `$MAV_PY`, else the venv `.ci/run` makes; nil when none.
    static let referencePython: String? = {
        var candidates: [String] = []
        if let fromEnvironment = ProcessInfo.processInfo.environment["MAV_PY"] { candidates.append(fromEnvironment) }
        candidates.append("/tmp/venv-mav/bin/python")
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: candidate)
            process.arguments = ["-c", "import pyulog, pymavlink"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { continue }
            process.waitUntilExit()
            if process.terminationStatus == 0 { return candidate }
        }
        return nil
    }()

    /// The reference reader's positions (Scripts/reference_positions.py) when it is installed,
    /// else the pinned figures.
    static func reference(_ name: String) throws -> Positions {
        guard let python = referencePython else { return pinned[name]! }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [repository + "/Scripts/reference_positions.py", path(name)]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try JSONDecoder().decode(Positions.self, from: data)
    }

    /// Every datagram a reader hands out, copied.
    struct Datagram: Equatable {
        var time: UInt64
        var bytes: [UInt8]
        var source: [UInt8]
        var isTruncated: Bool
    }

    static func datagrams(_ reader: any RecordingReader) -> ([Datagram], ReadReport) {
        var all: [Datagram] = []
        let report = reader.read { datagram in
            all.append(Datagram(time: datagram.receivedNanoseconds, bytes: Array(datagram.bytes), source: Array(datagram.source), isTruncated: datagram.isTruncated))
            return true
        }
        return (all, report)
    }

    /// What the gateway's MAVLink decoder makes of the datagrams: the position rows of
    /// autopilots (system id, sample time µs, lat, lon, alt) and the frames it rejected.
    struct Decoded {
        var rows: [(system: UInt32, time: UInt64, lat: Int32, lon: Int32, alt: Int32)] = []
        var framesAccepted = 0
        var framesRejected = 0
        var systems: Set<UInt8> = []
    }

    static func decode(_ datagrams: [Datagram]) -> Decoded {
        let decoder = MAVLinkDecoder()
        let columns = SampleColumns(capacity: 1 << 16)
        var verifier = MAVLinkNoSigning()
        var decoded = Decoded()
        for datagram in datagrams {
            datagram.bytes.withUnsafeBytes { bytes in
                let result = decoder.decodeDatagram(
                    bytes, receivedMicroseconds: datagram.time / 1_000, into: columns, verifier: &verifier,
                    onFrame: { frame, _, _ in
                        decoded.systems.insert(frame.systemID)
                        return frame.componentID == 1
                    }, onRejection: { _ in })
                decoded.framesAccepted += result.framesAccepted
                decoded.framesRejected += result.framesRejected
            }
        }
        for row in 0..<columns.count {
            decoded.rows.append((columns.droneID(at: row), columns.timestampMicroseconds(at: row), columns.latitudesE7[row], columns.longitudesE7[row], columns.altitudesMM[row]))
        }
        return decoded
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}

/// Record boundaries of the formats, walked independently of the readers (the format documents'
/// framing only), so cut tests know where whole records end.
enum RecordBoundaries {
    /// ULog: 16-byte header, then messages of a 3-byte header (u16 size, type) and `size` bytes.
    static func ulog(_ bytes: [UInt8]) -> [Int] {
        var offsets = [16]
        var offset = 16
        while offset + 3 <= bytes.count {
            let size = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8
            offset += 3 + size
            if offset <= bytes.count { offsets.append(offset) }
        }
        return offsets
    }

    /// DataFlash: `A3 95 type`, lengths from the FMT records (type 128 defines FMT, 89 bytes).
    static func dataflash(_ bytes: [UInt8]) -> [Int] {
        var lengths = [Int](repeating: 0, count: 256)
        lengths[128] = 89
        var offsets = [0]
        var offset = 0
        while offset + 3 <= bytes.count, bytes[offset] == 0xA3, bytes[offset + 1] == 0x95, lengths[Int(bytes[offset + 2])] > 0 {
            let length = lengths[Int(bytes[offset + 2])]
            if bytes[offset + 2] == 128 && offset + 5 <= bytes.count { lengths[Int(bytes[offset + 3])] = Int(bytes[offset + 4]) }
            offset += length
            if offset <= bytes.count { offsets.append(offset) }
        }
        return offsets
    }

    /// Little-endian pcap: 24-byte header, records of 16 bytes and the captured length.
    static func pcap(_ bytes: [UInt8]) -> [Int] {
        var offsets = [24]
        var offset = 24
        while offset + 16 <= bytes.count {
            let captured = Int(bytes[offset + 8]) | Int(bytes[offset + 9]) << 8 | Int(bytes[offset + 10]) << 16 | Int(bytes[offset + 11]) << 24
            offset += 16 + captured
            if offset <= bytes.count { offsets.append(offset) }
        }
        return offsets
    }
}

/// Builds capture files from packets, for the container and link-type tests.
struct CaptureWriter {
    struct Packet {
        var nanoseconds: UInt64
        var frame: [UInt8]
        var interface = 0
    }

    static func le32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
    static func be32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }
    static func le16(_ value: UInt16) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
    static func be16(_ value: UInt16) -> [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }

    /// Classic pcap in either byte order, µs or ns stamps.
    static func pcap(_ packets: [Packet], linkType: UInt32, bigEndian: Bool = false, nanoseconds: Bool = false) -> [UInt8] {
        let u32 = bigEndian ? be32 : le32
        let u16 = bigEndian ? be16 : le16
        var out = u32(nanoseconds ? 0xA1B2_3C4D : 0xA1B2_C3D4) + u16(2) + u16(4) + u32(0) + u32(0) + u32(262_144) + u32(linkType)
        for packet in packets {
            let seconds = UInt32(packet.nanoseconds / 1_000_000_000)
            let fraction = UInt32(nanoseconds ? packet.nanoseconds % 1_000_000_000 : packet.nanoseconds % 1_000_000_000 / 1_000)
            out += u32(seconds) + u32(fraction) + u32(UInt32(packet.frame.count)) + u32(UInt32(packet.frame.count)) + packet.frame
        }
        return out
    }

    /// pcapng: one section (either byte order), interfaces with link types and `if_tsresol`
    /// (decimal exponents, or 0x80 | n for 2^-n), enhanced packet blocks.
    static func pcapng(_ packets: [Packet], interfaces: [(linkType: UInt16, resolution: UInt8)], bigEndian: Bool = false) -> [UInt8] {
        let u32 = bigEndian ? be32 : le32
        let u16 = bigEndian ? be16 : le16
        func block(_ type: UInt32, _ body: [UInt8]) -> [UInt8] {
            var padded = body
            while padded.count % 4 != 0 { padded.append(0) }
            let length = UInt32(12 + padded.count)
            return u32(type) + u32(length) + padded + u32(length)
        }
        var out = block(0x0A0D_0D0A, u32(0x1A2B_3C4D) + u16(1) + u16(0) + [UInt8](repeating: 0xFF, count: 8))
        for interface in interfaces {
            let options = u16(9) + u16(1) + [interface.resolution, 0, 0, 0] + u16(0) + u16(0)
            out += block(1, u16(interface.linkType) + u16(0) + u32(262_144) + options)
        }
        for packet in packets {
            let resolution = interfaces[packet.interface].resolution
            let units: UInt64
            if resolution & 0x80 != 0 {
                let shift = UInt64(resolution & 0x7F)
                units = (packet.nanoseconds / 1_000_000_000) << shift + ((packet.nanoseconds % 1_000_000_000) << shift) / 1_000_000_000
            } else {
                var divisor: UInt64 = 1
                for _ in 0..<(9 - Int(resolution)) { divisor *= 10 }
                units = packet.nanoseconds / divisor
            }
            out += block(6, u32(UInt32(packet.interface)) + u32(UInt32(units >> 32)) + u32(UInt32(truncatingIfNeeded: units))
                + u32(UInt32(packet.frame.count)) + u32(UInt32(packet.frame.count)) + packet.frame)
        }
        return out
    }

    /// The packets of a little-endian µs pcap (time, frame).
    static func packets(ofPcap bytes: [UInt8]) -> [Packet] {
        var packets: [Packet] = []
        var offset = 24
        func u32(_ at: Int) -> UInt32 { UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24 }
        while offset + 16 <= bytes.count {
            let captured = Int(u32(offset + 8))
            let time = UInt64(u32(offset)) * 1_000_000_000 + UInt64(u32(offset + 4)) * 1_000
            packets.append(Packet(nanoseconds: time, frame: Array(bytes[(offset + 16)..<(offset + 16 + captured)])))
            offset += 16 + captured
        }
        return packets
    }
}

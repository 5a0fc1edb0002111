import Telemetry

/// Reads packet captures, pcap and pcapng, and replays every UDP payload as one datagram stamped
/// with its capture time and its sender (docs/recording-format.md, "Captures"). MAVLink and
/// Skygate traffic then goes through the gateway's normal decoders; anything else in a UDP
/// payload (mDNS beside the MAVLink, say) is rejected there and counted like live traffic.
///
/// Formats: pcap as libpcap writes it (tcpdump.org "pcap-savefile", IETF draft-ietf-opsawg-pcap)
/// in either byte order, µs (`A1 B2 C3 D4`) or ns (`A1 B2 3C 4D`) timestamps; pcapng
/// (draft-ietf-opsawg-pcapng) sections in either byte order, several interfaces each with its
/// link type, `if_tsresol` and `if_tsoffset`, enhanced, simple and obsolete packet blocks. Link
/// types (tcpdump.org "link-layer header types"): Ethernet (1) with 802.1Q/802.1ad VLAN tags,
/// BSD loopback (0, the capturing host's byte order) and OpenBSD loopback (108), Linux cooked
/// capture v1 (113) and v2 (276), raw IP (101, 12, 14, 228, 229). IPv4 and IPv6 (with
/// hop-by-hop, routing and destination options headers); fragmented datagrams are reassembled
/// (`Limits.Recording.captureFragmentSetsMax` sets at once) or counted when they never complete.
/// Packets that are not UDP are skipped and counted by reason.
///
/// Records are handed out in file order (captures are written in capture order; pcapng with
/// several interfaces may interleave them slightly, which replay's pacing absorbs).
public final class CaptureReader: LogContentsReading {
    public var path: String { file.path }
    public let kind: RecordingFormatKind
    public private(set) var contents = LogContents()
    let file: MappedFile

    init(file: MappedFile, kind: RecordingFormatKind) {
        self.file = file
        self.kind = kind
    }

    public convenience init(path: String) throws(RecordingError) {
        let file = try MappedFile(path: path)
        guard let kind = Self.captureKind(file.bytes) else { throw .notARecording(path: path, reason: "no pcap or pcapng magic") }
        self.init(file: file, kind: kind)
    }

    /// `.pcap` or `.pcapng` by the file's magic, else nil.
    static func captureKind(_ bytes: UnsafeRawBufferPointer) -> RecordingFormatKind? {
        guard bytes.count >= 4 else { return nil }
        switch bytes.littleEndian(at: 0, as: UInt32.self) {
        case 0xA1B2_C3D4, 0xD4C3_B2A1, 0xA1B2_3C4D, 0x4D3C_B2A1: return .pcap
        case 0x0A0D_0D0A: return .pcapng
        default: return nil
        }
    }

    public func read(fromNanoseconds: UInt64?, untilNanoseconds: UInt64?, _ body: (RecordedDatagram) -> Bool) -> ReadReport {
        var contents = LogContents()
        let report = Self.replay(file.bytes, fromNanoseconds: fromNanoseconds, untilNanoseconds: untilNanoseconds, contents: &contents, body: body)
        self.contents = contents
        return report
    }

    static func replay(
        _ bytes: UnsafeRawBufferPointer, fromNanoseconds: UInt64?, untilNanoseconds: UInt64?, contents: inout LogContents,
        body: (RecordedDatagram) -> Bool
    ) -> ReadReport {
        var report = ReadReport()
        var packets = CapturePackets(from: fromNanoseconds ?? 0, until: untilNanoseconds ?? .max)
        switch captureKind(bytes) {
        case .pcap: PcapWalk.walk(bytes, report: &report, packets: &packets, body: body)
        case .pcapng: PcapngWalk.walk(bytes, report: &report, packets: &packets, body: body)
        default:
            report.trailingBytes = bytes.count
            report.note("no pcap or pcapng magic")
        }
        packets.finish(report: &report, contents: &contents)
        return report
    }
}

/// A packet's place in the capture: its time and link type.
struct CapturedPacket {
    var nanoseconds: UInt64
    var linkType: UInt32
    var bytes: UnsafeRawBufferPointer
    /// The capture kept fewer bytes than were on the wire (snaplen).
    var isCut: Bool
}

/// From link-layer frames to UDP payloads: link headers, IP, fragments, UDP; counts what it skips
/// and the flows and MAVLink positions it passes on.
struct CapturePackets {
    let from: UInt64
    let until: UInt64
    var stopped = false
    var flows: [FlowKey: Int] = [:]
    var flowsOverflow = 0
    var fragments = FragmentTable()
    var positions = 0
    var firstPosition: LogContents.Position?
    var lastPosition: LogContents.Position?
    var bootFirst: UInt64 = .max
    var bootLast: UInt64 = 0
    var source = [UInt8](repeating: 0, count: RecordedSource.bytesMax)

    static let flowsMax = 4_096

    struct FlowKey: Hashable {
        var source: [UInt8]
        var destination: [UInt8]
    }

    init(from: UInt64, until: UInt64) {
        self.from = from
        self.until = until
    }

    /// One captured frame; returns false when the consumer asked to stop.
    mutating func handle(_ packet: CapturedPacket, report: inout ReadReport, body: (RecordedDatagram) -> Bool) -> Bool {
        let bytes = packet.bytes
        var offset = 0
        var ipVersion = 0
        switch packet.linkType {
        case 0, 108:
            // BSD loopback: a 4-byte address family, in the capturing host's byte order (0) or
            // network order (108). AF_INET is 2 everywhere; AF_INET6 is 24, 28 or 30 on the BSDs
            // and macOS, 10 on Linux.
            guard bytes.count >= 4 else { report.skip("link header cut"); return true }
            let little = bytes.littleEndian(at: 0, as: UInt32.self)
            let family = little > 0xFFFF ? UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self)) : little
            switch family {
            case 2: ipVersion = 4
            case 10, 24, 28, 30: ipVersion = 6
            default: report.skip("not IP"); return true
            }
            offset = 4
        case 1:
            guard bytes.count >= 14 else { report.skip("link header cut"); return true }
            var etherType = Self.bigEndian16(bytes, 12)
            offset = 14
            // 802.1Q and 802.1ad tags (and the older 0x9100), stacked: 4 bytes each.
            var tags = 0
            while etherType == 0x8100 || etherType == 0x88A8 || etherType == 0x9100, tags < 4 {
                guard bytes.count >= offset + 4 else { report.skip("link header cut"); return true }
                etherType = Self.bigEndian16(bytes, offset + 2)
                offset += 4
                tags += 1
            }
            switch etherType {
            case 0x0800: ipVersion = 4
            case 0x86DD: ipVersion = 6
            default: report.skip("not IP"); return true
            }
        case 113:
            guard bytes.count >= 16 else { report.skip("link header cut"); return true }
            switch Self.bigEndian16(bytes, 14) {
            case 0x0800: ipVersion = 4
            case 0x86DD: ipVersion = 6
            default: report.skip("not IP"); return true
            }
            offset = 16
        case 276:
            guard bytes.count >= 20 else { report.skip("link header cut"); return true }
            switch Self.bigEndian16(bytes, 0) {
            case 0x0800: ipVersion = 4
            case 0x86DD: ipVersion = 6
            default: report.skip("not IP"); return true
            }
            offset = 20
        case 101, 12, 14, 228, 229:
            guard let first = bytes.first else { report.skip("link header cut"); return true }
            ipVersion = Int(first >> 4)
        default:
            report.skip("link type \(packet.linkType) not read")
            return true
        }
        let ip = UnsafeRawBufferPointer(rebasing: bytes[offset...])
        return ipVersion == 4
            ? handleIPv4(ip, packet: packet, report: &report, body: body)
            : ipVersion == 6 ? handleIPv6(ip, packet: packet, report: &report, body: body) : { report.skip("not IP"); return true }()
    }

    static func bigEndian16(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> Int {
        Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
    }

    mutating func handleIPv4(_ ip: UnsafeRawBufferPointer, packet: CapturedPacket, report: inout ReadReport, body: (RecordedDatagram) -> Bool) -> Bool {
        guard ip.count >= 20, ip[0] >> 4 == 4 else { report.skip("IP header cut or bad"); return true }
        let headerLength = Int(ip[0] & 0x0F) * 4
        let totalLength = Self.bigEndian16(ip, 2)
        guard headerLength >= 20, totalLength >= headerLength, ip.count >= headerLength else { report.skip("IP header cut or bad"); return true }
        guard ip[9] == 17 else { report.skip("not UDP"); return true }
        // What the capture kept of the datagram (Ethernet pads short frames; snaplen cuts long ones).
        let end = min(totalLength, ip.count)
        let isCut = packet.isCut || ip.count < totalLength
        let payload = UnsafeRawBufferPointer(rebasing: ip[headerLength..<end])
        let source = UnsafeRawBufferPointer(rebasing: ip[12..<16])
        let destination = UnsafeRawBufferPointer(rebasing: ip[16..<20])
        let flags = Self.bigEndian16(ip, 6)
        let moreFragments = flags & 0x2000 != 0
        let fragmentOffset = (flags & 0x1FFF) * 8
        if moreFragments || fragmentOffset != 0 {
            guard !isCut else { report.skip("IP fragment cut by the capture"); return true }
            let key = FragmentTable.Key(source: Array(source), destination: Array(destination), identification: UInt32(Self.bigEndian16(ip, 4)), protocolNumber: 17)
            return reassemble(key, offset: fragmentOffset, isLast: !moreFragments, payload: payload, packet: packet, report: &report, body: body)
        }
        return handleUDP(payload, source: source, destination: destination, packet: packet, isCut: isCut, report: &report, body: body)
    }

    mutating func handleIPv6(_ ip: UnsafeRawBufferPointer, packet: CapturedPacket, report: inout ReadReport, body: (RecordedDatagram) -> Bool) -> Bool {
        guard ip.count >= 40, ip[0] >> 4 == 6 else { report.skip("IP header cut or bad"); return true }
        let payloadLength = Self.bigEndian16(ip, 4)
        let end = min(40 + payloadLength, ip.count)
        let isCut = packet.isCut || ip.count < 40 + payloadLength
        var next = ip[6]
        var offset = 40
        let source = UnsafeRawBufferPointer(rebasing: ip[8..<24])
        let destination = UnsafeRawBufferPointer(rebasing: ip[24..<40])
        // Extension headers, a bounded number of them.
        for _ in 0..<8 {
            switch next {
            case 0, 43, 60:
                guard offset + 8 <= end else { report.skip("IP header cut or bad"); return true }
                next = ip[offset]
                offset += (Int(ip[offset + 1]) + 1) * 8
            case 44:
                guard offset + 8 <= end, !isCut else { report.skip("IP fragment cut by the capture"); return true }
                let protocolNumber = ip[offset]
                guard protocolNumber == 17 else { report.skip("not UDP"); return true }
                let field = Self.bigEndian16(ip, offset + 2)
                let identification = UInt32(Self.bigEndian16(ip, offset + 4)) << 16 | UInt32(Self.bigEndian16(ip, offset + 6))
                let key = FragmentTable.Key(source: Array(source), destination: Array(destination), identification: identification, protocolNumber: 17)
                let payload = UnsafeRawBufferPointer(rebasing: ip[(offset + 8)..<end])
                return reassemble(key, offset: field & 0xFFF8, isLast: field & 1 == 0, payload: payload, packet: packet, report: &report, body: body)
            case 17:
                guard offset <= end else { report.skip("IP header cut or bad"); return true }
                return handleUDP(UnsafeRawBufferPointer(rebasing: ip[offset..<end]), source: source, destination: destination, packet: packet, isCut: isCut, report: &report, body: body)
            default:
                report.skip("not UDP")
                return true
            }
        }
        report.skip("IP header cut or bad")
        return true
    }

    mutating func reassemble(
        _ key: FragmentTable.Key, offset: Int, isLast: Bool, payload: UnsafeRawBufferPointer, packet: CapturedPacket,
        report: inout ReadReport, body: (RecordedDatagram) -> Bool
    ) -> Bool {
        switch fragments.add(key, offset: offset, isLast: isLast, payload: payload, report: &report) {
        case .pending:
            return true
        case .complete(let index):
            report.skipped["IP fragments reassembled", default: 0] += 1
            let whole = fragments.sets[index].buffer
            let length = fragments.sets[index].total
            fragments.release(index)
            return whole.withUnsafeBytes { all in
                key.source.withUnsafeBytes { source in
                    key.destination.withUnsafeBytes { destination in
                        handleUDP(UnsafeRawBufferPointer(rebasing: all[0..<length]), source: source, destination: destination, packet: packet, isCut: false, report: &report, body: body)
                    }
                }
            }
        }
    }

    mutating func handleUDP(
        _ udp: UnsafeRawBufferPointer, source: UnsafeRawBufferPointer, destination: UnsafeRawBufferPointer, packet: CapturedPacket,
        isCut: Bool, report: inout ReadReport, body: (RecordedDatagram) -> Bool
    ) -> Bool {
        guard udp.count >= 8 else { report.skip("UDP header cut"); return true }
        let length = Self.bigEndian16(udp, 4)
        guard length >= 8 else { report.skip("UDP header cut"); return true }
        let end = min(length, udp.count)
        let truncated = isCut && udp.count < length
        if truncated { report.skip("UDP datagram cut by the capture (replayed as truncated)") }
        let payload = UnsafeRawBufferPointer(rebasing: udp[8..<end])
        // The sender in RecordedSource form: address then port, big-endian.
        let sourceLength = source.count + 2
        for index in 0..<source.count { self.source[index] = source[index] }
        self.source[source.count] = udp[0]
        self.source[source.count + 1] = udp[1]
        countFlow(source: source, sourcePort: udp[0..<2], destination: destination, destinationPort: udp[2..<4])
        countPositions(payload, nanoseconds: packet.nanoseconds)
        report.datagramsFound += 1
        report.noteTime(packet.nanoseconds)
        bootFirst = min(bootFirst, packet.nanoseconds)
        bootLast = max(bootLast, packet.nanoseconds)
        guard packet.nanoseconds >= from && packet.nanoseconds < until else { return true }
        report.datagramsRead += 1
        let keepGoing = self.source.withUnsafeBytes { sender in
            body(RecordedDatagram(
                receivedNanoseconds: packet.nanoseconds, bytes: payload, source: UnsafeRawBufferPointer(rebasing: sender[0..<sourceLength]),
                isTruncated: truncated))
        }
        if !keepGoing { stopped = true }
        return keepGoing
    }

    mutating func countFlow(source: UnsafeRawBufferPointer, sourcePort: Slice<UnsafeRawBufferPointer>, destination: UnsafeRawBufferPointer, destinationPort: Slice<UnsafeRawBufferPointer>) {
        let key = FlowKey(source: Array(source) + Array(sourcePort), destination: Array(destination) + Array(destinationPort))
        if flows[key] != nil || flows.count < Self.flowsMax { flows[key, default: 0] += 1 } else { flowsOverflow += 1 }
    }

    /// Counts GLOBAL_POSITION_INT frames from autopilots (component 1), by their headers and
    /// payload fields, without CRC checks: what `inspect` reports as positions found.
    mutating func countPositions(_ payload: UnsafeRawBufferPointer, nanoseconds: UInt64) {
        var rest = payload
        // Bounded: each pass consumes one whole frame or ends.
        while let first = rest.first, first == MAVLinkFraming.startV1 || first == MAVLinkFraming.startV2 {
            guard case .frame(let length) = MAVLinkFraming.frameLength(rest), let header = MAVLinkFraming.header(rest) else { return }
            if header.messageID == 33 && header.componentID == 1 {
                let start = header.version == 1 ? MAVLinkFraming.headerLengthV1 : MAVLinkFraming.headerLengthV2
                let payloadLength = Int(rest[1])
                // MAVLink 2 drops trailing zero bytes; read them back as zeros.
                func field(_ at: Int) -> Int32 {
                    var value: UInt32 = 0
                    for byte in 0..<4 where at + byte < payloadLength { value |= UInt32(rest[start + at + byte]) << (8 * UInt32(byte)) }
                    return Int32(bitPattern: value)
                }
                let position = LogContents.Position(timeMicroseconds: nanoseconds / 1_000, latitudeE7: field(4), longitudeE7: field(8), altitudeMM: field(12))
                positions += 1
                if firstPosition == nil { firstPosition = position }
                lastPosition = position
            }
            rest = UnsafeRawBufferPointer(rebasing: rest[length...])
        }
    }

    static func addressText(_ bytes: [UInt8]) -> String {
        let source = bytes.withUnsafeBytes { RecordedSource.text($0) }
        return source ?? "?"
    }

    mutating func finish(report: inout ReadReport, contents: inout LogContents) {
        let pending = fragments.pendingCount
        if pending > 0 { report.skip("IP fragments never completed", count: pending) }
        for (key, count) in flows {
            contents.messageCounts["\(Self.addressText(key.source)) -> \(Self.addressText(key.destination))", default: 0] += count
        }
        if flowsOverflow > 0 { contents.messageCounts["other flows", default: 0] += flowsOverflow }
        contents.positions = positions
        contents.firstPosition = firstPosition
        contents.lastPosition = lastPosition
        contents.hasUTC = true
        contents.vehicle = "capture"
        contents.systemIDSource = "frames"
    }
}

/// IP fragments waiting for the rest of their datagram: a fixed number of sets, each with one
/// 64 KiB buffer allocated when first used; the oldest set is dropped (and counted) when a new one
/// needs room.
struct FragmentTable {
    struct Key: Equatable {
        var source: [UInt8]
        var destination: [UInt8]
        var identification: UInt32
        var protocolNumber: UInt8
    }

    struct FragmentSet {
        var key: Key?
        var buffer: [UInt8] = []
        /// Covered byte ranges, merged; the datagram is whole when one range covers 0..<total.
        var ranges: [Range<Int>] = []
        /// Total length, known once the last fragment arrived.
        var total = -1
        var age = 0
    }

    enum Outcome { case pending, complete(Int) }

    var sets = [FragmentSet](repeating: FragmentSet(), count: Limits.Recording.captureFragmentSetsMax)
    var clock = 0
    static let datagramBytesMax = 65_535

    var pendingCount: Int { sets.filter { $0.key != nil }.count }

    mutating func add(_ key: Key, offset: Int, isLast: Bool, payload: UnsafeRawBufferPointer, report: inout ReadReport) -> Outcome {
        clock += 1
        let end = offset + payload.count
        guard end <= Self.datagramBytesMax else {
            report.skip("IP fragment past 64 KiB")
            return .pending
        }
        var index = sets.firstIndex { $0.key == key }
        if index == nil {
            index = sets.firstIndex { $0.key == nil }
            if index == nil {
                let oldest = sets.indices.min { sets[$0].age < sets[$1].age }!
                report.skip("IP fragments never completed")
                release(oldest)
                index = oldest
            }
            sets[index!].key = key
            if sets[index!].buffer.isEmpty { sets[index!].buffer = [UInt8](repeating: 0, count: Self.datagramBytesMax) }
        }
        let i = index!
        sets[i].age = clock
        sets[i].buffer.withUnsafeMutableBytes { buffer in
            UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<end]).copyMemory(from: payload)
        }
        if isLast { sets[i].total = end }
        var ranges = sets[i].ranges
        ranges.append(offset..<end)
        ranges.sort { $0.lowerBound < $1.lowerBound }
        var merged: [Range<Int>] = []
        for range in ranges {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        // Bounded: overlapping ranges merge, so a set never holds more than its fragments.
        sets[i].ranges = merged
        if sets[i].total >= 0, merged.count == 1, merged[0].lowerBound == 0, merged[0].upperBound >= sets[i].total { return .complete(i) }
        if merged.count > 1_024 {
            report.skip("IP fragments never completed")
            release(i)
        }
        return .pending
    }

    mutating func release(_ index: Int) {
        sets[index].key = nil
        sets[index].ranges.removeAll(keepingCapacity: true)
        sets[index].total = -1
    }
}

/// Classic pcap: a 24-byte header, then records of a 16-byte header and the captured bytes.
enum PcapWalk {
    static func walk(_ bytes: UnsafeRawBufferPointer, report: inout ReadReport, packets: inout CapturePackets, body: (RecordedDatagram) -> Bool) {
        guard bytes.count >= 24 else {
            report.trailingBytes = bytes.count
            report.skip("cut record")
            return
        }
        let magic = bytes.littleEndian(at: 0, as: UInt32.self)
        let swapped = magic == 0xD4C3_B2A1 || magic == 0x4D3C_B2A1
        let nanosecondStamps = magic == 0xA1B2_3C4D || magic == 0x4D3C_B2A1
        func u32(_ offset: Int) -> UInt32 {
            let value = bytes.littleEndian(at: offset, as: UInt32.self)
            return swapped ? value.byteSwapped : value
        }
        let snapLength = Int(u32(16)) == 0 ? 262_144 : Int(min(u32(16), 0x1000_0000))
        let linkType = u32(20) & 0xFFFF
        let fractionMax: UInt32 = nanosecondStamps ? 1_000_000_000 : 1_000_000
        var lastSeconds: UInt32?
        /// The record length when a believable record header is at `offset`. While
        /// resynchronising, its time must also be within a day of the last good record's.
        func plausible(_ offset: Int, resynchronising: Bool = false) -> Int? {
            guard offset + 16 <= bytes.count else { return nil }
            let captured = Int(u32(offset + 8))
            let original = Int(u32(offset + 12))
            guard u32(offset + 4) < fractionMax, captured <= max(snapLength, 262_144), captured <= original || original == 0 else { return nil }
            if resynchronising, let lastSeconds, u32(offset) &- lastSeconds &+ 86_400 > 2 * 86_400 { return nil }
            return 16 + captured
        }
        var offset = 24
        // Bounded: each pass advances `offset` or ends.
        while offset < bytes.count {
            let remaining = bytes.count - offset
            guard let length = plausible(offset) else {
                if remaining < 16 {
                    report.trailingBytes = remaining
                    report.skip("cut record", at: offset)
                    return
                }
                // Resynchronise: the next offset with a plausible record followed by another (or the end).
                var candidate = offset + 1
                var found: Int?
                while candidate + 16 <= bytes.count {
                    if let length = plausible(candidate, resynchronising: true), candidate + length <= bytes.count {
                        let following = candidate + length
                        if following == bytes.count || plausible(following, resynchronising: true) != nil { found = candidate; break }
                    }
                    candidate += 1
                }
                report.resyncs += 1
                report.recordsDamaged += 1
                report.skip("garbage", at: offset)
                guard let found else {
                    report.bytesSkipped += remaining
                    return
                }
                report.bytesSkipped += found - offset
                offset = found
                continue
            }
            guard length <= remaining else {
                report.trailingBytes = remaining
                report.skip("cut record", at: offset)
                return
            }
            let seconds = u32(offset)
            lastSeconds = seconds
            let fraction = UInt64(u32(offset + 4))
            let nanoseconds = UInt64(seconds) * 1_000_000_000 + (nanosecondStamps ? fraction : fraction * 1_000)
            let captured = length - 16
            let packet = CapturedPacket(
                nanoseconds: nanoseconds, linkType: linkType, bytes: UnsafeRawBufferPointer(rebasing: bytes[(offset + 16)..<(offset + length)]),
                isCut: captured < Int(u32(offset + 12)))
            offset += length
            if !packets.handle(packet, report: &report, body: body) { return }
        }
    }
}

/// pcapng: blocks of type, length, body, length; sections with their own byte order.
enum PcapngWalk {
    struct Interface {
        var linkType: UInt32
        /// Timestamp units: 10^-n (decimal) or 2^-n seconds.
        var resolution: UInt8 = 6
        var offsetSeconds: Int64 = 0

        func nanoseconds(_ stamp: UInt64) -> UInt64 {
            var value: UInt64
            if resolution & 0x80 != 0 {
                let shift = UInt64(resolution & 0x7F)
                guard shift < 64 else { return 0 }
                let whole = stamp >> shift
                let fraction = stamp & ((1 << shift) &- 1)
                value = whole &* 1_000_000_000 &+ UInt64((Double(fraction) / Double(sign: .plus, exponent: Int(shift), significand: 1) * 1e9).rounded(.down))
            } else if resolution <= 9 {
                var scale: UInt64 = 1
                for _ in 0..<(9 - Int(resolution)) { scale *= 10 }
                value = stamp &* scale
            } else {
                var scale: UInt64 = 1
                for _ in 0..<min(19, Int(resolution) - 9) { scale *= 10 }
                value = stamp / scale
            }
            // Wrapping on purpose: a damaged offset gives a wrong time, never a trap.
            return UInt64(bitPattern: Int64(bitPattern: value) &+ offsetSeconds &* 1_000_000_000)
        }
    }

    static let sectionHeader: UInt32 = 0x0A0D_0D0A
    static let byteOrderMagic: UInt32 = 0x1A2B_3C4D
    static let interfacesMax = 1_024

    static func walk(_ bytes: UnsafeRawBufferPointer, report: inout ReadReport, packets: inout CapturePackets, body: (RecordedDatagram) -> Bool) {
        var swapped = false
        var interfaces: [Interface] = []
        func u32(_ offset: Int) -> UInt32 {
            let value = bytes.littleEndian(at: offset, as: UInt32.self)
            return swapped ? value.byteSwapped : value
        }
        func u16(_ offset: Int) -> UInt16 {
            let value = bytes.littleEndian(at: offset, as: UInt16.self)
            return swapped ? value.byteSwapped : value
        }
        /// The block length at `offset` when a believable block starts there (known type or
        /// section header, sane length, matching trailing length), else nil.
        func blockLength(_ offset: Int) -> Int? {
            guard offset + 12 <= bytes.count else { return nil }
            var isSwapped = swapped
            let type = bytes.littleEndian(at: offset, as: UInt32.self)
            if type == sectionHeader {
                guard offset + 12 <= bytes.count else { return nil }
                let magic = bytes.littleEndian(at: offset + 8, as: UInt32.self)
                guard magic == byteOrderMagic || magic == byteOrderMagic.byteSwapped else { return nil }
                isSwapped = magic != byteOrderMagic
            }
            let raw = bytes.littleEndian(at: offset + 4, as: UInt32.self)
            let length = Int(isSwapped ? raw.byteSwapped : raw)
            guard length >= 12, length % 4 == 0, length <= 0x1000_0000 else { return nil }
            return length
        }
        var offset = 0
        // Bounded: each pass advances `offset` or ends.
        while offset < bytes.count {
            let remaining = bytes.count - offset
            guard let length = blockLength(offset) else {
                if remaining < 12 {
                    report.trailingBytes = remaining
                    report.skip("cut record", at: offset)
                    return
                }
                var candidate = offset + 4
                var found: Int?
                while candidate + 12 <= bytes.count {
                    if let length = blockLength(candidate), candidate + length <= bytes.count {
                        let trailer = bytes.littleEndian(at: candidate + length - 4, as: UInt32.self)
                        if Int(swapped && bytes.littleEndian(at: candidate, as: UInt32.self) != sectionHeader ? trailer.byteSwapped : trailer) == length
                            || Int(trailer.byteSwapped) == length
                        {
                            found = candidate
                            break
                        }
                    }
                    candidate += 4
                }
                report.resyncs += 1
                report.recordsDamaged += 1
                report.skip("garbage", at: offset)
                guard let found else {
                    report.bytesSkipped += remaining
                    return
                }
                report.bytesSkipped += found - offset
                offset = found
                continue
            }
            guard length <= remaining else {
                report.trailingBytes = remaining
                report.skip("cut record", at: offset)
                return
            }
            let type = bytes.littleEndian(at: offset, as: UInt32.self)
            if type == sectionHeader {
                swapped = bytes.littleEndian(at: offset + 8, as: UInt32.self) != byteOrderMagic
                interfaces.removeAll()
                offset += length
                continue
            }
            let blockType = swapped ? type.byteSwapped : type
            let bodyStart = offset + 8
            let bodyEnd = offset + length - 4
            switch blockType {
            case 1:
                // Interface description: link type (2), reserved (2), snaplen (4), options.
                guard bodyEnd - bodyStart >= 8, interfaces.count < interfacesMax else {
                    report.recordsDamaged += 1
                    report.skip("bad interface description", at: offset)
                    break
                }
                var interface = Interface(linkType: UInt32(u16(bodyStart)))
                var option = bodyStart + 8
                while option + 4 <= bodyEnd {
                    let code = u16(option)
                    let optionLength = Int(u16(option + 2))
                    guard code != 0, option + 4 + optionLength <= bodyEnd else { break }
                    if code == 9 && optionLength >= 1 { interface.resolution = bytes[option + 4] }
                    if code == 14 && optionLength >= 8 {
                        let raw = bytes.littleEndian(at: option + 4, as: UInt64.self)
                        interface.offsetSeconds = Int64(bitPattern: swapped ? raw.byteSwapped : raw)
                    }
                    option += 4 + (optionLength + 3) & ~3
                }
                interfaces.append(interface)
            case 6, 2:
                // Enhanced packet: interface (4), time high, low, captured, original, data.
                // Obsolete packet: interface (2), drops (2), then the same.
                guard bodyEnd - bodyStart >= 20 else {
                    report.recordsDamaged += 1
                    report.skip("bad packet block", at: offset)
                    break
                }
                let interfaceIndex = blockType == 6 ? Int(u32(bodyStart)) : Int(u16(bodyStart))
                let captured = Int(u32(bodyStart + 12))
                let original = Int(u32(bodyStart + 16))
                guard interfaceIndex < interfaces.count, bodyStart + 20 + captured <= bodyEnd else {
                    report.recordsDamaged += 1
                    report.skip(interfaceIndex < interfaces.count ? "bad packet block" : "packet of an undescribed interface", at: offset)
                    break
                }
                let stamp = UInt64(u32(bodyStart + 4)) << 32 | UInt64(u32(bodyStart + 8))
                let interface = interfaces[interfaceIndex]
                let packet = CapturedPacket(
                    nanoseconds: interface.nanoseconds(stamp), linkType: interface.linkType,
                    bytes: UnsafeRawBufferPointer(rebasing: bytes[(bodyStart + 20)..<(bodyStart + 20 + captured)]), isCut: captured < original)
                if !packets.handle(packet, report: &report, body: body) { return }
            case 3:
                // Simple packet: no time, so it cannot be replayed at its place.
                report.skip("simple packet block without a time")
            default:
                // Name resolution, statistics, decryption secrets, custom blocks: nothing to replay.
                break
            }
            offset += length
        }
    }
}

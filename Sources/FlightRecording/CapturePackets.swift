import MAVLinkWire
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
    /// Gives back the capture's pages as the walk passes them.
    var pages = PageRelease.none
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

    /// One end of a UDP flow in plain values (hashing them costs a few words, not an array's
    /// allocation and a byte-by-byte hash per packet): the address (IPv4 in `low`), the port.
    struct Endpoint: Hashable {
        var high: UInt64 = 0
        var low: UInt64 = 0
        var port: UInt16
        var isIPv6: Bool

        init(address: UnsafeRawBufferPointer, port: Slice<UnsafeRawBufferPointer>) {
            isIPv6 = address.count == 16
            self.port = UInt16(port[port.startIndex]) << 8 | UInt16(port[port.startIndex + 1])
            for (index, byte) in address.prefix(16).enumerated() {
                if index < 8 && isIPv6 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
            }
        }

        /// The RecordedSource form: the address then the port, big-endian.
        var text: String {
            var bytes: [UInt8] = []
            if isIPv6 { for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: high >> UInt64(shift))) } }
            for shift in stride(from: isIPv6 ? 56 : 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: low >> UInt64(shift))) }
            bytes += [UInt8(port >> 8), UInt8(port & 0xFF)]
            return bytes.withUnsafeBytes { RecordedSource.text($0) } ?? "?"
        }
    }

    struct FlowKey: Hashable {
        var source: Endpoint
        var destination: Endpoint
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
        let key = FlowKey(source: Endpoint(address: source, port: sourcePort), destination: Endpoint(address: destination, port: destinationPort))
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
                let start = header.version == 1 ? MAVLinkFormat.headerLengthV1 : MAVLinkFormat.headerLengthV2
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

    mutating func finish(report: inout ReadReport, contents: inout LogContents) {
        let pending = fragments.pendingCount
        if pending > 0 { report.skip("IP fragments never completed", count: pending) }
        for (key, count) in flows {
            contents.messageCounts["\(key.source.text) -> \(key.destination.text)", default: 0] += count
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

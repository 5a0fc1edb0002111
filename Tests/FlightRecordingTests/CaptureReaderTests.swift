import FlightRecording
import Foundation
import Testing

/// The pcap and pcapng player: the same packets in every container variant and link type give
/// the same datagrams (payload, capture time, sender); fragments are reassembled; traffic that is
/// not UDP is counted and skipped; cut files keep their whole packets.
@Suite("Captures: pcap and pcapng")
struct CaptureReaderTests {
    static let thayer = "thayer_parsers_longerRun.pcap"

    /// The real capture's packets with their BSD loopback header taken off: IP packets.
    static func ipPackets() throws -> [CaptureWriter.Packet] {
        CaptureWriter.packets(ofPcap: try AutopilotFixtures.bytes(thayer)).map {
            CaptureWriter.Packet(nanoseconds: $0.nanoseconds, frame: Array($0.frame.dropFirst(4)), interface: $0.interface)
        }
    }

    static func read(_ bytes: [UInt8]) throws -> ([AutopilotFixtures.Datagram], ReadReport, RecordingFormatKind) {
        let directory = TemporaryDirectory()
        try AutopilotFixtures.write(bytes, to: directory.file("capture"))
        let reader = try openRecording(path: directory.file("capture"))
        let (datagrams, report) = AutopilotFixtures.datagrams(reader)
        return (datagrams, report, reader.kind)
    }

    /// What the original file gives: 2,018 UDP datagrams (1,960 MAVLink, 58 mDNS over IPv4 and
    /// IPv6), senders included.
    @Test("The real loopback capture: every UDP datagram with its sender")
    func original() throws {
        let (datagrams, report, kind) = try Self.read(try AutopilotFixtures.bytes(Self.thayer))
        #expect(kind == .pcap)
        #expect(datagrams.count == 2_018 && report.isIntact && report.skipped.isEmpty)
        #expect(datagrams.filter { $0.source == [127, 0, 0, 1, 0x38, 0xD6] }.count == 1_960, "127.0.0.1:14550")
        #expect(datagrams.filter { $0.source.count == 18 }.count == 16, "mDNS from fe80::1")
        #expect(datagrams.first?.time == 1_718_885_436_102_688_000)
    }

    /// The same packets as pcap (both byte orders, µs and ns) and as pcapng (both byte orders;
    /// one interface in ns, or two interfaces, µs and 2^-20 s, alternating) give the same datagrams.
    @Test("pcap and pcapng variants hand out the same datagrams")
    func containers() throws {
        let original = try Self.read(try AutopilotFixtures.bytes(Self.thayer)).0
        let packets = CaptureWriter.packets(ofPcap: try AutopilotFixtures.bytes(Self.thayer))
        let alternating = packets.enumerated().map { index, packet in
            CaptureWriter.Packet(nanoseconds: packet.nanoseconds, frame: packet.frame, interface: index % 2)
        }
        let variants: [(String, [UInt8], RecordingFormatKind)] = [
            ("pcap big-endian", CaptureWriter.pcap(packets, linkType: 0, bigEndian: true), .pcap),
            ("pcap ns", CaptureWriter.pcap(packets, linkType: 0, nanoseconds: true), .pcap),
            ("pcap ns big-endian", CaptureWriter.pcap(packets, linkType: 0, bigEndian: true, nanoseconds: true), .pcap),
            ("pcapng ns", CaptureWriter.pcapng(packets, interfaces: [(0, 9)]), .pcapng),
            ("pcapng big-endian µs", CaptureWriter.pcapng(packets, interfaces: [(0, 6)], bigEndian: true), .pcapng),
            ("pcapng two interfaces", CaptureWriter.pcapng(alternating, interfaces: [(0, 6), (0, 9)]), .pcapng),
        ]
        for (label, bytes, kind) in variants {
            let (datagrams, report, readKind) = try Self.read(bytes)
            #expect(readKind == kind, "\(label)")
            #expect(report.isIntact, "\(label): \(report.summary)")
            let same = datagrams == original
            #expect(same, "\(label): \(datagrams.count) datagrams")
        }
        // Binary fractions round down to the nanosecond: payloads and senders equal, times within 1 ns.
        let binary = try Self.read(CaptureWriter.pcapng(packets, interfaces: [(0, 0x80 | 30)])).0
        let samePayloads = binary.map(\.bytes) == original.map(\.bytes)
        #expect(samePayloads)
        #expect(zip(binary, original).allSatisfy { $0.time <= $1.time && $1.time - $0.time <= 1 })
    }

    /// The same IP packets behind every link header read the same: Ethernet (plain, one VLAN
    /// tag, two stacked tags), Linux cooked v1 and v2, raw IP, and OpenBSD loopback.
    @Test("Link types: Ethernet with VLAN, SLL, SLL2, raw IP, loopback")
    func linkTypes() throws {
        let original = try Self.read(try AutopilotFixtures.bytes(Self.thayer)).0
        let ip = try Self.ipPackets()
        func etherType(_ frame: [UInt8]) -> [UInt8] { frame[0] >> 4 == 6 ? [0x86, 0xDD] : [0x08, 0x00] }
        func wrap(_ header: ([UInt8]) -> [UInt8]) -> [CaptureWriter.Packet] {
            ip.map { CaptureWriter.Packet(nanoseconds: $0.nanoseconds, frame: header($0.frame) + $0.frame) }
        }
        let macs = [UInt8](repeating: 0x02, count: 12)
        let variants: [(String, UInt32, [CaptureWriter.Packet])] = [
            ("Ethernet", 1, wrap { macs + etherType($0) }),
            ("Ethernet 802.1Q", 1, wrap { macs + [0x81, 0x00, 0x00, 0x07] + etherType($0) }),
            ("Ethernet 802.1ad + 802.1Q", 1, wrap { macs + [0x88, 0xA8, 0x00, 0x01, 0x81, 0x00, 0x00, 0x07] + etherType($0) }),
            ("Linux cooked v1", 113, wrap { [0, 0, 0, 1, 0, 6] + [UInt8](repeating: 0, count: 8) + etherType($0) }),
            ("Linux cooked v2", 276, wrap { etherType($0) + [0, 0, 0, 0, 0, 1, 0, 4, 6] + [UInt8](repeating: 0, count: 9) }),
            ("raw IP", 101, wrap { _ in [] }),
            ("OpenBSD loopback", 108, wrap { $0[0] >> 4 == 6 ? [0, 0, 0, 24] : [0, 0, 0, 2] }),
        ]
        for (label, linkType, packets) in variants {
            let (datagrams, report, _) = try Self.read(CaptureWriter.pcap(packets, linkType: linkType))
            #expect(report.isIntact && report.skipped.isEmpty, "\(label): \(report.summary)")
            let same = datagrams == original
            #expect(same, "\(label): \(datagrams.count) datagrams")
        }
    }

    /// An IPv4 UDP datagram split into three fragments (sent out of order) is reassembled into
    /// the original payload; a set missing a fragment is counted, never replayed.
    @Test("IPv4 fragments are reassembled; an incomplete set is counted")
    func fragments() throws {
        let payload = (0..<3_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let udp = CaptureWriter.be16(14_550) + CaptureWriter.be16(14_580) + CaptureWriter.be16(UInt16(8 + payload.count)) + [0, 0] + payload
        func fragment(_ range: Range<Int>, more: Bool, id: UInt16) -> [UInt8] {
            let flags = UInt16(range.lowerBound / 8) | (more ? 0x2000 : 0)
            let header: [UInt8] = [0x45, 0] + CaptureWriter.be16(UInt16(20 + range.count)) + CaptureWriter.be16(id) + CaptureWriter.be16(flags)
                + [64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]
            return header + udp[range]
        }
        let pieces = [fragment(0..<1_480, more: true, id: 7), fragment(2_960..<udp.count, more: false, id: 7), fragment(1_480..<2_960, more: true, id: 7)]
        let lonely = fragment(0..<1_480, more: true, id: 8)
        let packets = (pieces + [lonely]).enumerated().map { CaptureWriter.Packet(nanoseconds: 1_700_000_000_000_000_000 + UInt64($0) * 1_000, frame: $1) }
        let (datagrams, report, _) = try Self.read(CaptureWriter.pcap(packets, linkType: 101))
        #expect(datagrams.count == 1)
        #expect(datagrams.first?.bytes == payload)
        #expect(datagrams.first?.source == [10, 0, 0, 1, 0x38, 0xD6])
        #expect(report.skipped["IP fragments never completed"] == 1)
    }

    /// An IPv6 UDP datagram in two fragments (fragment header 44) is reassembled likewise.
    @Test("IPv6 fragments are reassembled")
    func fragmentsIPv6() throws {
        let payload = (0..<2_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let udp = CaptureWriter.be16(5_353) + CaptureWriter.be16(14_550) + CaptureWriter.be16(UInt16(8 + payload.count)) + [0, 0] + payload
        let source: [UInt8] = [0xFE, 0x80] + [UInt8](repeating: 0, count: 13) + [1]
        let destination: [UInt8] = [0xFE, 0x80] + [UInt8](repeating: 0, count: 13) + [2]
        func fragment(_ range: Range<Int>, more: Bool) -> [UInt8] {
            let field = UInt16(range.lowerBound) | (more ? 1 : 0)
            let header: [UInt8] = [0x60, 0, 0, 0] + CaptureWriter.be16(UInt16(8 + range.count)) + [44, 64] + source + destination
            return header + [17, 0] + CaptureWriter.be16(field) + CaptureWriter.be32(0xC0FFEE) + udp[range]
        }
        let packets = [fragment(1_232..<udp.count, more: false), fragment(0..<1_232, more: true)].enumerated().map {
            CaptureWriter.Packet(nanoseconds: 1_700_000_000_000_000_000 + UInt64($0) * 1_000, frame: $1)
        }
        let (datagrams, report, _) = try Self.read(CaptureWriter.pcapng(packets, interfaces: [(101, 9)]))
        #expect(datagrams.count == 1 && report.skipped["IP fragments never completed"] == nil)
        #expect(datagrams.first?.bytes == payload)
        #expect(datagrams.first?.source == source + [0x14, 0xE9])
    }

    /// TCP, ICMP and ARP beside the UDP are skipped and counted by reason; the UDP still reads.
    @Test("Traffic that is not UDP is counted and skipped")
    func notUDP() throws {
        var packets = try Self.ipPackets().prefix(10).map { CaptureWriter.Packet(nanoseconds: $0.nanoseconds, frame: [UInt8](repeating: 2, count: 12) + [0x08, 0x00] + $0.frame) }
        var tcp = packets[0].frame
        tcp[14 + 9] = 6
        var icmp = packets[1].frame
        icmp[14 + 9] = 1
        let arp = [UInt8](repeating: 0xFF, count: 12) + [0x08, 0x06] + [UInt8](repeating: 0, count: 28)
        packets += [tcp, icmp, arp].map { CaptureWriter.Packet(nanoseconds: packets[9].nanoseconds, frame: $0) }
        let (datagrams, report, _) = try Self.read(CaptureWriter.pcap(packets, linkType: 1))
        #expect(datagrams.count == 10)
        #expect(report.skipped == ["not UDP": 2, "not IP": 1])
    }

    /// Cut at every packet boundary and one byte and half-way past it, the small Ethernet
    /// capture keeps exactly the whole packets and reports the rest as cut off.
    @Test("Cut at every packet boundary and mid-packet", arguments: AutopilotFixtures.captures)
    func cuts(name: String) throws {
        let bytes = try AutopilotFixtures.bytes(name)
        let whole = try Self.read(bytes).0
        let boundaries = RecordBoundaries.pcap(bytes)
        #expect(boundaries.last == bytes.count)
        let stride = max(1, boundaries.count / 120)
        for index in Swift.stride(from: 0, to: boundaries.count - 1, by: stride) {
            let boundary = boundaries[index]
            for cut in Set([boundary, boundary + 1, (boundary + boundaries[index + 1]) / 2]) {
                let (datagrams, report, _) = try Self.read(Array(bytes[0..<cut]))
                #expect(report.trailingBytes == cut - boundary, "\(name) cut at \(cut)")
                let isPrefix = datagrams == Array(whole.prefix(datagrams.count))
                #expect(isPrefix && datagrams.count == index, "\(name) cut at \(cut)")
            }
        }
    }

    /// Garbage between packets is skipped and counted; every packet after it still reads.
    @Test("Garbage between packets: skipped, counted, nothing else lost")
    func garbage() throws {
        let bytes = try AutopilotFixtures.bytes(Self.thayer)
        let whole = try Self.read(bytes).0
        let boundaries = RecordBoundaries.pcap(bytes)
        let at = boundaries[boundaries.count / 2]
        let garbage = [UInt8](repeating: 0xEE, count: 29)
        let (datagrams, report, _) = try Self.read(Array(bytes[0..<at]) + garbage + Array(bytes[at...]))
        #expect(report.bytesSkipped == 29 && report.resyncs == 1, "\(report.summary)")
        let same = datagrams == whole
        #expect(same, "\(datagrams.count) datagrams, \(whole.count) without the garbage")
    }
}

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
        let report = Self.replay(
            file.bytes, fromNanoseconds: fromNanoseconds, untilNanoseconds: untilNanoseconds, pages: file.pageRelease, contents: &contents, body: body)
        self.contents = contents
        return report
    }

    static func replay(
        _ bytes: UnsafeRawBufferPointer, fromNanoseconds: UInt64?, untilNanoseconds: UInt64?, pages: PageRelease = .none,
        contents: inout LogContents, body: (RecordedDatagram) -> Bool
    ) -> ReadReport {
        var report = ReadReport()
        var packets = CapturePackets(from: fromNanoseconds ?? 0, until: untilNanoseconds ?? .max)
        packets.pages = pages
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

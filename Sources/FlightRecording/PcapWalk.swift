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
            packets.pages.passed(offset)
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
                report.skipGarbage(at: offset, resumingAt: found, end: bytes.count)
                guard let found else { return }
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

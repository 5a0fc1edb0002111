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
            packets.pages.passed(offset)
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

import Testing
import MAVLinkWire

/// Proves the CRC is CRC-16/MCRF4XX (MAVLink's "X.25") by its catalogue check value, and that
/// folding byte by byte equals folding a buffer.
@Suite struct MAVLinkCRCTests {
    @Test func checkValue() {
        let input = Array("123456789".utf8)
        #expect(input.withUnsafeBytes { MAVLinkCRC.checksum($0) } == 0x6F91)
    }

    @Test func byteByByteEqualsBuffer() {
        let input: [UInt8] = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        var crc = MAVLinkCRC.seed
        for byte in input { crc = MAVLinkCRC.accumulate(byte, into: crc) }
        #expect(input.withUnsafeBytes { MAVLinkCRC.checksum($0) } == crc)
    }
}

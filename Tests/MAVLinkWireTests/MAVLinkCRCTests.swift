import Testing
import MAVLinkWire

/// Proves the CRC is CRC-16/MCRF4XX (MAVLink's "X.25") by its catalogue check value, and that
/// the slicing-by-4 form equals MAVLink's byte-by-byte shift-and-XOR form for every length 0...300
/// at every alignment 0...3, from several starting values.
@Suite struct MAVLinkCRCTests {
    @Test func checkValue() {
        let input = Array("123456789".utf8)
        #expect(input.withUnsafeBytes { MAVLinkCRC.checksum($0) } == 0x6F91)
        #expect(input.withUnsafeBytes { MAVLinkCRC.accumulateBytewise($0, into: MAVLinkCRC.seed) } == 0x6F91)
    }

    @Test func slicingEqualsBytewise() {
        let input: [UInt8] = (0..<304).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11 ^ ($0 >> 3)) }
        input.withUnsafeBytes { all in
            for start in 0..<4 {
                for length in 0...300 {
                    let bytes = UnsafeRawBufferPointer(rebasing: all[start..<(start + length)])
                    for seed: UInt16 in [0xFFFF, 0, 0x1234] {
                        #expect(MAVLinkCRC.accumulate(bytes, into: seed) == MAVLinkCRC.accumulateBytewise(bytes, into: seed))
                    }
                }
            }
        }
    }
}

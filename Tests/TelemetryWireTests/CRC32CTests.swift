import Testing
@testable import TelemetryWire

/// The slicing-by-8 CRC must equal the catalogue's check value, the RFC 3720 (iSCSI) test
/// vectors, and a plain bit-by-bit CRC-32C for every length and alignment.
@Suite("CRC-32C")
struct CRC32CTests {
    @Test("Check value of \"123456789\" is 0xE3069283")
    func checkValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum(Array("123456789".utf8)) == CRC32C.checkValue)
    }

    @Test("RFC 3720 appendix B.4 vectors")
    func iscsiVectors() {
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).reversed().map { UInt8($0) }) == 0x113F_DB5C)
        #expect(CRC32C.checksum([]) == 0)
    }

    @Test("Chains over pieces: checksum(b, continuing: checksum(a)) == checksum(a + b) at every split")
    func chaining() {
        let bytes = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let whole = CRC32C.checksum(bytes)
        bytes.withUnsafeBytes { all in
            #expect(CRC32C.checksum(all, continuing: 0) == whole)
            for split in 0...all.count {
                let head = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: all[0..<split]))
                #expect(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: all[split...]), continuing: head) == whole)
            }
        }
    }

    static func bitwise(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }

    @Test("Equals a bitwise CRC for every length 0...300 at every alignment 0...7")
    func matchesBitwise() {
        var generator = SeededGenerator(seed: 7)
        let data = (0..<320).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for start in 0..<8 {
            for length in 0...300 {
                let slice = data[start..<(start + length)]
                let fast = slice.withUnsafeBytes { CRC32C.checksum($0) }
                #expect(fast == Self.bitwise(slice), "start \(start) length \(length)")
            }
        }
    }
}

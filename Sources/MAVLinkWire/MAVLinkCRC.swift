/// CRC-16/MCRF4XX, which MAVLink calls X.25: reflected polynomial 0x1021 (0x8408), initial value
/// 0xFFFF, no final XOR. Check value ("123456789"): 0x6F91.
///
/// Computed with the shift-and-XOR form of the MAVLink reference (`crc_accumulate` in
/// `checksum.h`): no table, so no memory traffic per byte, and short frames (at most 280 bytes)
/// do not amortise a table's cache misses anyway.
public enum MAVLinkCRC {
    /// The initial value.
    public static let seed: UInt16 = 0xFFFF

    /// Folds one byte into `crc`.
    @inlinable @inline(__always)
    public static func accumulate(_ byte: UInt8, into crc: UInt16) -> UInt16 {
        var tmp = byte ^ UInt8(truncatingIfNeeded: crc)
        tmp ^= tmp << 4
        let wide = UInt16(tmp)
        return (crc >> 8) ^ (wide << 8) ^ (wide << 3) ^ (wide >> 4)
    }

    /// Folds every byte of `bytes` into `crc`.
    @inlinable
    public static func accumulate(_ bytes: UnsafeRawBufferPointer, into crc: UInt16) -> UInt16 {
        var crc = crc
        for byte in bytes { crc = accumulate(byte, into: crc) }
        return crc
    }

    /// The CRC of `bytes` from the seed.
    @inlinable
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        accumulate(bytes, into: seed)
    }
}

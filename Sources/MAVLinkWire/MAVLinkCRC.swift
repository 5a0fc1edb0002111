/// CRC-16/MCRF4XX, which MAVLink calls X.25: reflected polynomial 0x1021 (0x8408), initial value
/// 0xFFFF, no final XOR. Check value ("123456789"): 0x6F91.
///
/// Two forms that give the same CRC: the shift-and-XOR form of the MAVLink reference
/// (`crc_accumulate` in `checksum.h`) for single bytes (CRC_EXTRA), and slicing-by-4 over four
/// 256-entry tables (2 KiB) for runs of bytes, which folds four bytes with four independent table
/// loads instead of a chain of about 24 dependent operations (docs/performance.md, "MAVLink").
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

    /// Slicing tables: `tables[k * 256 + i]` is the CRC (from 0) of byte `i` followed by `k` zero bytes.
    @usableFromInline static let tables: [UInt16] = {
        var tables = [UInt16](repeating: 0, count: 4 * 256)
        for index in 0..<256 { tables[index] = accumulate(UInt8(index), into: 0) }
        for slice in 1..<4 {
            for index in 0..<256 {
                let previous = tables[(slice - 1) * 256 + index]
                tables[slice * 256 + index] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    /// Folds every byte of `bytes` into `crc`.
    @inlinable
    public static func accumulate(_ bytes: UnsafeRawBufferPointer, into crc: UInt16) -> UInt16 {
        var crc = crc
        guard let base = bytes.baseAddress else { return crc }
        let count = bytes.count
        tables.withUnsafeBufferPointer { table in
            let t = table.baseAddress.unsafelyUnwrapped
            var index = 0
            // Bounded by the length: four bytes a pass, then the tail byte by byte.
            while index &+ 4 <= count {
                let word = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt32.self))
                let mixed = word ^ UInt32(crc)
                crc = t[768 &+ Int(mixed & 0xFF)] ^ t[512 &+ Int((mixed >> 8) & 0xFF)]
                    ^ t[256 &+ Int((mixed >> 16) & 0xFF)] ^ t[Int(mixed >> 24)]
                index &+= 4
            }
            while index < count {
                crc = (crc >> 8) ^ t[Int((crc ^ UInt16(base.load(fromByteOffset: index, as: UInt8.self))) & 0xFF)]
                index &+= 1
            }
        }
        return crc
    }

    /// Folds every byte of `bytes` into `crc` with the shift-and-XOR form only (the reference;
    /// the tests and the benchmark compare the two).
    @inlinable
    public static func accumulateBytewise(_ bytes: UnsafeRawBufferPointer, into crc: UInt16) -> UInt16 {
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

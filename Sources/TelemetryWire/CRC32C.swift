/// CRC-32C (Castagnoli): polynomial 0x1EDC6F41 (reflected 0x82F63B78), initial value 0xFFFFFFFF,
/// input and output reflected, final XOR 0xFFFFFFFF. Check value for the ASCII bytes "123456789"
/// is 0xE3069283 (the catalogue name is CRC-32/ISCSI; RFC 3720 appendix B.4 gives test vectors).
///
/// Computed slicing-by-8: eight 256-entry tables let the loop fold eight bytes per step, which is
/// what lets a 60-byte frame's CRC cost less than a byte-at-a-time CRC-16 over 46 bytes.
public enum CRC32C {
    /// The reflected polynomial.
    public static let polynomial: UInt32 = 0x82F6_3B78
    /// CRC-32C of the ASCII bytes "123456789".
    public static let checkValue: UInt32 = 0xE306_9283

    @usableFromInline
    static let table: [UInt32] = makeTable()

    static func makeTable() -> [UInt32] {
        var table = [UInt32](repeating: 0, count: 8 * 256)
        for index in 0..<256 {
            var crc = UInt32(index)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ polynomial : crc >> 1 }
            table[index] = crc
        }
        for index in 0..<256 {
            for slice in 1..<8 {
                let previous = table[(slice - 1) * 256 + index]
                table[slice * 256 + index] = (previous >> 8) ^ table[Int(previous & 0xFF)]
            }
        }
        return table
    }

    /// The CRC-32C of `bytes`.
    @inlinable
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        table.withUnsafeBufferPointer { table in
            ~update(0xFFFF_FFFF, bytes, table: table.baseAddress.unsafelyUnwrapped)
        }
    }

    /// The CRC-32C of the bytes checksummed so far followed by `bytes`: `previous` is their
    /// CRC-32C (0 for none), as zlib's `crc32(crc, buf, len)` chains, so
    /// `checksum(b, continuing: checksum(a)) == checksum(a + b)`. For data checked in pieces.
    @inlinable
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing previous: UInt32) -> UInt32 {
        table.withUnsafeBufferPointer { table in
            ~update(~previous, bytes, table: table.baseAddress.unsafelyUnwrapped)
        }
    }

    /// The CRC-32C of `bytes`.
    @inlinable
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    /// Folds `bytes` into a running (not yet inverted) CRC register.
    @inlinable
    static func update(_ start: UInt32, _ bytes: UnsafeRawBufferPointer, table t: UnsafePointer<UInt32>)
        -> UInt32
    {
        var crc = start
        guard var pointer = bytes.baseAddress else { return crc }
        var remaining = bytes.count
        while remaining >= 8 {
            let low = UInt32(littleEndian: pointer.loadUnaligned(as: UInt32.self)) ^ crc
            let high = UInt32(littleEndian: pointer.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            crc =
                t[7 * 256 + Int(low & 0xFF)] ^ t[6 * 256 + Int((low >> 8) & 0xFF)]
                ^ t[5 * 256 + Int((low >> 16) & 0xFF)] ^ t[4 * 256 + Int(low >> 24)]
                ^ t[3 * 256 + Int(high & 0xFF)] ^ t[2 * 256 + Int((high >> 8) & 0xFF)]
                ^ t[1 * 256 + Int((high >> 16) & 0xFF)] ^ t[Int(high >> 24)]
            pointer += 8
            remaining &-= 8
        }
        while remaining > 0 {
            crc = (crc >> 8) ^ t[Int((crc ^ UInt32(pointer.load(as: UInt8.self))) & 0xFF)]
            pointer += 1
            remaining &-= 1
        }
        return crc
    }
}

/// A received payload, read as if zero-extended to any length: MAVLink 2 senders drop trailing
/// zero bytes (and may omit extension fields altogether), and a field beyond the received bytes
/// is zero. Bytes beyond the definition (extension fields newer than ours) are ignored.
public struct MAVLinkPayload {
    public let bytes: UnsafeRawBufferPointer

    @inlinable public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// The little-endian integer at `offset`, with missing bytes read as zero.
    @inlinable @inline(__always)
    public func load<T: FixedWidthInteger>(_ offset: Int, as type: T.Type = T.self) -> T {
        let size = MemoryLayout<T>.size
        if offset &+ size <= bytes.count {
            return T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        }
        // Past the received bytes: assemble what is there, zero for the rest.
        var value: T = 0
        var index = 0
        while index < size && offset &+ index < bytes.count {
            value |= T(truncatingIfNeeded: bytes[offset &+ index]) << (8 &* index)
            index &+= 1
        }
        return value
    }

    /// The little-endian IEEE 754 float at `offset`, with missing bytes read as zero.
    @inlinable @inline(__always)
    public func loadFloat(_ offset: Int) -> Float { Float(bitPattern: load(offset, as: UInt32.self)) }
}

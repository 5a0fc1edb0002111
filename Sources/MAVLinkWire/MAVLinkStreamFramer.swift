/// Cuts a MAVLink byte stream that arrives in arbitrary pieces (a serial link, TCP, a raw log read
/// in blocks) into whole frames, the same way the datagram decoder frames a datagram: a run of
/// bytes that are not a start byte is one garbage unit, and a frame is its declared length from a
/// start byte, whatever its CRC says (the decoder checks it). A frame split across pieces is held
/// (at most 280 bytes, allocated once) until its last byte arrives.
///
/// Feeding a stream whole, one byte at a time, or split at any offset gives the same events in
/// the same order. Each frame is handed over as contiguous bytes: decode it with
/// `MAVLinkDecoder.decodeDatagram`, which then reports exactly one unit for it.
///
/// (A `.tlog` file is not a plain stream: each frame is preceded by an 8-byte timestamp, which a
/// `.tlog` reader takes off before framing.)
public struct MAVLinkStreamFramer {
    /// The bytes of a frame still incomplete at the end of the last piece.
    @usableFromInline var pending: [UInt8]
    @usableFromInline var pendingCount = 0
    /// Length of the run of garbage bytes not reported yet (it may continue in the next piece).
    @usableFromInline var garbageRunLength = 0

    public init() {
        pending = [UInt8](repeating: 0, count: MAVLinkFormat.frameLengthMax)
    }

    /// Bytes held for an incomplete frame.
    public var pendingByteCount: Int { pendingCount }

    /// What the stream held, in order.
    public enum Event {
        /// A whole frame (valid until the callback returns).
        case frame(UnsafeRawBufferPointer)
        /// A run of this many bytes that are not a start byte.
        case garbage(Int)
        /// The end of the stream cut a frame short; this many bytes of it were held.
        case truncated(Int)
    }

    /// Frames `bytes`, the next piece of the stream, calling `body` for every event it completes.
    @inlinable
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ body: (Event) -> Void) {
        var index = 0
        let count = bytes.count
        // Bounded: each pass consumes at least one byte.
        while index < count {
            if pendingCount > 0 {
                // Complete the held frame byte by byte (at most 280 bytes per piece boundary).
                pending[pendingCount] = bytes[index]
                pendingCount &+= 1
                index &+= 1
                let length = pending.withUnsafeBytes {
                    MAVLinkFrameDecoder.declaredLength(UnsafeRawBufferPointer(rebasing: $0[0..<pendingCount]))
                }
                if let length, length == pendingCount {
                    pending.withUnsafeBytes { body(.frame(UnsafeRawBufferPointer(rebasing: $0[0..<length]))) }
                    pendingCount = 0
                }
                continue
            }
            let byte = bytes[index]
            if byte != MAVLinkFormat.startV1 && byte != MAVLinkFormat.startV2 {
                garbageRunLength &+= 1
                index &+= 1
                continue
            }
            if garbageRunLength > 0 {
                body(.garbage(garbageRunLength))
                garbageRunLength = 0
            }
            let rest = UnsafeRawBufferPointer(rebasing: bytes[index...])
            if let length = MAVLinkFrameDecoder.declaredLength(rest), length <= rest.count {
                body(.frame(UnsafeRawBufferPointer(rebasing: rest[0..<length])))
                index &+= length
                continue
            }
            // The frame goes on in the next piece: hold what is here (less than a frame, so it fits).
            for offset in 0..<rest.count { pending[offset] = rest[offset] }
            pendingCount = rest.count
            index = count
        }
    }

    /// Ends the stream: reports a garbage run still open and a frame cut short, and resets.
    @inlinable
    public mutating func finish(_ body: (Event) -> Void) {
        if garbageRunLength > 0 {
            body(.garbage(garbageRunLength))
            garbageRunLength = 0
        }
        if pendingCount > 0 {
            body(.truncated(pendingCount))
            pendingCount = 0
        }
    }
}

// One datagram at a time: for replay, tests and any producer that does not batch.

extension PacketRing {
    /// Why ``PacketRing/push(bytes:source:timestamp:)`` refused a datagram before looking for room.
    public enum PushError: Error, Equatable, Sendable {
        /// The datagram is longer than the ring's ``PacketRing/datagramCapacity``.
        case datagramTooLong(byteCount: Int, datagramCapacity: Int)
        /// The source address is longer than ``PacketRing/sourceAddressCapacity`` (128) bytes.
        case sourceAddressTooLong(byteCount: Int)
    }

    /// Copies one datagram into the next free slot and publishes it.
    ///
    /// - Returns: `false` when the ring is full; nothing was written or overwritten, and the
    ///   caller counts the datagram as `dropped{ring_full}`.
    /// - Throws: ``PushError`` when the datagram or the address does not fit a slot; the caller
    ///   rejects and counts it. Checked before the ring's room, so the outcome for a given
    ///   datagram does not depend on how full the ring is.
    ///
    /// Producer thread only. Allocates nothing.
    @inlinable
    public func push(
        bytes: UnsafeRawBufferPointer, source: UnsafeRawBufferPointer, timestamp: UInt64
    ) throws(PushError) -> Bool {
        guard bytes.count <= datagramCapacity else {
            throw .datagramTooLong(byteCount: bytes.count, datagramCapacity: datagramCapacity)
        }
        guard source.count <= PacketRing.sourceAddressCapacity else {
            throw .sourceAddressTooLong(byteCount: source.count)
        }
        let slots = freeSlots(upTo: 1)
        guard slots.count == 1 else { return false }
        slots[0].store(bytes: bytes, source: source, timestamp: timestamp)
        publish(count: 1)
        return true
    }

    /// Hands the oldest filled slot to `body`, then releases it.
    ///
    /// - Returns: what `body` returned, or `nil` when the ring is empty (then `body` is not called).
    ///   If `body` throws, the slot is not released and the error is rethrown.
    ///
    /// The slot is valid only inside `body`: copy out what must outlive it. Consumer thread only.
    @inlinable
    public func pop<Result, Failure: Error>(
        _ body: (Slot) throws(Failure) -> Result
    ) throws(Failure) -> Result? {
        let slots = filledSlots(upTo: 1)
        guard slots.count == 1 else { return nil }
        let result = try body(slots[0])
        release(count: 1)
        return result
    }
}

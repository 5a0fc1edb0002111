// A bounded, lock-free, single-producer/single-consumer ring of fixed-size datagram slots.
// It sits between the receive thread (producer) and a batch processor (consumer). See the
// "PacketRing" section of docs/architecture.md for the design and the choice for several producers.

import Synchronization

/// A bounded lock-free ring of preallocated, fixed-size slots for UDP datagrams, for exactly one
/// producer thread and one consumer thread.
///
/// Each slot holds the datagram's bytes (up to ``datagramCapacity``), their count, the source
/// address as raw `sockaddr_storage` bytes (up to ``sourceAddressCapacity``) with its length, and a
/// receive timestamp in nanoseconds. All slots live in one contiguous allocation made by `init`;
/// nothing is allocated afterwards.
///
/// The batch API suits `recvmmsg`: the producer asks for up to N free slots
/// (``freeSlots(upTo:)``), fills some of them in place, and makes k of them visible with one
/// releasing store (``publish(count:)``); the consumer asks for up to N filled slots
/// (``filledSlots(upTo:)``), reads them in place, and hands k of them back with one releasing
/// store (``release(count:)``). ``push(bytes:source:timestamp:)`` and ``pop(_:)`` do the same one
/// slot at a time.
///
/// ## Indices
/// `writeIndex` (the tail) counts slots ever published; `readIndex` (the head) counts slots ever
/// released. Both only grow, with wrapping arithmetic (`&+`); the slot of index `i` is
/// `i & mask`, and `writeIndex &- readIndex` is the number of filled slots, which is correct even
/// after the indices wrap around `Int` because the capacity is a power of two far below `2^62`.
/// Invariant: `0 <= writeIndex &- readIndex <= capacity`.
///
/// ## Memory ordering
/// Each index has exactly one writer. The producer writes a slot's contents with plain stores and
/// then stores `writeIndex` with *release*; the consumer loads `writeIndex` with *acquire*, so every
/// slot below the value it loaded happens-before its reads of that slot (release/acquire
/// synchronises-with). Symmetrically, the consumer finishes reading slots and then stores
/// `readIndex` with *release*; the producer loads `readIndex` with *acquire* before it reuses those
/// slots, so the consumer's reads happen-before the producer's overwrites and no slot is written
/// while it is being read. A thread loads its *own* index with *relaxed* ordering: it is the only
/// writer, so it always sees its own latest store. Each side also keeps a *relaxed*, thread-private
/// copy of the other side's index (`cachedReadIndex`, `cachedWriteIndex`) and reloads the shared
/// one (with acquire) only when the copy says there is not enough room or data; the copy is stale
/// only in the safe direction (it under-states free and filled slots), and the acquire that
/// produced it is sequenced before every later use, so happens-before still holds. No sequentially
/// consistent operation is needed: no thread must order one of its stores before a load of a
/// *different* variable (no Dekker-style handshake); each direction communicates through one
/// variable.
///
/// ``count`` may be read from any thread (for metrics). It loads `readIndex` then `writeIndex`,
/// both with acquire, so the second load cannot move before the first; since `readIndex` never
/// passes `writeIndex`, the difference is never negative, and it is clamped to ``capacity`` in case
/// both sides moved between the two loads. It is a snapshot, not a synchronisation point.
///
/// ## Threading contract
/// At most one thread at a time may call the producer methods (``freeSlots(upTo:)``,
/// ``publish(count:)``, ``push(bytes:source:timestamp:)``) and at most one the consumer methods
/// (``filledSlots(upTo:)``, ``release(count:)``, ``pop(_:)``). Handing either role to another
/// thread needs a happens-before edge of its own (a thread join, a lock). ``Slot`` and ``Slots``
/// values point into the ring's storage: they are valid only while the ring is alive, and only
/// until the producer publishes (or the consumer releases) them.
///
/// ## Several producers
/// Use one ring per receive thread, drained round-robin by the consumer; docs/architecture.md
/// argues this against a ticketed multi-producer ring (Vyukov's bounded queue).
public final class PacketRing: @unchecked Sendable {
    // @unchecked Sendable: the only mutable shared state is the atomics; the slot storage is
    // handed between the two threads by the release/acquire protocol described above.

    /// Bytes reserved in every slot for the source address: the size of Linux's
    /// `sockaddr_storage`, so any address family `recvmmsg` returns fits.
    public static let sourceAddressCapacity = 128

    /// Default most bytes one slot's datagram can hold. Larger than any Skygate frame (1,076 bytes)
    /// and any MAVLink 2 frame (280 bytes), and than a 1,500-byte Ethernet MTU.
    public static let defaultDatagramCapacity = 2048

    /// Number of slots; a power of two.
    public let capacity: Int
    /// Most bytes of datagram one slot holds.
    public let datagramCapacity: Int

    @usableFromInline internal let mask: Int
    /// Bytes from one slot to the next in `storage`; a multiple of the 64-byte cache line.
    @usableFromInline internal let slotStride: Int
    /// The one allocation holding every slot, `capacity * slotStride` bytes, 64-byte aligned.
    @usableFromInline internal let storage: UnsafeMutableRawPointer

    // Padding keeps the read-only fields above, the producer's fields and the consumer's fields on
    // separate cache lines (128 bytes: adjacent-line prefetchers fetch lines in pairs), so the two
    // threads do not invalidate each other's lines on every index store. Swift lays out a final
    // class's stored properties in declaration order.
    @usableFromInline internal let padding0: CacheLinePair = zeroCacheLinePair

    /// Slots ever published (the tail). Written only by the producer (release); read by the
    /// consumer and by `count` (acquire) and by the producer itself (relaxed).
    @usableFromInline internal let writeIndex = Atomic<Int>(0)
    /// The producer's private copy of `readIndex`, refreshed only when the ring looks full.
    @usableFromInline internal let cachedReadIndex = Atomic<Int>(0)

    @usableFromInline internal let padding1: CacheLinePair = zeroCacheLinePair

    /// Slots ever released (the head). Written only by the consumer (release); read by the
    /// producer and by `count` (acquire) and by the consumer itself (relaxed).
    @usableFromInline internal let readIndex = Atomic<Int>(0)
    /// The consumer's private copy of `writeIndex`, refreshed only when the ring looks empty.
    @usableFromInline internal let cachedWriteIndex = Atomic<Int>(0)

    @usableFromInline internal let padding2: CacheLinePair = zeroCacheLinePair

    /// Creates a ring and allocates (and touches) all of its slots.
    ///
    /// - Parameters:
    ///   - capacity: number of slots; a power of two from 1 to 2^24.
    ///   - datagramCapacity: most bytes of datagram per slot, 1 to 65,536. A longer datagram is
    ///     the producer's to reject: `push` throws, and `recvmmsg` truncates it to this length and
    ///     sets `MSG_TRUNC`, which the producer records in ``Slot/isTruncated``.
    public init(capacity: Int, datagramCapacity: Int = PacketRing.defaultDatagramCapacity) {
        precondition(capacity >= 1 && capacity <= 1 << 24, "ring capacity \(capacity) is not in 1...2^24")
        precondition(capacity & (capacity - 1) == 0, "ring capacity \(capacity) is not a power of two")
        precondition(
            datagramCapacity >= 1 && datagramCapacity <= 65_536,
            "datagram capacity \(datagramCapacity) is not in 1...65536"
        )
        self.capacity = capacity
        self.datagramCapacity = datagramCapacity
        self.mask = capacity - 1
        let unpadded = Slot.datagramOffset + datagramCapacity
        self.slotStride = (unpadded + cacheLineSize - 1) & ~(cacheLineSize - 1)
        let (byteCount, overflow) = capacity.multipliedReportingOverflow(by: slotStride)
        precondition(!overflow, "ring of \(capacity) slots of \(slotStride) bytes overflows Int")
        self.storage = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: cacheLineSize)
        // Zeroing touches every page now, so the resident size is fixed from start-up.
        self.storage.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
    }

    deinit {
        storage.deallocate()
    }

    /// Filled slots: published and not yet released (the ring's depth). Safe to read from any
    /// thread; a snapshot in `0...capacity`, exact when neither side is running.
    @inlinable
    public var count: Int {
        let read = readIndex.load(ordering: .acquiring)
        let write = writeIndex.load(ordering: .acquiring)
        return min(max(write &- read, 0), capacity)
    }

    /// Whether no slot is filled; a snapshot, like ``count``.
    @inlinable
    public var isEmpty: Bool { count == 0 }

    // MARK: Producer

    /// Up to `maxCount` free slots for the producer to fill in place; fewer (possibly none) when
    /// the ring has less room. Nothing is visible to the consumer until ``publish(count:)``.
    ///
    /// Calling it again before publishing returns the same slots again (and possibly more).
    /// Producer thread only.
    @inlinable
    public func freeSlots(upTo maxCount: Int) -> Slots {
        precondition(maxCount >= 0, "asked for \(maxCount) slots")
        let write = writeIndex.load(ordering: .relaxed)
        var free = capacity &- (write &- cachedReadIndex.load(ordering: .relaxed))
        if free < maxCount {
            // Acquire: the consumer's reads of the slots it released happen-before our writes.
            let read = readIndex.load(ordering: .acquiring)
            cachedReadIndex.store(read, ordering: .relaxed)
            free = capacity &- (write &- read)
        }
        return makeSlots(firstIndex: write, count: min(free, maxCount))
    }

    /// Makes the first `count` slots returned by ``freeSlots(upTo:)`` visible to the consumer,
    /// with one releasing store. `count` may be fewer than were returned: the rest stay free.
    /// Producer thread only.
    @inlinable
    public func publish(count: Int) {
        let write = writeIndex.load(ordering: .relaxed)
        let free = capacity &- (write &- cachedReadIndex.load(ordering: .relaxed))
        precondition(count >= 0 && count <= free, "publishing \(count) slots with \(free) known free")
        // Release: our writes to these slots happen-before the consumer's acquiring load sees them.
        writeIndex.store(write &+ count, ordering: .releasing)
    }

    // MARK: Consumer

    /// Up to `maxCount` filled slots, oldest first, for the consumer to read in place; fewer
    /// (possibly none) when fewer are filled. They stay filled until ``release(count:)``.
    /// Consumer thread only.
    @inlinable
    public func filledSlots(upTo maxCount: Int) -> Slots {
        precondition(maxCount >= 0, "asked for \(maxCount) slots")
        let read = readIndex.load(ordering: .relaxed)
        var filled = cachedWriteIndex.load(ordering: .relaxed) &- read
        if filled < maxCount {
            // Acquire: the producer's writes to the slots it published happen-before our reads.
            let write = writeIndex.load(ordering: .acquiring)
            cachedWriteIndex.store(write, ordering: .relaxed)
            filled = write &- read
        }
        return makeSlots(firstIndex: read, count: min(filled, maxCount))
    }

    /// Hands the first `count` slots returned by ``filledSlots(upTo:)`` back to the producer, with
    /// one releasing store. Their contents must not be read afterwards. Consumer thread only.
    @inlinable
    public func release(count: Int) {
        let read = readIndex.load(ordering: .relaxed)
        let filled = cachedWriteIndex.load(ordering: .relaxed) &- read
        precondition(count >= 0 && count <= filled, "releasing \(count) slots with \(filled) known filled")
        // Release: our reads of these slots happen-before the producer's acquiring load reuses them.
        readIndex.store(read &+ count, ordering: .releasing)
    }

    // MARK: Slot addressing

    /// A view of `count` slots from ring index `firstIndex` on. It holds raw pointers, not the
    /// ring, so making one costs no reference counting.
    @inlinable
    internal func makeSlots(firstIndex: Int, count: Int) -> Slots {
        Slots(
            storage: storage, slotStride: slotStride, mask: mask, datagramCapacity: datagramCapacity,
            firstIndex: firstIndex, count: count
        )
    }
}

/// Bytes in a cache line on the machines Skygate runs on (x86-64, arm64).
@usableFromInline internal let cacheLineSize = 64

/// 128 bytes of padding: two cache lines.
@usableFromInline internal typealias CacheLinePair = (
    UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
    UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64
)

@usableFromInline internal let zeroCacheLinePair: CacheLinePair = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

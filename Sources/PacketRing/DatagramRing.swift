// A bounded, lock-free, single-producer/single-consumer byte ring of variable-length datagram
// records: the gateway's hand-off from the receive thread (and from HTTP ingest, and to the
// recorder) to the thread behind it. See docs/performance.md, "Memory footprint", for why it
// replaced the fixed-slot ring those paths had before (docs/architecture.md, "PacketRing").

import Glibc
import Synchronization

/// A bounded lock-free ring of datagrams stored by their size, for exactly one producer thread and
/// one consumer thread.
///
/// A fixed-slot ring must give every slot room for the largest datagram (2,048 bytes and a
/// 128-byte address), while the datagrams a gateway sees are mostly 60 to 300 bytes from an
/// IPv4 or IPv6 sender: most of such a ring is never written. This ring stores each datagram as
/// one record of exactly the bytes it needs (rounded to 8), so the same burst fits in a fraction
/// of the memory. All of it is one mapping made by `init`; nothing is allocated afterwards. Its
/// pages become resident as records first reach them.
///
/// ## Records
/// A record starts on an 8-byte boundary and never wraps around the end of the storage:
/// `0` record bytes `UInt32` (the stride to the next record, a multiple of 8, at least
/// ``recordHeaderBytes``) · `4` datagram byte count `UInt32` · `8` receive timestamp `UInt64` ·
/// `16` source address length `UInt8` · `17` flags `UInt8` (bit 0: truncated) · `18` framed
/// `UInt8` (the consumer's verdict, below) · `19` unused ·
/// `24` source address bytes, padded to 8 · then the datagram bytes, padded to 8.
/// When a record does not fit before the end of the storage, the producer writes a *wrap marker*
/// (record bytes `0`, which needs only the 4 bytes that any tail of 8 or more has) and puts the
/// record at the start of the storage; the consumer skips from a marker to the start. The wasted
/// tail is shorter than one record, so a ring of at least two of the largest records always has
/// room for the largest once it is empty.
///
/// ## Indices and memory ordering
/// In bytes: `writeOffset` counts bytes ever published,
/// `readOffset` bytes ever released; both only grow (`&+`), and `offset & mask` is the position
/// in the storage. Invariant: `0 <= writeOffset &- readOffset <= byteCapacity`. The producer
/// writes records with plain stores, then stores `writeOffset` with *release*; the consumer loads
/// it with *acquire* before reading records below it. The consumer stores `readOffset` with
/// *release* after it is done with the records below it; the producer loads it with *acquire*
/// (only when its cached copy says there is not enough room) before overwriting them. Record
/// counts (`recordsPublished`, `recordsReleased`) are kept beside the offsets for ``count``;
/// they carry no synchronisation.
///
/// ## Producing in batches
/// ``append(datagram:source:timestamp:isTruncated:)`` copies a record in without making it
/// visible; ``publish()`` makes every appended record visible with one releasing store, and
/// ``discardAppended()`` forgets them (all-or-nothing hand-offs such as an HTTP body). A
/// `recvmmsg` producer receives a batch into its own scratch area and appends each datagram: one
/// copy of the bytes received, in exchange for never reserving the largest size per datagram.
///
/// ## Threading contract
/// At most one thread at a time may call the producer methods (`append`, `publish`,
/// `discardAppended`, `push`) and at most one the consumer methods (``filledRecords(upTo:)``,
/// ``release(count:)``). ``Record`` and ``Records`` point into the storage: valid only while the
/// ring is alive and until the consumer releases them. ``count``, ``bytesUsed`` may be read
/// from any thread.
public final class DatagramRing: @unchecked Sendable {
    // @unchecked Sendable: the shared mutable state is the atomics; the storage is handed between
    // the two threads by the release/acquire protocol described above.

    /// Bytes of a record before its source address.
    public static let recordHeaderBytes = 24
    /// Most bytes of source address a record holds (a `sockaddr_storage`).
    public static let sourceAddressCapacity = 128

    /// Bytes of storage; a power of two.
    public let byteCapacity: Int
    /// Most bytes of datagram one record holds.
    public let datagramCapacity: Int

    @usableFromInline internal let mask: Int
    /// The one allocation, `byteCapacity` bytes, 64-byte aligned.
    @usableFromInline internal let storage: UnsafeMutableRawPointer

    // Padding keeps the read-only fields, the producer's and the consumer's on separate pairs of
    // cache lines (`CacheLinePair`).
    @usableFromInline internal let padding0: CacheLinePair = zeroCacheLinePair

    /// Bytes ever published. Written by the producer (release), read by the consumer (acquire).
    @usableFromInline internal let writeOffset = Atomic<Int>(0)
    /// Records ever published, for ``count``.
    @usableFromInline internal let recordsPublished = Atomic<Int>(0)
    /// Producer-private: the end of the appended (not yet published) records.
    @usableFromInline internal let appendOffset = Atomic<Int>(0)
    /// Producer-private: records appended and not yet published.
    @usableFromInline internal let recordsAppended = Atomic<Int>(0)
    /// Producer-private copy of `readOffset`, refreshed only when the ring looks full.
    @usableFromInline internal let cachedReadOffset = Atomic<Int>(0)

    @usableFromInline internal let padding1: CacheLinePair = zeroCacheLinePair

    /// Bytes ever released. Written by the consumer (release), read by the producer (acquire).
    @usableFromInline internal let readOffset = Atomic<Int>(0)
    /// Records ever released, for ``count``.
    @usableFromInline internal let recordsReleased = Atomic<Int>(0)

    @usableFromInline internal let padding2: CacheLinePair = zeroCacheLinePair

    /// Bytes a record of a datagram of `datagramBytes` from a source of `sourceBytes` takes.
    @inlinable
    public static func recordBytes(datagramBytes: Int, sourceBytes: Int) -> Int {
        roundedUp(recordHeaderBytes + roundedUp(sourceBytes) + datagramBytes)
    }

    /// Smallest storage for `datagramCapacity`: two of the largest records (one may be wasted
    /// as the tail before a wrap), rounded up to a power of two.
    public static func byteCapacityMin(datagramCapacity: Int) -> Int {
        let largest = recordBytes(datagramBytes: datagramCapacity, sourceBytes: sourceAddressCapacity)
        var capacity = 64
        while capacity < 2 * largest { capacity <<= 1 }
        return capacity
    }

    /// Creates a ring and allocates all of its storage.
    ///
    /// - Parameters:
    ///   - byteCapacity: bytes of storage; a power of two, at least
    ///     ``byteCapacityMin(datagramCapacity:)``, at most 2^32.
    ///   - datagramCapacity: most bytes of datagram per record, 1 to 65,536.
    public init(byteCapacity: Int, datagramCapacity: Int) {
        precondition(
            datagramCapacity >= 1 && datagramCapacity <= 65_536, "datagram capacity \(datagramCapacity) is not in 1...65536")
        precondition(byteCapacity & (byteCapacity - 1) == 0 && byteCapacity <= 1 << 32, "ring of \(byteCapacity) bytes")
        precondition(
            byteCapacity >= Self.byteCapacityMin(datagramCapacity: datagramCapacity),
            "ring of \(byteCapacity) bytes holds fewer than two records of \(datagramCapacity) bytes")
        self.byteCapacity = byteCapacity
        self.datagramCapacity = datagramCapacity
        self.mask = byteCapacity - 1
        // Its own anonymous mapping: the kernel gives each page, zeroed, when a record first reaches
        // it, so an idle gateway holds none of it (what `Telemetry.ZeroPages` does for the other
        // start-up buffers; this target imports nothing of Skygate's).
        let address = mmap(nil, byteCapacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let address, address != MAP_FAILED else { fatalError("mmap of a \(byteCapacity)-byte ring failed (errno \(errno))") }
        self.storage = address
    }

    deinit {
        munmap(storage, byteCapacity)
    }

    /// Bytes allocated by `init` (the storage; the indices are a few cache lines more).
    public var allocatedBytes: Int { byteCapacity }

    /// Records published and not yet released (the ring's depth in datagrams); a snapshot from
    /// any thread.
    @inlinable
    public var count: Int {
        let released = recordsReleased.load(ordering: .acquiring)
        let published = recordsPublished.load(ordering: .acquiring)
        return max(published &- released, 0)
    }

    /// Bytes published and not yet released, wrap tails included; a snapshot from any thread.
    @inlinable
    public var bytesUsed: Int {
        let read = readOffset.load(ordering: .acquiring)
        let write = writeOffset.load(ordering: .acquiring)
        return min(max(write &- read, 0), byteCapacity)
    }

    /// Whether no record is waiting; a snapshot, like ``count``.
    @inlinable
    public var isEmpty: Bool { bytesUsed == 0 }

    // MARK: Producer

    /// Why ``push(bytes:source:timestamp:)`` refused a datagram before looking for room.
    public enum PushError: Error, Equatable, Sendable {
        /// The datagram is longer than the ring's ``datagramCapacity``.
        case datagramTooLong(byteCount: Int, datagramCapacity: Int)
        /// The source address is longer than ``sourceAddressCapacity`` (128) bytes.
        case sourceAddressTooLong(byteCount: Int)
    }

    /// Copies one datagram, its source address and its receive time into the ring, not yet
    /// visible to the consumer (``publish()`` makes it so).
    ///
    /// The datagram must fit (`datagram.count <= datagramCapacity`) and so must the address
    /// (`source.count <= 128`): callers check first (``push(bytes:source:timestamp:)`` does).
    /// - Returns: `false` when the ring has no room for it; nothing was written, and the caller
    ///   counts the datagram as `dropped{ring_full}`.
    ///
    /// Producer thread only. Allocates nothing.
    @inlinable
    public func append(
        datagram: UnsafeRawBufferPointer, source: UnsafeRawBufferPointer, timestamp: UInt64, isTruncated: Bool = false
    ) -> Bool {
        precondition(datagram.count <= datagramCapacity, "datagram of \(datagram.count) bytes in a ring of \(datagramCapacity)")
        precondition(source.count <= Self.sourceAddressCapacity, "source address of \(source.count) bytes")
        let stride = Self.recordBytes(datagramBytes: datagram.count, sourceBytes: source.count)
        let start = appendOffset.load(ordering: .relaxed)
        let position = start & mask
        let tail = byteCapacity &- position
        let needed = tail < stride ? tail &+ stride : stride
        var free = byteCapacity &- (start &- cachedReadOffset.load(ordering: .relaxed))
        if free < needed {
            // Acquire: the consumer's reads of what it released happen-before our overwrites.
            let read = readOffset.load(ordering: .acquiring)
            cachedReadOffset.store(read, ordering: .relaxed)
            free = byteCapacity &- (start &- read)
        }
        guard free >= needed else { return false }
        var recordStart = start
        if tail < stride {
            // Wrap marker: the tail is at least 8 bytes (offsets and the capacity are multiples of 8).
            storage.storeBytes(of: UInt32(0), toByteOffset: position, as: UInt32.self)
            recordStart = start &+ tail
        }
        let base = storage + (recordStart & mask)
        base.storeBytes(of: UInt32(truncatingIfNeeded: stride), toByteOffset: 0, as: UInt32.self)
        base.storeBytes(of: UInt32(truncatingIfNeeded: datagram.count), toByteOffset: 4, as: UInt32.self)
        base.storeBytes(of: timestamp, toByteOffset: 8, as: UInt64.self)
        base.storeBytes(of: UInt8(truncatingIfNeeded: source.count), toByteOffset: 16, as: UInt8.self)
        base.storeBytes(of: UInt8(isTruncated ? 1 : 0), toByteOffset: 17, as: UInt8.self)
        base.storeBytes(of: UInt8(0), toByteOffset: 18, as: UInt8.self)
        if let from = source.baseAddress, source.count > 0 {
            (base + Self.recordHeaderBytes).copyMemory(from: from, byteCount: source.count)
        }
        if let from = datagram.baseAddress, datagram.count > 0 {
            (base + Self.recordHeaderBytes + Self.roundedUp(source.count)).copyMemory(from: from, byteCount: datagram.count)
        }
        appendOffset.store(recordStart &+ stride, ordering: .relaxed)
        recordsAppended.store(recordsAppended.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        return true
    }

    /// Makes every appended record visible to the consumer with one releasing store.
    /// Producer thread only.
    @inlinable
    public func publish() {
        let appended = recordsAppended.load(ordering: .relaxed)
        guard appended > 0 else { return }
        recordsPublished.store(recordsPublished.load(ordering: .relaxed) &+ appended, ordering: .releasing)
        recordsAppended.store(0, ordering: .relaxed)
        // Release: the records' bytes happen-before the consumer's acquiring load sees them.
        writeOffset.store(appendOffset.load(ordering: .relaxed), ordering: .releasing)
    }

    /// Forgets every appended, unpublished record (the consumer never sees them). Producer only.
    @inlinable
    public func discardAppended() {
        appendOffset.store(writeOffset.load(ordering: .relaxed), ordering: .relaxed)
        recordsAppended.store(0, ordering: .relaxed)
    }

    /// Appends and publishes one datagram.
    ///
    /// - Returns: `false` when the ring is full (nothing written; the caller counts the datagram
    ///   as `dropped{ring_full}`).
    /// - Throws: ``PushError`` when the datagram or the address is too long, checked before the
    ///   ring's room, so the outcome for a given datagram does not depend on how full the ring is.
    ///
    /// Producer thread only; publishes whatever else was appended before it too.
    @inlinable
    public func push(
        bytes: UnsafeRawBufferPointer, source: UnsafeRawBufferPointer, timestamp: UInt64
    ) throws(PushError) -> Bool {
        guard bytes.count <= datagramCapacity else {
            throw .datagramTooLong(byteCount: bytes.count, datagramCapacity: datagramCapacity)
        }
        guard source.count <= Self.sourceAddressCapacity else {
            throw .sourceAddressTooLong(byteCount: source.count)
        }
        guard append(datagram: bytes, source: source, timestamp: timestamp) else { return false }
        publish()
        return true
    }

    // MARK: Consumer

    /// Up to `maxCount` published records, oldest first, to read in place; fewer (possibly none)
    /// when fewer are waiting. They stay in the ring until ``release(count:)``.
    /// Consumer thread only.
    @inlinable
    public func filledRecords(upTo maxCount: Int) -> Records {
        precondition(maxCount >= 0, "asked for \(maxCount) records")
        let read = readOffset.load(ordering: .relaxed)
        // Acquire: the producer's writes below `write` happen-before our reads of them.
        let write = writeOffset.load(ordering: .acquiring)
        let (end, count) = walk(from: read, limit: write, records: maxCount)
        return Records(storage: storage, mask: mask, byteCapacity: byteCapacity, start: read, end: end, count: count)
    }

    /// Hands the first `count` records returned by ``filledRecords(upTo:)`` back to the producer
    /// with one releasing store. They must not be read afterwards. Consumer thread only.
    @inlinable
    public func release(count: Int) {
        precondition(count >= 0, "releasing \(count) records")
        guard count > 0 else { return }
        let read = readOffset.load(ordering: .relaxed)
        let write = writeOffset.load(ordering: .acquiring)
        let (end, walked) = walk(from: read, limit: write, records: count)
        precondition(walked == count, "releasing \(count) records with \(walked) published")
        recordsReleased.store(recordsReleased.load(ordering: .relaxed) &+ count, ordering: .releasing)
        // Release: our reads of these records happen-before the producer's overwrites.
        readOffset.store(end, ordering: .releasing)
    }

    /// Steps over up to `records` records from offset `start`, skipping wrap markers, never past
    /// `limit`. Returns the offset after the last record stepped over and how many there were.
    /// Bounded: every step advances at least 8 bytes, and `limit &- start <= byteCapacity`.
    @inlinable
    internal func walk(from start: Int, limit: Int, records: Int) -> (end: Int, count: Int) {
        var offset = start
        var count = 0
        while count < records && limit &- offset > 0 {
            let position = offset & mask
            let stride = Int(storage.load(fromByteOffset: position, as: UInt32.self))
            if stride == 0 {
                offset &+= byteCapacity &- position
                continue
            }
            precondition(stride >= Self.recordHeaderBytes && stride & 7 == 0, "damaged record of \(stride) bytes")
            offset &+= stride
            count += 1
        }
        return (offset, count)
    }

    @inlinable
    internal static func roundedUp(_ bytes: Int) -> Int { (bytes &+ 7) & ~7 }
}

extension DatagramRing {
    /// One record: a view into the ring's storage, valid until the consumer releases it.
    public struct Record {
        @usableFromInline internal let base: UnsafeMutableRawPointer

        @inlinable
        internal init(base: UnsafeMutableRawPointer) { self.base = base }

        /// When the datagram was received, in nanoseconds on the producer's clock.
        @inlinable
        public var receiveTimestampNanoseconds: UInt64 { base.load(fromByteOffset: 8, as: UInt64.self) }

        /// Bytes of datagram, `0...datagramCapacity`.
        @inlinable
        public var byteCount: Int { Int(base.load(fromByteOffset: 4, as: UInt32.self)) }

        /// Whether the datagram was longer than the producer's buffer and only its first bytes
        /// were kept (`recvmmsg`'s `MSG_TRUNC`): the consumer rejects it as `oversized`.
        @inlinable
        public var isTruncated: Bool { base.load(fromByteOffset: 17, as: UInt8.self) & 1 != 0 }

        /// Bytes of source address, `0...128`.
        @inlinable
        public var sourceAddressLength: Int { Int(base.load(fromByteOffset: 16, as: UInt8.self)) }

        /// Whether the consumer found at least one intact frame in the datagram (whatever it then
        /// decided about the frame): set by the batch processor for each record it takes, read by
        /// the flight recorder's tap before the records are released, so a flood of datagrams
        /// that do not frame never reaches a recording (docs/security.md). Consumer only;
        /// `append` clears it.
        @inlinable
        public var isFramed: Bool {
            get { base.load(fromByteOffset: 18, as: UInt8.self) != 0 }
            nonmutating set { base.storeBytes(of: UInt8(newValue ? 1 : 0), toByteOffset: 18, as: UInt8.self) }
        }

        /// The datagram's bytes.
        @inlinable
        public var datagram: UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: base + DatagramRing.recordHeaderBytes + DatagramRing.roundedUp(sourceAddressLength), count: byteCount)
        }

        /// The source address's bytes (a `sockaddr`, or whatever form the producer chose).
        @inlinable
        public var sourceAddress: UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: base + DatagramRing.recordHeaderBytes, count: sourceAddressLength)
        }
    }

    /// A run of consecutive records, oldest first, possibly wrapping around the end of the
    /// storage. A sequence (records have no fixed stride), with its ``count`` known up front.
    public struct Records: Sequence {
        @usableFromInline internal let storage: UnsafeMutableRawPointer
        @usableFromInline internal let mask: Int
        @usableFromInline internal let byteCapacity: Int
        @usableFromInline internal let start: Int
        @usableFromInline internal let end: Int
        /// Records in the run.
        public let count: Int

        @inlinable
        internal init(storage: UnsafeMutableRawPointer, mask: Int, byteCapacity: Int, start: Int, end: Int, count: Int) {
            self.storage = storage
            self.mask = mask
            self.byteCapacity = byteCapacity
            self.start = start
            self.end = end
            self.count = count
        }

        @inlinable public var isEmpty: Bool { count == 0 }
        @inlinable public var underestimatedCount: Int { count }

        @inlinable
        public func makeIterator() -> Iterator {
            Iterator(storage: storage, mask: mask, byteCapacity: byteCapacity, offset: start, remaining: count)
        }

        public struct Iterator: IteratorProtocol {
            @usableFromInline internal let storage: UnsafeMutableRawPointer
            @usableFromInline internal let mask: Int
            @usableFromInline internal let byteCapacity: Int
            @usableFromInline internal var offset: Int
            @usableFromInline internal var remaining: Int

            @inlinable
            internal init(storage: UnsafeMutableRawPointer, mask: Int, byteCapacity: Int, offset: Int, remaining: Int) {
                self.storage = storage
                self.mask = mask
                self.byteCapacity = byteCapacity
                self.offset = offset
                self.remaining = remaining
            }

            @inlinable
            public mutating func next() -> Record? {
                guard remaining > 0 else { return nil }
                var position = offset & mask
                var stride = Int(storage.load(fromByteOffset: position, as: UInt32.self))
                if stride == 0 {
                    // A wrap marker: the record is at the start of the storage.
                    offset &+= byteCapacity &- position
                    position = 0
                    stride = Int(storage.load(fromByteOffset: 0, as: UInt32.self))
                }
                offset &+= stride
                remaining -= 1
                return Record(base: storage + position)
            }
        }
    }
}

/// Bytes in a cache line on the machines Skygate runs on (x86-64, arm64).
@usableFromInline internal let cacheLineSize = 64

/// 128 bytes of padding: two cache lines (a pair, so adjacent-line prefetch does not pull one
/// side's index into the other side's cache either).
@usableFromInline internal typealias CacheLinePair = (
    UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
    UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64
)

@usableFromInline internal let zeroCacheLinePair: CacheLinePair = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

// Test items derived from an index, a checksum over them, and a bounded spin-then-yield backoff.

import PacketRing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A test datagram, its source address and its timestamp, all derived from one index, so any
/// thread can rebuild (or check) item `i` without sharing memory with the thread that made it.
/// Lengths vary with the index so that byte counts are exercised, not just contents.
enum TestItem {
    /// Scratch capacities: the longest item rounded up to whole words.
    static let datagramCapacityMax = 40
    static let sourceCapacityMax = 32

    /// Writes item `index`'s datagram into `buffer` (which holds at least 40 bytes); returns its
    /// length, 8...36 bytes, odd lengths included. The first eight bytes are the index,
    /// little-endian, so the consumer can tell which item it got; the rest are derived from it.
    /// Whole words are written (the bytes past the length are scratch), which keeps this cheap
    /// in a debug build.
    static func writeDatagram(_ index: Int, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let length = 8 + index % 29
        let seed = UInt64(truncatingIfNeeded: index)
        buffer.storeBytes(of: seed.littleEndian, toByteOffset: 0, as: UInt64.self)
        var offset = 8
        while offset < length {
            let word = (seed &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(offset)
            buffer.storeBytes(of: word, toByteOffset: offset, as: UInt64.self)
            offset += 8
        }
        return length
    }

    /// Writes item `index`'s source address into `buffer` (which holds at least 32 bytes); returns
    /// its length (16 or 28 bytes, the sizes of `sockaddr_in` and `sockaddr_in6`).
    static func writeSource(_ index: Int, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let length = index & 1 == 0 ? 16 : 28
        let seed = UInt64(truncatingIfNeeded: index) &* 0xBF58_476D_1CE4_E5B9
        var offset = 0
        while offset < length {
            buffer.storeBytes(of: seed ^ UInt64(offset), toByteOffset: offset, as: UInt64.self)
            offset += 8
        }
        return length
    }

    static func timestamp(_ index: Int) -> UInt64 {
        UInt64(truncatingIfNeeded: index) &* 1_000_003 &+ 17
    }

    /// The index carried in the first eight bytes of a slot's datagram.
    static func index(of slot: PacketRing.Slot) -> Int {
        precondition(slot.byteCount >= 8)
        return Int(truncatingIfNeeded: UInt64(littleEndian: slot.datagram.loadUnaligned(as: UInt64.self)))
    }

    /// Whether `slot` holds exactly item `index`: every byte, both lengths and the timestamp.
    static func matches(_ slot: PacketRing.Slot, index: Int, scratch: Scratch) -> Bool {
        let datagramLength = writeDatagram(index, into: scratch.datagram)
        let sourceLength = writeSource(index, into: scratch.source)
        return slot.byteCount == datagramLength
            && slot.sourceAddressLength == sourceLength
            && slot.receiveTimestampNanoseconds == timestamp(index)
            && !slot.isTruncated
            && memcmp(slot.datagram.baseAddress!, scratch.datagram.baseAddress!, datagramLength) == 0
            && memcmp(slot.sourceAddress.baseAddress!, scratch.source.baseAddress!, sourceLength) == 0
    }

    /// Pushes item `index` through the single-slot API.
    static func push(_ index: Int, into ring: PacketRing, scratch: Scratch) throws -> Bool {
        let datagramLength = writeDatagram(index, into: scratch.datagram)
        let sourceLength = writeSource(index, into: scratch.source)
        return try ring.push(
            bytes: UnsafeRawBufferPointer(rebasing: scratch.datagram[..<datagramLength]),
            source: UnsafeRawBufferPointer(rebasing: scratch.source[..<sourceLength]),
            timestamp: timestamp(index)
        )
    }

    /// Fills `slot` in place with item `index`, as a `recvmmsg` producer would.
    static func fill(_ slot: PacketRing.Slot, index: Int) {
        precondition(slot.datagramCapacity >= datagramCapacityMax)
        slot.byteCount = writeDatagram(index, into: slot.datagramBuffer)
        slot.sourceAddressLength = writeSource(index, into: slot.sourceAddressBuffer)
        slot.receiveTimestampNanoseconds = timestamp(index)
        slot.isTruncated = false
    }
}

/// Per-thread scratch buffers, allocated once, so building items costs no allocation per item.
final class Scratch {
    let datagram = UnsafeMutableRawBufferPointer.allocate(byteCount: TestItem.datagramCapacityMax, alignment: 8)
    let source = UnsafeMutableRawBufferPointer.allocate(byteCount: TestItem.sourceCapacityMax, alignment: 8)
    deinit {
        datagram.deallocate()
        source.deallocate()
    }
}

/// An order-sensitive FNV-1a-style hash over every byte, length and timestamp of the items it sees.
/// The producer feeds it what it pushed, the consumer what it popped; equal sums mean the same
/// items arrived intact and in the same order.
struct Checksum: Equatable {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func add(_ word: UInt64) {
        value = (value ^ word) &* 0x0000_0100_0000_01B3
    }

    /// Adds the length, then every whole word, then the remaining bytes one by one.
    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        add(UInt64(bytes.count))
        var offset = 0
        while offset + 8 <= bytes.count {
            add(bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            offset += 8
        }
        while offset < bytes.count {
            add(UInt64(bytes[offset]))
            offset += 1
        }
    }

    mutating func add(_ slot: PacketRing.Slot) {
        add(slot.datagram)
        add(slot.sourceAddress)
        add(slot.receiveTimestampNanoseconds)
    }
}

/// Spins a bounded number of times, then yields the processor, so a waiting thread never starves
/// the thread it waits for on a busy two-core machine.
struct Backoff {
    private var spins = 0

    mutating func pause() {
        spins += 1
        if spins > 256 { sched_yield() }
    }

    mutating func reset() { spins = 0 }
}

extension Checksum {
    /// Adds item `index` as the producer made it (the same fields, in the same order, as
    /// `add(_ slot:)` reads back from a slot).
    mutating func addItem(_ index: Int, scratch: Scratch) {
        let datagramLength = TestItem.writeDatagram(index, into: scratch.datagram)
        let sourceLength = TestItem.writeSource(index, into: scratch.source)
        add(UnsafeRawBufferPointer(rebasing: scratch.datagram[..<datagramLength]))
        add(UnsafeRawBufferPointer(rebasing: scratch.source[..<sourceLength]))
        add(TestItem.timestamp(index))
    }
}

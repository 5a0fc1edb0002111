import Foundation
import Synchronization
import Testing
@testable import PacketRing

/// The byte ring of variable-length records, from memory: every record size from empty to the
/// largest goes in and comes out byte for byte across many wrap-arounds; a full ring refuses
/// without overwriting and takes again once room is released; oversized input is refused before
/// the ring is looked at; unpublished records stay invisible and can be discarded; random
/// operation sequences agree with a plain array model; and two threads hand 300,000 records
/// of mixed sizes over without loss, duplication, reordering or tearing.
@Suite("DatagramRing")
struct DatagramRingTests {
    /// A small deterministic generator (SplitMix64), so a failure replays from its seed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Record `index`'s datagram: `length` bytes derived from the index.
    static func datagram(_ index: Int, length: Int) -> [UInt8] {
        (0..<length).map { UInt8(truncatingIfNeeded: index &* 31 &+ $0 &* 7 &+ 1) }
    }

    /// Record `index`'s source address: 0, 6, 16, 28 or 128 bytes (none, portable, IPv4, IPv6, storage).
    static func source(_ index: Int) -> [UInt8] {
        let lengths = [0, 6, 16, 28, 128]
        return (0..<lengths[index % lengths.count]).map { UInt8(truncatingIfNeeded: index &+ $0 &* 3) }
    }

    static func append(_ ring: DatagramRing, index: Int, length: Int, truncated: Bool = false) -> Bool {
        let bytes = datagram(index, length: length)
        let address = source(index)
        return bytes.withUnsafeBytes { datagram in
            address.withUnsafeBytes { source in
                ring.append(datagram: datagram, source: source, timestamp: UInt64(index) &* 1_000_003, isTruncated: truncated)
            }
        }
    }

    static func matches(_ record: DatagramRing.Record, index: Int, length: Int, truncated: Bool = false) -> Bool {
        Array(record.datagram) == datagram(index, length: length) && Array(record.sourceAddress) == source(index)
            && record.receiveTimestampNanoseconds == UInt64(index) &* 1_000_003 && record.isTruncated == truncated
            && record.byteCount == length && record.sourceAddressLength == source(index).count
    }

    @Test("Records of every size from 0 to the largest round-trip, through many wrap-arounds")
    func everySize() {
        let capacity = 2_048
        let ring = DatagramRing(byteCapacity: DatagramRing.byteCapacityMin(datagramCapacity: capacity), datagramCapacity: capacity)
        var wrongRecords = 0
        // One at a time, so each record lands wherever the previous one left the offset: every
        // size meets a different tail, and the ring of ~4.5 records wraps hundreds of times.
        for length in 0...capacity {
            #expect(Self.append(ring, index: length, length: length, truncated: length % 5 == 0))
            ring.publish()
            let records = ring.filledRecords(upTo: 4)
            #expect(records.count == 1)
            for record in records where !Self.matches(record, index: length, length: length, truncated: length % 5 == 0) {
                wrongRecords += 1
            }
            ring.release(count: records.count)
            #expect(ring.isEmpty && ring.count == 0)
        }
        #expect(wrongRecords == 0)
    }

    @Test("Record bytes: a 24-byte header, the address rounded to 8, the datagram, all rounded to 8")
    func recordBytes() {
        #expect(DatagramRing.recordBytes(datagramBytes: 0, sourceBytes: 0) == 24)
        #expect(DatagramRing.recordBytes(datagramBytes: 60, sourceBytes: 16) == 104)
        #expect(DatagramRing.recordBytes(datagramBytes: 60, sourceBytes: 6) == 96)
        #expect(DatagramRing.recordBytes(datagramBytes: 2_048, sourceBytes: 128) == 2_200)
        #expect(DatagramRing.byteCapacityMin(datagramCapacity: 2_048) == 8_192)
    }

    @Test("A full ring refuses without overwriting, and takes again once room is released")
    func fullRing() {
        let ring = DatagramRing(byteCapacity: 8_192, datagramCapacity: 2_048)
        // Index 2 has a 16-byte address: records of 24 + 16 + 60 = 100, rounded to 104.
        let stride = DatagramRing.recordBytes(datagramBytes: 60, sourceBytes: 16)
        var appended = 0
        while Self.append(ring, index: 2, length: 60) { appended += 1 }
        #expect(appended == 8_192 / stride)
        // Unpublished records are invisible, and refusing changed nothing.
        #expect(ring.count == 0 && ring.filledRecords(upTo: 1_000).isEmpty)
        ring.publish()
        #expect(ring.count == appended && ring.bytesUsed == appended * stride)
        #expect(!Self.append(ring, index: 2, length: 60))
        // The tail left (80 bytes) is shorter than a record, so the next one wraps: it needs the
        // tail and its own bytes, which releasing the oldest record gives.
        let tail = 8_192 - appended * stride
        #expect(tail < stride)
        ring.release(count: 1)
        #expect(Self.append(ring, index: 7, length: 60))  // a 16-byte address too
        ring.publish()
        #expect(ring.count == appended)
        #expect(ring.bytesUsed == appended * stride + tail)
        var records = Array(ring.filledRecords(upTo: appended + 1))
        #expect(records.count == appended)
        let last = records.removeLast()
        #expect(Self.matches(last, index: 7, length: 60))
        // The wrapped record sits at the start of the storage.
        #expect(UnsafeRawPointer(last.base) == UnsafeRawPointer(ring.storage))
        #expect(records.allSatisfy { Self.matches($0, index: 2, length: 60) })
    }

    @Test("Oversized datagrams and addresses are refused before the ring is looked at")
    func oversized() throws {
        let ring = DatagramRing(byteCapacity: 8_192, datagramCapacity: 300)
        let long = [UInt8](repeating: 1, count: 301)
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        #expect(throws: DatagramRing.PushError.datagramTooLong(byteCount: 301, datagramCapacity: 300)) {
            _ = try long.withUnsafeBytes { try ring.push(bytes: $0, source: empty, timestamp: 0) }
        }
        let address = [UInt8](repeating: 2, count: 129)
        #expect(throws: DatagramRing.PushError.sourceAddressTooLong(byteCount: 129)) {
            _ = try address.withUnsafeBytes { source in try [UInt8(1)].withUnsafeBytes { try ring.push(bytes: $0, source: source, timestamp: 0) } }
        }
        #expect(ring.isEmpty && ring.count == 0)
        // The largest datagram still goes in.
        let largest = [UInt8](repeating: 3, count: 300)
        #expect(try largest.withUnsafeBytes { try ring.push(bytes: $0, source: empty, timestamp: 9) })
        #expect(ring.filledRecords(upTo: 1).map(\.byteCount) == [300])
    }

    @Test("Appended records can be discarded whole: none is seen, and the room is free again")
    func discard() {
        let ring = DatagramRing(byteCapacity: 8_192, datagramCapacity: 2_048)
        #expect(Self.append(ring, index: 1, length: 10))
        ring.publish()
        for index in 2..<30 { #expect(Self.append(ring, index: index, length: 200)) }
        ring.discardAppended()
        ring.publish()
        #expect(ring.count == 1)
        let records = ring.filledRecords(upTo: 100)
        #expect(records.count == 1 && records.allSatisfy { Self.matches($0, index: 1, length: 10) })
        ring.release(count: 1)
        // The discarded room is usable: as many 200-byte records fit as in a fresh ring, less the wrap.
        var fitted = 0
        while Self.append(ring, index: 40 + fitted, length: 200) { fitted += 1 }
        #expect(fitted >= 8_192 / DatagramRing.recordBytes(datagramBytes: 200, sourceBytes: 128) - 1)
    }

    @Test("Random appends, publishes, partial takes and releases agree with an array model", arguments: [8_192, 16_384, 65_536])
    func randomOperations(byteCapacity: Int) {
        var random = SplitMix(state: UInt64(byteCapacity))
        let ring = DatagramRing(byteCapacity: byteCapacity, datagramCapacity: 2_048)
        var published: [(index: Int, length: Int)] = []  // the model: published, not released
        var appended: [(index: Int, length: Int)] = []
        var next = 0
        var mismatches = 0
        var refusedWhileRoomy = 0
        for _ in 0..<20_000 {
            switch random.next() % 6 {
            case 0, 1, 2:
                // Mostly small records, sometimes the largest.
                let length = random.next() % 8 == 0 ? Int(random.next() % 2_049) : Int(random.next() % 120)
                if Self.append(ring, index: next, length: length) {
                    appended.append((next, length))
                } else {
                    // Refusing is only right when the bytes in use leave less than two records' room.
                    let used = (published + appended).reduce(0) { total, item in
                        total + DatagramRing.recordBytes(datagramBytes: item.length, sourceBytes: Self.source(item.index).count)
                    }
                    // At most one wrap tail (shorter than the largest record) is in use at a time.
                    let tailMax = DatagramRing.recordBytes(datagramBytes: 2_048, sourceBytes: 128)
                    let needMax = 2 * DatagramRing.recordBytes(datagramBytes: length, sourceBytes: 128)
                    if used + tailMax + needMax <= byteCapacity { refusedWhileRoomy += 1 }
                }
                next += 1
            case 3:
                ring.publish()
                published += appended
                appended = []
            default:
                let asked = Int(random.next() % 40)
                let records = ring.filledRecords(upTo: asked)
                if records.count != min(asked, published.count) { mismatches += 1 }
                let take = records.count == 0 ? 0 : Int(random.next() % UInt64(records.count + 1))
                var seen = 0
                for record in records {
                    guard seen < take else { break }
                    if !Self.matches(record, index: published[seen].index, length: published[seen].length) { mismatches += 1 }
                    seen += 1
                }
                ring.release(count: take)
                published.removeFirst(take)
            }
            if ring.count != published.count { mismatches += 1 }
        }
        #expect(mismatches == 0)
        #expect(refusedWhileRoomy == 0)
        #expect(next > 5_000)
    }

    final class Side: @unchecked Sendable {
        var items = 0
        var dropped = 0
        var checksum: UInt64 = 0xCBF2_9CE4_8422_2325
        var orderErrors = 0
        var timedOut = false
        let finished = DispatchSemaphore(value: 0)

        func add(_ word: UInt64) { checksum = (checksum ^ word) &* 0x0000_0100_0000_01B3 }
        func add(_ bytes: UnsafeRawBufferPointer) {
            add(UInt64(bytes.count))
            for byte in bytes { add(UInt64(byte)) }
        }
    }

    @Test("A producer and a consumer thread hand over 300,000 mixed-size records intact and in order", arguments: [8_192, 1 << 20])
    func twoThreads(byteCapacity: Int) {
        let ring = DatagramRing(byteCapacity: byteCapacity, datagramCapacity: 2_048)
        // 300,000 wrap the 8 KiB ring ~2,000 times; a debug build on a shared two-core machine
        // passes them in seconds.
        let itemCount = 300_000
        let producer = Side()
        let consumer = Side()
        let producerDone = Atomic<Bool>(false)
        let deadline = Date().addingTimeInterval(120)
        // Lengths 0...2,048, mostly short, from the index, so both sides know them.
        @Sendable func length(_ index: Int) -> Int { index % 97 == 0 ? (index * 13) % 2_049 : (index * 7) % 90 }

        let producerThread = Thread {
            var scratch = [UInt8](repeating: 0, count: 2_048)
            var index = 0
            var spins = 0
            while index < itemCount {
                let count = length(index)
                for offset in 0..<count { scratch[offset] = UInt8(truncatingIfNeeded: index &+ offset) }
                let fitted = scratch.withUnsafeBytes { bytes in
                    withUnsafeBytes(of: UInt64(index)) { source in
                        ring.append(datagram: UnsafeRawBufferPointer(rebasing: bytes[0..<count]), source: source, timestamp: UInt64(index))
                    }
                }
                if fitted {
                    scratch.withUnsafeBytes { producer.add(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                    producer.add(UInt64(index))
                    index += 1
                    if index % 16 == 0 { ring.publish() }
                    spins = 0
                } else {
                    ring.publish()
                    spins += 1
                    if spins > 64 { sched_yield() }
                    if Date() > deadline { producer.timedOut = true; break }
                }
            }
            ring.publish()
            producer.items = index
            producerDone.store(true, ordering: .releasing)
            producer.finished.signal()
        }
        let consumerThread = Thread {
            var expected = 0
            var spins = 0
            while true {
                let records = ring.filledRecords(upTo: Int.random(in: 1...64))
                if records.isEmpty {
                    if producerDone.load(ordering: .acquiring) && ring.isEmpty { break }
                    spins += 1
                    if spins > 64 { sched_yield() }
                    if Date() > deadline { consumer.timedOut = true; break }
                    continue
                }
                spins = 0
                for record in records {
                    let index = Int(record.receiveTimestampNanoseconds)
                    if index != expected || record.sourceAddress.loadUnaligned(as: UInt64.self) != UInt64(index) {
                        consumer.orderErrors += 1
                    }
                    consumer.add(record.datagram)
                    consumer.add(UInt64(index))
                    expected = index + 1
                    consumer.items += 1
                }
                ring.release(count: records.count)
            }
            consumer.finished.signal()
        }
        producerThread.start()
        consumerThread.start()
        producer.finished.wait()
        consumer.finished.wait()
        #expect(!producer.timedOut && !consumer.timedOut)
        #expect(producer.items == itemCount && consumer.items == itemCount)
        #expect(consumer.orderErrors == 0)
        #expect(producer.checksum == consumer.checksum)
    }
}

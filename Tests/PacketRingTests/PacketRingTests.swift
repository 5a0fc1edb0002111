import Testing
@testable import PacketRing

/// Single-threaded behaviour of the ring at every interesting layout: capacity 1 (mask 0),
/// capacity 2, and larger powers of two; empty, full, wrapped many times, and batches published
/// and released in partial counts. Every item carries its index and bytes derived from it, so a
/// lost, duplicated, reordered or overwritten slot shows up as a mismatch.
@Suite("PacketRing")
struct PacketRingTests {
    static let capacities = [1, 2, 4, 8, 1024]

    @Test("A new ring is empty: nothing to pop, every slot free", arguments: capacities)
    func emptyRing(capacity: Int) {
        let ring = PacketRing(capacity: capacity)
        #expect(ring.capacity == capacity)
        #expect(ring.datagramCapacity == PacketRing.defaultDatagramCapacity)
        #expect(ring.count == 0)
        #expect(ring.isEmpty)
        #expect(ring.pop { _ in true } == nil)
        #expect(ring.filledSlots(upTo: capacity + 3).isEmpty)
        #expect(ring.freeSlots(upTo: capacity + 3).count == capacity)
        #expect(ring.freeSlots(upTo: 0).isEmpty)
    }

    @Test("Filling a ring: pushes succeed up to capacity, then fail without overwriting", arguments: capacities)
    func fullRingRefusesAndKeepsContents(capacity: Int) throws {
        let ring = PacketRing(capacity: capacity)
        let scratch = Scratch()
        for index in 0..<capacity {
            #expect(try TestItem.push(index, into: ring, scratch: scratch))
            #expect(ring.count == index + 1)
        }
        // Full: every further push fails and changes nothing.
        for index in 1_000..<1_010 {
            #expect(try TestItem.push(index, into: ring, scratch: scratch) == false)
        }
        #expect(ring.count == capacity)
        #expect(ring.freeSlots(upTo: 1).isEmpty)
        for index in 0..<capacity {
            let matched = ring.pop { TestItem.matches($0, index: index, scratch: scratch) }
            #expect(matched == true, "slot \(index) of \(capacity)")
        }
        #expect(ring.isEmpty)
        #expect(ring.pop { _ in true } == nil)
    }

    @Test("Wrapping many times at every fill level keeps order and contents", arguments: capacities)
    func wrapsManyTimes(capacity: Int) throws {
        let ring = PacketRing(capacity: capacity)
        let scratch = Scratch()
        var nextPushed = 0
        var nextPopped = 0
        // Each round fills to a different level (1...capacity) and drains to a different level,
        // so the indices cross the end of the storage at every offset.
        for round in 0..<400 {
            let target = 1 + (round &* 37) % capacity
            while ring.count < target {
                #expect(try TestItem.push(nextPushed, into: ring, scratch: scratch))
                nextPushed += 1
            }
            let keep = round % (target + 1) == 0 ? 0 : (round / 3) % target
            while ring.count > keep {
                let matched = ring.pop { TestItem.matches($0, index: nextPopped, scratch: scratch) }
                #expect(matched == true, "item \(nextPopped)")
                nextPopped += 1
            }
        }
        while let matched = ring.pop({ TestItem.matches($0, index: nextPopped, scratch: scratch) }) {
            #expect(matched, "item \(nextPopped)")
            nextPopped += 1
        }
        #expect(nextPopped == nextPushed)
        #expect(nextPushed > 40 * capacity, "wrapped \(nextPushed / capacity) times")
    }

    @Test("Indices near Int.max wrap with &+ and the depth stays right")
    func indicesWrapAroundInt() throws {
        let ring = PacketRing(capacity: 4)
        let start = Int.max - 5
        ring.writeIndex.store(start, ordering: .relaxed)
        ring.cachedReadIndex.store(start, ordering: .relaxed)
        ring.readIndex.store(start, ordering: .relaxed)
        ring.cachedWriteIndex.store(start, ordering: .relaxed)
        let scratch = Scratch()
        var nextPopped = 0
        for index in 0..<40 {
            #expect(try TestItem.push(index, into: ring, scratch: scratch))
            // Depth moves between 1 and 3, so the indices pass Int.max with slots in the ring.
            while ring.count == 3 || (index % 3 == 0 && ring.count > 1) {
                #expect(ring.pop { TestItem.matches($0, index: nextPopped, scratch: scratch) } == true)
                nextPopped += 1
            }
            #expect(ring.count == index + 1 - nextPopped)
        }
        #expect(ring.writeIndex.load(ordering: .relaxed) < 0, "the write index wrapped past Int.max")
    }

    @Test("Batches: reserve N, publish k < N, read M, release j < M", arguments: [1, 2, 8, 64])
    func partialBatches(capacity: Int) {
        let ring = PacketRing(capacity: capacity)
        let scratch = Scratch()
        var nextFilled = 0
        var nextRead = 0
        var iteration = 0
        // Bounded: enough iterations to wrap many times.
        while iteration < 400 + 40 * capacity {
            iteration += 1
            // Producer: ask for a varying number of slots, fill all of them, publish only some.
            let free = ring.freeSlots(upTo: 1 + iteration % (capacity + 2))
            #expect(free.count <= capacity - ring.count)
            for position in free.indices {
                TestItem.fill(free[position], index: nextFilled + position)
            }
            let published = free.isEmpty ? 0 : (iteration % 3 == 0 ? free.count : iteration % (free.count + 1))
            ring.publish(count: published)
            nextFilled += published

            // Consumer: ask for a varying number of slots, check all of them, release only some.
            let filled = ring.filledSlots(upTo: 1 + (iteration / 2) % (capacity + 2))
            #expect(filled.count <= ring.count)
            for position in filled.indices {
                #expect(TestItem.matches(filled[position], index: nextRead + position, scratch: scratch))
            }
            let released = filled.isEmpty ? 0 : (iteration % 4 == 0 ? filled.count : iteration % (filled.count + 1))
            ring.release(count: released)
            nextRead += released
            #expect(ring.count == nextFilled - nextRead)
        }
        #expect(nextRead > 4 * capacity)
        // Drain, then the whole ring is free again.
        let rest = ring.filledSlots(upTo: capacity)
        #expect(rest.count == nextFilled - nextRead)
        for position in rest.indices {
            #expect(TestItem.matches(rest[position], index: nextRead + position, scratch: scratch))
        }
        ring.release(count: rest.count)
        #expect(ring.isEmpty)
        #expect(ring.freeSlots(upTo: capacity).count == capacity)
    }

    @Test("A batch that wraps the storage hands out distinct slots in ring order")
    func batchAcrossTheEnd() {
        let ring = PacketRing(capacity: 8, datagramCapacity: 64)
        // Move both indices to 6, so a batch of 8 covers positions 6, 7, 0, 1, ..., 5.
        let first = ring.freeSlots(upTo: 6)
        for position in first.indices { TestItem.fill(first[position], index: position) }
        ring.publish(count: 6)
        ring.release(count: ring.filledSlots(upTo: 6).count)

        let batch = ring.freeSlots(upTo: 100)
        #expect(batch.count == 8)
        // Fill every byte of every slot with its position: overlapping slots would clobber each other.
        for position in batch.indices {
            let slot = batch[position]
            slot.datagramBuffer.initializeMemory(as: UInt8.self, repeating: UInt8(position))
            slot.sourceAddressBuffer.initializeMemory(as: UInt8.self, repeating: UInt8(position) | 0x80)
            slot.byteCount = 64
            slot.sourceAddressLength = PacketRing.sourceAddressCapacity
            slot.receiveTimestampNanoseconds = UInt64(position)
            slot.isTruncated = position == 3
        }
        ring.publish(count: 8)
        #expect(ring.count == 8)
        let bases = Set(batch.map { $0.datagramBuffer.baseAddress! })
        #expect(bases.count == 8)
        #expect(batch[0].datagramBuffer.baseAddress! > batch[2].datagramBuffer.baseAddress!, "positions 6 and 0")

        let filled = ring.filledSlots(upTo: 8)
        #expect(filled.count == 8)
        for position in filled.indices {
            let slot = filled[position]
            #expect(slot.datagram.allSatisfy { $0 == UInt8(position) })
            #expect(slot.sourceAddress.allSatisfy { $0 == UInt8(position) | 0x80 })
            #expect(slot.receiveTimestampNanoseconds == UInt64(position))
            #expect(slot.isTruncated == (position == 3))
        }
        ring.release(count: 8)
        #expect(ring.isEmpty)
    }

    @Test("Too long a datagram or address is refused whether the ring is empty or full")
    func oversizeIsReported() throws {
        let ring = PacketRing(capacity: 2, datagramCapacity: 16)
        let bytes = [UInt8](repeating: 0xAB, count: 17)
        let address = [UInt8](repeating: 1, count: 129)
        for round in 0..<2 {
            #expect(throws: PacketRing.PushError.datagramTooLong(byteCount: 17, datagramCapacity: 16)) {
                try bytes.withUnsafeBytes { try ring.push(bytes: $0, source: UnsafeRawBufferPointer(start: nil, count: 0), timestamp: 1) }
            }
            #expect(throws: PacketRing.PushError.sourceAddressTooLong(byteCount: 129)) {
                try address.withUnsafeBytes { try ring.push(bytes: UnsafeRawBufferPointer(rebasing: $0[..<4]), source: $0, timestamp: 1) }
            }
            // Exactly the capacity fits, and so does an empty datagram; the second round runs full.
            let pushedFull = try bytes.withUnsafeBytes { raw in
                try address.withUnsafeBytes {
                    try ring.push(bytes: UnsafeRawBufferPointer(rebasing: raw[..<16]), source: UnsafeRawBufferPointer(rebasing: $0[..<128]), timestamp: 2)
                }
            }
            let pushedEmpty = try ring.push(bytes: UnsafeRawBufferPointer(start: nil, count: 0), source: UnsafeRawBufferPointer(start: nil, count: 0), timestamp: 3)
            #expect(pushedFull == (round == 0))
            #expect(pushedEmpty == (round == 0))
        }
        #expect(ring.count == 2)
        #expect(ring.pop { $0.byteCount == 16 && $0.sourceAddressLength == 128 && $0.datagram.allSatisfy { $0 == 0xAB } } == true)
        #expect(ring.pop { $0.byteCount == 0 && $0.sourceAddressLength == 0 && $0.receiveTimestampNanoseconds == 3 } == true)
        #expect(ring.isEmpty)
    }

    @Test("A throwing reader leaves its slot in the ring")
    func throwingPopKeepsSlot() throws {
        struct Refused: Error {}
        let ring = PacketRing(capacity: 2)
        let scratch = Scratch()
        #expect(try TestItem.push(7, into: ring, scratch: scratch))
        #expect(throws: Refused.self) { try ring.pop { (_) throws(Refused) -> Bool in throw Refused() } }
        #expect(ring.count == 1)
        #expect(ring.pop { TestItem.matches($0, index: 7, scratch: scratch) } == true)
    }

    @Test("Slots are cache-line aligned and hold the whole datagram capacity", arguments: [1, 1500, 2048, 9000])
    func slotLayout(datagramCapacity: Int) {
        let ring = PacketRing(capacity: 4, datagramCapacity: datagramCapacity)
        #expect(ring.slotStride % 64 == 0)
        #expect(ring.slotStride >= 144 + datagramCapacity)
        let slots = ring.freeSlots(upTo: 4)
        for slot in slots {
            #expect(Int(bitPattern: slot.sourceAddressBuffer.baseAddress!) % 8 == 0)
            #expect(slot.datagramBuffer.count == datagramCapacity)
            #expect(slot.sourceAddressBuffer.count == 128)
        }
    }
}

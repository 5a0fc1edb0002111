import Telemetry

/// Live state of every drone seen, in fixed-size columns allocated at start-up (`Limits.dronesMax`
/// rows): identity, link accounting, the recent frames used to spot duplicates, and the last sample.
///
/// Drones are found by an open-addressing hash of (protocol, number) into a table twice the
/// size of the fleet, so a lookup is a few probes and never allocates. A drone that goes quiet
/// keeps its row, marked offline by the readers of its `lastSeen`, until the table is full and a
/// new drone arrives: the new drone then takes the row of the drone silent longest, once that one
/// has been silent for `offlineAfterNanoseconds` (issue 20: a flood of spoofed ids cannot keep the
/// table for good). Removal from the hash index is backward-shift deletion, so probe chains stay
/// whole without tombstones.
///
/// Not thread-safe by itself: the batch processor writes it and readers copy from it while
/// holding `FleetState`'s lock.
final class FleetTable {
    let capacity: Int
    let duplicateWindow: Int
    /// A drone silent this long (ns) may give its row to a new drone when the table is full.
    let offlineAfterNanoseconds: UInt64
    private(set) var count = 0
    /// Drones whose rows went to new drones.
    private(set) var dronesEvicted: UInt64 = 0
    /// With the table full: no drone can be offline before this (ns), because the longest silent
    /// one was last seen `offlineAfterNanoseconds` earlier; `lastSeen` only grows, so until then a
    /// new drone is refused without scanning the rows again.
    private var noEvictionBeforeNanoseconds: UInt64 = 0

    /// Bytes of the columns and the hash index, allocated by `init`: ~380 a row with the default
    /// 32-frame duplicate window (8 bytes a remembered frame).
    let allocatedBytes: Int

    // Hash index: slot -> row + 1 (0 = empty).
    private let slotMask: Int
    private let slots: UnsafeMutablePointer<Int32>

    // Identity.
    let protocols: UnsafeMutablePointer<UInt8>
    let numbers: UnsafeMutablePointer<UInt32>
    // Link accounting.
    let lastSequences: UnsafeMutablePointer<UInt32>
    let framesReceived: UnsafeMutablePointer<UInt64>
    let framesLost: UnsafeMutablePointer<UInt64>
    let framesDuplicate: UnsafeMutablePointer<UInt64>
    let samplesReceived: UnsafeMutablePointer<UInt64>
    let firstSeenNanoseconds: UnsafeMutablePointer<UInt64>
    let lastSeenNanoseconds: UnsafeMutablePointer<UInt64>
    // Duplicate window: the last `duplicateWindow` frames of each drone, a ring of
    // `duplicateFingerprint`s; `recentCount` of a row's slots hold one, `recentNext` is the next
    // slot to write.
    let recentFrames: UnsafeMutablePointer<UInt64>
    let recentNext: UnsafeMutablePointer<Int32>
    let recentCount: UnsafeMutablePointer<Int32>
    // Last sample and derived values.
    let lastTimestamps: UnsafeMutablePointer<UInt64>
    let lastLatitudes: UnsafeMutablePointer<Int32>
    let lastLongitudes: UnsafeMutablePointer<Int32>
    let lastAltitudes: UnsafeMutablePointer<Int32>
    let lastHeadings: UnsafeMutablePointer<UInt16>
    let lastBatteryMillivolts: UnsafeMutablePointer<UInt16>
    let lastBatteryPercents: UnsafeMutablePointer<UInt8>
    let lastSatellites: UnsafeMutablePointer<UInt8>
    let lastStatuses: UnsafeMutablePointer<UInt32>
    let lastGroundSpeeds: UnsafeMutablePointer<Float>
    let lastClimbRates: UnsafeMutablePointer<Float>
    let distancesFlown: UnsafeMutablePointer<Double>
    let hasFix: UnsafeMutablePointer<Bool>
    /// Every column above with its size, for `deinit`.
    private let columnMappings: [(UnsafeMutableRawPointer, Int)]

    /// - Parameter offlineAfterNanoseconds: how long a drone must be silent before its row may go
    ///   to a new drone (`Limits.droneOfflineAfter`); `UInt64.max` never gives a row away.
    init(capacity: Int, duplicateWindow: Int, offlineAfterNanoseconds: UInt64 = .max) {
        precondition(capacity >= 1 && duplicateWindow >= 1)
        self.capacity = capacity
        self.duplicateWindow = duplicateWindow
        self.offlineAfterNanoseconds = offlineAfterNanoseconds
        var slotCount = 1
        while slotCount < capacity * 2 { slotCount <<= 1 }
        slotMask = slotCount - 1
        var bytes = 0
        // Every column reads as zeros (`ZeroPages`): a row's pages become resident when a drone
        // first takes it, and `reset(row:)` gives each new row its starting values.
        var columns: [(UnsafeMutableRawPointer, Int)] = []
        func column<T: BitwiseCopyable>(_ count: Int) -> UnsafeMutablePointer<T> {
            bytes += count * MemoryLayout<T>.stride
            let pointer = ZeroPages.allocate(T.self, count: count)
            columns.append((UnsafeMutableRawPointer(pointer), count * MemoryLayout<T>.stride))
            return pointer
        }
        slots = column(slotCount)
        protocols = column(capacity)
        numbers = column(capacity)
        lastSequences = column(capacity)
        framesReceived = column(capacity)
        framesLost = column(capacity)
        framesDuplicate = column(capacity)
        samplesReceived = column(capacity)
        firstSeenNanoseconds = column(capacity)
        lastSeenNanoseconds = column(capacity)
        recentFrames = column(capacity * duplicateWindow)
        recentNext = column(capacity)
        recentCount = column(capacity)
        lastTimestamps = column(capacity)
        lastLatitudes = column(capacity)
        lastLongitudes = column(capacity)
        lastAltitudes = column(capacity)
        lastHeadings = column(capacity)
        lastBatteryMillivolts = column(capacity)
        lastBatteryPercents = column(capacity)
        lastSatellites = column(capacity)
        lastStatuses = column(capacity)
        lastGroundSpeeds = column(capacity)
        lastClimbRates = column(capacity)
        distancesFlown = column(capacity)
        hasFix = column(capacity)
        allocatedBytes = bytes
        columnMappings = columns
    }

    deinit {
        for (pointer, bytes) in columnMappings { ZeroPages.deallocate(pointer, byteCount: bytes) }
    }

    @inline(__always)
    private func hash(_ proto: UInt8, _ number: UInt32) -> Int {
        // Fibonacci hashing of the 40-bit key spreads consecutive drone ids over the table.
        let key = UInt64(number) | UInt64(proto) << 32
        return Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 20) & slotMask
    }

    /// The row of a drone, or nil if it was never seen.
    func row(of drone: DroneIdentity) -> Int? {
        let proto = drone.protocol.rawValue
        var slot = hash(proto, drone.number)
        // Bounded: the table is at most half full, so an empty slot is always reached.
        for _ in 0...slotMask {
            let entry = Int(slots[slot])
            if entry == 0 { return nil }
            let row = entry - 1
            if numbers[row] == drone.number && protocols[row] == proto { return row }
            slot = (slot + 1) & slotMask
        }
        return nil
    }

    /// The row of a drone, added if new. When the table is full, the new drone takes the row of
    /// the drone silent longest if that one has been silent `offlineAfterNanoseconds` (counted in
    /// `dronesEvicted`); nil when nobody is offline.
    func findOrInsert(protocol proto: TelemetryProtocol, number: UInt32, now: UInt64) -> Int? {
        var slot = hash(proto.rawValue, number)
        for _ in 0...slotMask {
            let entry = Int(slots[slot])
            if entry == 0 { break }
            let row = entry - 1
            if numbers[row] == number && protocols[row] == proto.rawValue { return row }
            slot = (slot + 1) & slotMask
        }
        let row: Int
        if count < capacity {
            row = count
            count += 1
            reset(row: row)
        } else {
            guard let silent = rowToEvict(now: now) else { return nil }
            removeFromIndex(row: silent)
            reset(row: silent)
            dronesEvicted &+= 1
            row = silent
            // The removal may have shifted entries: find the empty slot for the new drone again.
            slot = hash(proto.rawValue, number)
            while slots[slot] != 0 { slot = (slot + 1) & slotMask }
        }
        slots[slot] = Int32(row + 1)
        protocols[row] = proto.rawValue
        numbers[row] = number
        firstSeenNanoseconds[row] = now
        lastSeenNanoseconds[row] = now
        return row
    }

    /// The row of the drone silent longest, if it has been silent `offlineAfterNanoseconds`. One
    /// scan of the rows, then none until the next drone could be offline.
    private func rowToEvict(now: UInt64) -> Int? {
        guard offlineAfterNanoseconds != .max, now >= noEvictionBeforeNanoseconds else { return nil }
        var oldest = 0
        for row in 1..<max(count, 1) where lastSeenNanoseconds[row] < lastSeenNanoseconds[oldest] { oldest = row }
        let lastSeen = lastSeenNanoseconds[oldest]
        if now >= lastSeen && now - lastSeen >= offlineAfterNanoseconds { return oldest }
        let (earliest, overflow) = lastSeen.addingReportingOverflow(offlineAfterNanoseconds)
        noEvictionBeforeNanoseconds = overflow ? .max : earliest
        return nil
    }

    /// Takes `row`'s drone out of the hash index by backward-shift deletion: every entry after
    /// the freed slot in its probe chain that may move back (its home slot is not between the
    /// hole and itself, cyclically) moves into the hole, so lookups never stop early.
    func removeFromIndex(row: Int) {
        var hole = hash(protocols[row], numbers[row])
        // Bounded: the drone is in the index, within one round of the slots.
        for _ in 0...slotMask {
            if Int(slots[hole]) == row + 1 { break }
            precondition(slots[hole] != 0, "a fleet row missing from the index")
            hole = (hole + 1) & slotMask
        }
        var next = hole
        for _ in 0...slotMask {
            next = (next + 1) & slotMask
            let entry = Int(slots[next])
            if entry == 0 { break }
            let home = hash(protocols[entry - 1], numbers[entry - 1])
            // Distances from the home slot: the entry may fill the hole if the hole is no further
            // from its home than where it sits now.
            if (hole &- home) & slotMask <= (next &- home) & slotMask {
                slots[hole] = slots[next]
                hole = next
            }
        }
        slots[hole] = 0
    }

    /// Every per-row column back to a new drone's values.
    private func reset(row: Int) {
        lastSequences[row] = 0
        framesReceived[row] = 0
        framesLost[row] = 0
        framesDuplicate[row] = 0
        samplesReceived[row] = 0
        firstSeenNanoseconds[row] = 0
        lastSeenNanoseconds[row] = 0
        recentNext[row] = 0
        recentCount[row] = 0
        lastTimestamps[row] = 0
        lastLatitudes[row] = 0
        lastLongitudes[row] = 0
        lastAltitudes[row] = 0
        lastHeadings[row] = 0
        lastBatteryMillivolts[row] = 0
        lastBatteryPercents[row] = 0
        lastSatellites[row] = 0
        lastStatuses[row] = 0
        lastGroundSpeeds[row] = 0
        lastClimbRates[row] = 0
        distancesFlown[row] = 0
        hasFix[row] = false
    }

    /// What the duplicate window keeps of a frame: its 32-bit key (a Skygate sequence number;
    /// MAVLink's sequence and message id) whole, beside its 64-bit content (a Skygate timestamp;
    /// MAVLink's checksum and signature timestamp) folded to 32 bits by XOR of its halves.
    ///
    /// 8 bytes a frame where the pair took 12: at 10,000 drones and 32 frames each, 1.2 MiB less
    /// resident (docs/performance.md, stop 28). Two frames with the same key whose contents
    /// differ only by more than 2^32 (a Skygate timestamp: 71 minutes) can fold alike and count as
    /// one; contents that share their upper half (timestamps within 71 minutes) never do.
    @inline(__always)
    static func duplicateFingerprint(key: UInt32, content: UInt64) -> UInt64 {
        UInt64(key) << 32 | UInt64(UInt32(truncatingIfNeeded: content ^ content >> 32))
    }

    /// True when the frame (`sequence`: its key, `timestamp`: its content; see
    /// `duplicateFingerprint`) is among the drone's recent frames; otherwise remembers it.
    func isDuplicate(row: Int, sequence: UInt32, timestamp: UInt64) -> Bool {
        let fingerprint = Self.duplicateFingerprint(key: sequence, content: timestamp)
        let base = row * duplicateWindow
        let remembered = Int(recentCount[row])
        for index in 0..<remembered where recentFrames[base + index] == fingerprint { return true }
        let next = Int(recentNext[row])
        recentFrames[base + next] = fingerprint
        recentNext[row] = Int32(next + 1 == duplicateWindow ? 0 : next + 1)
        if remembered < duplicateWindow { recentCount[row] = Int32(remembered + 1) }
        return false
    }

    /// Counts a new frame from the drone and the frames its sequence number says were lost.
    /// `modulus` is 2^32 for Skygate, 256 for MAVLink. A sequence at or behind the last one
    /// (reordering, or a reboot) counts no loss.
    func countFrame(row: Int, sequence: UInt32, modulus: UInt64, now: UInt64) {
        if framesReceived[row] == 0 {
            lastSequences[row] = sequence
        } else {
            let gap = (UInt64(sequence) &+ modulus &- UInt64(lastSequences[row]) &- 1) % modulus
            // A "gap" of more than half the sequence space is a late frame from the past: no loss,
            // and the newest sequence stays the reference.
            if gap < modulus / 2 {
                framesLost[row] &+= gap
                lastSequences[row] = sequence
            }
        }
        framesReceived[row] &+= 1
        lastSeenNanoseconds[row] = now
    }
}

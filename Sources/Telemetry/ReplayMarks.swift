import Synchronization

/// One authenticated sender's high-water mark as the store keeps it: the highest Skygate tag
/// counter accepted from a keyed drone, or the newest MAVLink 2 signature timestamp accepted from
/// a keyed system (docs/security.md, "Replay windows in the store").
public struct ReplayMark: Equatable, Hashable, Sendable {
    public var `protocol`: TelemetryProtocol
    /// The Skygate drone id or the MAVLink system id.
    public var sender: UInt32
    public var value: UInt64

    public init(protocol: TelemetryProtocol, sender: UInt32, value: UInt64) {
        self.protocol = `protocol`
        self.sender = sender
        self.value = value
    }
}

/// The replay windows' part that outlives the process and is shared by replicas: for every keyed
/// sender (known at start from the key files), the highest counter or timestamp this process
/// accepted, and a floor read from the store (what this gateway had accepted before a restart,
/// and what other gateways sharing the store accepted since). A tagged or signed frame at or
/// below the floor is a replay, whatever the in-memory window says.
///
/// Allocated once at start, one slot per keyed sender; the processor reads a floor and raises
/// its own mark with relaxed atomics (no lock, no allocation per frame); the commit loop reads
/// the marks to write them, the shared-fleet thread raises the floors.
public final class ReplayMarks: Sendable {
    /// Slot of each keyed Skygate drone; MAVLink system `s` is slot `skygateCount + s`.
    let skygateSlots: [UInt32: Int]
    let skygateCount: Int
    let mavlinkKeyed: [Bool]
    /// Highest value accepted by this process, per slot (0: none).
    let accepted: [AtomicCounter]
    /// The lowest value still accepted, per slot: the store's mark + 1 (0: no floor).
    let floors: [AtomicCounter]

    public init(skygateDrones: some Sequence<UInt32>, mavlinkSystems: some Sequence<UInt8>) {
        var slots: [UInt32: Int] = [:]
        for drone in skygateDrones where slots[drone] == nil { slots[drone] = slots.count }
        skygateSlots = slots
        skygateCount = slots.count
        var keyed = [Bool](repeating: false, count: 256)
        for system in mavlinkSystems { keyed[Int(system)] = true }
        mavlinkKeyed = keyed
        accepted = (0..<(slots.count + 256)).map { _ in AtomicCounter() }
        floors = (0..<(slots.count + 256)).map { _ in AtomicCounter() }
    }

    /// Keyed senders tracked.
    public var senderCount: Int { skygateCount + mavlinkKeyed.reduce(0) { $0 + ($1 ? 1 : 0) } }

    @inline(__always)
    func slot(_ protocol: TelemetryProtocol, _ sender: UInt32) -> Int? {
        switch `protocol` {
        case .skygate: return skygateSlots[sender]
        case .mavlink: return sender < 256 && mavlinkKeyed[Int(sender)] ? skygateCount + Int(sender) : nil
        }
    }

    // MARK: The processor (hot path)

    /// Whether an authenticated frame's counter (Skygate) or signature timestamp (MAVLink) is
    /// above the floor; a sender without a slot has no floor.
    @inline(__always)
    public func isAboveFloor(_ value: UInt64, protocol: TelemetryProtocol, sender: UInt32) -> Bool {
        guard let slot = slot(`protocol`, sender) else { return true }
        return value >= floors[slot].value.load(ordering: .relaxed)
    }

    /// Notes a value the processor accepted. One writer (the processor thread).
    @inline(__always)
    public func noteAccepted(_ value: UInt64, protocol: TelemetryProtocol, sender: UInt32) {
        guard let slot = slot(`protocol`, sender) else { return }
        let mark = accepted[slot]
        if value > mark.value.load(ordering: .relaxed) { mark.value.store(value, ordering: .relaxed) }
    }

    // MARK: The store side

    /// The marks accepted by this process that rose since `written` (one entry per slot, kept by
    /// the caller, the commit loop: its only reader), updating `written`.
    public func marksToWrite(since written: inout [UInt64]) -> [ReplayMark] {
        if written.count != accepted.count { written = [UInt64](repeating: 0, count: accepted.count) }
        var marks: [ReplayMark] = []
        for (drone, slot) in skygateSlots {
            let value = accepted[slot].value.load(ordering: .relaxed)
            if value > written[slot] {
                written[slot] = value
                marks.append(ReplayMark(protocol: .skygate, sender: drone, value: value))
            }
        }
        for system in 0..<256 where mavlinkKeyed[system] {
            let slot = skygateCount + system
            let value = accepted[slot].value.load(ordering: .relaxed)
            if value > written[slot] {
                written[slot] = value
                marks.append(ReplayMark(protocol: .mavlink, sender: UInt32(system), value: value))
            }
        }
        return marks
    }

    /// Raises the floors to just above `marks` (read from the store); a floor never goes down.
    /// Marks of senders without a key here are ignored. Returns how many floors rose.
    @discardableResult
    public func raiseFloors(_ marks: [ReplayMark]) -> Int {
        var raised = 0
        for mark in marks {
            guard let slot = slot(mark.protocol, mark.sender), mark.value < .max else { continue }
            let floor = floors[slot]
            // Bounded: retried only while another thread raised the floor meanwhile.
            var current = floor.value.load(ordering: .relaxed)
            while mark.value + 1 > current {
                let (exchanged, original) = floor.value.compareExchange(
                    expected: current, desired: mark.value + 1, ordering: .relaxed)
                if exchanged {
                    raised += 1
                    break
                }
                current = original
            }
        }
        return raised
    }

    /// The floor of a sender (the lowest value still accepted; 0: none), for tests and messages.
    public func floor(protocol: TelemetryProtocol, sender: UInt32) -> UInt64 {
        guard let slot = slot(`protocol`, sender) else { return 0 }
        return floors[slot].value.load(ordering: .relaxed)
    }
}

import Synchronization

/// Every unit that reaches the gateway, counted into exactly one outcome:
/// `received == stored + duplicate + rejected + dropped` (docs/architecture.md, "Accounting").
///
/// A unit is one frame (Skygate or MAVLink); a datagram from which no frame could be framed, or
/// one dropped before decoding, counts as one unit. Writers are the receive thread (drops) and the
/// batch processor (everything else); any thread may read. Each counter is a relaxed atomic: the
/// identity holds exactly once the writers are quiescent (after a drain), and within one batch's
/// worth of units while they run, because each writer adds to `received` only after the outcome.
public final class IngestCounters: Sendable {
    let receivedUnits = Atomic<UInt64>(0)
    let storedUnits = Atomic<UInt64>(0)
    let duplicateUnits = Atomic<UInt64>(0)
    let rejectedUnits: [AtomicCounter]
    let droppedUnits: [AtomicCounter]
    let storedSamples = Atomic<UInt64>(0)
    let receivedDatagrams = Atomic<UInt64>(0)
    let receivedBytes = Atomic<UInt64>(0)
    let recoveredUnits = Atomic<UInt64>(0)
    let recoveredSamples = Atomic<UInt64>(0)
    let evictedDrones = Atomic<UInt64>(0)

    public init() {
        rejectedUnits = RejectionReason.allCases.map { _ in AtomicCounter() }
        droppedUnits = DropReason.allCases.map { _ in AtomicCounter() }
    }

    // MARK: Writers (the receive thread and the batch processor)

    /// A datagram arrived at the socket (before any outcome).
    public func countDatagram(bytes: Int) {
        receivedDatagrams.add(1, ordering: .relaxed)
        receivedBytes.add(UInt64(bytes), ordering: .relaxed)
    }

    public func countStored(units: Int, samples: Int) {
        storedUnits.add(UInt64(units), ordering: .relaxed)
        storedSamples.add(UInt64(samples), ordering: .relaxed)
        receivedUnits.add(UInt64(units), ordering: .relaxed)
    }

    /// Units a previous run spilled and this one stored at start-up (replayed from the spill
    /// file). They were received by that run, so they are outside this run's identity.
    public func countRecovered(units: Int, samples: Int) {
        recoveredUnits.add(UInt64(units), ordering: .relaxed)
        recoveredSamples.add(UInt64(samples), ordering: .relaxed)
    }

    /// A new drone took the fleet row of one that was offline (the table was full). Not a unit
    /// outcome: outside the identity.
    public func countDroneEvicted() {
        evictedDrones.add(1, ordering: .relaxed)
    }

    public func countDuplicate(units: Int) {
        duplicateUnits.add(UInt64(units), ordering: .relaxed)
        receivedUnits.add(UInt64(units), ordering: .relaxed)
    }

    public func countRejected(_ reason: RejectionReason, units: Int = 1) {
        rejectedUnits[reason.rawValue].value.add(UInt64(units), ordering: .relaxed)
        receivedUnits.add(UInt64(units), ordering: .relaxed)
    }

    public func countDropped(_ reason: DropReason, units: Int = 1) {
        droppedUnits[reason.rawValue].value.add(UInt64(units), ordering: .relaxed)
        receivedUnits.add(UInt64(units), ordering: .relaxed)
    }

    // MARK: Readers

    /// A copy of every counter.
    public func snapshot() -> Snapshot {
        Snapshot(
            received: receivedUnits.load(ordering: .relaxed),
            stored: storedUnits.load(ordering: .relaxed),
            duplicate: duplicateUnits.load(ordering: .relaxed),
            rejected: Dictionary(
                uniqueKeysWithValues: RejectionReason.allCases.map { ($0, rejectedUnits[$0.rawValue].value.load(ordering: .relaxed)) }),
            dropped: Dictionary(
                uniqueKeysWithValues: DropReason.allCases.map { ($0, droppedUnits[$0.rawValue].value.load(ordering: .relaxed)) }),
            samplesStored: storedSamples.load(ordering: .relaxed),
            datagramsReceived: receivedDatagrams.load(ordering: .relaxed),
            bytesReceived: receivedBytes.load(ordering: .relaxed),
            recovered: recoveredUnits.load(ordering: .relaxed),
            samplesRecovered: recoveredSamples.load(ordering: .relaxed),
            dronesEvicted: evictedDrones.load(ordering: .relaxed))
    }

    /// The counters at one moment.
    public struct Snapshot: Sendable, Equatable {
        public var received: UInt64
        public var stored: UInt64
        public var duplicate: UInt64
        public var rejected: [RejectionReason: UInt64]
        public var dropped: [DropReason: UInt64]
        public var samplesStored: UInt64
        public var datagramsReceived: UInt64
        public var bytesReceived: UInt64
        /// Units (and samples) of a previous run stored from the spill file at start-up.
        public var recovered: UInt64 = 0
        public var samplesRecovered: UInt64 = 0
        /// Drones whose fleet rows went to new drones (outside the identity).
        public var dronesEvicted: UInt64 = 0

        public var rejectedTotal: UInt64 { rejected.values.reduce(0, +) }
        public var droppedTotal: UInt64 { dropped.values.reduce(0, +) }

        /// `received == stored + duplicate + rejected + dropped`.
        public var isBalanced: Bool { received == stored + duplicate + rejectedTotal + droppedTotal }
    }
}

/// One atomic counter in a class, so counters can live in arrays (`Atomic` cannot be copied).
public final class AtomicCounter: Sendable {
    public let value = Atomic<UInt64>(0)
    public init() {}
}

import Telemetry
import TelemetryWire

/// One commit's worth of accepted samples: what the store writes in a single transaction, and
/// what the event engine evaluates before it goes.
///
/// Allocated at start-up (`Limits.commitBatchesInFlight + 1` of them, by the store writer) and
/// reused: the process loop hands a full batch to the writer and takes an empty one back
/// (`BatchProcessor.takeBatch(replacingWith:)`), so each batch belongs to one thread at a time.
public final class TelemetryBatch: @unchecked Sendable {
    // @unchecked: a batch is owned by one thread at a time, handed over whole through the store
    // writer's queues.

    /// One protocol's rows: the samples, and beside each row the fleet row of its drone and its
    /// derived ground speed (filled by the processor, read by the event engine).
    public struct Part {
        public let `protocol`: TelemetryProtocol
        public let columns: SampleColumns
        @usableFromInline let fleetRowColumn: UnsafeMutablePointer<Int32>
        @usableFromInline let groundSpeedColumn: UnsafeMutablePointer<Float>

        init(protocol telemetryProtocol: TelemetryProtocol, capacity: Int) {
            self.protocol = telemetryProtocol
            columns = SampleColumns(capacity: capacity, storage: .zeroPages)
            fleetRowColumn = ZeroPages.allocate(Int32.self, count: capacity)
            groundSpeedColumn = ZeroPages.allocate(Float.self, count: capacity)
        }

        func deallocate() {
            ZeroPages.deallocate(fleetRowColumn, count: columns.capacity)
            ZeroPages.deallocate(groundSpeedColumn, count: columns.capacity)
        }

        /// Rows in this part.
        public var count: Int { columns.count }
        /// The fleet row (`FleetState`'s index of the drone) of each row.
        public var fleetRows: UnsafeBufferPointer<Int32> { .init(start: fleetRowColumn, count: columns.count) }
        /// The derived ground speed (m/s) of each row.
        public var groundSpeeds: UnsafeBufferPointer<Float> { .init(start: groundSpeedColumn, count: columns.count) }

        /// Sets what the processor derives for row `row` (for a batch built by hand: tests and
        /// benchmarks of the stages after the processor).
        public func setDerived(row: Int, fleetRow: Int32, groundSpeed: Float) {
            precondition(row >= 0 && row < columns.capacity)
            fleetRowColumn[row] = fleetRow
            groundSpeedColumn[row] = groundSpeed
        }
    }

    /// Samples from Skygate drones.
    public let skygatePart: Part
    /// Samples from MAVLink vehicles (drone id = system id).
    public let mavlinkPart: Part
    /// Frames (units) whose samples are in this batch: counted `stored` once the batch commits.
    public internal(set) var units = 0
    /// Receive time (ns, CLOCK_REALTIME) of the oldest datagram with a sample in the batch.
    public internal(set) var oldestReceiveNanoseconds: UInt64 = .max
    /// Receive time of each unit, for sample-to-commit latency (bounded by `unitCapacity`).
    let unitReceiveNanoseconds: UnsafeMutablePointer<UInt64>
    let unitCapacity: Int

    /// A batch of up to `samplesMax` samples a protocol. Its pages become resident as rows reach
    /// them (`ZeroPages`).
    public init(samplesMax: Int) {
        skygatePart = Part(protocol: .skygate, capacity: samplesMax)
        mavlinkPart = Part(protocol: .mavlink, capacity: samplesMax)
        unitCapacity = samplesMax
        unitReceiveNanoseconds = ZeroPages.allocate(UInt64.self, count: samplesMax)
    }

    /// Bytes a batch of `samplesMax` samples allocates: both parts' columns, each row's fleet row
    /// and ground speed, and a receive time per unit (112 bytes a sample, and each part's columns
    /// rounded up to cache lines).
    public static func allocatedBytes(samplesMax: Int) -> Int {
        2 * (SampleColumns.storageBytes(capacity: samplesMax) + samplesMax * (MemoryLayout<Int32>.stride + MemoryLayout<Float>.stride))
            + samplesMax * MemoryLayout<UInt64>.stride
    }

    deinit {
        skygatePart.deallocate()
        mavlinkPart.deallocate()
        ZeroPages.deallocate(unitReceiveNanoseconds, count: unitCapacity)
    }

    /// Skygate samples (what the store and the spill file write).
    public var skygate: SampleColumns { skygatePart.columns }
    /// MAVLink samples.
    public var mavlink: SampleColumns { mavlinkPart.columns }

    /// Samples in the batch, both protocols.
    public var sampleCount: Int { skygate.count + mavlink.count }
    /// Whether the batch holds nothing to commit (no unit and no sample).
    public var isEmpty: Bool { units == 0 && sampleCount == 0 }

    /// Receive times of the batch's units (of the first `unitCapacity` of them).
    public var unitReceiveTimes: UnsafeBufferPointer<UInt64> { .init(start: unitReceiveNanoseconds, count: min(units, unitCapacity)) }

    func noteUnit(receivedNanoseconds: UInt64) {
        if units < unitCapacity { unitReceiveNanoseconds[units] = receivedNanoseconds }
        units += 1
        if receivedNanoseconds < oldestReceiveNanoseconds { oldestReceiveNanoseconds = receivedNanoseconds }
    }

    /// Sets the batch's units and their receive times after its samples were filled back in from
    /// a spill file (`units` may exceed the times kept: only the first `unitCapacity` are).
    public func restoreUnits(_ units: Int, receiveTimes: UnsafeBufferPointer<UInt64>) {
        precondition(units >= 0)
        self.units = units
        let kept = min(receiveTimes.count, unitCapacity)
        for index in 0..<kept { unitReceiveNanoseconds[index] = receiveTimes[index] }
        oldestReceiveNanoseconds = receiveTimes.prefix(kept).min() ?? .max
    }

    /// Empties the batch for reuse; storage stays allocated.
    public func reset() {
        skygate.removeAll()
        mavlink.removeAll()
        units = 0
        oldestReceiveNanoseconds = .max
    }
}

extension ColumnStorage {
    /// `ZeroPages`: a commit batch's columns become resident as far as its rows reach, so the
    /// batches' reservation costs no memory until a burst fills them (and the MAVLink part none
    /// while only Skygate drones send).
    public static var zeroPages: ColumnStorage {
        ColumnStorage(
            allocate: { bytes in ZeroPages.allocate(byteCount: bytes) },
            deallocate: { block, bytes in ZeroPages.deallocate(block, byteCount: bytes) })
    }
}

import Telemetry
import TelemetryWire

/// One commit's worth of accepted samples: what the store writes in a single transaction.
///
/// Allocated at start-up (`Limits.commitBatchesInFlight` of them) and reused; the processor fills
/// one while the store writer commits another.
public final class TelemetryBatch: @unchecked Sendable {
    // @unchecked: a batch is owned by one thread at a time, handed over through `BatchExchange`.

    /// Samples from Skygate drones.
    public let skygate: SampleColumns
    /// Samples from MAVLink vehicles (drone id = system id).
    public let mavlink: SampleColumns
    /// Frames (units) whose samples are in this batch: counted `stored` once the batch commits.
    public internal(set) var units = 0
    /// Receive time (ns, CLOCK_REALTIME) of the oldest datagram with a sample in the batch.
    public internal(set) var oldestReceiveNanoseconds: UInt64 = .max
    /// Receive time of each unit, for sample-to-commit latency (bounded by `unitCapacity`).
    let unitReceiveNanoseconds: UnsafeMutablePointer<UInt64>
    let unitCapacity: Int
    /// Derived per-sample ground speed in m/s, parallel to `skygate` rows (scratch for the fleet).
    let groundSpeeds: UnsafeMutablePointer<Float>

    public init(samplesMax: Int) {
        skygate = SampleColumns(capacity: samplesMax)
        mavlink = SampleColumns(capacity: samplesMax)
        unitCapacity = samplesMax
        unitReceiveNanoseconds = .allocate(capacity: samplesMax)
        unitReceiveNanoseconds.initialize(repeating: 0, count: samplesMax)
        groundSpeeds = .allocate(capacity: samplesMax)
        groundSpeeds.initialize(repeating: 0, count: samplesMax)
    }

    deinit {
        unitReceiveNanoseconds.deallocate()
        groundSpeeds.deallocate()
    }

    /// Samples in the batch, both protocols.
    public var sampleCount: Int { skygate.count + mavlink.count }

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

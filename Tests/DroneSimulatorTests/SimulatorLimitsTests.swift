import CSocketShims
import Testing
import TelemetryWire

@testable import DroneSimulator

/// The limits agree with each other and with the layers below: a batch fits one sendmmsg call
/// and one sample's worst case, catching up is faster than the requested rate, and the largest
/// frame fits a batch slot.
struct SimulatorLimitsTests {
    @Test func limitsAreConsistent() {
        #expect(SimulatorLimits.datagramsPerBatchMax <= Int(CSOCKET_BATCH_MAX))
        #expect(SimulatorLimits.datagramsPerBatchMax >= 2 * (1 + SimulatorLimits.reorderHoldMax))
        #expect(SimulatorLimits.catchUpMax > SimulatorLimits.pacingTick)
        #expect(SimulatorLimits.progressInterval > SimulatorLimits.pacingTick)
        // A week at the highest rate still counts in an Int and its timestamps in a UInt64.
        #expect(SimulatorLimits.durationMaxSeconds * SimulatorLimits.sampleRateMaxHz * Double(SimulatorLimits.dronesMax) < 1e15)
        #expect(1_000_000 / SimulatorLimits.sampleRateMaxHz >= 1)
    }
}

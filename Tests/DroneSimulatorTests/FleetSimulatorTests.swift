import Telemetry
import Testing
import TelemetryWire
import WireAuthentication

@testable import DroneSimulator

/// The fleet is deterministic and firmware-like: the same seed and options give byte-identical
/// datagrams (whatever the pacing), another seed gives others, sequence numbers and timestamps
/// advance per drone, batching puts K samples in one frame, and keyed drones' frames verify.
struct FleetSimulatorTests {
    static func configuration(seed: UInt64) -> FleetConfiguration {
        var configuration = FleetConfiguration(
            droneCount: 12, sampleRateHz: 10, durationSeconds: 20, samplesPerDatagram: 3, seed: seed)
        configuration.faults = LinkFaults(
            lossFraction: 0.05, corruptFraction: 0.05, duplicateFraction: 0.05, reorderFraction: 0.05,
            outageRatePerMinute: 1, outageDurationSeconds: 1)
        return configuration
    }

    @Test func sameSeedGivesIdenticalBytesAndAnotherSeedDoesNot() throws {
        let keys = try testKeys(droneIDs: 1...6)
        let first = runInMemory(Self.configuration(seed: 7), keys: keys).datagrams
        let second = runInMemory(Self.configuration(seed: 7), keys: keys).datagrams
        let other = runInMemory(Self.configuration(seed: 8), keys: keys).datagrams
        #expect(first.count > 500)
        #expect(first == second)
        #expect(first != other)
    }

    @Test func pacedRunSendsTheSameBytesAsAnUnpacedOne() {
        let configuration = Self.configuration(seed: 3)
        let unpaced = runInMemory(configuration).datagrams
        let fleet = FleetSimulator(
            configuration: configuration,
            encoder: SkygateTelemetryEncoder(startTimeMicroseconds: configuration.startTimeMicroseconds))
        var sink = MemoryDatagramSink()
        _ = SimulationRunner.run(fleet, into: &sink, clock: ManualClock(), pacing: .realTime(speed: 1))
        #expect(sink.datagrams == unpaced)
    }

    @Test func framesCarryPerDroneSequencesTimestampsAndBatches() {
        var configuration = FleetConfiguration(droneCount: 4, sampleRateHz: 5, durationSeconds: 10, samplesPerDatagram: 4)
        configuration.firstDroneID = 100
        let (datagrams, fleet) = runInMemory(configuration)
        // 50 samples per drone: 12 full frames of 4 and one of 2.
        #expect(datagrams.count == 4 * 13)
        var nextSequence: [UInt32: UInt32] = [:]
        var lastTimestamp: [UInt32: UInt64] = [:]
        var samples = 0
        var authenticator = NoAuthentication()
        let columns = SampleColumns(capacity: 64)
        for datagram in datagrams {
            columns.removeAll()
            let frame = datagram.withUnsafeBytes { bytes in
                try? FrameDecoder.decodeFrame(bytes, into: columns, authenticator: &authenticator)
            }
            guard let frame else {
                Issue.record("an undamaged run produced an undecodable frame")
                continue
            }
            let droneID = frame.header.droneID
            #expect((100...103).contains(droneID))
            #expect(frame.header.sequence == nextSequence[droneID, default: 0])
            nextSequence[droneID] = frame.header.sequence + 1
            #expect(frame.sampleCount == 4 || (frame.sampleCount == 2 && frame.header.sequence == 12))
            // Samples within a frame are one period (200 ms) apart, frames follow each other.
            for row in 0..<columns.count {
                let timestamp = columns.timestampsMicroseconds[row]
                if let previous = lastTimestamp[droneID] { #expect(timestamp == previous + 200_000) }
                lastTimestamp[droneID] = timestamp
            }
            samples += frame.sampleCount
        }
        #expect(samples == 200)
        #expect(fleet.makeSummary().totals.samplesIntact == 200)
    }

    @Test func keyedDronesSendFramesThatVerifyWithIncreasingCounters() throws {
        let keys = try testKeys(droneIDs: 1...3)
        let configuration = FleetConfiguration(droneCount: 5, sampleRateHz: 10, durationSeconds: 5, samplesPerDatagram: 2)
        let (datagrams, fleet) = runInMemory(configuration, keys: keys)
        var receiver = ReceiverTally(keys: keys)
        for datagram in datagrams { receiver.receive(datagram) }
        #expect(receiver.rejections.isEmpty)
        #expect(receiver.drones.values.map(\.samples).reduce(0, +) == 250)
        let summary = fleet.makeSummary()
        #expect(summary.drones.map(\.isAuthenticated) == [true, true, true, false, false])
        for droneID in UInt32(1)...3 {
            let window = try #require(receiver.authenticator.replayWindow(droneID: droneID))
            #expect(window.highest == fleet.encoder.counterBase + 24)
        }
    }

    @Test func summaryCountsAddUp() {
        let (datagrams, fleet) = runInMemory(Self.configuration(seed: 11))
        let totals = fleet.makeSummary().totals
        #expect(totals.samplesGenerated == 12 * 200)
        #expect(totals.samplesGenerated == totals.samplesIntact + totals.samplesLost + totals.samplesCorrupted)
        #expect(totals.datagramsGenerated == totals.datagramsIntact + totals.datagramsLost + totals.datagramsCorrupted)
        #expect(totals.datagramsSent == totals.datagramsIntact + totals.datagramsCorrupted + totals.datagramsDuplicated)
        #expect(datagrams.count == totals.datagramsSent)
        #expect(datagrams.map(\.count).reduce(0, +) == totals.bytesSent)
    }
}

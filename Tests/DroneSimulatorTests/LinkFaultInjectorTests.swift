import Telemetry
import Testing
import TelemetryWire

@testable import DroneSimulator

/// Each fault option changes the share of datagrams it says, within binomial tolerance at a fixed
/// seed, and nothing else: measured from the bytes that left the fleet, decoded as a receiver
/// would, and matched against the fleet's own counts.
struct LinkFaultInjectorTests {
    /// 100 drones × 10 Hz × 30 s: 30,000 datagrams, so 4.5 σ at 10 % is about ±0.8 %.
    static func run(_ faults: LinkFaults, seed: UInt64 = 21) -> (datagrams: [[UInt8]], totals: DatagramCounts) {
        var configuration = FleetConfiguration(droneCount: 100, sampleRateHz: 10, durationSeconds: 30, seed: seed)
        configuration.faults = faults
        let (datagrams, fleet) = runInMemory(configuration)
        return (datagrams, fleet.makeSummary().totals)
    }

    /// (drone id, sequence) of each datagram, nil for one that does not decode.
    static func identities(_ datagrams: [[UInt8]]) -> [(droneID: UInt32, sequence: UInt32)?] {
        let columns = SampleColumns(capacity: 64)
        var authenticator = NoAuthentication()
        return datagrams.map { datagram in
            columns.removeAll()
            let frame = datagram.withUnsafeBytes { try? FrameDecoder.decodeFrame($0, into: columns, authenticator: &authenticator) }
            return frame.map { ($0.header.droneID, $0.header.sequence) }
        }
    }

    @Test func lossDropsItsShare() {
        let (datagrams, totals) = Self.run(LinkFaults(lossFraction: 0.1))
        #expect(datagrams.count == totals.datagramsGenerated - totals.datagramsLost)
        #expect(isWithinBinomialTolerance(observed: totals.datagramsLost, trials: 30_000, p: 0.1))
        #expect(Self.identities(datagrams).allSatisfy { $0 != nil })
    }

    @Test func corruptionFailsTheCRCOfItsShare() {
        let (datagrams, totals) = Self.run(LinkFaults(corruptFraction: 0.1))
        var receiver = ReceiverTally()
        for datagram in datagrams { receiver.receive(datagram) }
        #expect(datagrams.count == 30_000)
        #expect(receiver.rejections == [.badCRC: totals.datagramsCorrupted])
        #expect(isWithinBinomialTolerance(observed: totals.datagramsCorrupted, trials: 30_000, p: 0.1))
    }

    @Test func duplicationRepeatsItsShare() {
        let (datagrams, totals) = Self.run(LinkFaults(duplicateFraction: 0.1))
        var seen = Set<UInt64>()
        var repeats = 0
        for identity in Self.identities(datagrams) {
            guard let identity else { continue }
            if !seen.insert(UInt64(identity.droneID) << 32 | UInt64(identity.sequence)).inserted { repeats += 1 }
        }
        #expect(repeats == totals.datagramsDuplicated)
        #expect(datagrams.count == 30_000 + repeats)
        #expect(isWithinBinomialTolerance(observed: repeats, trials: 30_000, p: 0.1))
    }

    @Test func reorderingDelaysItsShare() {
        let (datagrams, totals) = Self.run(LinkFaults(reorderFraction: 0.1))
        var highest: [UInt32: UInt32] = [:]
        var late = 0
        for identity in Self.identities(datagrams) {
            guard let identity else { continue }
            if let top = highest[identity.droneID], identity.sequence < top {
                late += 1
            } else {
                highest[identity.droneID] = identity.sequence
            }
        }
        #expect(datagrams.count == 30_000)
        #expect(late == totals.datagramsReordered)
        #expect(isWithinBinomialTolerance(observed: late, trials: 30_000, p: 0.1))
    }

    @Test func outagesLoseWholeBurstsOfTheirLength() {
        // 3 outages a minute of 2 s each: the link is down 2/(20+2) ≈ 9 % of the time.
        let (datagrams, totals) = Self.run(LinkFaults(outageRatePerMinute: 3, outageDurationSeconds: 2))
        #expect(totals.datagramsLost == totals.datagramsLostInOutage)
        let share = Double(totals.datagramsLostInOutage) / 30_000
        #expect(share > 0.06 && share < 0.12)
        // Every gap in a drone's sequence is one outage: 20 datagrams (2 s at 10 Hz), or fewer
        // when the run ended first.
        var last: [UInt32: UInt32] = [:]
        var gaps = 0
        for identity in Self.identities(datagrams) {
            guard let identity else { continue }
            let expected = last[identity.droneID].map { $0 + 1 } ?? 0
            if identity.sequence != expected {
                #expect((identity.sequence - expected) % 20 == 0)
                gaps += 1
            }
            last[identity.droneID] = identity.sequence
        }
        #expect(gaps > 50)
    }

    @Test func noFaultsMeansEveryDatagramIntact() {
        let (datagrams, totals) = Self.run(.none)
        #expect(datagrams.count == 30_000 && totals.datagramsIntact == 30_000 && totals.datagramsSent == 30_000)
    }

    @Test(arguments: [60, 84, 1_076])
    func corruptionNeverTouchesFramingFieldsAndAlwaysChangesTheFrame(length: Int) {
        var random = SimulatorRandom(seed: 4)
        var bytes = [UInt8](repeating: 0, count: length)
        for _ in 0..<2_000 {
            bytes.withUnsafeMutableBytes { LinkFaultInjector.corrupt($0, bits: random.next()) }
            #expect(bytes[0] == 0 && bytes[1] == 0 && bytes[22] == 0 && bytes[23] == 0)
            let flipped = bytes.reduce(0) { $0 + $1.nonzeroBitCount }
            #expect((1...3).contains(flipped))
            for index in bytes.indices { bytes[index] = 0 }
        }
    }
}

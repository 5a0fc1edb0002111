#if canImport(Glibc)
import Glibc
#endif
import CSocketShims
import Testing
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Telemetry
import TelemetryWire
import UDPTransport

@testable import DroneSimulator

/// End to end over a real socket: a receiver on 127.0.0.1 (ephemeral port) takes every datagram
/// the UDPSender sends with sendmmsg, reading them with recvmmsg, decodes them with TelemetryWire,
/// and what it accepted matches the summary JSON exactly, drone by drone. After each batch the
/// test receives exactly as many datagrams as were sent, so the kernel's buffer never overflows,
/// and every receive has a 2 s timeout, so the test cannot hang.
struct UDPLoopbackTests {
    final class Receiver {
        let descriptor: Int32
        let port: UInt16
        let buffers: UnsafeMutableRawPointer
        static let slotLength = 2_048
        static let slots = Int(CSOCKET_BATCH_MAX)

        init() throws {
            let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            self.descriptor = descriptor
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            address.sin_port = 0
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            try #require(bound == 0)
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
            }
            port = UInt16(bigEndian: address.sin_port)
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            buffers = .allocate(byteCount: Self.slots * Self.slotLength, alignment: 16)
        }

        deinit {
            close(descriptor)
            buffers.deallocate()
        }

        /// Receives exactly `count` datagrams (or fewer on timeout) and hands each to `body`.
        func receive(count: Int, _ body: (UnsafeRawBufferPointer) -> Void) -> Int {
            var received = 0
            var bases = (0..<Self.slots).map { UnsafeMutableRawPointer?(buffers + $0 * Self.slotLength) }
            var capacities = [UInt32](repeating: UInt32(Self.slotLength), count: Self.slots)
            var lengths = [UInt32](repeating: 0, count: Self.slots)
            while received < count {
                let wanted = UInt32(min(count - received, Self.slots))
                let got = csocket_recvmmsg(
                    descriptor, &bases, &capacities, &lengths, nil, nil, wanted, csocket_msg_waitforone())
                if got <= 0 { break }
                for index in 0..<Int(got) {
                    body(UnsafeRawBufferPointer(start: bases[index], count: Int(lengths[index])))
                }
                received += Int(got)
            }
            return received
        }
    }

    /// Sends each batch through the real sender, then drains the receiver of as many datagrams.
    struct LoopbackSink: DatagramSink {
        let sender: UDPSender
        let receiver: Receiver
        var tally = ReceiverTally()
        var missing = 0
        mutating func send(_ batch: DatagramBatch) {
            let before = sender.datagramsSent
            sender.send(batch)
            let sent = sender.datagramsSent - before
            var tally = self.tally
            let received = receiver.receive(count: sent) { tally.receive($0) }
            self.tally = tally
            missing += sent - received
        }
        var sendErrorCount: Int { sender.sendErrorCount }
    }

    @Test(.timeLimit(.minutes(1)))
    func receiverDecodesEveryIntactDatagramAndMatchesTheSummary() throws {
        let receiver = try Receiver()
        var configuration = FleetConfiguration(
            droneCount: 30, sampleRateHz: 10, durationSeconds: 20, samplesPerDatagram: 4, seed: 99)
        configuration.faults = LinkFaults(
            lossFraction: 0.05, corruptFraction: 0.05, duplicateFraction: 0.05, reorderFraction: 0.05,
            outageRatePerMinute: 2, outageDurationSeconds: 1)
        let fleet = FleetSimulator(
            configuration: configuration,
            encoder: SkygateTelemetryEncoder(startTimeMicroseconds: configuration.startTimeMicroseconds))
        let sender = try UDPSender(destination: SocketAddress(parsing: "127.0.0.1:\(receiver.port)"))
        var sink = LoopbackSink(sender: sender, receiver: receiver)
        let report = SimulationRunner.run(fleet, into: &sink, clock: MonotonicClock(), pacing: .asFastAsPossible, batchCapacity: 64)
        #expect(report.sendErrors == 0)
        #expect(sink.missing == 0)

        // Through the JSON file format, as a receiver test outside this process would read it.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let path = "/tmp/skygate-simulator-test-\(getpid()).json"
        try encoder.encode(fleet.makeSummary(run: report)).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        let summary = try JSONDecoder().decode(SimulationSummary.self, from: Data(contentsOf: URL(fileURLWithPath: path)))

        let tally = sink.tally
        #expect(tally.datagrams == summary.totals.datagramsSent)
        #expect(tally.rejections == [.badCRC: summary.totals.datagramsCorrupted])
        #expect(summary.totals.datagramsCorrupted > 0 && summary.totals.datagramsDuplicated > 0)
        #expect(summary.totals.datagramsReordered > 0 && summary.totals.datagramsLostInOutage > 0)
        #expect(summary.drones.count == 30)
        for drone in summary.drones {
            let received = tally.drones[drone.droneID] ?? ReceivedDrone()
            #expect(received.samples == drone.counts.samplesIntact + drone.counts.samplesDuplicated)
            #expect(received.first == drone.firstIntact)
            #expect(received.last == drone.lastIntact)
        }
    }
}

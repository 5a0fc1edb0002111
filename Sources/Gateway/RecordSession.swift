import FlightRecording
import Foundation
import PacketRing
import Synchronization
import Telemetry
import UDPIngest

/// `skygate record`: the gateway's receive thread and packet ring, with a recorder thread in
/// place of the batch processor, writing every datagram to one Skygate recording and storing
/// nothing. Datagrams the ring cannot take are counted `dropped{ring_full}`, as in the gateway.
public final class RecordSession: @unchecked Sendable {
    // @unchecked: `writer` and `source` are touched only by the recorder thread (and by `stop()`
    // after joining it); the rest is immutable or atomic.

    public let counters = IngestCounters()
    public let ring: PacketRing
    public let receiver: UDPReceiver
    let writer: RecordingWriter
    let stopRequested = Atomic<Bool>(false)
    let recordedCount = Atomic<UInt64>(0)
    private let failureLock = NSLock()
    private var failureText: String?
    private var threads: [ThreadHandle] = []
    /// Scratch for one source address in portable form.
    private let source = UnsafeMutableRawBufferPointer.allocate(byteCount: RecordedSource.bytesMax, alignment: 8)

    /// Binds `udpAddress` and creates `outputPath`.
    public init(udpAddress: String, outputPath: String, limits: Limits, options: RecordingOptions = RecordingOptions())
        throws(GatewayError)
    {
        let problems = limits.validate()
        guard problems.isEmpty else { throw GatewayError("invalid limits: " + problems.joined(separator: "; ")) }
        let address: SocketAddress
        do { address = try SocketAddress(parsing: udpAddress, allowingPortZero: true) } catch { throw GatewayError("--udp: \(error)") }
        ring = PacketRing(capacity: limits.ringCapacity, datagramCapacity: limits.datagramBytesMax)
        do {
            receiver = try UDPReceiver(address: address, limits: limits, ring: ring, counters: counters)
        } catch {
            throw GatewayError("--udp \(udpAddress): \(error)")
        }
        do {
            writer = try RecordingWriter(
                path: outputPath, startNanoseconds: realtimeNanoseconds(), gatewayVersion: FlightRecorder.gatewayVersion,
                options: options)
        } catch {
            throw GatewayError("--out \(outputPath): \(error)")
        }
    }

    deinit { source.deallocate() }

    public var udpPort: UInt16 { receiver.port }
    public var datagramsRecorded: UInt64 { recordedCount.load(ordering: .relaxed) }
    /// Why recording failed (a full disk), if it did; the command ends then.
    public var failure: String? {
        failureLock.lock()
        defer { failureLock.unlock() }
        return failureText
    }

    public func start() {
        precondition(threads.isEmpty, "started twice")
        threads = [
            ThreadHandle.start(name: "skygate-receive") { [receiver] in receiver.run() },
            ThreadHandle.start(name: "skygate-record") { [self] in recordLoop() },
        ]
    }

    /// Stops receiving, writes everything received, closes the recording (index and trailer).
    /// Returns the accounting: every datagram received is recorded or dropped (ring full).
    @discardableResult
    public func stop() -> IngestCounters.Snapshot {
        if threads.count == 2 {
            receiver.stopRequested.store(true, ordering: .relaxed)
            threads[0].join()
            stopRequested.store(true, ordering: .releasing)
            threads[1].join()
            threads = []
            if failure == nil {
                do throws(RecordingError) { try writer.close() } catch { noteFailure(error) }
            }
        }
        return counters.snapshot()
    }

    private func recordLoop() {
        // Bounded by the stop protocol: after `stopRequested` the ring only empties.
        while true {
            let slots = ring.filledSlots(upTo: FlightRecorder.writeBatchDatagrams)
            let now = realtimeNanoseconds()
            if failure == nil {
                do throws(RecordingError) {
                    for slot in slots {
                        let sourceLength = RecordedSource.compact(sockaddr: slot.sourceAddress, into: source)
                        try writer.append(
                            receivedNanoseconds: slot.receiveTimestampNanoseconds,
                            source: UnsafeRawBufferPointer(rebasing: source[0..<sourceLength]), datagram: slot.datagram,
                            isTruncated: slot.isTruncated, nowNanoseconds: now)
                    }
                    try writer.writeChunkIfDue(nowNanoseconds: now)
                    recordedCount.add(UInt64(slots.count), ordering: .relaxed)
                } catch {
                    noteFailure(error)
                }
            }
            ring.release(count: slots.count)
            if slots.isEmpty {
                if stopRequested.load(ordering: .acquiring) && ring.isEmpty { break }
                usleep(1_000)
            }
        }
    }

    private func noteFailure(_ error: RecordingError) {
        failureLock.lock()
        if failureText == nil { failureText = error.description }
        failureLock.unlock()
    }
}

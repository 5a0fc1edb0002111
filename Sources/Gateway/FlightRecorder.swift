import FlightRecording
import Foundation
import Logging
import PacketRing
import Synchronization

/// The gateway's flight recorder (`serve --record DIR`): the batch processor's tap copies every
/// datagram it took from the packet ring into this recorder's own ring before releasing the
/// slots; a dedicated recorder thread compresses and writes them (`RecordingDirectoryWriter`).
///
/// It never slows the receive thread (which it never touches) and never blocks the processor:
/// when its ring is full, or after a write failed (a full disk), datagrams are left out of the
/// recording and counted in `datagramsNotRecorded`; the ingest accounting is not affected.
/// docs/architecture.md, "Recording", explains the choice.
public final class FlightRecorder: @unchecked Sendable {
    // @unchecked: `writer` is touched only by the recorder thread; the rest is atomic or immutable.

    /// Copies waiting for the recorder thread.
    let ring: PacketRing
    let writer: RecordingDirectoryWriter
    let logger: Logger
    /// Datagrams written, and datagrams left out (ring full or recording stopped).
    let recorded = Atomic<UInt64>(0)
    let notRecorded = Atomic<UInt64>(0)
    let stopRequested = Atomic<Bool>(false)
    let hasFailed = Atomic<Bool>(false)
    private let failureLock = NSLock()
    private var failureText: String?

    /// Datagrams the recorder thread writes per pass before it checks the clock.
    static let writeBatchDatagrams = 1_024

    public init(directory: String, ringCapacity: Int, datagramBytesMax: Int, options: RecordingOptions, logger: Logger)
        throws(RecordingError)
    {
        ring = PacketRing(capacity: ringCapacity, datagramCapacity: datagramBytesMax)
        writer = try RecordingDirectoryWriter(directory: directory, gatewayVersion: Self.gatewayVersion, options: options)
        self.logger = logger
    }

    /// Written into every recording's header.
    public static let gatewayVersion = "skygate 0.1"

    public var datagramsRecorded: UInt64 { recorded.load(ordering: .relaxed) }
    public var datagramsNotRecorded: UInt64 { notRecorded.load(ordering: .relaxed) }
    /// Why recording stopped, if it did.
    public var failure: String? {
        failureLock.lock()
        defer { failureLock.unlock() }
        return failureText
    }
    public var directory: String { writer.directory }

    /// The processor's tap: copies the first `count` of `slots` (in the portable source form) into
    /// the recorder's ring. Processor thread only; never blocks, allocates nothing.
    public func copy(_ slots: PacketRing.Slots, count: Int) {
        guard count > 0 else { return }
        guard !hasFailed.load(ordering: .relaxed) else {
            notRecorded.add(UInt64(count), ordering: .relaxed)
            return
        }
        let free = ring.freeSlots(upTo: count)
        for index in 0..<free.count {
            let from = slots[index]
            let to = free[index]
            let length = min(from.byteCount, to.datagramCapacity)
            to.datagramBuffer.baseAddress!.copyMemory(from: from.datagramBuffer.baseAddress!, byteCount: length)
            to.byteCount = length
            to.isTruncated = from.isTruncated || length < from.byteCount
            to.receiveTimestampNanoseconds = from.receiveTimestampNanoseconds
            to.sourceAddressLength = RecordedSource.compact(sockaddr: from.sourceAddress, into: to.sourceAddressBuffer)
        }
        ring.publish(count: free.count)
        if free.count < count { notRecorded.add(UInt64(count - free.count), ordering: .relaxed) }
    }

    /// The recorder thread: writes what the tap copied until `stop()`, then what is left, then
    /// closes the file. A write error stops recording (logged, kept in `failure`), not the gateway.
    func run() {
        // Bounded by the stop protocol: after `stopRequested` the ring only empties.
        while true {
            let slots = ring.filledSlots(upTo: Self.writeBatchDatagrams)
            let now = realtimeNanoseconds()
            if !hasFailed.load(ordering: .relaxed) {
                do throws(RecordingError) {
                    for slot in slots {
                        try writer.append(
                            receivedNanoseconds: slot.receiveTimestampNanoseconds, source: slot.sourceAddress, datagram: slot.datagram,
                            isTruncated: slot.isTruncated, nowNanoseconds: now)
                    }
                    try writer.writeChunkIfDue(nowNanoseconds: now)
                    recorded.add(UInt64(slots.count), ordering: .relaxed)
                } catch {
                    fail(error, lost: slots.count)
                }
            } else if !slots.isEmpty {
                notRecorded.add(UInt64(slots.count), ordering: .relaxed)
            }
            ring.release(count: slots.count)
            if slots.isEmpty {
                if stopRequested.load(ordering: .acquiring) && ring.isEmpty { break }
                usleep(1_000)
            }
        }
        if !hasFailed.load(ordering: .relaxed) {
            do throws(RecordingError) { try writer.close() } catch { fail(error, lost: 0) }
        }
    }

    /// Asks the recorder thread to write what is left and close the file. The tap must have
    /// stopped (the processor thread joined) first, so nothing is copied after the last pass.
    func requestStop() {
        stopRequested.store(true, ordering: .releasing)
    }

    private func fail(_ error: RecordingError, lost: Int) {
        hasFailed.store(true, ordering: .relaxed)
        notRecorded.add(UInt64(lost), ordering: .relaxed)
        failureLock.lock()
        failureText = error.description
        failureLock.unlock()
        logger.error("recording stopped: \(error); the gateway goes on without it")
    }
}

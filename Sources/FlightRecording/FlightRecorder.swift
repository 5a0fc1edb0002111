import PacketRing
import Telemetry

/// The gateway's flight recorder (`serve --record DIR`): the batch processor's tap copies every
/// datagram it took from the packet ring into this recorder's own ring before releasing the
/// slots; a dedicated recorder thread (`RecordingDrain`) compresses and writes them into a
/// rotating directory of recordings (`RecordingDirectoryWriter`).
///
/// It never slows the receive thread (which it never touches) and never blocks the processor:
/// when its ring is full, or after a write failed (a full disk), datagrams are left out of the
/// recording and counted in `datagramsNotRecorded`; the ingest accounting is not affected.
/// Datagrams in which the processor found no intact frame are left out too (`not_framed`).
/// docs/architecture.md, "Recording", explains the choice.
public final class FlightRecorder: @unchecked Sendable {
    // @unchecked: `writer` is used only by the recorder thread (through `drain`); other threads
    // read only its immutable `directory`, `options` and `counters` (atomics).
    let drain: RecordingDrain
    let writer: RecordingDirectoryWriter

    /// Written into every recording's header.
    public static let gatewayVersion = "skygate 0.1"

    /// Opens `directory` for recordings; `onFailure` hears a write error (recording then stops).
    public init(
        directory: String, limits validLimits: ValidLimits, options: RecordingOptions,
        onFailure: @escaping @Sendable (RecordingError) -> Void
    ) throws(RecordingError) {
        let limits = validLimits.value
        writer = try RecordingDirectoryWriter(directory: directory, gatewayVersion: Self.gatewayVersion, options: options)
        let ring = PacketRing(capacity: limits.recordingRingCapacity, datagramCapacity: limits.datagramBytesMax)
        drain = RecordingDrain(ring: ring, sink: writer, sourceForm: .portable, onFailure: onFailure)
    }

    public var datagramsRecorded: UInt64 { drain.datagramsRecorded }
    /// Bytes of the datagrams recorded, as received (before compression).
    public var datagramBytesRecorded: UInt64 { drain.datagramBytesRecorded }
    public var datagramsNotRecorded: UInt64 { drain.datagramsNotRecorded }
    /// Datagrams left out because the recorder's ring was full, or after a write failed.
    public func datagramsNotRecorded(_ reason: RecordingDrain.NotRecordedReason) -> UInt64 {
        drain.datagramsNotRecorded(reason)
    }
    /// Why recording stopped, if it did.
    public var failure: String? { drain.failure }
    public var isFailed: Bool { drain.isFailed }
    public var directory: String { writer.directory }
    /// Bytes written, chunks, files started, rotated and deleted, the current file: atomics the
    /// recorder thread updates, readable from any thread.
    public var files: RecordingDirectoryCounters { writer.counters }
    /// The directory budget (`--record-max-mib`) in bytes.
    public var directoryBytesMax: Int { writer.options.directoryBytesMax }
    /// Datagrams copied by the tap and not yet written, and the ring's slots.
    public var ringDepth: Int { drain.ring.count }
    public var ringCapacity: Int { drain.ring.capacity }

    /// The processor's tap: copies those of the first `count` of `slots` that framed (the
    /// processor set `isFramed`: at least one intact frame, accepted or refused) into the
    /// recorder's ring, in the portable source form; the others are counted `not_framed` and
    /// never reach a recording, so garbage cannot fill the budget and delete real flights.
    /// Processor thread only; never blocks, allocates nothing.
    public func copy(_ slots: PacketRing.Slots, count: Int) {
        guard count > 0 else { return }
        var framed = 0
        for index in 0..<count where slots[index].isFramed { framed += 1 }
        if framed < count { drain.countNotRecorded(count - framed, because: .notFramed) }
        guard framed > 0 else { return }
        guard !drain.isFailed else {
            drain.countNotRecorded(framed, because: .writeFailed)
            return
        }
        let ring = drain.ring
        let free = ring.freeSlots(upTo: framed)
        var filled = 0
        // Bounded by `count`; stops once the free slots are used.
        for index in 0..<count where filled < free.count {
            let from = slots[index]
            guard from.isFramed else { continue }
            let to = free[filled]
            filled += 1
            let length = min(from.byteCount, to.datagramCapacity)
            to.datagramBuffer.baseAddress!.copyMemory(from: from.datagramBuffer.baseAddress!, byteCount: length)
            to.byteCount = length
            to.isTruncated = from.isTruncated || length < from.byteCount
            to.receiveTimestampNanoseconds = from.receiveTimestampNanoseconds
            to.sourceAddressLength = RecordedSource.compact(sockaddr: from.sourceAddress, into: to.sourceAddressBuffer)
        }
        ring.publish(count: filled)
        if filled < framed { drain.countNotRecorded(framed - filled, because: .ringFull) }
    }

    /// The recorder thread's body: writes what the tap copied until `requestStop()`, then what is
    /// left, then closes the file.
    public func run() { drain.run() }

    /// Asks the recorder thread to finish. The tap must have stopped (the processor thread
    /// joined) first, so nothing is copied after the last pass.
    public func requestStop() { drain.requestStop() }
}

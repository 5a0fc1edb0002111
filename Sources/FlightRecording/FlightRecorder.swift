import PacketRing
import Telemetry

/// The gateway's flight recorder (`serve --record DIR`): the batch processor's tap copies every
/// datagram it took from the packet ring into this recorder's own ring before releasing them; a dedicated recorder thread (`RecordingDrain`) compresses and writes them into a
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
    /// The tap's scratch for one sender in portable form (processor thread only).
    private let sourceScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: RecordedSource.bytesMax, alignment: 8)

    /// Written into every recording's header.
    public static let gatewayVersion = "skygate 0.1"

    /// Opens `directory` for recordings; `onFailure` hears a write error (recording then stops).
    public init(
        directory: String, limits validLimits: ValidLimits, options: RecordingOptions,
        onFailure: @escaping @Sendable (RecordingError) -> Void
    ) throws(RecordingError) {
        let limits = validLimits.value
        writer = try RecordingDirectoryWriter(directory: directory, gatewayVersion: Self.gatewayVersion, options: options)
        let ring = DatagramRing(byteCapacity: limits.recordingRingBytes, datagramCapacity: limits.datagramBytesMax)
        drain = RecordingDrain(ring: ring, sink: writer, sourceForm: .portable, onFailure: onFailure)
    }

    deinit { sourceScratch.deallocate() }

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
    /// Datagrams copied by the tap and not yet written, and the ring's bytes.
    public var ringDepth: Int { drain.ring.count }
    public var ringCapacity: Int { drain.ring.byteCapacity }

    /// The processor's tap: copies those of the first `count` of `records` that framed (the
    /// processor set `isFramed`: at least one intact frame, accepted or refused) into the
    /// recorder's ring, in the portable source form; the others are counted `not_framed` and
    /// never reach a recording, so garbage cannot fill the budget and delete real flights.
    /// Processor thread only; never blocks, allocates nothing.
    public func copy(_ records: DatagramRing.Records, count: Int) {
        guard count > 0 else { return }
        var framed = 0
        for record in records.prefix(count) where record.isFramed { framed += 1 }
        if framed < count { drain.countNotRecorded(count - framed, because: .notFramed) }
        guard framed > 0 else { return }
        guard !drain.isFailed else {
            drain.countNotRecorded(framed, because: .writeFailed)
            return
        }
        let ring = drain.ring
        var copied = 0
        var seen = 0
        // Bounded by `count`; stops at the first record the ring has no room for.
        for record in records {
            guard seen < count else { break }
            seen += 1
            guard record.isFramed else { continue }
            let length = RecordedSource.compact(sockaddr: record.sourceAddress, into: sourceScratch)
            let datagram = record.datagram
            let kept = UnsafeRawBufferPointer(rebasing: datagram[0..<min(datagram.count, ring.datagramCapacity)])
            guard
                ring.append(
                    datagram: kept, source: UnsafeRawBufferPointer(rebasing: sourceScratch[0..<length]),
                    timestamp: record.receiveTimestampNanoseconds, isTruncated: record.isTruncated || kept.count < datagram.count)
            else { break }
            copied += 1
        }
        ring.publish()
        if copied < framed { drain.countNotRecorded(framed - copied, because: .ringFull) }
    }

    /// The recorder thread's body: writes what the tap copied until `requestStop()`, then what is
    /// left, then closes the file.
    public func run() { drain.run() }

    /// Asks the recorder thread to finish. The tap must have stopped (the processor thread
    /// joined) first, so nothing is copied after the last pass.
    public func requestStop() { drain.requestStop() }
}

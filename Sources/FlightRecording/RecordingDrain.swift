import PacketRing
import Synchronization
import Telemetry

/// The recorder thread's loop, shared by `serve --record` (`FlightRecorder`) and `skygate record`
/// (`RecordSession`): takes filled slots from a packet ring, appends each datagram with its
/// receive time and sender to a `RecordingSink`, writes chunks as they fall due, and releases the
/// slots. After `requestStop()` it writes what is left in the ring and closes the sink.
///
/// A write error (a full disk) stops the recording, never the caller: the error is kept in
/// `failure` and passed to `onFailure`, and every datagram from then on (and those of the pass
/// that failed) is counted in `datagramsNotRecorded` (as `writeFailed`) and released.
public final class RecordingDrain: @unchecked Sendable {
    // @unchecked: `sink` and `sourceScratch` are touched only by the recorder thread; the rest is
    // atomic or immutable.

    /// How the ring's slots hold their sender.
    public enum SourceForm: Sendable {
        /// A kernel `sockaddr` as `recvmmsg` wrote it (the receive thread's ring).
        case socketAddress
        /// Already the portable `RecordedSource` form (the processor tap's copy).
        case portable
    }

    /// Why a datagram is not in the recording.
    public enum NotRecordedReason: Sendable, CaseIterable {
        /// The ring's producer found it full: the disk was slower than the traffic.
        case ringFull
        /// A write failed (a full disk), which stopped the recording.
        case writeFailed
        /// The gateway found no intact frame in it (garbage, a bad CRC, cut off, too long): a
        /// flood of such datagrams must not fill the recording budget and delete real flights
        /// (`serve --record` only; `skygate record` keeps every datagram).
        case notFramed

        /// The name in `/api/stats` and `/metrics`.
        public var name: String {
            switch self {
            case .ringFull: "ring_full"
            case .writeFailed: "write_failed"
            case .notFramed: "not_framed"
            }
        }
    }

    public let ring: DatagramRing
    let sink: any RecordingSink
    let sourceForm: SourceForm
    let onFailure: @Sendable (RecordingError) -> Void
    let recorded = Atomic<UInt64>(0)
    let recordedBytes = Atomic<UInt64>(0)
    let notRecordedRingFull = Atomic<UInt64>(0)
    let notRecordedWriteFailed = Atomic<UInt64>(0)
    let notRecordedNotFramed = Atomic<UInt64>(0)
    let stopRequested = Atomic<Bool>(false)
    let hasFailed = Atomic<Bool>(false)
    private let failureText = Mutex<String?>(nil)
    /// One sender in portable form, converted from a `sockaddr`.
    private let sourceScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: RecordedSource.bytesMax, alignment: 8)

    public init(
        ring: DatagramRing, sink: any RecordingSink, sourceForm: SourceForm,
        onFailure: @escaping @Sendable (RecordingError) -> Void = { _ in }
    ) {
        self.ring = ring
        self.sink = sink
        self.sourceForm = sourceForm
        self.onFailure = onFailure
    }

    deinit { sourceScratch.deallocate() }

    public var datagramsRecorded: UInt64 { recorded.load(ordering: .relaxed) }
    /// Bytes of the datagrams recorded (as received, before compression).
    public var datagramBytesRecorded: UInt64 { recordedBytes.load(ordering: .relaxed) }
    /// Datagrams left out of the recording, for any reason.
    public var datagramsNotRecorded: UInt64 {
        datagramsNotRecorded(.ringFull) + datagramsNotRecorded(.writeFailed) + datagramsNotRecorded(.notFramed)
    }
    public func datagramsNotRecorded(_ reason: NotRecordedReason) -> UInt64 {
        switch reason {
        case .ringFull: notRecordedRingFull.load(ordering: .relaxed)
        case .writeFailed: notRecordedWriteFailed.load(ordering: .relaxed)
        case .notFramed: notRecordedNotFramed.load(ordering: .relaxed)
        }
    }
    /// Whether a write failed (recording stopped); checked by the processor tap without a lock.
    public var isFailed: Bool { hasFailed.load(ordering: .relaxed) }
    /// Why recording stopped, if it did.
    public var failure: String? { failureText.withLock { $0 } }

    /// Counts datagrams left out: before they reached the ring (its producer found it full, or
    /// found the recording stopped), or taken from it after a write failed.
    public func countNotRecorded(_ count: Int, because reason: NotRecordedReason) {
        switch reason {
        case .ringFull: notRecordedRingFull.add(UInt64(count), ordering: .relaxed)
        case .writeFailed: notRecordedWriteFailed.add(UInt64(count), ordering: .relaxed)
        case .notFramed: notRecordedNotFramed.add(UInt64(count), ordering: .relaxed)
        }
    }

    /// Asks `run()` to write what is left and close the sink. The ring's producer must have
    /// stopped first, so nothing arrives after the last pass.
    public func requestStop() {
        stopRequested.store(true, ordering: .releasing)
    }

    /// The recorder thread's body: runs until `requestStop()` and an empty ring.
    public func run() {
        // Bounded by the stop protocol: after `stopRequested` the ring only empties.
        while true {
            let slots = ring.filledRecords(upTo: Limits.Recording.writeBatchDatagrams)
            if !isFailed {
                write(slots, nowNanoseconds: SystemClock.realtimeNanoseconds())
            } else if !slots.isEmpty {
                countNotRecorded(slots.count, because: .writeFailed)
            }
            ring.release(count: slots.count)
            if slots.isEmpty {
                if stopRequested.load(ordering: .acquiring) && ring.isEmpty { break }
                SystemClock.sleep(for: Limits.Threads.recorderIdleSleep)
            }
        }
        if !isFailed {
            do throws(RecordingError) { try sink.close() } catch { fail(error, lost: 0) }
        }
    }

    private func write(_ slots: DatagramRing.Records, nowNanoseconds now: UInt64) {
        do throws(RecordingError) {
            var bytes = 0
            for slot in slots {
                try sink.append(
                    receivedNanoseconds: slot.receiveTimestampNanoseconds, source: portableSource(of: slot),
                    datagram: slot.datagram, isTruncated: slot.isTruncated, nowNanoseconds: now)
                bytes &+= slot.byteCount
            }
            try sink.writeChunkIfDue(nowNanoseconds: now)
            recorded.add(UInt64(slots.count), ordering: .relaxed)
            recordedBytes.add(UInt64(bytes), ordering: .relaxed)
        } catch {
            fail(error, lost: slots.count)
        }
    }

    private func portableSource(of slot: DatagramRing.Record) -> UnsafeRawBufferPointer {
        switch sourceForm {
        case .portable:
            return slot.sourceAddress
        case .socketAddress:
            let length = RecordedSource.compact(sockaddr: slot.sourceAddress, into: sourceScratch)
            return UnsafeRawBufferPointer(rebasing: sourceScratch[0..<length])
        }
    }

    private func fail(_ error: RecordingError, lost: Int) {
        hasFailed.store(true, ordering: .relaxed)
        countNotRecorded(lost, because: .writeFailed)
        failureText.withLock { text in if text == nil { text = error.description } }
        onFailure(error)
    }
}

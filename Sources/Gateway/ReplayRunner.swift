import FlightRecording
import Foundation
import Pipeline
import Telemetry
import TelemetryStore

/// `replay --db`: feeds recorded datagrams through the gateway's own `BatchProcessor` into a
/// `TelemetryStore`, without a socket, as fast as the store takes them. The caller's thread
/// decodes; a writer thread commits full batches (double buffering, as in the gateway), so
/// decoding and SQLite overlap on two cores.
///
/// Deterministic: each datagram is processed with its recorded receive time as both the receive
/// time and "now" (the future-timestamp check and the batch clock use recorded time, not the
/// wall clock), and batches are committed only when full, so the same file gives the same rows.
public final class ReplayRunner: @unchecked Sendable {
    // @unchecked: the processor is used by the feeding thread only; batches change hands through
    // the queues; the store is used by the writer thread only until `finish()` joins it.

    public let counters = IngestCounters()
    public let limits: Limits
    public let processor: BatchProcessor
    let store: TelemetryStore
    let freeBatches: BatchQueue
    let fullBatches: BatchQueue
    private var writerThread: ThreadHandle?
    private let errorLock = NSLock()
    private var firstStoreError: String?
    private var isFinished = false

    /// Opens (creating and migrating if needed) the database at `databasePath`.
    public init(databasePath: String, limits: Limits = Limits()) throws(GatewayError) {
        let problems = limits.validate()
        guard problems.isEmpty else { throw GatewayError("invalid limits: " + problems.joined(separator: "; ")) }
        self.limits = limits
        do { store = try TelemetryStore(path: databasePath) } catch { throw GatewayError("--db \(databasePath): \(error)") }
        let batches = (0...limits.commitBatchesInFlight).map { _ in TelemetryBatch(samplesMax: limits.commitSamplesMax) }
        processor = BatchProcessor(limits: limits, counters: counters, batch: batches[0])
        freeBatches = BatchQueue(capacity: batches.count)
        fullBatches = BatchQueue(capacity: batches.count)
        for batch in batches.dropFirst() { freeBatches.put(batch) }
        writerThread = ThreadHandle.start(name: "skygate-replay") { [self] in writeLoop() }
    }

    /// Processes one recorded datagram as the gateway would have on receiving it.
    public func feed(_ datagram: RecordedDatagram) {
        precondition(!isFinished, "feed after finish")
        // The processor's own test: MAVLink needs room for more rows per datagram than Skygate,
        // and for units without rows (HEARTBEAT and the like).
        if !processor.hasRoomForDatagram { handOff() }
        counters.countDatagram(bytes: datagram.bytes.count)
        // The live receive thread keeps at most a slot's worth and marks the rest truncated; a
        // replayed datagram gets the same outcome.
        if datagram.isTruncated || datagram.bytes.count > limits.datagramBytesMax {
            counters.countRejected(.oversized)
            return
        }
        processor.process(
            datagram: datagram.bytes, receivedNanoseconds: datagram.receivedNanoseconds, nowNanoseconds: datagram.receivedNanoseconds)
    }

    /// Commits what is left, waits for the writer, checkpoints and closes the database, and
    /// returns the final accounting. Idempotent.
    @discardableResult
    public func finish() -> IngestCounters.Snapshot {
        if !isFinished {
            isFinished = true
            if processor.batch.units > 0 { handOff() }
            fullBatches.close()
            writerThread?.join()
            writerThread = nil
            do { try store.checkpoint() } catch { noteStoreError("checkpoint: \(error)") }
            store.close()
        }
        return counters.snapshot()
    }

    /// The first commit or checkpoint error, if any (its frames are counted `dropped{store_failed}`).
    public var storeError: String? {
        errorLock.lock()
        defer { errorLock.unlock() }
        return firstStoreError
    }

    /// Hands the current batch to the writer, waiting for a free one when both are in flight:
    /// replay may wait for the disk, unlike a live socket.
    private func handOff() {
        guard processor.batch.units > 0 || processor.batch.sampleCount > 0 else { return }
        guard let fresh = freeBatches.take() else { return }
        fullBatches.put(processor.swapBatch(fresh))
    }

    private func writeLoop() {
        while let batch = fullBatches.take() {
            do {
                _ = try store.write([
                    StoreBatchPart(protocol: .skygate, columns: batch.skygate),
                    StoreBatchPart(protocol: .mavlink, columns: batch.mavlink),
                ])
                counters.countStored(units: batch.units, samples: batch.sampleCount)
            } catch {
                noteStoreError("commit of \(batch.units) frames: \(error)")
                counters.countDropped(.storeFailed, units: batch.units)
            }
            batch.reset()
            freeBatches.put(batch)
        }
    }

    private func noteStoreError(_ text: String) {
        errorLock.lock()
        if firstStoreError == nil { firstStoreError = text }
        errorLock.unlock()
    }
}

import FlightRecording
import MAVLinkWire
import Pipeline
import Telemetry
import TelemetryStore
import TelemetryWire

/// The processor `replay --db` feeds: recorded frames are stored as they were received, so
/// neither Skygate tags nor MAVLink signatures are checked again (the live gateway did that, and
/// a recording made before a key was rotated must still replay).
public typealias ReplayProcessor = BatchProcessor<NoAuthentication, MAVLinkNoSigning>

/// `replay --db`: feeds recorded datagrams through the gateway's own `BatchProcessor` into a
/// `TelemetryStore`, without a socket, as fast as the store takes them. The caller's thread
/// decodes; the shared `CommitLoop` commits full batches on its writer thread (double
/// buffering, as in the gateway), so decoding and SQLite overlap on two cores.
///
/// Deterministic: each datagram is processed with its recorded receive time as both the receive
/// time and "now" (the future-timestamp check and the batch clock use recorded time, not the
/// wall clock), and batches are committed only when full, so the same file gives the same rows.
public final class ReplayRunner: @unchecked Sendable {
    // @unchecked: the processor is used by the feeding thread only; the store by the commit
    // loop's writer thread until `finish()` joins it.

    public let counters = IngestCounters()
    public let limits: Limits
    public let processor: ReplayProcessor
    let commits: CommitLoop
    private var isFinished = false

    /// Opens (creating and migrating if needed) the SQLite database at `databasePath`.
    public convenience init(databasePath: String, limits validLimits: ValidLimits = .defaults) throws(PlaybackError) {
        let store: TelemetryStore
        do { store = try TelemetryStore(path: databasePath) } catch { throw PlaybackError("--db \(databasePath): \(error)") }
        self.init(store: store, limits: validLimits)
    }

    /// Replays into an open store (SQLite or the shared PostgreSQL store).
    public init(store: any TelemetryStoring, limits validLimits: ValidLimits = .defaults) {
        limits = validLimits.value
        commits = CommitLoop(store: store, limits: validLimits, counters: counters, hooks: .init(recordsLatency: false))
        processor = ReplayProcessor(limits: validLimits, counters: counters, batch: commits.firstBatch)
        commits.start(threadName: "skygate-replay")
    }

    /// Processes one recorded datagram as the gateway would have on receiving it.
    public func feed(_ datagram: RecordedDatagram) {
        precondition(!isFinished, "feed after finish")
        // The processor's own test: MAVLink needs room for more rows per datagram than Skygate,
        // and for units without rows (HEARTBEAT and the like).
        if !processor.hasRoomForDatagram { commits.handOff(from: processor) }
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

    /// Feeds every datagram of `readers` in `from..<until` (ns, nil = unbounded), file after file,
    /// until `shouldStop` says so; `onDatagram` sees each one's recorded time (for a progress
    /// line). Returns each file's read report.
    public func replay(
        _ readers: [any RecordingReader], fromNanoseconds from: UInt64?, untilNanoseconds until: UInt64?,
        shouldStop: () -> Bool, onDatagram: (_ recordedNanoseconds: UInt64) -> Void = { _ in }
    ) -> [(path: String, report: ReadReport)] {
        var reports: [(path: String, report: ReadReport)] = []
        for reader in readers {
            let report = reader.read(fromNanoseconds: from, untilNanoseconds: until) { datagram in
                feed(datagram)
                onDatagram(datagram.receivedNanoseconds)
                return !shouldStop()
            }
            reports.append((reader.path, report))
            if shouldStop() { break }
        }
        return reports
    }

    /// Commits what is left, waits for the writer, checkpoints and closes the database, and
    /// returns the final accounting. Idempotent.
    @discardableResult
    public func finish() -> IngestCounters.Snapshot {
        if !isFinished {
            isFinished = true
            commits.handOff(from: processor)
            commits.finish()
            do { try commits.store.checkpoint() } catch { checkpointError = "checkpoint: \(error)" }
            commits.store.close()
        }
        return counters.snapshot()
    }

    private var checkpointError: String?

    /// The first commit or checkpoint error, if any (a failed commit's frames are counted
    /// `dropped{store_failed}`).
    public var storeError: String? { commits.firstCommitError ?? checkpointError }
}

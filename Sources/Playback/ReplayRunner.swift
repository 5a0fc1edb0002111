import Alerts
import FlightRecording
import MAVLinkSigning
import MAVLinkWire
import Pipeline
import StoreWriter
import Synchronization
import Telemetry
import TelemetryStore
import TelemetryWire
import WireAuthentication

/// The processor `replay --db` feeds: the live gateway's own (`Gateway.GatewayProcessor`), so
/// frames are checked with the same keys as live (`replay --key-file`, `--mavlink-key-file`) and
/// a recording of keyed and forged traffic is stored as the live gateway stored it: the recorder
/// keeps every datagram before it is checked, so without keys forged untagged frames would be
/// stored and tagged ones refused `unknown_key` (issue 20, docs/security.md). Without keys it
/// checks nothing, as before.
public typealias ReplayProcessor = BatchProcessor<HMACAuthenticator, MAVLinkSHA256Verifier>

/// `replay --db`: feeds recorded datagrams through the gateway's own process loop
/// (`ProcessLoop`: the same admission checks, derivations, zone and rule events and accounting as
/// live traffic) into a store, without a socket, as fast as the store takes them. The caller's
/// thread decodes; the store writer (`CommitLoop`) commits full batches on its own thread
/// (double buffering, as in the gateway), so decoding and SQLite overlap on two cores. Events
/// are stored beside the telemetry, as the live gateway stores them.
///
/// Deterministic: each datagram is processed with its recorded receive time as both the receive
/// time and "now" (the future-timestamp check, the lost-link rule and the event times use
/// recorded time, not the wall clock), and batches are committed only when full, so the same
/// file gives the same rows and the same events.
public final class ReplayRunner: @unchecked Sendable {
    // @unchecked: the loop is used by the feeding thread only; the store by the writer thread
    // until `finish()` joins it.

    public let counters = IngestCounters()
    public let limits: Limits
    let loop: ProcessLoop<HMACAuthenticator, MAVLinkSHA256Verifier>
    let commits: CommitLoop
    /// The zones and rules evaluated over the replayed batches, and the hub that numbers and
    /// queues their events for the store.
    public let events: EventStage
    private var isFinished = false

    public var processor: ReplayProcessor { loop.processor }
    /// Events written to the store (after `finish()`, all that were raised unless a write failed).
    public var eventsStored: UInt64 { commits.eventsStored.load(ordering: .relaxed) }

    /// Opens (creating and migrating if needed) the SQLite database at `databasePath`.
    public convenience init(
        databasePath: String, limits validLimits: ValidLimits = .defaults, zonesPath: String? = nil, rules: RuleSettings = RuleSettings(),
        authenticator: HMACAuthenticator = HMACAuthenticator(keys: DroneKeys()),
        verifier: MAVLinkSHA256Verifier = MAVLinkSHA256Verifier(keys: MAVLinkKeys())
    ) throws(PlaybackError) {
        let store: TelemetryStore
        do { store = try TelemetryStore(path: databasePath) } catch { throw PlaybackError("--db \(databasePath): \(error)") }
        try self.init(
            store: store, limits: validLimits, zonesPath: zonesPath, rules: rules, authenticator: authenticator, verifier: verifier)
    }

    /// Replays into an open store (SQLite or the shared PostgreSQL store), evaluating the zones
    /// at `zonesPath` (nil: none) and `rules` as `serve` would with the same options, and
    /// checking tags and signatures with `authenticator` and `verifier` as `serve` would with the
    /// same key files and options (no keys by default: nothing is checked).
    public init(
        store: any TelemetryStoring, limits validLimits: ValidLimits = .defaults, zonesPath: String? = nil,
        rules: RuleSettings = RuleSettings(), authenticator: HMACAuthenticator = HMACAuthenticator(keys: DroneKeys()),
        verifier: MAVLinkSHA256Verifier = MAVLinkSHA256Verifier(keys: MAVLinkKeys())
    ) throws(PlaybackError) {
        limits = validLimits.value
        do {
            events = try EventStage.make(zonesPath: zonesPath, rules: rules, capacity: limits.dronesMax, sinks: [])
        } catch {
            store.close()
            throw PlaybackError(error.description)
        }
        commits = CommitLoop(
            store: store, limits: validLimits, counters: counters, hooks: .init(recordsLatency: false), events: events.hub.storeQueue)
        let processor = ReplayProcessor(
            limits: validLimits, counters: counters, authenticator: authenticator, verifier: verifier, batch: commits.firstBatch)
        loop = ProcessLoop(processor: processor, sink: commits, observer: events)
        commits.start(threadName: "skygate-replay")
    }

    /// Processes one recorded datagram as the gateway would have on receiving it.
    public func feed(_ datagram: RecordedDatagram) {
        precondition(!isFinished, "feed after finish")
        loop.feed(datagram.bytes, isTruncated: datagram.isTruncated, receivedNanoseconds: datagram.receivedNanoseconds)
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
            loop.finishFeeding()
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

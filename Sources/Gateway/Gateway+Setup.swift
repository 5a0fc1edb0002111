import Alerts
import FlightRecording
import Foundation
import Logging
import Webhooks
import MAVLinkSigning
import StoreWriter
import Telemetry
import TelemetryStore
import WireAuthentication

/// How the gateway's stages are made from its configuration; each error names its option.
extension Gateway {
    /// The Skygate authenticator and the MAVLink verifier from `--key-file`, `--require-authentication`,
    /// `--mavlink-key-file` and `--require-signing`. Errors name the file's line, never a key.
    static func makeAuthentication(_ configuration: GatewayConfiguration) throws(GatewayError)
        -> (HMACAuthenticator, MAVLinkSHA256Verifier)
    {
        var keys = DroneKeys()
        if let keyFile = configuration.keyFile {
            let text = try readKeyFile(keyFile, option: "--key-file")
            do { keys = try DroneKeys(parsing: text) } catch { throw GatewayError("--key-file '\(keyFile)': \(error)") }
        }
        var mavlinkKeys = MAVLinkKeys()
        if let keyFile = configuration.mavlinkKeyFile {
            let text = try readKeyFile(keyFile, option: "--mavlink-key-file")
            do { mavlinkKeys = try MAVLinkKeys(parsing: text) } catch {
                throw GatewayError("--mavlink-key-file '\(keyFile)': \(error)")
            }
        }
        return (
            HMACAuthenticator(
                keys: keys, requireForAllDrones: configuration.requireAuthentication,
                allowUntaggedFromKeyed: configuration.allowUnsignedFromKeyed),
            MAVLinkSHA256Verifier(
                keys: mavlinkKeys, requireSigning: configuration.requireSigning,
                allowUnsignedFromKeyed: configuration.allowUnsignedFromKeyed)
        )
    }

    /// The replay marks for the keyed drones and systems (nil without keys), their floors seeded
    /// from every mark the store holds: after a restart, or on a gateway joining replicas that
    /// share the store, a captured tagged or signed flight is refused as replayed.
    static func makeReplayMarks(
        authenticator: HMACAuthenticator, verifier: MAVLinkSHA256Verifier, store: any TelemetryStoring, logger: Logger
    ) throws(GatewayError) -> ReplayMarks? {
        guard authenticator.keyedDroneCount > 0 || verifier.keyedSystemCount > 0 else { return nil }
        let marks = ReplayMarks(skygateDrones: authenticator.keyedDrones, mavlinkSystems: verifier.keyedSystems)
        guard let markStore = store as? any ReplayMarkStoring else { return marks }
        do {
            let stored = try markStore.readReplayMarks(othersOnly: false)
            let raised = marks.raiseFloors(stored)
            logger.info("replay windows seeded from the store", metadata: ["floors_raised": "\(raised)", "keyed_senders": "\(marks.senderCount)"])
        } catch {
            throw GatewayError("--db \(store.location): reading the replay marks: \(error)")
        }
        return marks
    }

    /// What the startup log says about who can send telemetry, in plain words: nil when every
    /// drone and system must authenticate, otherwise a warning naming what is accepted unproven.
    static func ingestAuthenticationWarning(
        _ configuration: GatewayConfiguration, authenticator: HMACAuthenticator, verifier: MAVLinkSHA256Verifier
    ) -> String? {
        var open: [String] = []
        if !configuration.requireAuthentication {
            open.append(authenticator.keyedDroneCount == 0
                ? "Skygate frames from any drone (no --key-file)"
                : "untagged Skygate frames from drones without a key")
        }
        if !configuration.requireSigning {
            open.append(verifier.keyedSystemCount == 0
                ? "MAVLink frames from any system (no --mavlink-key-file)"
                : "unsigned MAVLink frames from systems without a key")
        }
        if configuration.allowUnsignedFromKeyed && (authenticator.keyedDroneCount > 0 || verifier.keyedSystemCount > 0) {
            open.append("unauthenticated frames in the name of keyed drones and systems (--allow-unsigned-from-keyed)")
        }
        guard !open.isEmpty else { return nil }
        return "ingest is unauthenticated: accepting " + open.joined(separator: "; ")
            + ". Anyone who can reach the UDP port can send these (--require-authentication, --require-signing)"
    }

    private static func readKeyFile(_ path: String, option: String) throws(GatewayError) -> String {
        // Refused when others can read it, as ssh refuses a key (docs/security.md).
        do { return try SecretFile.readText(path: path, option: option) } catch { throw GatewayError(error.description) }
    }

    /// The writer thread's extras: commit latencies, logged commit errors, and retention
    /// (`--retain`) every `Limits.Threads.retentionInterval` and once at the end.
    static func commitHooks(configuration: GatewayConfiguration, store: any TelemetryStoring, logger: Logger) -> CommitLoop.Hooks {
        guard let days = configuration.retainDays else {
            return CommitLoop.Hooks(
                recordsLatency: true, onError: { logger.error("\($0)") }, commitDelay: configuration.testCommitDelay)
        }
        // Touched by the writer thread only.
        var lastRetention = SystemClock.realtimeNanoseconds()
        let retain: () -> Void = {
            let cutoff = SystemClock.realtimeMicroseconds() &- UInt64(days * 86_400 * 1_000_000)
            do {
                let result = try store.retain(olderThanMicroseconds: cutoff)
                if result.partitionsDropped > 0 {
                    logger.info("retention dropped \(result.partitionsDropped) daily partitions (~\(result.rowsDeleted) rows)")
                } else if result.rowsDeleted > 0 {
                    logger.info("retention deleted \(result.rowsDeleted) rows in \(result.transactions) steps")
                }
            } catch {
                logger.error("retention failed: \(error)")
            }
        }
        return CommitLoop.Hooks(
            recordsLatency: true,
            afterCommit: { started in
                guard started &- lastRetention > Limits.Threads.retentionInterval.nanosecondsClamped else { return }
                lastRetention = started
                retain()
            },
            atEnd: retain, onError: { logger.error("\($0)") }, commitDelay: configuration.testCommitDelay)
    }

    /// The webhook dispatcher for `--webhook` URLs (nil without any).
    static func makeWebhooks(configuration: GatewayConfiguration, logger: Logger) throws(GatewayError) -> WebhookDispatcher? {
        guard !configuration.webhookURLs.isEmpty else {
            if configuration.webhookSecretFile != nil { throw GatewayError("--webhook-secret-file needs at least one --webhook") }
            return nil
        }
        do {
            let endpoints = try WebhookEndpoint.parse(configuration.webhookURLs)
            let secret = try configuration.webhookSecretFile.map { path throws(WebhookError) in try WebhookSecret.load(path: path) }
            return WebhookDispatcher(endpoints: endpoints, secret: secret, gatewayName: configuration.gatewayName, logger: logger)
        } catch {
            throw GatewayError(error.description)
        }
    }

    /// The spill file, or nil when `spillBudgetBytes` is 0. Records a previous run left unstored
    /// (kill -9 while the writer caught up) are stored first, by the writer thread.
    static func makeSpill(configuration: GatewayConfiguration, limits: ValidLimits, store: any TelemetryStoring, logger: Logger)
        throws(GatewayError) -> SpillFile?
    {
        guard configuration.spillBudgetBytes > 0 else { return nil }
        let path = configuration.resolvedSpillPath
        let spill: SpillFile
        do {
            spill = try SpillFile(
                path: path, budgetBytes: configuration.spillBudgetBytes, samplesMax: limits.value.commitSamplesMax,
                committedSequence: try store.spillCommittedSequence())
        } catch let error as StoreWriterError {
            throw GatewayError(error.description)
        } catch {
            throw GatewayError("--db \(configuration.storeRequest.displayName): \(error)")
        }
        if spill.pendingRecords > 0 {
            logger.notice("storing \(spill.pendingRecords) batches an earlier run spilled", metadata: ["spill": "\(path)"])
        }
        return spill
    }

    /// The flight recorder for `configuration.recordDirectory`, wired to the processor's tap, or
    /// nil when recording is off. A directory that cannot be used stops the gateway from starting
    /// (the operator asked for a recording); a disk that fills later stops only the recording.
    static func makeRecorder(configuration: GatewayConfiguration, limits: ValidLimits, processor: GatewayProcessor, logger: Logger)
        throws(GatewayError) -> FlightRecorder?
    {
        guard let directory = configuration.recordDirectory else { return nil }
        let recorder: FlightRecorder
        do {
            recorder = try FlightRecorder(
                directory: directory, limits: limits, options: configuration.recordingOptions,
                onFailure: { error in logger.error("recording stopped: \(error); the gateway goes on without it") })
        } catch {
            throw GatewayError("--record \(directory): \(error)")
        }
        processor.recordTap = { records, count in recorder.copy(records, count: count) }
        return recorder
    }
}

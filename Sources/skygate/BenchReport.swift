import Foundation
import Gateway
import Playback
import Telemetry

extension BenchCommand {
    struct Report: Codable {
        var drones: Int
        var samples_per_datagram: Int
        var paced: Bool
        var send_seconds: Double
        var total_seconds: Double
        var datagrams_sent: Int
        var sender_datagrams_per_second: Double
        var datagrams_received: UInt64
        var received_datagrams_per_second: Double
        var samples_stored: UInt64
        var stored_samples_per_second: Double
        var duplicate: UInt64
        var rejected: [String: UInt64]
        var dropped: [String: UInt64]
        var kernel_drops: UInt64?
        /// `recvmmsg` calls that returned datagrams (`Limits.receivePause` gathers them).
        var receive_calls: UInt64
        var lost_before_gateway: Int
        var commit_latency_p50_ms: Double?
        var commit_latency_p99_ms: Double?
        var commit_duration_p99_ms: Double?
        var batches_committed: UInt64
        /// Batches the processor spilled because every commit batch was in flight.
        var spill_batches: UInt64
        var compactions: UInt64
        var compaction_p99_ms: Double?
        var rss_megabytes: Double?
        var balanced: Bool
        /// SIGINT or SIGTERM ended the sending before the fleet had sent all of `--duration` (paced
        /// runs only: an unpaced flood runs to its end).
        var stopped_early: Bool
        /// Events the run raised (with --zones), and webhook delivery (with --webhook).
        var events: UInt64 = 0
        var webhook_delivered: UInt64 = 0
        var webhook_pending: UInt64 = 0
        var webhook_request_failures: UInt64 = 0
    }

}

extension BenchCommand.Report {
    /// The report of a finished bench: what the simulator sent, what the gateway counted.
    init(
        command: BenchCommand, gateway: Gateway, final: IngestCounters.Snapshot, outcome: FleetSender.Outcome,
        sendSeconds: Double, totalSeconds: Double, kernelDrops: UInt64?, rss: Double?
    ) {
        let sent = outcome.summary.totals.datagramsSent
        self.init(
            drones: command.drones, samples_per_datagram: command.samplesPerDatagram, paced: !command.max,
            send_seconds: sendSeconds, total_seconds: totalSeconds, datagrams_sent: sent,
            sender_datagrams_per_second: Double(sent) / sendSeconds, datagrams_received: final.datagramsReceived,
            received_datagrams_per_second: Double(final.datagramsReceived) / sendSeconds,
            samples_stored: final.samplesStored, stored_samples_per_second: Double(final.samplesStored) / totalSeconds,
            duplicate: final.duplicate,
            rejected: Dictionary(uniqueKeysWithValues: final.rejected.filter { $0.value > 0 }.map { ($0.key.name, $0.value) }),
            dropped: Dictionary(uniqueKeysWithValues: final.dropped.map { ($0.key.name, $0.value) }),
            kernel_drops: kernelDrops, receive_calls: gateway.receiver.receiveCalls.load(ordering: .relaxed), lost_before_gateway: sent - Int(final.datagramsReceived),
            commit_latency_p50_ms: gateway.commitLatency.quantile(0.5).map { $0 / 1_000 },
            commit_latency_p99_ms: gateway.commitLatency.quantile(0.99).map { $0 / 1_000 },
            commit_duration_p99_ms: gateway.commitDuration.quantile(0.99).map { $0 / 1_000 },
            batches_committed: gateway.batchesCommittedCount, spill_batches: gateway.spilledBatchCount,
            compactions: gateway.compactionDuration.count,
            compaction_p99_ms: gateway.compactionDuration.quantile(0.99).map { $0 / 1_000 }, rss_megabytes: rss, balanced: final.isBalanced,
            stopped_early: !outcome.isFinished)
        let stats = gateway.statsReport()
        events = stats.events?.total ?? 0
        webhook_delivered = stats.webhooks?.total.delivered ?? 0
        webhook_pending = stats.webhooks?.total.pending ?? 0
        webhook_request_failures = stats.webhooks?.total.request_failures ?? 0
    }

    /// The report as text lines (the final accounting follows it).
    func text(requestedDuration: Double) -> String {
        func f(_ value: Double) -> String { String(format: "%.0f", value) }
        func ms(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "-" }
        var lines = [
            "sent:       \(datagrams_sent) datagrams in \(String(format: "%.2f", send_seconds)) s = \(f(sender_datagrams_per_second)) datagrams/s",
            "received:   \(datagrams_received) datagrams = \(f(received_datagrams_per_second)) datagrams/s (lost before the gateway: \(lost_before_gateway), kernel drops: \(kernel_drops.map(String.init) ?? "unknown"))",
            "            in \(receive_calls) recvmmsg calls, \(String(format: "%.1f", Double(datagrams_received) / Double(max(receive_calls, 1)))) datagrams a call",
            "stored:     \(samples_stored) samples = \(f(stored_samples_per_second)) samples/s over \(String(format: "%.2f", total_seconds)) s, \(batches_committed) commits",
            "dropped:    " + dropped.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "),
            "rejected:   \(rejected.isEmpty ? "none" : rejected.map { "\($0.key) \($0.value)" }.joined(separator: ", ")), duplicate \(duplicate)",
            "latency:    receive→commit p50 \(ms(commit_latency_p50_ms)) ms, p99 \(ms(commit_latency_p99_ms)) ms; commit p99 \(ms(commit_duration_p99_ms)) ms",
            "store:      \(compactions) compactions into chunks (p99 \(ms(compaction_p99_ms)) ms), \(spill_batches) batches spilled",
        ]
        if events > 0 || webhook_delivered + webhook_pending + webhook_request_failures > 0 {
            lines.append("events:     \(events) raised; webhooks delivered \(webhook_delivered), pending \(webhook_pending), failed requests \(webhook_request_failures)")
        }
        if stopped_early { lines.append("stopped:    by a signal after \(String(format: "%.2f", send_seconds)) s of sending (of \(requestedDuration) s)") }
        lines.append("memory:     RSS \(rss_megabytes.map { String(format: "%.0f", $0) } ?? "-") MB")
        return lines.joined(separator: "\n")
    }
}

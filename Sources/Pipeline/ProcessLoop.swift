import MAVLinkWire
import PacketRing
import Telemetry
import TelemetryWire

/// Sees each batch complete, before it goes to the store: the event engine's seam (the Alerts
/// target conforms), so the pipeline depends on no alerting code.
public protocol BatchObserver: AnyObject {
    /// Evaluates the batch (rows, fleet rows, ground speeds) at `nowNanoseconds` (the source's
    /// clock: the wall clock live, the recorded receive time in a replay).
    func observe(_ batch: TelemetryBatch, nowNanoseconds: UInt64)
    /// Time-driven work between batches (lost links) and publishing what was raised.
    func tick(nowNanoseconds: UInt64)
}

/// Where due batches go: the store writer's seam. It takes a full batch whole and gives back an
/// empty one of the same size, so the processor never waits for a commit unless the writer is
/// out of batches and has nowhere to spill.
public protocol BatchSink: AnyObject {
    func exchange(_ full: TelemetryBatch) -> TelemetryBatch
}

/// The one process loop every source enters through: the live gateway's UDP ring and HTTP ingest
/// ring, `replay --db`, and log imports. Each datagram gets the same admission checks (the
/// processor's), the same derivations, the same zone and rule evaluation (the observer, before
/// each hand-off) and the same accounting, whatever its source; only where the datagrams come
/// from, and which clock says "now", differ.
///
/// Single-threaded: the loop and its processor belong to one thread (the gateway's process
/// thread, or the thread that feeds a replay).
public final class ProcessLoop<Authenticator: FrameAuthenticator, Verifier: MAVLinkSignatureVerifier> {
    public let processor: BatchProcessor<Authenticator, Verifier>
    let sink: any BatchSink
    let observer: (any BatchObserver)?

    public init(processor: BatchProcessor<Authenticator, Verifier>, sink: any BatchSink, observer: (any BatchObserver)?) {
        self.processor = processor
        self.sink = sink
        self.observer = observer
    }

    // MARK: Rings (the live gateway)

    /// One pass over `rings`, in order (a busy socket keeps priority over HTTP ingest): drains
    /// each, hands the batch off when it is due, then the observer's tick. Returns datagrams taken.
    public func pass(_ rings: [DatagramRing], nowNanoseconds now: UInt64) -> Int {
        var taken = 0
        for ring in rings {
            taken += processor.drain(ring, nowNanoseconds: now)
            if processor.isBatchDue(nowNanoseconds: now) { handOff(nowNanoseconds: now) }
        }
        observer?.tick(nowNanoseconds: now)
        return taken
    }

    /// Runs passes over `rings` on the wall clock until a pass takes nothing and `isFinished`
    /// says the sources are closed and empty; then hands off the last batch. Bounded by the
    /// sources: once they stop, the rings only empty.
    public func run(_ rings: [DatagramRing], isFinished: () -> Bool) {
        while true {
            let now = SystemClock.realtimeNanoseconds()
            if pass(rings, nowNanoseconds: now) == 0 {
                if isFinished() {
                    finish(nowNanoseconds: now)
                    return
                }
                SystemClock.sleep(for: Limits.Threads.processorIdleSleep)
            }
        }
    }

    // MARK: Fed datagrams (replay, log imports)

    /// Processes one datagram that comes from a file rather than a ring, as the gateway would
    /// have on receiving it at `receivedNanoseconds`, which is also the clock: sample times are
    /// checked against it and lost links measured by it. Counts the datagram received. The
    /// batch is handed off when it has no room for another datagram; the observer's tick runs
    /// at each hand-off (a replay's clock jumps, so lost links are judged per batch).
    public func feed(_ datagram: UnsafeRawBufferPointer, isTruncated: Bool, receivedNanoseconds: UInt64) {
        if !processor.hasRoomForDatagram {
            handOff(nowNanoseconds: lastFedNanoseconds)
            observer?.tick(nowNanoseconds: lastFedNanoseconds)
        }
        processor.counters.countDatagram(bytes: datagram.count)
        processor.process(
            datagram: datagram, isTruncated: isTruncated, receivedNanoseconds: receivedNanoseconds, nowNanoseconds: receivedNanoseconds)
        lastFedNanoseconds = receivedNanoseconds
    }

    private var lastFedNanoseconds: UInt64 = 0

    /// Hands off what fed datagrams left in the batch (the end of a replay).
    public func finishFeeding() {
        finish(nowNanoseconds: lastFedNanoseconds)
    }

    // MARK: Hand-off

    /// The observer evaluates the batch, then the sink takes it and gives an empty one back.
    private func handOff(nowNanoseconds now: UInt64) {
        guard !processor.batch.isEmpty else { return }
        observer?.observe(processor.batch, nowNanoseconds: now)
        // When the sink kept nothing (it spilled or dropped the batch), it gives the same batch
        // back emptied, and the processor's batch clock starts again with it.
        _ = processor.takeBatch(replacingWith: sink.exchange(processor.batch))
    }

    private func finish(nowNanoseconds now: UInt64) {
        handOff(nowNanoseconds: now)
        observer?.tick(nowNanoseconds: now)
    }
}

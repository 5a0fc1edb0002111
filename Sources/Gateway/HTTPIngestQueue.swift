import PacketRing
import Synchronization
import Telemetry

/// The hand-off from HTTP ingest (`POST /api/telemetry`) to the batch processor: a second, small
/// `PacketRing` that the processor thread drains beside the UDP ring (docs/architecture.md,
/// "HTTP ingest"). The ring is single-producer, and HTTP handlers run concurrently, so producers
/// take `lock` for the copy into the slots (a few µs per body; never held by the processor).
/// The processor stays the only thread that decodes, de-duplicates and touches the fleet.
public final class HTTPIngestQueue: Sendable {
    let ring: PacketRing
    let counters: IngestCounters
    private let lock = Mutex<Bool>(false)  // true once closed: nothing more may enter

    /// A ring of `Limits.httpIngestRingCapacity` slots of `datagramBytesMax` bytes.
    init(limits: ValidLimits, counters: IngestCounters) {
        ring = PacketRing(capacity: limits.value.httpIngestRingCapacity, datagramCapacity: limits.value.datagramBytesMax)
        self.counters = counters
    }

    /// Copies every datagram into the ring, or none: a body is accepted whole. A body that finds
    /// the ring too full (or the gateway stopping) is counted as received and dropped
    /// (`ring_full`), one unit per datagram, as a UDP datagram would be.
    func push(_ datagrams: [[UInt8]], nowNanoseconds: UInt64) -> Bool {
        lock.withLock { closed in
            let slots = closed ? ring.freeSlots(upTo: 0) : ring.freeSlots(upTo: datagrams.count)
            guard slots.count == datagrams.count, !closed else {
                for datagram in datagrams {
                    counters.countDatagram(bytes: datagram.count)
                    counters.countDropped(.ringFull)
                }
                return false
            }
            for (index, datagram) in datagrams.enumerated() {
                precondition(datagram.count <= ring.datagramCapacity, "ingest datagram larger than a slot")
                counters.countDatagram(bytes: datagram.count)
                datagram.withUnsafeBytes { bytes in
                    slots[index].store(bytes: bytes, source: UnsafeRawBufferPointer(start: nil, count: 0), timestamp: nowNanoseconds)
                }
            }
            ring.publish(count: datagrams.count)
            return true
        }
    }

    /// Closes the queue if it is empty (the processor's last check before it exits), so nothing
    /// can be pushed that no one would process. Returns whether it closed.
    func closeIfEmpty() -> Bool {
        lock.withLock { closed in
            if ring.isEmpty { closed = true }
            return closed
        }
    }
}

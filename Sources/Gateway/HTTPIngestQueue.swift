import PacketRing
import Synchronization
import Telemetry

/// The hand-off from HTTP ingest (`POST /api/telemetry`) to the batch processor: a second, small
/// `DatagramRing` that the processor thread drains beside the UDP ring (docs/architecture.md,
/// "HTTP ingest"). The ring is single-producer, and HTTP handlers run concurrently, so producers
/// take `lock` for the copy into the ring (a few µs per body; never held by the processor).
/// The processor stays the only thread that decodes, de-duplicates and touches the fleet.
public final class HTTPIngestQueue: Sendable {
    let ring: DatagramRing
    let counters: IngestCounters
    private let lock = Mutex<Bool>(false)  // true once closed: nothing more may enter

    /// A ring of `Limits.httpIngestRingBytes` for datagrams of up to `datagramBytesMax` bytes.
    init(limits: ValidLimits, counters: IngestCounters) {
        ring = DatagramRing(byteCapacity: limits.value.httpIngestRingBytes, datagramCapacity: limits.value.datagramBytesMax)
        self.counters = counters
    }

    /// Copies every datagram into the ring, or none: a body is accepted whole. A body that finds
    /// the ring too full (or the gateway stopping) is counted as received and dropped
    /// (`ring_full`), one unit per datagram, as a UDP datagram would be.
    func push(_ datagrams: [[UInt8]], nowNanoseconds: UInt64) -> Bool {
        lock.withLock { closed in
            var fits = !closed
            if fits {
                for datagram in datagrams {
                    precondition(datagram.count <= ring.datagramCapacity, "ingest datagram larger than the ring's datagrams")
                    fits = datagram.withUnsafeBytes { bytes in
                        ring.append(datagram: bytes, source: UnsafeRawBufferPointer(start: nil, count: 0), timestamp: nowNanoseconds)
                    }
                    if !fits { break }
                }
            }
            for datagram in datagrams {
                counters.countDatagram(bytes: datagram.count)
                if !fits { counters.countDropped(.ringFull) }
            }
            guard fits else {
                ring.discardAppended()
                return false
            }
            ring.publish()
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

import Benchmark
import PacketRing

// Ring throughput on one thread, so the figure is the ring's own cost per datagram (index
// arithmetic, slot addressing, header stores and the copy) without cross-core cache traffic,
// which depends on how the scheduler places the two threads. One scaled iteration is one
// datagram, so the reported throughput is datagrams per second. mallocCountTotal must be 0:
// the ring allocates only in init.

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions],
        warmupIterations: 1,
        scalingFactor: .mega,
        maxDuration: .seconds(3),
        maxIterations: 1_000
    )

    // A 56-byte datagram (a one-sample Skygate frame) from a 16-byte IPv4 address.
    let datagram = [UInt8](repeating: 0xA7, count: 56)
    let source = [UInt8](repeating: 0x02, count: 16)

    for capacity in [1, 1_024] {
        let ring = PacketRing(capacity: capacity)
        Benchmark("push then pop one 56-byte datagram (capacity \(capacity))") { benchmark in
            var bytesRead = 0
            datagram.withUnsafeBytes { bytes in
                source.withUnsafeBytes { address in
                    for iteration in benchmark.scaledIterations {
                        let pushed = (try? ring.push(bytes: bytes, source: address, timestamp: UInt64(iteration))) ?? false
                        precondition(pushed)
                        bytesRead &+= ring.pop { $0.byteCount &+ Int($0.receiveTimestampNanoseconds & 1) } ?? 0
                    }
                }
            }
            blackHole(bytesRead)
        }
    }

    // The receive thread's and the batch processor's pattern: reserve up to 64 slots, fill them in
    // place, publish with one store; take up to 64 filled slots, read them, release with one store.
    let ring = PacketRing(capacity: 1_024)
    Benchmark("batches of 64: fill in place, publish, read, release (56-byte datagrams)") { benchmark in
        var checksum = 0
        let total = benchmark.scaledIterations.count
        var done = 0
        datagram.withUnsafeBytes { bytes in
            source.withUnsafeBytes { address in
                while done < total {
                    let batch = min(64, total - done)
                    let free = ring.freeSlots(upTo: batch)
                    for slot in free {
                        slot.datagramBuffer.copyMemory(from: bytes)
                        slot.byteCount = bytes.count
                        slot.sourceAddressBuffer.copyMemory(from: address)
                        slot.sourceAddressLength = address.count
                        slot.receiveTimestampNanoseconds = UInt64(done)
                        slot.isTruncated = false
                    }
                    ring.publish(count: free.count)
                    let filled = ring.filledSlots(upTo: batch)
                    for slot in filled {
                        checksum &+= slot.byteCount &+ Int(slot.datagram[slot.byteCount - 1])
                    }
                    ring.release(count: filled.count)
                    done += filled.count
                }
            }
        }
        blackHole(checksum)
    }
}

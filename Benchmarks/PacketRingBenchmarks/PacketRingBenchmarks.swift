import Benchmark
import PacketRing

// The gateway's ring (`DatagramRing`) on one thread, so the figure is the ring's own cost per
// datagram (offset arithmetic, the record header, the copy, the wrap) without cross-core cache
// traffic, which depends on how the scheduler places the two threads. One scaled iteration is one
// datagram, so the reported throughput is datagrams per second. mallocCountTotal must be 0: the
// ring allocates only in init.

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions],
        warmupIterations: 1,
        scalingFactor: .mega,
        maxDuration: .seconds(3),
        maxIterations: 1_000
    )

    // A 56-byte datagram (a one-sample Skygate frame) from a 16-byte IPv4 address: a 96-byte record.
    let datagram = [UInt8](repeating: 0xA7, count: 56)
    let source = [UInt8](repeating: 0x02, count: 16)

    // The smallest ring for 2,048-byte datagrams, and the gateway's default 8 MiB (`ringBytes`).
    for byteCapacity in [DatagramRing.byteCapacityMin(datagramCapacity: 2_048), 8 << 20] {
        let ring = DatagramRing(byteCapacity: byteCapacity, datagramCapacity: 2_048)
        Benchmark("push then take and release one 56-byte datagram (\(byteCapacity) bytes)") { benchmark in
            var bytesRead = 0
            datagram.withUnsafeBytes { bytes in
                source.withUnsafeBytes { address in
                    for iteration in benchmark.scaledIterations {
                        let pushed = (try? ring.push(bytes: bytes, source: address, timestamp: UInt64(iteration))) ?? false
                        precondition(pushed)
                        for record in ring.filledRecords(upTo: 1) {
                            bytesRead &+= record.byteCount &+ Int(record.receiveTimestampNanoseconds & 1)
                        }
                        ring.release(count: 1)
                    }
                }
            }
            blackHole(bytesRead)
        }
    }

    // The receive thread's and the batch processor's pattern: append up to 64 records, publish with
    // one store; take up to 64 published records, read them in place, release with one store.
    let ring = DatagramRing(byteCapacity: 8 << 20, datagramCapacity: 2_048)
    Benchmark("batches of 64: append, publish, read, release (56-byte datagrams)") { benchmark in
        var checksum = 0
        let total = benchmark.scaledIterations.count
        var done = 0
        datagram.withUnsafeBytes { bytes in
            source.withUnsafeBytes { address in
                while done < total {
                    let batch = min(64, total - done)
                    for index in 0..<batch {
                        let appended = ring.append(datagram: bytes, source: address, timestamp: UInt64(done + index))
                        precondition(appended)
                    }
                    ring.publish()
                    let filled = ring.filledRecords(upTo: batch)
                    var taken = 0
                    for record in filled {
                        checksum &+= record.byteCount &+ Int(record.datagram[record.byteCount - 1])
                        taken += 1
                    }
                    ring.release(count: taken)
                    done += taken
                }
            }
        }
        blackHole(checksum)
    }
}

import Benchmark
import TelemetryWire

// Decoder throughput as the gateway will use it: one datagram at a time from a large buffer of
// prepared datagrams (so caches see realistic, not repeated, input), CRC checked, samples written
// into a preallocated struct-of-arrays batch. One scaled iteration is one datagram, so the reported
// throughput is datagrams (= frames) per second; samples/s is that times the samples per frame.
// mallocCountTotal must be 0: decoding allocates nothing.

/// Prepared datagrams of `samplesPerFrame` samples each, from 1,000 drones in turn, like the
/// limits' C decoder benchmark (shared/limits/decode_bench.c) with 1 in 10,007 damaged.
final class PreparedDatagrams: @unchecked Sendable {
    let bytes: [UInt8]
    let frameLength: Int
    let count: Int

    init(count: Int, samplesPerFrame: Int) {
        self.count = count
        let frameLength = WireFormat.frameLength(sampleCount: samplesPerFrame, isAuthenticated: false)
        self.frameLength = frameLength
        var bytes = [UInt8](repeating: 0, count: count * frameLength)
        var samples = (0..<samplesPerFrame).map { index in
            WireSample(
                timeOffsetMicroseconds: UInt32(index) * 20_000, latitudeE7: 473_977_000, longitudeE7: 85_456_000,
                altitudeMM: 450_000, velocityNorthCMS: 120, velocityEastCMS: -340, velocityDownCMS: -5,
                headingCentidegrees: 9_000, batteryMillivolts: 16_400, batteryPercent: 90, satellites: 14,
                status: [.armed, .inAir, .gpsFix])
        }
        bytes.withUnsafeMutableBytes { buffer in
            for index in 0..<count {
                let drone = UInt32(index % 1_000 + 1)
                for sample in samples.indices {
                    samples[sample].latitudeE7 &+= Int32(index % 7)
                    samples[sample].longitudeE7 &-= Int32(index % 5)
                }
                let header = FrameHeader(
                    droneID: drone, sequence: UInt32(index / 1_000),
                    timestampMicroseconds: 1_767_225_600_000_000 + UInt64(index) * 20)
                let frame = UnsafeMutableRawBufferPointer(
                    rebasing: buffer[(index * frameLength)..<((index + 1) * frameLength)])
                _ = samples.withUnsafeBufferPointer { FrameEncoder.encode(header: header, samples: $0, into: frame) }
                if index % 10_007 == 5_000 { frame[30] ^= 0x40 }
            }
        }
        self.bytes = bytes
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions],
        warmupIterations: 1,
        scalingFactor: .mega,
        maxDuration: .seconds(3),
        maxIterations: 1_000
    )

    for samplesPerFrame in [1, 5, 32] {
        let prepared = PreparedDatagrams(count: 100_000, samplesPerFrame: samplesPerFrame)
        let columns = SampleColumns(capacity: 4_096)
        Benchmark("Decode datagrams of \(samplesPerFrame) sample\(samplesPerFrame == 1 ? "" : "s") (CRC-32C)") { benchmark in
            var authenticator = NoAuthentication()
            var rejected = 0
            var accepted = 0
            prepared.bytes.withUnsafeBytes { buffer in
                var index = 0
                for _ in benchmark.scaledIterations {
                    if columns.remainingCapacity < WireFormat.maxSamplesPerFrame { columns.removeAll() }
                    let start = index * prepared.frameLength
                    let datagram = UnsafeRawBufferPointer(rebasing: buffer[start..<(start + prepared.frameLength)])
                    let result = FrameDecoder.decodeDatagram(datagram, into: columns, authenticator: &authenticator) { _ in
                        rejected &+= 1
                    }
                    accepted &+= result.framesAccepted
                    index = index == prepared.count - 1 ? 0 : index + 1
                }
            }
            blackHole(accepted)
            blackHole(rejected)
        }
    }

    let frames = PreparedDatagrams(count: 100_000, samplesPerFrame: 1)
    Benchmark("CRC-32C over one-sample frames (56 bytes each)") { benchmark in
        frames.bytes.withUnsafeBytes { buffer in
            var crc: UInt32 = 0
            var index = 0
            for _ in benchmark.scaledIterations {
                let start = index * frames.frameLength
                crc ^= CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buffer[start..<(start + frames.frameLength - 4)]))
                index = index == frames.count - 1 ? 0 : index + 1
            }
            blackHole(crc)
        }
    }

    Benchmark("Encode one-sample frames") { benchmark in
        var buffer = [UInt8](repeating: 0, count: WireFormat.maxFrameLength)
        let sample = [WireSample(latitudeE7: 473_977_000, longitudeE7: 85_456_000, altitudeMM: 450_000)]
        buffer.withUnsafeMutableBytes { output in
            sample.withUnsafeBufferPointer { samples in
                var sequence: UInt32 = 0
                for _ in benchmark.scaledIterations {
                    sequence &+= 1
                    let header = FrameHeader(droneID: 7, sequence: sequence, timestampMicroseconds: UInt64(sequence))
                    blackHole(FrameEncoder.encode(header: header, samples: samples, into: output))
                }
            }
        }
    }
}

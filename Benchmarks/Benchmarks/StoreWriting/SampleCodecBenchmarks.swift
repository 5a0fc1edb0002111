import Benchmark
@_spi(Benchmarking) import TelemetryStore

// The compressed block codec (docs/storage.md, "Compressed blocks") alone: encoding one drone's
// chunk of 4,096 samples (Limits.Store.chunkSamplesMax), 64 or 4 into a preallocated buffer, and
// decoding it back into a version 1 block, one chunk per iteration. `samples/s` is samples × iterations over
// the measured time; mallocCountTotal must be 0 for encoding (the write path) and is 0 for decoding
// too (the decoder and its buffers are made before the measurement).

let samplesPerSecond = BenchmarkMetric.custom("samples/s", polarity: .prefersLarger, useScalingFactor: false)

/// A version 1 block of one drone flying at 10 Hz: small position steps, a slow battery drain.
func flightBlock(count: Int) -> [UInt8] {
    var columns = [[UInt64]](repeating: [], count: SampleCodec.columnCount)
    var latitude: Int32 = 473_977_000, longitude: Int32 = 85_456_000, altitude: Int32 = 50_000
    var noise: UInt64 = 0x1234_5678
    func next() -> UInt64 {
        noise = noise &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return noise >> 33
    }
    for row in 0..<count {
        latitude &+= Int32(truncatingIfNeeded: 85 + Int(next() % 20))
        longitude &+= Int32(truncatingIfNeeded: 55 + Int(next() % 20))
        altitude &+= Int32(truncatingIfNeeded: Int(next() % 41) - 20)
        let values: [UInt64] = [
            1_767_225_600_000_000 + UInt64(row) * 100_000 + next() % 50, 1_767_225_630_000_000 + UInt64(row / 2_600) * 26_000_000,
            42, UInt64(row), UInt64(UInt32(bitPattern: latitude)), UInt64(UInt32(bitPattern: longitude)),
            UInt64(UInt32(bitPattern: altitude)), 0b1011, 1_000 + next() % 30, 700 + next() % 30, next() % 10,
            9_000 + next() % 100, UInt64(16_800 - row / 10), 1, UInt64(100 - row / 100), 14,
        ]
        for column in 0..<SampleCodec.columnCount { columns[column].append(values[column]) }
    }
    var bytes = [UInt8](repeating: 0, count: SampleCodec.plainSize(count: count))
    bytes[0] = 1
    withUnsafeBytes(of: UInt32(count).littleEndian) { for i in 0..<4 { bytes[4 + i] = $0[i] } }
    for column in 0..<SampleCodec.columnCount {
        let width = SampleCodec.width(column)
        for row in 0..<count {
            let at = SampleCodec.plainHeaderBytes + SampleCodec.prefix(column) * count + row * width
            for byte in 0..<width { bytes[at + byte] = UInt8(truncatingIfNeeded: columns[column][row] >> UInt64(byte * 8)) }
        }
    }
    return bytes
}

func codecBenchmarks() {
    // The dense fleet's chunks (4,096 samples), a recent block's share of a drone group (64), and
    // the chunks a sparse fleet's compactions leave (a drone reporting every 20 s: 4).
    for (count, level) in [(4_096, SampleCodec.chunkLevel), (64, SampleCodec.recentLevel), (64, SampleCodec.chunkLevel), (4, SampleCodec.chunkLevel)] {
        codecBenchmarks(count: count, level: level)
    }
}

func codecBenchmarks(count: Int, level: Int32) {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal, samplesPerSecond], warmupIterations: 3, scalingFactor: count < 100 ? .kilo : .one,
        maxDuration: .seconds(5), maxIterations: 2_000)
    let plain = flightBlock(count: count)
    let plainBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: plain.count, alignment: 16)
    plainBuffer.copyBytes(from: plain)
    let encoded = UnsafeMutableRawBufferPointer.allocate(byteCount: plain.count + 64, alignment: 16)
    let decoded = UnsafeMutableRawBufferPointer.allocate(byteCount: plain.count, alignment: 16)
    let encoder = SampleBlockEncoder()
    let decoder = SampleBlockDecoder()
    let source = PlainBlockColumns(UnsafeRawBufferPointer(plainBuffer))!
    let length = encoder.encode(source, into: encoded, level: level)!
    // The level is the one asked for; the block is written as version 4 (the stream stored) where
    // the frame would not save an eighth, as the 4-sample chunk is.
    print("# codec: \(count) samples at level \(level), \(plain.count) bytes plain, \(length) encoded (block version \(encoded[0])) = \(Double(length) / Double(count)) bytes a sample")

    func perSecond(_ iterations: Int, since start: ContinuousClock.Instant) -> Int {
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return Int(Double(iterations * count) / seconds)
    }
    Benchmark("Codec: encode a \(count)-sample block (zstd \(level))", configuration: configuration) { benchmark in
        let start = ContinuousClock.now
        for _ in benchmark.scaledIterations {
            blackHole(encoder.encode(source, into: encoded, level: level))
        }
        benchmark.measurement(samplesPerSecond, perSecond(benchmark.scaledIterations.count, since: start))
    }
    Benchmark("Codec: decode a \(count)-sample block (zstd \(level))", configuration: configuration) { benchmark in
        let input = UnsafeRawBufferPointer(rebasing: encoded[0..<length])
        let start = ContinuousClock.now
        for _ in benchmark.scaledIterations {
            let samples = decoder.decode(input, samplesMax: count, into: decoded)
            precondition(samples == count)
        }
        benchmark.measurement(samplesPerSecond, perSecond(benchmark.scaledIterations.count, since: start))
    }
}

import Benchmark
import DroneSimulator
import Telemetry

// The drone simulator's generator alone, on one core, no socket: flight model steps, samples,
// Skygate encoding (CRC-32C) and fault decisions into a DatagramBatch that a counting sink
// empties. One scaled iteration is one sample, so the reported throughput is samples per second.
// The fleet is built before the measurement starts; generating must allocate nothing.

/// Counts datagrams and drops them, so the figure is generation, not copying.
struct CountingSink: DatagramSink {
    var datagrams = 0
    mutating func send(_ batch: DatagramBatch) { datagrams &+= batch.count }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions],
        warmupIterations: 1,
        scalingFactor: .mega,
        maxDuration: .seconds(3),
        maxIterations: 100
    )

    for (name, samplesPerDatagram, faults) in [
        ("1 sample per datagram, no faults", 1, LinkFaults.none),
        ("5 samples per datagram, no faults", 5, LinkFaults.none),
        (
            "1 sample per datagram, every fault at 5 %", 1,
            LinkFaults(
                lossFraction: 0.05, corruptFraction: 0.05, duplicateFraction: 0.05, reorderFraction: 0.05,
                outageRatePerMinute: 1, outageDurationSeconds: 2)
        ),
    ] {
        Benchmark("Generate samples for 1,000 drones, \(name)") { benchmark in
            let samples = benchmark.scaledIterations.count
            var configuration = FleetConfiguration(
                droneCount: 1_000, sampleRateHz: 10, durationSeconds: Double(samples) / 10_000,
                samplesPerDatagram: samplesPerDatagram)
            configuration.faults = faults
            let fleet = FleetSimulator(
                configuration: configuration,
                encoder: SkygateTelemetryEncoder(startTimeMicroseconds: configuration.startTimeMicroseconds))
            let batch = DatagramBatch(capacity: Limits.Simulator.datagramsPerBatchMax, slotLength: fleet.datagramLengthMax)
            var sink = CountingSink()
            benchmark.startMeasurement()
            while !fleet.isFinished {
                fleet.generate(untilMicroseconds: .max, into: batch)
                sink.send(batch)
                batch.removeAll()
            }
            benchmark.stopMeasurement()
            blackHole(sink.datagrams)
        }
    }
}

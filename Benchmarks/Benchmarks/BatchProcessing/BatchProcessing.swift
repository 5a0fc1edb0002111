import Benchmark
import MAVLinkSigning
import MAVLinkWire
import Pipeline
import Telemetry
import TelemetryWire
import WireAuthentication

// The batch processor on one core, from memory: Skygate datagrams of one sample each from 1,000
// drones (round robin, rising sequences) decoded, validated, de-duplicated and derived into a
// commit batch, exactly as the gateway's processor thread does after the ring. One scaled
// iteration is one datagram, so the throughput is datagrams per second. The processor is the
// gateway's own (`BatchProcessor<HMACAuthenticator, MAVLinkSHA256Verifier>`, no keys loaded) and
// the no-key one replay uses; both run the pipeline's generic code across the module boundary,
// which is what this benchmark holds: the authentication seams must cost nothing per frame.

let droneCount = 1_000
let datagramsPerBatch = 16_384

/// Pre-encoded datagrams and a processor, built outside the measurement.
final class Workload<Authenticator: FrameAuthenticator, Verifier: MAVLinkSignatureVerifier>: @unchecked Sendable {
    let processor: BatchProcessor<Authenticator, Verifier>
    var datagrams: [[UInt8]] = []
    var spare: TelemetryBatch
    var round: UInt32 = 0
    var now: UInt64 = 0
    let counters = IngestCounters()

    init(authenticator: Authenticator, verifier: Verifier) {
        var limits = Limits()
        limits.commitSamplesMax = datagramsPerBatch * 2
        limits.dronesMax = droneCount * 2
        let valid = try! ValidLimits(limits)
        processor = BatchProcessor(
            limits: valid, counters: counters, authenticator: authenticator, verifier: verifier,
            batch: TelemetryBatch(samplesMax: limits.commitSamplesMax))
        spare = TelemetryBatch(samplesMax: limits.commitSamplesMax)
        encode()
    }

    /// One batch's datagrams, with sequences and times after the previous round's, so nothing is
    /// a duplicate.
    func encode() {
        datagrams.removeAll(keepingCapacity: true)
        let start: UInt64 = 1_767_225_600_000_000 + UInt64(round) * 20_000_000
        for index in 0..<datagramsPerBatch {
            let drone = UInt32(index % droneCount) + 1
            let step = UInt32(index / droneCount)
            let sequence = round &* 64 &+ step
            let sample = WireSample(
                latitudeE7: 473_977_000 + Int32(index % 977), longitudeE7: 85_456_000 + Int32(step) * 10, altitudeMM: 450_000,
                velocityNorthCMS: 300, velocityEastCMS: -200, batteryMillivolts: 15_000, batteryPercent: 80, satellites: 12,
                status: [.gpsFix, .inAir])
            datagrams.append(
                FrameEncoder.encode(
                    header: FrameHeader(droneID: drone, sequence: sequence, timestampMicroseconds: start + UInt64(step) * 100_000),
                    samples: [sample]))
        }
        // The gateway's clock 10 s after the round's first sample: every sample is in range.
        now = (start + 10_000_000) * 1_000
        round &+= 1
    }

    /// Processes one batch's worth of datagrams (the measured part) and resets the batch.
    func processAll(count: Int) {
        for index in 0..<count {
            datagrams[index % datagramsPerBatch].withUnsafeBytes {
                processor.process(datagram: $0, receivedNanoseconds: now, nowNanoseconds: now)
            }
            if (index + 1) % datagramsPerBatch == 0 { rotate() }
        }
    }

    func rotate() {
        let full = processor.takeBatch(replacingWith: spare)
        // Every datagram was accepted: none was a duplicate or out of range.
        precondition(full.units == datagramsPerBatch, "only \(full.units) of \(datagramsPerBatch) accepted: \(counters.snapshot())")
        full.reset()
        spare = full
        encode()
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 1, scalingFactor: .kilo,
        maxDuration: .seconds(3), maxIterations: 1_000)

    let gateway = Workload(
        authenticator: HMACAuthenticator(keys: DroneKeys()), verifier: MAVLinkSHA256Verifier(keys: MAVLinkKeys()))
    Benchmark("BatchProcessor: Skygate datagram, 1 sample, 1,000 drones (gateway processor)") { benchmark in
        // Encoding the next batch's datagrams is setup, not measured.
        benchmark.startMeasurement()
        gateway.processAll(count: benchmark.scaledIterations.count)
        benchmark.stopMeasurement()
    }

    let replay = Workload(authenticator: NoAuthentication(), verifier: MAVLinkNoSigning())
    Benchmark("BatchProcessor: Skygate datagram, 1 sample, 1,000 drones (no-key processor)") { benchmark in
        benchmark.startMeasurement()
        replay.processAll(count: benchmark.scaledIterations.count)
        benchmark.stopMeasurement()
    }
}

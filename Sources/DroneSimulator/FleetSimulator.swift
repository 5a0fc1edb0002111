import Telemetry
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TelemetryWire

/// A fleet of firmware-like drones producing datagrams into memory. It knows nothing of sockets
/// or wall clocks: the caller says up to which simulated time to generate (`generate(until:into:)`)
/// and hands each filled batch to a sink, so tests and benchmarks run it with no network at all.
///
/// Drone `i` of `N` samples at `start + k·P + ⌊i·P/N⌋` for k = 0, 1, ...: the fleet's samples
/// are spread evenly over each period P instead of all falling on the same instant, as
/// independent real drones would be, and the sender's load is smooth. A drone sends a datagram
/// each `samplesPerDatagram` samples (the frame's timestamp is its first sample's), numbered by
/// its own sequence counter; the last, partial datagram is sent when the run ends.
public final class FleetSimulator<Encoder: TelemetryEncoder> {
    public let configuration: FleetConfiguration
    public private(set) var encoder: Encoder
    /// The drones' flights, in drone order (exposed for tests and the status of a run).
    public private(set) var drones: [DroneFlight]
    /// The wind over the area, metres per second towards north and east.
    public let windNorth: Double
    public let windEast: Double

    var links: [LinkFaultInjector]
    var counts: [DatagramCounts]
    var firstIntact: [ReportedPosition?]
    var lastIntact: [ReportedPosition?]
    var sequences: [UInt32]
    var pendingCounts: [Int]
    var pendingStarts: [UInt64]
    let pending: UnsafeMutableBufferPointer<WireSample>
    let scratch: UnsafeMutableRawBufferPointer
    /// Frames held back for reordering: `reorderHoldMax` slots per drone (none without --reorder).
    let held: UnsafeMutableRawBufferPointer
    var heldLengths: [Int]
    var heldDuplicated: [Bool]
    var heldCounts: [Int]
    let holdSlots: Int

    let period: UInt64
    let samplesPerDatagram: Int
    let stepSeconds: Double
    /// Longest datagram this run produces.
    public let datagramLengthMax: Int
    /// Most datagrams one sample can release: itself, the frames it was holding, each twice.
    public let datagramsPerSampleMax: Int

    var periodIndex = 0
    var droneIndex = 0
    var flushIndex = 0
    public private(set) var isFinished = false

    public init(configuration: FleetConfiguration, encoder: Encoder) {
        let c = configuration
        precondition(c.droneCount >= 1 && c.droneCount <= Limits.Simulator.dronesMax, "drone count out of range")
        precondition(c.samplesPerDatagram >= 1 && c.samplesPerDatagram <= WireFormat.maxSamplesPerFrame)
        precondition(c.sampleRateHz > 0 && c.sampleRateHz <= Limits.Simulator.sampleRateMaxHz)
        self.configuration = c
        self.encoder = encoder
        period = c.samplePeriodMicroseconds
        samplesPerDatagram = c.samplesPerDatagram
        stepSeconds = Double(period) / 1_000_000
        datagramLengthMax = encoder.datagramLengthMax(sampleCount: c.samplesPerDatagram)

        var weather = SimulatorRandom(seed: c.seed, stream: .max)
        let windSpeed = weather.nextDouble(in: 0...c.flight.windSpeedMaxMetersPerSecond)
        let windBearing = weather.nextUnit() * 2 * Double.pi
        windNorth = windSpeed * cos(windBearing)
        windEast = windSpeed * sin(windBearing)

        // Streams are keyed by drone id, so a drone flies the same whatever the fleet size.
        let datagramPeriod = period * UInt64(c.samplesPerDatagram)
        drones = (0..<c.droneCount).map { index in
            let stream = UInt64(c.droneID(at: index)) << 1
            return DroneFlight(area: c.area, parameters: c.flight, random: SimulatorRandom(seed: c.seed, stream: stream))
        }
        links = (0..<c.droneCount).map { index in
            let stream = UInt64(c.droneID(at: index)) << 1 | 1
            return LinkFaultInjector(
                faults: c.faults, datagramPeriodMicroseconds: datagramPeriod,
                random: SimulatorRandom(seed: c.seed, stream: stream))
        }
        counts = Array(repeating: DatagramCounts(), count: c.droneCount)
        firstIntact = Array(repeating: nil, count: c.droneCount)
        lastIntact = Array(repeating: nil, count: c.droneCount)
        sequences = Array(repeating: 0, count: c.droneCount)
        pendingCounts = Array(repeating: 0, count: c.droneCount)
        pendingStarts = Array(repeating: 0, count: c.droneCount)
        pending = .allocate(capacity: c.droneCount * c.samplesPerDatagram)
        pending.initialize(repeating: WireSample(latitudeE7: 0, longitudeE7: 0, altitudeMM: 0))
        scratch = .allocate(byteCount: datagramLengthMax, alignment: 16)
        scratch.initializeMemory(as: UInt8.self, repeating: 0)
        holdSlots = c.faults.reorderFraction > 0 ? Limits.Simulator.reorderHoldMax : 0
        held = .allocate(byteCount: max(1, c.droneCount * holdSlots * datagramLengthMax), alignment: 16)
        held.initializeMemory(as: UInt8.self, repeating: 0)
        heldLengths = Array(repeating: 0, count: c.droneCount * holdSlots)
        heldDuplicated = Array(repeating: false, count: c.droneCount * holdSlots)
        heldCounts = Array(repeating: 0, count: c.droneCount)
        datagramsPerSampleMax = 2 * (1 + holdSlots)
    }

    deinit {
        pending.deallocate()
        scratch.deallocate()
        held.deallocate()
    }

    /// Timestamp of the next sample to generate; the end of the run once all are generated.
    public var nextSampleTimeMicroseconds: UInt64 {
        let c = configuration
        if periodIndex >= c.samplesPerDrone {
            return c.startTimeMicroseconds &+ UInt64(c.samplesPerDrone) &* period
        }
        return c.startTimeMicroseconds &+ UInt64(periodIndex) &* period
            &+ UInt64(droneIndex) &* period / UInt64(c.droneCount)
    }

    /// Samples generated so far.
    public var samplesGenerated: Int { periodIndex * configuration.droneCount + droneIndex }

    /// Generates every sample stamped at or before `untilMicroseconds`, appending the resulting
    /// datagrams to `batch`, and stops early when the batch might not have room for the next
    /// sample's datagrams. Once every sample is generated it sends the partial datagrams and the
    /// held-back ones, then sets `isFinished`.
    public func generate(untilMicroseconds: UInt64, into batch: DatagramBatch) {
        precondition(batch.slotLength >= datagramLengthMax, "batch slots too short for this run's datagrams")
        precondition(batch.capacity >= datagramsPerSampleMax, "batch too small for one sample's datagrams")
        let c = configuration
        let droneCount = c.droneCount
        // Bounded: each pass generates one sample, and there are samplesTotal of them.
        while periodIndex < c.samplesPerDrone {
            guard batch.remainingCapacity >= datagramsPerSampleMax else { return }
            let time = nextSampleTimeMicroseconds
            guard time <= untilMicroseconds else { return }
            takeSample(droneIndex: droneIndex, time: time, into: batch)
            droneIndex &+= 1
            if droneIndex == droneCount {
                droneIndex = 0
                periodIndex &+= 1
            }
        }
        // The run is over: flush what each drone still holds.
        while flushIndex < droneCount {
            guard batch.remainingCapacity >= datagramsPerSampleMax else { return }
            if pendingCounts[flushIndex] > 0 { emitDatagram(droneIndex: flushIndex, into: batch) }
            releaseHeld(droneIndex: flushIndex, areReordered: false, into: batch)
            flushIndex &+= 1
        }
        isFinished = true
    }

    func takeSample(droneIndex i: Int, time: UInt64, into batch: DatagramBatch) {
        let c = configuration
        let slot = pendingCounts[i]
        if slot == 0 { pendingStarts[i] = time }
        let offset = UInt32(truncatingIfNeeded: time &- pendingStarts[i])
        pending[i &* samplesPerDatagram &+ slot] = drones[i].makeSample(
            timeOffsetMicroseconds: offset, area: c.area, parameters: c.flight)
        drones[i].step(seconds: stepSeconds, windNorth: windNorth, windEast: windEast, area: c.area, parameters: c.flight)
        pendingCounts[i] = slot &+ 1
        if slot &+ 1 == samplesPerDatagram { emitDatagram(droneIndex: i, into: batch) }
    }

    func emitDatagram(droneIndex i: Int, into batch: DatagramBatch) {
        let sampleCount = pendingCounts[i]
        pendingCounts[i] = 0
        let droneID = configuration.droneID(at: i)
        let timestamp = pendingStarts[i]
        let sequence = sequences[i]
        sequences[i] = sequence &+ 1
        let samples = UnsafeBufferPointer(rebasing: pending[(i &* samplesPerDatagram)..<(i &* samplesPerDatagram &+ sampleCount)])
        let length = encoder.encode(
            droneID: droneID, sequence: sequence, timestampMicroseconds: timestamp, samples: samples, into: scratch)
        let frame = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<length])

        let decision = links[i].decide(timestampMicroseconds: timestamp)
        counts[i].samplesGenerated &+= sampleCount
        counts[i].datagramsGenerated &+= 1
        switch decision.fate {
        case .lost, .lostInOutage:
            counts[i].samplesLost &+= sampleCount
            counts[i].datagramsLost &+= 1
            if decision.fate == .lostInOutage {
                counts[i].samplesLostInOutage &+= sampleCount
                counts[i].datagramsLostInOutage &+= 1
            }
            return
        case .corrupted:
            LinkFaultInjector.corrupt(frame, bits: decision.corruptionBits)
            counts[i].samplesCorrupted &+= sampleCount
            counts[i].datagramsCorrupted &+= 1
        case .intact:
            counts[i].samplesIntact &+= sampleCount
            counts[i].datagramsIntact &+= 1
            if decision.isDuplicated {
                counts[i].samplesDuplicated &+= sampleCount
                counts[i].datagramsDuplicated &+= 1
            }
            let first = samples[0]
            let last = samples[sampleCount &- 1]
            if firstIntact[i] == nil {
                firstIntact[i] = ReportedPosition(
                    latitudeE7: first.latitudeE7, longitudeE7: first.longitudeE7, altitudeMM: first.altitudeMM,
                    timestampMicroseconds: timestamp &+ UInt64(first.timeOffsetMicroseconds))
            }
            lastIntact[i] = ReportedPosition(
                latitudeE7: last.latitudeE7, longitudeE7: last.longitudeE7, altitudeMM: last.altitudeMM,
                timestampMicroseconds: timestamp &+ UInt64(last.timeOffsetMicroseconds))
        }

        if decision.isHeldBack && heldCounts[i] < holdSlots {
            let slot = i &* holdSlots &+ heldCounts[i]
            let destination = held.baseAddress.unsafelyUnwrapped + slot &* datagramLengthMax
            destination.copyMemory(from: scratch.baseAddress.unsafelyUnwrapped, byteCount: length)
            heldLengths[slot] = length
            heldDuplicated[slot] = decision.isDuplicated
            heldCounts[i] &+= 1
            return
        }
        send(UnsafeRawBufferPointer(frame), duplicated: decision.isDuplicated, droneIndex: i, into: batch)
        releaseHeld(droneIndex: i, areReordered: true, into: batch)
    }

    func send(_ frame: UnsafeRawBufferPointer, duplicated: Bool, droneIndex i: Int, into batch: DatagramBatch) {
        let copies = duplicated ? 2 : 1
        for _ in 0..<copies { batch.append(frame) }
        counts[i].datagramsSent &+= copies
        counts[i].bytesSent &+= copies &* frame.count
    }

    /// Sends the frames drone `i` held back, oldest first, after a later one went out (reordered)
    /// or at the end of the run (in order, as nothing later follows).
    func releaseHeld(droneIndex i: Int, areReordered: Bool, into batch: DatagramBatch) {
        for index in 0..<heldCounts[i] {
            let slot = i &* holdSlots &+ index
            let frame = UnsafeRawBufferPointer(
                start: held.baseAddress.unsafelyUnwrapped + slot &* datagramLengthMax, count: heldLengths[slot])
            send(frame, duplicated: heldDuplicated[slot], droneIndex: i, into: batch)
            if areReordered { counts[i].datagramsReordered &+= 1 }
        }
        heldCounts[i] = 0
    }

    /// What was sent so far, per drone and in total.
    public func makeSummary(run: RunReport? = nil) -> SimulationSummary {
        let c = configuration
        var totals = DatagramCounts()
        var droneSummaries: [DroneSummary] = []
        droneSummaries.reserveCapacity(c.droneCount)
        for index in 0..<c.droneCount {
            totals.add(counts[index])
            let droneID = c.droneID(at: index)
            droneSummaries.append(
                DroneSummary(
                    droneID: droneID, isAuthenticated: encoder.isAuthenticating(droneID: droneID),
                    counts: counts[index], firstIntact: firstIntact[index], lastIntact: lastIntact[index]))
        }
        return SimulationSummary(
            telemetryProtocol: encoder.wireProtocol.rawValue, seed: c.seed, droneCount: c.droneCount,
            sampleRateHz: c.sampleRateHz, durationSeconds: c.durationSeconds, samplesPerDatagram: c.samplesPerDatagram,
            startTimeMicroseconds: c.startTimeMicroseconds, totals: totals, drones: droneSummaries, run: run)
    }
}

import MAVLinkWire
import PacketRing
import Telemetry
import TelemetryWire

/// The batch processor: drains datagrams from a packet ring, decodes them into the current
/// commit batch, validates, drops duplicates, derives speed, distance and link loss, updates the
/// live fleet, and counts every unit into exactly one outcome (`stored` is counted by whoever
/// commits the batch, so a unit is never `stored` before it is on disk).
///
/// Single-threaded by design: one processor per ring, on a dedicated thread. Nothing here
/// allocates after `init`.
///
/// Generic over the two authentication seams the wire targets define, so the pipeline depends on
/// no cryptography: the gateway plugs in `WireAuthentication.HMACAuthenticator` and
/// `MAVLinkSigning.MAVLinkSHA256Verifier`; replay and tests use `NoAuthentication` and
/// `MAVLinkNoSigning`.
public final class BatchProcessor<Authenticator: FrameAuthenticator, Verifier: MAVLinkSignatureVerifier> {
    public let limits: Limits
    public let counters: IngestCounters
    public let fleet: FleetState
    /// `limits.commitInterval` and `limits.futureTolerance` in the units the hot path compares
    /// with, converted once.
    let commitIntervalNanoseconds: UInt64
    let futureToleranceMicroseconds: UInt64
    /// `limits.sampleAgeMax` in µs; 0 when the age check is off.
    let sampleAgeMaxMicroseconds: UInt64
    /// Samples older than this (µs) are `timestamp_too_old` in the current pass: set by `drain`
    /// (live ingest) from its clock, 0 for `process` (replay and imports keep their history).
    private var oldestMicroseconds: UInt64 = 0
    /// Skygate frame tags and per-drone replay windows.
    var authenticator: Authenticator
    /// MAVLink decoding state (each system's latest HEARTBEAT, battery and GPS state; signed
    /// streams) and the signature checks for systems with keys.
    let mavlinkDecoder: MAVLinkDecoder
    var mavlinkVerifier: Verifier

    /// The batch being filled.
    public private(set) var batch: TelemetryBatch
    /// When the current batch received its first unit (ns, the caller's clock), for the interval.
    public private(set) var batchOpenedNanoseconds: UInt64?
    /// Sees the records each `drain` pass took (the first `count`), before they are released:
    /// the flight recorder's tap (docs/architecture.md, "Recording"). Called once per pass on
    /// this thread; it must copy what it needs and return without blocking.
    public var recordTap: ((_ records: DatagramRing.Records, _ count: Int) -> Void)?

    /// Bytes of the scratch columns below and of the fleet table, allocated by `init`.
    public var scratchBytes: Int {
        batch.skygate.capacity * (2 * MemoryLayout<Int32>.stride + MemoryLayout<Float>.stride + MemoryLayout<Bool>.stride)
    }
    public var fleetBytes: Int { fleet.allocatedBytes }

    // Scratch columns for deriving a pass's rows (either protocol's, in turn), allocated once.
    let fromLatitudes: UnsafeMutablePointer<Int32>
    let fromLongitudes: UnsafeMutablePointer<Int32>
    let stepDistances: UnsafeMutablePointer<Float>
    let hasStep: UnsafeMutablePointer<Bool>

    /// - Parameters:
    ///   - authenticator: checks Skygate frame tags (and says which drones must send them).
    ///   - verifier: checks MAVLink 2 signatures (and whether unsigned frames are refused).
    ///   - batch: the first batch to fill, of at least `commitSamplesMax` samples.
    public init(
        limits validLimits: ValidLimits, counters: IngestCounters, authenticator: Authenticator, verifier: Verifier,
        batch: TelemetryBatch
    ) {
        let limits = validLimits.value
        precondition(batch.skygate.capacity >= limits.commitSamplesMax)
        precondition(batch.mavlink.capacity == batch.skygate.capacity, "scratch columns serve both protocols")
        mavlinkDecoder = MAVLinkDecoder()
        mavlinkVerifier = verifier
        self.limits = limits
        self.counters = counters
        commitIntervalNanoseconds = limits.commitInterval.nanosecondsClamped
        futureToleranceMicroseconds = limits.futureTolerance.microsecondsClamped
        sampleAgeMaxMicroseconds = limits.sampleAgeMax.microsecondsClamped
        fleet = FleetState(
            capacity: limits.dronesMax, duplicateWindow: limits.duplicateWindowFrames,
            offlineAfterNanoseconds: limits.droneOfflineAfter.nanosecondsClamped)
        self.authenticator = authenticator
        self.batch = batch
        let capacity = batch.skygate.capacity
        fromLatitudes = .allocate(capacity: capacity)
        fromLatitudes.initialize(repeating: 0, count: capacity)
        fromLongitudes = .allocate(capacity: capacity)
        fromLongitudes.initialize(repeating: 0, count: capacity)
        stepDistances = .allocate(capacity: capacity)
        stepDistances.initialize(repeating: 0, count: capacity)
        hasStep = .allocate(capacity: capacity)
        hasStep.initialize(repeating: false, count: capacity)
    }

    deinit {
        fromLatitudes.deallocate()
        fromLongitudes.deallocate()
        stepDistances.deallocate()
        hasStep.deallocate()
    }

    /// Whether the current batch must be committed now: full enough that the next datagram might
    /// not fit, or its first unit has waited `Limits.commitInterval`.
    public func isBatchDue(nowNanoseconds: UInt64) -> Bool {
        guard let opened = batchOpenedNanoseconds else { return false }
        if batch.skygate.remainingCapacity < limits.samplesPerDatagramMax { return true }
        if batch.mavlink.remainingCapacity < mavlinkRowsPerDatagramMax { return true }
        if batch.unitCapacity - batch.units < unitsPerDatagramMax { return true }
        return nowNanoseconds &- opened >= commitIntervalNanoseconds
    }

    /// Hands out the current batch whole and continues with `fresh` (which must be empty and of
    /// the same capacity): the only way a batch leaves the processor.
    public func takeBatch(replacingWith fresh: TelemetryBatch) -> TelemetryBatch {
        precondition(fresh.isEmpty, "a fresh batch must be empty")
        precondition(fresh.skygate.capacity == batch.skygate.capacity, "batches are of one size")
        let full = batch
        batch = fresh
        batchOpenedNanoseconds = nil
        return full
    }

    /// Takes up to `Limits.drainBatchDatagrams` datagrams from the ring and processes them, as
    /// long as the batch has room for another datagram. Returns how many were taken.
    public func drain(_ ring: DatagramRing, nowNanoseconds: UInt64) -> Int {
        guard hasRoomForDatagram else { return 0 }
        let records = ring.filledRecords(upTo: limits.drainBatchDatagrams)
        guard !records.isEmpty else { return 0 }
        let passStart = batch.skygate.count
        let mavlinkPassStart = batch.mavlink.count
        var taken = 0
        // Live ingest: sample times are checked against the gateway's clock, old ones too.
        let nowMicroseconds = nowNanoseconds / 1_000
        oldestMicroseconds = sampleAgeMaxMicroseconds == 0 || nowMicroseconds < sampleAgeMaxMicroseconds
            ? 0 : nowMicroseconds - sampleAgeMaxMicroseconds
        fleet.withTable { table in
            for record in records {
                guard hasRoomForDatagram else { break }
                taken += 1
                record.isFramed = admit(
                    record.datagram, isTruncated: record.isTruncated, receivedNanoseconds: record.receiveTimestampNanoseconds,
                    nowNanoseconds: nowNanoseconds, table: table)
            }
            derivePass(skygateStart: passStart, mavlinkStart: mavlinkPassStart, table: table)
        }
        recordTap?(records, taken)
        ring.release(count: taken)
        return taken
    }

    /// Whether the batch can take the largest datagram a ring record holds: room for its rows (Skygate
    /// or MAVLink) and for its units (MAVLink state frames are units without rows). A caller of
    /// `process(datagram:)` hands the batch off (`takeBatch`) while this is false.
    public var hasRoomForDatagram: Bool {
        batch.skygate.remainingCapacity >= limits.samplesPerDatagramMax
            && batch.mavlink.remainingCapacity >= mavlinkRowsPerDatagramMax
            && batch.unitCapacity - batch.units >= unitsPerDatagramMax
    }

    /// Rows one MAVLink datagram can add: one per frame, and a frame takes at least 8 bytes
    /// (MAVLink 1 with an empty payload, which reads as a zero position).
    var mavlinkRowsPerDatagramMax: Int { limits.datagramBytesMax / MAVLinkFormat.frameLengthMin + 1 }
    /// Units one datagram can add to the batch (accepted frames of either protocol; MAVLink
    /// HEARTBEATs and the like are units without rows, so units can outnumber rows).
    var unitsPerDatagramMax: Int { limits.datagramBytesMax / MAVLinkFormat.frameLengthMin + 1 }

    /// Processes one datagram that did not come through a ring (replay, log imports, tests).
    /// `isTruncated`: the datagram was cut to fit (a slot, a recording), so it is `oversized`.
    public func process(
        datagram: UnsafeRawBufferPointer, isTruncated: Bool = false, receivedNanoseconds: UInt64, nowNanoseconds: UInt64
    ) {
        precondition(hasRoomForDatagram, "take the batch first")
        // Replay and imports keep their history: no age check.
        oldestMicroseconds = 0
        let passStart = batch.skygate.count
        let mavlinkPassStart = batch.mavlink.count
        fleet.withTable { table in
            _ = admit(datagram, isTruncated: isTruncated, receivedNanoseconds: receivedNanoseconds, nowNanoseconds: nowNanoseconds, table: table)
            derivePass(skygateStart: passStart, mavlinkStart: mavlinkPassStart, table: table)
        }
    }

    /// The one entry of every datagram, whatever its source: a datagram longer than a slot is
    /// `oversized`, an empty one `truncated`; otherwise its first byte picks the decoder.
    /// Returns whether the datagram framed: at least one frame in it was intact (its CRC held),
    /// whether it was then accepted or refused (a bad tag, a replay, a duplicate, bad values).
    @discardableResult
    private func admit(
        _ datagram: UnsafeRawBufferPointer, isTruncated: Bool, receivedNanoseconds: UInt64, nowNanoseconds: UInt64, table: FleetTable
    ) -> Bool {
        if isTruncated || datagram.count > limits.datagramBytesMax {
            counters.countRejected(.oversized)
            return false
        }
        guard let first = datagram.first else {
            counters.countRejected(.truncated)
            return false
        }
        switch first {
        case WireFormat.magic:
            return decodeSkygate(datagram, receivedNanoseconds: receivedNanoseconds, nowNanoseconds: nowNanoseconds, table: table)
        case MAVLinkFormat.startV2, MAVLinkFormat.startV1:
            return decodeMAVLink(datagram, receivedNanoseconds: receivedNanoseconds, nowNanoseconds: nowNanoseconds, table: table)
        default:
            counters.countRejected(.badMagic)
            return false
        }
    }

    /// Returns whether a frame of the datagram was intact.
    private func decodeSkygate(
        _ datagram: UnsafeRawBufferPointer, receivedNanoseconds: UInt64, nowNanoseconds: UInt64, table: FleetTable
    ) -> Bool {
        let part = batch.skygatePart
        let latestMicroseconds = nowNanoseconds / 1_000 &+ futureToleranceMicroseconds
        let counters = self.counters
        var intactRejected = false
        let result = FrameDecoder.decodeDatagram(
            datagram, into: part.columns, authenticator: &authenticator,
            onFrame: { frame, rows in
                admitFrame(
                    part: part, rows: rows, number: frame.header.droneID, duplicateKey: frame.header.sequence,
                    duplicateContent: frame.header.timestampMicroseconds, lossSequence: frame.header.sequence, lossModulus: 1 << 32,
                    receivedNanoseconds: receivedNanoseconds, latestMicroseconds: latestMicroseconds, table: table)
            },
            onRejection: { error in
                intactRejected = intactRejected || error.isFrameIntact
                counters.countRejected(RejectionReason(error))
            })
        if result.framesAccepted > 0 && batchOpenedNanoseconds == nil { batchOpenedNanoseconds = nowNanoseconds }
        // decodeDatagram stops early only when the batch is full, which `drain` rules out.
        assert(result.bytesConsumed == datagram.count)
        return intactRejected || result.framesAccepted > 0 || result.framesRefused > 0
    }

    /// Decodes a MAVLink datagram into the batch's MAVLink columns. Each frame is one unit: a
    /// GLOBAL_POSITION_INT from a system's autopilot is one row; HEARTBEAT, SYS_STATUS,
    /// GPS_RAW_INT, ATTITUDE and BATTERY_STATUS update the system's state, which later rows
    /// carry, and count `stored` with the batch they arrived in (accepted, and committed with
    /// it) without a row of their own. Frames from other components are `mavlink_not_autopilot`.
    /// The drone is (mavlink, system id); link loss is counted from the autopilot's 8-bit sequence.
    /// Returns whether a frame of the datagram was intact.
    private func decodeMAVLink(
        _ datagram: UnsafeRawBufferPointer, receivedNanoseconds: UInt64, nowNanoseconds: UInt64, table: FleetTable
    ) -> Bool {
        let part = batch.mavlinkPart
        let latestMicroseconds = nowNanoseconds / 1_000 &+ futureToleranceMicroseconds
        let counters = self.counters
        var intactRejected = false
        let result = mavlinkDecoder.decodeDatagram(
            datagram, receivedMicroseconds: receivedNanoseconds / 1_000, into: part.columns, verifier: &mavlinkVerifier,
            onFrame: { frame, _, rows in
                guard frame.componentID == MAVLinkFormat.autopilotComponentID else {
                    counters.countRejected(.mavlinkNotAutopilot)
                    return false
                }
                // A duplicate repeats sequence, message and content: the CRC stands for the
                // content, the signature timestamp (0 when unsigned) tells signed copies apart.
                return admitFrame(
                    part: part, rows: rows, number: UInt32(frame.systemID), duplicateKey: UInt32(frame.sequence) | frame.messageID << 8,
                    duplicateContent: UInt64(frame.checksum) | frame.signatureTimestamp << 16, lossSequence: UInt32(frame.sequence),
                    lossModulus: 256, receivedNanoseconds: receivedNanoseconds, latestMicroseconds: latestMicroseconds, table: table)
            },
            onRejection: { error in
                intactRejected = intactRejected || error.isFrameIntact
                counters.countRejected(RejectionReason(error))
            })
        if result.framesAccepted > 0 && batchOpenedNanoseconds == nil { batchOpenedNanoseconds = nowNanoseconds }
        // The decoder stops early only when the columns are full, which `hasRoomForDatagram` rules out.
        assert(result.bytesConsumed == datagram.count)
        return intactRejected || result.framesAccepted > 0 || result.framesRefused > 0
    }

    /// The one admission rule for a frame the decoder found intact and authentic, either
    /// protocol: its rows must validate, then its drone is found (or given a fleet row only now,
    /// once the frame has passed every check), a repeat within the duplicate window is
    /// `duplicate`, and an accepted frame counts towards its drone's link figures and is one unit
    /// of the batch. Returns whether the frame (and its rows) stay.
    @inline(__always)
    private func admitFrame(
        part: TelemetryBatch.Part, rows: Range<Int>, number: UInt32, duplicateKey: UInt32, duplicateContent: UInt64,
        lossSequence: UInt32, lossModulus: UInt64, receivedNanoseconds: UInt64, latestMicroseconds: UInt64, table: FleetTable
    ) -> Bool {
        if !rows.isEmpty,
            let reason = Self.validate(
                part.columns, rows: rows, earliest: Limits.earliestSampleMicroseconds, latest: latestMicroseconds,
                oldest: oldestMicroseconds)
        {
            counters.countRejected(reason)
            return false
        }
        let evictedBefore = table.dronesEvicted
        guard let drone = table.findOrInsert(protocol: part.protocol, number: number, now: receivedNanoseconds) else {
            counters.countRejected(.tooManyDrones)
            return false
        }
        if table.dronesEvicted != evictedBefore { counters.countDroneEvicted() }
        if table.isDuplicate(row: drone, sequence: duplicateKey, timestamp: duplicateContent) {
            table.framesDuplicate[drone] &+= 1
            counters.countDuplicate(units: 1)
            return false
        }
        table.countFrame(row: drone, sequence: lossSequence, modulus: lossModulus, now: receivedNanoseconds)
        table.samplesReceived[drone] &+= UInt64(rows.count)
        for row in rows { part.fleetRowColumn[row] = Int32(drone) }
        batch.noteUnit(receivedNanoseconds: receivedNanoseconds)
        return true
    }

    /// The first validation failure among `rows`, or nil: positions off the globe first, then
    /// times outside `earliest...latest`, then times before `oldest` (live ingest's age limit;
    /// 0 checks no age).
    static func validate(
        _ columns: SampleColumns, rows: Range<Int>, earliest: UInt64, latest: UInt64, oldest: UInt64 = 0
    ) -> RejectionReason? {
        let latitudes = columns.latitudesE7
        let longitudes = columns.longitudesE7
        let timestamps = columns.timestampsMicroseconds
        var positionBad = false
        var timeBad = false
        var tooOld = false
        for row in rows {
            positionBad = positionBad || latitudes[row] < -900_000_000 || latitudes[row] > 900_000_000
                || longitudes[row] < -1_800_000_000 || longitudes[row] > 1_800_000_000
            timeBad = timeBad || timestamps[row] < earliest || timestamps[row] > latest
            tooOld = tooOld || timestamps[row] < oldest
        }
        if positionBad { return .positionOutOfRange }
        if timeBad { return .timestampOutOfRange }
        if tooOld { return .timestampTooOld }
        return nil
    }

    /// Derives ground speed and distance flown for the rows added in this pass, and moves each
    /// drone's last sample forward. Three passes: gather each row's previous fix (scalar, by
    /// drone), compute speeds and step lengths over whole columns (vectorisable), then scatter
    /// the results back to the drones (scalar).
    private func derive(rows: Range<Int>, part: TelemetryBatch.Part, table: FleetTable) {
        guard !rows.isEmpty else { return }
        let columns = part.columns
        let rowDrones = part.fleetRowColumn
        let groundSpeeds = part.groundSpeedColumn
        let latitudes = columns.latitudesE7
        let longitudes = columns.longitudesE7
        let timestamps = columns.timestampsMicroseconds
        let statuses = columns.statuses
        let fixBit = StatusFlags.gpsFix.rawValue

        // Gather: the previous fix of each row's drone, advancing as rows of the same drone pass.
        for row in rows {
            let drone = Int(rowDrones[row])
            let rowHasFix = statuses[row] & fixBit != 0 && (latitudes[row] != 0 || longitudes[row] != 0)
            hasStep[row] = rowHasFix && table.hasFix[drone]
            fromLatitudes[row] = table.hasFix[drone] ? table.lastLatitudes[drone] : latitudes[row]
            fromLongitudes[row] = table.hasFix[drone] ? table.lastLongitudes[drone] : longitudes[row]
            if rowHasFix {
                table.lastLatitudes[drone] = latitudes[row]
                table.lastLongitudes[drone] = longitudes[row]
                table.hasFix[drone] = true
            }
        }
        // Vectorisable passes over the new rows.
        let start = rows.lowerBound
        let count = rows.count
        Derivation.groundSpeeds(
            north: UnsafeBufferPointer(rebasing: columns.velocitiesNorthCMS[rows]),
            east: UnsafeBufferPointer(rebasing: columns.velocitiesEastCMS[rows]), into: groundSpeeds + start)
        Derivation.stepDistances(
            fromLatitudes: UnsafeBufferPointer(start: fromLatitudes + start, count: count),
            fromLongitudes: UnsafeBufferPointer(start: fromLongitudes + start, count: count),
            toLatitudes: UnsafeBufferPointer(rebasing: latitudes[rows]),
            toLongitudes: UnsafeBufferPointer(rebasing: longitudes[rows]), into: stepDistances + start)
        // Scatter: distance flown, and the last sample of each drone (newest timestamp wins).
        for row in rows {
            let drone = Int(rowDrones[row])
            if hasStep[row] { table.distancesFlown[drone] += Double(stepDistances[row]) }
            guard timestamps[row] >= table.lastTimestamps[drone] else { continue }
            table.lastTimestamps[drone] = timestamps[row]
            table.lastAltitudes[drone] = columns.altitudesMM[row]
            table.lastHeadings[drone] = columns.headingsCentidegrees[row]
            table.lastBatteryMillivolts[drone] = columns.batteriesMillivolts[row]
            table.lastBatteryPercents[drone] = columns.batteriesPercent[row]
            table.lastSatellites[drone] = columns.satellites[row]
            table.lastStatuses[drone] = statuses[row]
            table.lastGroundSpeeds[drone] = groundSpeeds[row]
            table.lastClimbRates[drone] = -Float(columns.velocitiesDownCMS[row]) * 0.01
        }
    }

    /// Derives the rows a pass added, Skygate's and MAVLink's (each drone's rows are in one
    /// protocol's columns only, since the protocol is part of the drone's identity).
    private func derivePass(skygateStart: Int, mavlinkStart: Int, table: FleetTable) {
        derive(rows: skygateStart..<batch.skygate.count, part: batch.skygatePart, table: table)
        derive(rows: mavlinkStart..<batch.mavlink.count, part: batch.mavlinkPart, table: table)
    }
}

extension BatchProcessor where Authenticator == NoAuthentication, Verifier == MAVLinkNoSigning {
    /// A processor that checks no tags or signatures: untagged frames and unsigned MAVLink are
    /// accepted, tagged Skygate frames are `unknown_key` (replay, tests, benchmarks).
    public convenience init(limits: ValidLimits, counters: IngestCounters, batch: TelemetryBatch) {
        self.init(limits: limits, counters: counters, authenticator: NoAuthentication(), verifier: MAVLinkNoSigning(), batch: batch)
    }
}

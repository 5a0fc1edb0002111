import Pipeline
import Synchronization
import Telemetry
import TelemetryWire

/// Thresholds of the rules (`serve` options and config keys `rule-*`, docs/events.md). A
/// threshold of 0 turns its rule off.
public struct RuleSettings: Sendable, Equatable {
    /// `low_battery` below this battery percentage.
    public var lowBatteryPercent: UInt8 = 20
    /// `lost_link` after this long without a frame.
    public var lostLinkSeconds: Double = 10
    /// `overspeed` above this ground speed (m/s).
    public var overspeedMetresPerSecond: Double = 0
    /// `altitude_ceiling` above this altitude (m, the drones' altitude reference).
    public var altitudeCeilingMetres: Double = 0
    /// `sequence_gap_burst` for one gap of at least this many frames (Skygate sequence numbers).
    public var sequenceGapFrames: Int = 10
    /// `gps_fix_lost` when a drone that had a fix reports none.
    public var gpsFixLost = true
    /// Zones' hysteresis: a drone inside leaves only once this far outside.
    public var zoneHysteresisMetres: Double = Limits.Zones.hysteresisDefaultMetres

    public init() {}

    /// Problems, each naming its option; empty when valid.
    public func problems() -> [String] {
        var problems: [String] = []
        if lowBatteryPercent > 100 { problems.append("--rule-low-battery-percent \(lowBatteryPercent) must be 0...100") }
        if !(0...86_400).contains(lostLinkSeconds) { problems.append("--rule-lost-link-seconds \(lostLinkSeconds) must be 0...86400") }
        if !(0...1_000).contains(overspeedMetresPerSecond) { problems.append("--rule-overspeed-mps \(overspeedMetresPerSecond) must be 0...1000") }
        if !(0...100_000).contains(altitudeCeilingMetres) { problems.append("--rule-altitude-ceiling-m \(altitudeCeilingMetres) must be 0...100000") }
        if !(0...1_000_000).contains(sequenceGapFrames) { problems.append("--rule-sequence-gap-frames \(sequenceGapFrames) must be 0...1000000") }
        if !(0...1_000).contains(zoneHysteresisMetres) { problems.append("--zone-hysteresis-m \(zoneHysteresisMetres) must be 0...1000") }
        return problems
    }
}

/// The zones in force, swapped whole on reload (SIGHUP): the engine picks a new set up at its
/// next batch.
public final class ZoneSource: Sendable {
    private let current: Mutex<ZoneSet>
    private let generationCounter = Atomic<UInt64>(0)
    /// The file the zones came from, if any (for reloads and `/api/zones`).
    public let path: String?
    private let loaded = Atomic<UInt64>(0)

    public init(_ zones: ZoneSet, path: String?) {
        current = Mutex(zones)
        self.path = path
        loaded.store(SystemClock.realtimeNanoseconds() / 1_000, ordering: .relaxed)
    }

    public var generation: UInt64 { generationCounter.load(ordering: .acquiring) }
    public var zones: ZoneSet { current.withLock { $0 } }
    public var loadedMicroseconds: UInt64 { loaded.load(ordering: .relaxed) }

    public func replace(with zones: ZoneSet) {
        current.withLock { $0 = zones }
        loaded.store(SystemClock.realtimeNanoseconds() / 1_000, ordering: .relaxed)
        generationCounter.add(1, ordering: .releasing)
    }

    /// Reads the file again; on a problem the zones in force stay and the problem is thrown.
    public func reload() throws(ZoneFile.Problem) -> ZoneSet {
        guard let path else { throw ZoneFile.Problem("no --zones file to reload") }
        let zones = try ZoneFile.load(path: path)
        let set = ZoneSet(zones: zones, hysteresisMetres: self.zones.hysteresisMetres)
        replace(with: set)
        return set
    }

    public func report() -> ZoneReport {
        ZoneReport(zones: zones.zones, source: path, loadedMicroseconds: loadedMicroseconds)
    }
}

/// Evaluates zones and rules over each batch's columns, on the batch processor's thread, and
/// collects the events they raise (edge-triggered: a rule fires once, then re-arms when the value
/// comes back past its threshold). All state is in columns allocated at start-up, one row per
/// fleet row (the processor's drone index); nothing allocates per sample.
public final class EventEngine {
    public let rules: RuleSettings
    public let zoneSource: ZoneSource
    let capacity: Int
    private(set) var zones: ZoneSet
    private var zoneGeneration: UInt64
    /// Words of zone bits per drone (fixed: `Limits.Zones.zonesMax` bits).
    static let zoneWords = (Limits.Zones.zonesMax + 63) / 64

    // Per drone (fleet row).
    let known: UnsafeMutablePointer<Bool>
    let protocols: UnsafeMutablePointer<UInt8>
    let numbers: UnsafeMutablePointer<UInt32>
    let flags: UnsafeMutablePointer<UInt16>
    let lastHeardNanoseconds: UnsafeMutablePointer<UInt64>
    let lastSequences: UnsafeMutablePointer<UInt32>
    let lastLatitudes: UnsafeMutablePointer<Int32>
    let lastLongitudes: UnsafeMutablePointer<Int32>
    let lastAltitudes: UnsafeMutablePointer<Int32>
    let insideBits: UnsafeMutablePointer<UInt64>
    /// Each drone's token bucket of events (`Limits.Events.perDroneBurst`) and when it was last
    /// refilled (the engine's clock).
    let eventTokens: UnsafeMutablePointer<UInt32>
    let eventTokensRefilledNanoseconds: UnsafeMutablePointer<UInt64>
    /// The clock of the evaluation running (the source's: wall clock live, recorded in a replay).
    private var clockNanoseconds: UInt64 = 0
    static let refillNanoseconds = Limits.Events.perDroneRefillInterval.nanosecondsClamped
    private var rowsSeen = 0
    private var lastLostLinkCheck: UInt64 = 0

    /// The events raised since the last `takeEvents`, at most `Limits.Events.perBatchMax`.
    public private(set) var pending: [AlertEvent] = []
    /// Events that did not fit `pending` (counted `events_dropped{burst}` by the hub).
    public private(set) var droppedBurst: UInt64 = 0
    /// Events beyond their drone's rate (counted `events_dropped{rate_limited}` by the hub).
    public private(set) var droppedRateLimited: UInt64 = 0

    struct Flag {
        static let lowBattery: UInt16 = 1 << 0
        static let lostLink: UInt16 = 1 << 1
        static let hadFix: UInt16 = 1 << 2
        static let fixLost: UInt16 = 1 << 3
        static let overspeed: UInt16 = 1 << 4
        static let ceiling: UInt16 = 1 << 5
        static let hasSequence: UInt16 = 1 << 6
        static let insideAny: UInt16 = 1 << 7
    }

    /// - Parameter capacity: the fleet's rows (`Limits.dronesMax`).
    public init(capacity: Int, rules: RuleSettings, zones: ZoneSource) {
        precondition(capacity > 0)
        self.capacity = capacity
        self.rules = rules
        zoneSource = zones
        zoneGeneration = zones.generation
        self.zones = zones.zones
        var bytes = Limits.Events.perBatchMax * MemoryLayout<AlertEvent>.stride
        func column<T>(_ value: T, _ count: Int = capacity) -> UnsafeMutablePointer<T> {
            bytes += count * MemoryLayout<T>.stride
            let pointer = UnsafeMutablePointer<T>.allocate(capacity: count)
            pointer.initialize(repeating: value, count: count)
            return pointer
        }
        known = column(false)
        protocols = column(0)
        numbers = column(0)
        flags = column(0)
        lastHeardNanoseconds = column(0)
        lastSequences = column(0)
        lastLatitudes = column(0)
        lastLongitudes = column(0)
        lastAltitudes = column(0)
        insideBits = column(0, capacity * Self.zoneWords)
        eventTokens = column(Limits.Events.perDroneBurst)
        eventTokensRefilledNanoseconds = column(0)
        pending.reserveCapacity(Limits.Events.perBatchMax)
        allocatedBytes = bytes
    }

    /// Bytes of the per-drone columns and the pending events, allocated by `init`.
    public let allocatedBytes: Int

    deinit {
        known.deallocate(); protocols.deallocate(); numbers.deallocate(); flags.deallocate()
        lastHeardNanoseconds.deallocate(); lastSequences.deallocate()
        lastLatitudes.deallocate(); lastLongitudes.deallocate(); lastAltitudes.deallocate()
        insideBits.deallocate(); eventTokens.deallocate(); eventTokensRefilledNanoseconds.deallocate()
    }

    /// Hands the raised events to `body` and forgets them.
    public func takeEvents(_ body: (UnsafeMutableBufferPointer<AlertEvent>) -> Void) {
        guard !pending.isEmpty else { return }
        pending.withUnsafeMutableBufferPointer { body($0) }
        pending.removeAll(keepingCapacity: true)
    }

    /// Rate-limited drops since the last call.
    public func takeDroppedRateLimited() -> UInt64 {
        defer { droppedRateLimited = 0 }
        return droppedRateLimited
    }

    /// Burst drops since the last call.
    public func takeDroppedBurst() -> UInt64 {
        defer { droppedBurst = 0 }
        return droppedBurst
    }

    @inline(__always)
    private func raise(
        _ kind: EventKind, row drone: Int, time: UInt64, zone: String = "", alarm: Bool = true, value: Double = 0
    ) {
        guard pending.count < Limits.Events.perBatchMax else {
            droppedBurst &+= 1
            return
        }
        guard takeEventToken(row: drone) else {
            droppedRateLimited &+= 1
            return
        }
        pending.append(AlertEvent(
            timeMicroseconds: time, drone: DroneIdentity(protocol: TelemetryProtocol(rawValue: protocols[drone]) ?? .skygate, number: numbers[drone]),
            kind: kind, zone: zone, alarm: alarm, value: value,
            latitudeE7: lastLatitudes[drone], longitudeE7: lastLongitudes[drone], altitudeMM: lastAltitudes[drone]))
    }

    /// Takes one event from the drone's bucket, refilled by one per `perDroneRefillInterval` of
    /// the engine's clock up to `perDroneBurst`; false when it is empty. The drone's state (zones
    /// inside, rules fired) moves on regardless: only the notification is dropped.
    @inline(__always)
    private func takeEventToken(row drone: Int) -> Bool {
        let burst = Limits.Events.perDroneBurst
        let now = clockNanoseconds
        var tokens = eventTokens[drone]
        let refilled = eventTokensRefilledNanoseconds[drone]
        if tokens >= burst || now < refilled {
            // A full bucket (or a clock that went back): the refill clock starts now.
            eventTokensRefilledNanoseconds[drone] = now
        } else {
            let steps = (now - refilled) / Self.refillNanoseconds
            if steps > 0 {
                tokens = UInt32(min(UInt64(burst), UInt64(tokens) + steps))
                eventTokensRefilledNanoseconds[drone] = tokens >= burst ? now : refilled + steps * Self.refillNanoseconds
            }
        }
        guard tokens > 0 else { return false }
        eventTokens[drone] = tokens - 1
        return true
    }

    /// Evaluates a batch the processor completed: each protocol's rows in arrival order, with the
    /// fleet row and derived ground speed the processor put beside each row.
    /// - Parameter nowNanoseconds: the source's clock (wall clock live, the recording's in a
    ///   replay), for `lost_link`.
    public func evaluate(_ batch: TelemetryBatch, nowNanoseconds: UInt64) {
        evaluate(batch.skygatePart, nowNanoseconds: nowNanoseconds)
        evaluate(batch.mavlinkPart, nowNanoseconds: nowNanoseconds)
    }

    /// Evaluates one protocol's rows of a batch, in arrival order.
    public func evaluate(_ part: TelemetryBatch.Part, nowNanoseconds: UInt64) {
        let columns = part.columns, telemetryProtocol = part.protocol
        let fleetRows = part.fleetRows, groundSpeeds = part.groundSpeeds
        let rows = 0..<part.count
        guard !rows.isEmpty else { return }
        clockNanoseconds = nowNanoseconds
        refreshZones()
        let latitudes = columns.latitudesE7, longitudes = columns.longitudesE7, altitudes = columns.altitudesMM
        let statuses = columns.statuses, batteries = columns.batteriesPercent, times = columns.timestampsMicroseconds
        let sequences = columns.sequences, droneIDs = columns.droneIDs
        let fixBit = StatusFlags.gpsFix.rawValue
        let lowBattery = rules.lowBatteryPercent
        let batteryRearm = lowBattery &+ Limits.Events.batteryRearmPercent
        let overspeed = Float(rules.overspeedMetresPerSecond)
        let overspeedRearm = overspeed * Float(Limits.Events.speedRearmFraction)
        let ceilingMM = Int32(rules.altitudeCeilingMetres * 1_000)
        let ceilingRearmMM = ceilingMM - Int32(Limits.Events.altitudeRearmMetres * 1_000)
        let gap = UInt32(clamping: rules.sequenceGapFrames)
        let checksGaps = gap > 0 && telemetryProtocol == .skygate
        let zones = self.zones
        let hasZones = !zones.isEmpty
        for row in rows {
            let drone = Int(fleetRows[row])
            guard drone >= 0 && drone < capacity else { continue }
            if !known[drone] || numbers[drone] != droneIDs[row] || protocols[drone] != telemetryProtocol.rawValue {
                // A new drone, or a fleet row the processor gave to another drone (the table was
                // full and the old one offline): nothing of the old drone's state carries over.
                if known[drone] { reset(row: drone) }
                known[drone] = true
                protocols[drone] = telemetryProtocol.rawValue
                numbers[drone] = droneIDs[row]
                rowsSeen = max(rowsSeen, drone + 1)
            }
            var flag = flags[drone]
            lastHeardNanoseconds[drone] = nowNanoseconds
            let time = times[row]
            let status = statuses[row]
            let latitude = latitudes[row], longitude = longitudes[row], altitude = altitudes[row]
            let hasFix = status & fixBit != 0 && (latitude != 0 || longitude != 0)
            if hasFix {
                lastLatitudes[drone] = latitude
                lastLongitudes[drone] = longitude
                lastAltitudes[drone] = altitude
            }
            if flag & Flag.lostLink != 0 {
                flag &= ~Flag.lostLink
                flags[drone] = flag
                raise(.linkRestored, row: drone, time: time, alarm: false)
            }
            // Rules.
            let battery = batteries[row]
            if lowBattery > 0 && battery != 255 {
                if battery < lowBattery && flag & Flag.lowBattery == 0 {
                    flag |= Flag.lowBattery
                    raise(.lowBattery, row: drone, time: time, value: Double(battery))
                } else if battery >= batteryRearm {
                    flag &= ~Flag.lowBattery
                }
            }
            if overspeed > 0 {
                let speed = groundSpeeds[row]
                if speed > overspeed && flag & Flag.overspeed == 0 {
                    flag |= Flag.overspeed
                    raise(.overspeed, row: drone, time: time, value: Double(speed))
                } else if speed < overspeedRearm {
                    flag &= ~Flag.overspeed
                }
            }
            if ceilingMM > 0 && hasFix {
                if altitude > ceilingMM && flag & Flag.ceiling == 0 {
                    flag |= Flag.ceiling
                    raise(.altitudeCeiling, row: drone, time: time, value: Double(altitude) / 1_000)
                } else if altitude < ceilingRearmMM {
                    flag &= ~Flag.ceiling
                }
            }
            if hasFix {
                flag = (flag | Flag.hadFix) & ~Flag.fixLost
            } else if rules.gpsFixLost && flag & (Flag.hadFix | Flag.fixLost) == Flag.hadFix {
                flag |= Flag.fixLost
                raise(.gpsFixLost, row: drone, time: time)
            }
            if checksGaps {
                let sequence = sequences[row]
                if flag & Flag.hasSequence != 0 {
                    let step = sequence &- lastSequences[drone]
                    // Forward steps only (a late or repeated frame is not a gap).
                    if step > 0 && step < 1 << 31 {
                        if step - 1 >= gap { raise(.sequenceGapBurst, row: drone, time: time, value: Double(step - 1)) }
                        lastSequences[drone] = sequence
                    }
                } else {
                    lastSequences[drone] = sequence
                    flag |= Flag.hasSequence
                }
            }
            flags[drone] = flag
            // Zones: only with a fix (a fixless row repeats an old position or none).
            guard hasZones && hasFix else { continue }
            let bits = insideBits + drone * Self.zoneWords
            if flag & Flag.insideAny != 0 {
                var anyLeft = false
                for word in 0..<Self.zoneWords where bits[word] != 0 {
                    var remaining = bits[word]
                    while remaining != 0 {
                        let bit = remaining.trailingZeroBitCount
                        remaining &= remaining - 1
                        let zone = word * 64 + bit
                        if zones.isBeyondMargin(zone, latitudeE7: latitude, longitudeE7: longitude, altitudeMM: altitude) {
                            bits[word] &= ~(1 << UInt64(bit))
                            let entry = zones.zones[zone]
                            raise(.zoneExit, row: drone, time: time, zone: entry.name, alarm: entry.isAlarm(entering: false))
                        }
                    }
                    if bits[word] != 0 { anyLeft = true }
                }
                if !anyLeft { flags[drone] = flag & ~Flag.insideAny }
            }
            let candidates = zones.candidates(latitudeE7: latitude, longitudeE7: longitude)
            for slot in candidates {
                let zone = Int(zones.cellZones[slot])
                let word = zone >> 6, mask = UInt64(1) << UInt64(zone & 63)
                if bits[word] & mask != 0 { continue }
                if zones.contains(zone, latitudeE7: latitude, longitudeE7: longitude, altitudeMM: altitude) {
                    bits[word] |= mask
                    flags[drone] |= Flag.insideAny
                    let entry = zones.zones[zone]
                    raise(.zoneEnter, row: drone, time: time, zone: entry.name, alarm: entry.isAlarm(entering: true))
                }
            }
        }
    }

    /// Every per-row column of `drone` back to a new drone's values.
    private func reset(row drone: Int) {
        flags[drone] = 0
        lastHeardNanoseconds[drone] = 0
        lastSequences[drone] = 0
        lastLatitudes[drone] = 0
        lastLongitudes[drone] = 0
        lastAltitudes[drone] = 0
        (insideBits + drone * Self.zoneWords).update(repeating: 0, count: Self.zoneWords)
        eventTokens[drone] = Limits.Events.perDroneBurst
        eventTokensRefilledNanoseconds[drone] = 0
    }

    /// The drone whose state row `drone` holds now, if any (tests).
    public func drone(ofRow drone: Int) -> DroneIdentity? {
        guard drone >= 0 && drone < capacity && known[drone] else { return nil }
        return DroneIdentity(protocol: TelemetryProtocol(rawValue: protocols[drone]) ?? .skygate, number: numbers[drone])
    }

    /// Raises `lost_link` for drones silent longer than the rule allows; cheap to call often (it
    /// scans at most every `Limits.Events.lostLinkCheckInterval`).
    public func checkLostLinks(nowNanoseconds: UInt64) {
        guard rules.lostLinkSeconds > 0 else { return }
        guard nowNanoseconds &- lastLostLinkCheck >= Limits.Events.lostLinkCheckInterval.nanosecondsClamped else { return }
        lastLostLinkCheck = nowNanoseconds
        clockNanoseconds = nowNanoseconds
        let silence = UInt64(rules.lostLinkSeconds * 1e9)
        for drone in 0..<rowsSeen where known[drone] && flags[drone] & Flag.lostLink == 0 {
            let heard = lastHeardNanoseconds[drone]
            guard nowNanoseconds > heard, nowNanoseconds - heard >= silence else { continue }
            flags[drone] |= Flag.lostLink
            raise(.lostLink, row: drone, time: nowNanoseconds / 1_000, value: Double(nowNanoseconds - heard) / 1e9)
        }
    }

    /// Takes up a reloaded zone set, carrying each drone's inside state over by zone name (a zone
    /// that is gone is left without an event; a new zone starts outside).
    private func refreshZones() {
        let generation = zoneSource.generation
        guard generation != zoneGeneration else { return }
        zoneGeneration = generation
        let old = zones
        let new = zoneSource.zones
        zones = new
        let mapping = old.zones.map { new.indexByName[$0.name] }
        for drone in 0..<rowsSeen where flags[drone] & Flag.insideAny != 0 {
            let bits = insideBits + drone * Self.zoneWords
            var moved = [UInt64](repeating: 0, count: Self.zoneWords)
            for zone in old.zones.indices where bits[zone >> 6] & (1 << UInt64(zone & 63)) != 0 {
                if let target = mapping[zone] { moved[target >> 6] |= 1 << UInt64(target & 63) }
            }
            for word in 0..<Self.zoneWords { bits[word] = moved[word] }
            if moved.allSatisfy({ $0 == 0 }) { flags[drone] &= ~Flag.insideAny }
        }
    }

    /// Whether drone row `drone` is inside zone `zone` now (tests).
    public func isInside(row drone: Int, zone: Int) -> Bool {
        insideBits[drone * Self.zoneWords + zone >> 6] & (1 << UInt64(zone & 63)) != 0
    }
}

import MAVLinkWire
import Telemetry

/// Values one position fix of an autopilot log carries, in the log's units made common.
struct LogFix {
    /// The log's boot clock, µs.
    var bootMicroseconds: UInt64
    /// UTC from the GPS receiver itself, µs since the Unix epoch, when the record has it.
    var utcMicroseconds: UInt64?
    var latitudeE7: Int32
    var longitudeE7: Int32
    /// Millimetres above mean sea level.
    var altitudeMM: Int32
    /// GPS_FIX_TYPE (0/1 none, 2 2D, 3 3D, 4 DGPS, 5 RTK float, 6 RTK fixed); ArduPilot's GPS
    /// status uses the same numbers.
    var fixType: UInt8 = 0
    /// 255 = unknown.
    var satellites: UInt8 = 255
    /// m/s north, east, down; NaN = unknown.
    var velocityNorth: Float = .nan
    var velocityEast: Float = .nan
    var velocityDown: Float = .nan
    /// Degrees clockwise from north, NaN = unknown.
    var headingDegrees: Float = .nan
}

/// Battery values of a log record.
struct LogBattery {
    var bootMicroseconds: UInt64
    /// Volts, amperes (NaN = unknown), percent remaining (nil = unknown).
    var volts: Float
    var amperes: Float
    var remainingPercent: Int?
}

/// Turns an autopilot log's values into MAVLink 2 frames, one datagram each, stamped with the
/// sample's UTC time, and hands them out in time order.
///
/// - Time: a record carrying the receiver's own UTC (ULog `time_utc_usec`, DataFlash GPS week and
///   ms) is stamped with it; every other record with its boot time plus the latest
///   UTC − boot offset (before the first GPS time, the first offset, which the reader finds in a
///   first pass). GLOBAL_POSITION_INT is sent with `time_boot_ms` 0, so the gateway takes the
///   sample's time from the receive time, which is this UTC time.
/// - Order: frames wait in a min-heap by time (`Limits.Recording.logReorderEntriesMax` entries)
///   and leave when the newest record is `logReorderWindow` later, or when the heap is full.
///   Records written up to that much out of order (ArduPilot writes some late) come out sorted;
///   one later still is sent at once and counted `recordsLate`.
/// - Frames are encoded when they leave, so sequence numbers rise in the order sent.
final class LogDatagramSynthesizer {
    struct Pending {
        var nanoseconds: UInt64
        var serial: UInt64
        var message: MAVLinkMessage
    }

    let systemID: UInt8
    let autopilot: UInt8
    let vehicleType: UInt8
    /// Whether fixes become positions (ULog without `vehicle_global_position`, DataFlash).
    let positionsFromFixes: Bool
    /// UTC − boot, µs; nil = the log has no UTC time at all.
    private(set) var offsetMicroseconds: Int64?
    var contents: LogContents

    /// Grows as frames wait (amortised), never past `entriesMax`.
    private var heap: [Pending] = []
    private var serial: UInt64 = 0
    private var sequence: UInt8 = 0
    private var newestNanoseconds: UInt64 = 0
    private var lastSentNanoseconds: UInt64 = 0
    private var lastHeartbeatNanoseconds: UInt64?
    private var homeAltitudeMM: Int32?
    private let windowNanoseconds = Limits.Recording.logReorderWindow.nanosecondsClamped
    private let entriesMax = Limits.Recording.logReorderEntriesMax
    private var frame = [UInt8](repeating: 0, count: MAVLinkFormat.frameLengthMax)

    init(systemID: UInt8, autopilot: UInt8, vehicleType: UInt8, positionsFromFixes: Bool, firstOffsetMicroseconds: Int64?, contents: LogContents) {
        self.systemID = systemID
        self.autopilot = autopilot
        self.vehicleType = vehicleType
        self.positionsFromFixes = positionsFromFixes
        self.offsetMicroseconds = firstOffsetMicroseconds
        self.contents = contents
        self.contents.hasUTC = firstOffsetMicroseconds != nil
    }

    /// UTC µs of a boot time (the boot time itself when the log has no UTC).
    func utcMicroseconds(boot: UInt64) -> UInt64 {
        guard let offset = offsetMicroseconds else { return boot }
        let value = Int64(truncatingIfNeeded: boot) &+ offset
        return value < 0 ? 0 : UInt64(value)
    }

    /// A GPS fix: GPS_RAW_INT, and GLOBAL_POSITION_INT when fixes are the positions.
    func add(fix: LogFix, emit: (UInt64, UnsafeRawBufferPointer) -> Bool) -> Bool {
        if let utc = fix.utcMicroseconds, utc > 0 {
            offsetMicroseconds = Int64(truncatingIfNeeded: utc) &- Int64(truncatingIfNeeded: fix.bootMicroseconds)
            contents.hasUTC = true
        }
        let time = fix.utcMicroseconds ?? utcMicroseconds(boot: fix.bootMicroseconds)
        let raw = MAVLinkGPSRawInt(
            timeMicroseconds: time, latitudeE7: fix.latitudeE7, longitudeE7: fix.longitudeE7, altitudeMM: fix.altitudeMM,
            fixType: fix.fixType, satellitesVisible: fix.satellites)
        guard push(.gpsRawInt(raw), microseconds: time, emit: emit) else { return false }
        guard positionsFromFixes else { return true }
        return add(position: fix, emit: emit)
    }

    /// A fused position (ULog `vehicle_global_position`, or a fix standing in for one).
    func add(position: LogFix, emit: (UInt64, UnsafeRawBufferPointer) -> Bool) -> Bool {
        let time = position.utcMicroseconds ?? utcMicroseconds(boot: position.bootMicroseconds)
        if homeAltitudeMM == nil { homeAltitudeMM = position.altitudeMM }
        func centimetres(_ metresPerSecond: Float) -> Int16 {
            guard metresPerSecond.isFinite else { return 0 }
            return Int16(max(-32_767, min(32_767, (metresPerSecond * 100).rounded())))
        }
        var heading = MAVLinkVehicleTable.headingUnknown
        if position.headingDegrees.isFinite {
            var degrees = Double(position.headingDegrees).truncatingRemainder(dividingBy: 360)
            if degrees < 0 { degrees += 360 }
            heading = UInt16(min(35_999, (degrees * 100).rounded()))
        }
        let message = MAVLinkGlobalPositionInt(
            timeBootMilliseconds: 0, latitudeE7: position.latitudeE7, longitudeE7: position.longitudeE7,
            altitudeMM: position.altitudeMM, relativeAltitudeMM: position.altitudeMM &- (homeAltitudeMM ?? 0),
            velocityX: centimetres(position.velocityNorth), velocityY: centimetres(position.velocityEast),
            velocityZ: centimetres(position.velocityDown), heading: heading)
        let nanoseconds = time &* 1_000
        if lastHeartbeatNanoseconds.map({ nanoseconds >= $0 &+ 1_000_000_000 || nanoseconds < $0 }) ?? true {
            lastHeartbeatNanoseconds = nanoseconds
            let heartbeat = MAVLinkHeartbeat(customMode: 0, vehicleType: vehicleType, autopilot: autopilot, baseMode: 0, systemStatus: 3)
            guard push(.heartbeat(heartbeat), microseconds: time, emit: emit) else { return false }
        }
        return push(.globalPositionInt(message), microseconds: time, emit: emit)
    }

    /// A battery record: SYS_STATUS (millivolts, centiamperes, percent).
    func add(battery: LogBattery, emit: (UInt64, UnsafeRawBufferPointer) -> Bool) -> Bool {
        let time = utcMicroseconds(boot: battery.bootMicroseconds)
        let millivolts = battery.volts.isFinite && battery.volts >= 0 ? UInt16(min(65_534, (battery.volts * 1_000).rounded())) : UInt16.max
        let centiamperes = battery.amperes.isFinite ? Int16(max(-32_768, min(32_767, (battery.amperes * 100).rounded()))) : -1
        let percent = battery.remainingPercent.map { $0 >= 0 && $0 <= 100 ? Int8($0) : -1 } ?? -1
        let status = MAVLinkSystemStatus(voltageBattery: millivolts, currentBattery: centiamperes, batteryRemaining: percent)
        return push(.systemStatus(status), microseconds: time, emit: emit)
    }

    private func push(_ message: MAVLinkMessage, microseconds: UInt64, emit: (UInt64, UnsafeRawBufferPointer) -> Bool) -> Bool {
        let nanoseconds = microseconds &* 1_000
        serial &+= 1
        heap.append(Pending(nanoseconds: nanoseconds, serial: serial, message: message))
        siftUp(heap.count - 1)
        newestNanoseconds = max(newestNanoseconds, nanoseconds)
        // Bounded: each pass removes one entry.
        while let first = heap.first, heap.count > entriesMax || first.nanoseconds &+ windowNanoseconds <= newestNanoseconds {
            guard send(popFirst(), emit: emit) else { return false }
        }
        return true
    }

    /// Sends every waiting frame (the end of the log).
    func flush(emit: (UInt64, UnsafeRawBufferPointer) -> Bool) -> Bool {
        while !heap.isEmpty {
            guard send(popFirst(), emit: emit) else { return false }
        }
        return true
    }

    private func send(_ pending: Pending, emit: (UInt64, UnsafeRawBufferPointer) -> Bool) -> Bool {
        if pending.nanoseconds < lastSentNanoseconds { contents.recordsLate += 1 }
        lastSentNanoseconds = max(lastSentNanoseconds, pending.nanoseconds)
        if case .globalPositionInt(let position) = pending.message {
            let point = LogContents.Position(
                timeMicroseconds: pending.nanoseconds / 1_000, latitudeE7: position.latitudeE7, longitudeE7: position.longitudeE7,
                altitudeMM: position.altitudeMM)
            contents.positions += 1
            if contents.firstPosition == nil { contents.firstPosition = point }
            contents.lastPosition = point
        }
        let sent = sequence
        sequence &+= 1
        return frame.withUnsafeMutableBytes { output in
            let length = MAVLinkEncoder.encode(
                pending.message, version: 2, sequence: sent, systemID: systemID, componentID: MAVLinkFormat.autopilotComponentID,
                into: output)
            return emit(pending.nanoseconds, UnsafeRawBufferPointer(rebasing: output[0..<length]))
        }
    }

    private func precedes(_ a: Pending, _ b: Pending) -> Bool {
        a.nanoseconds != b.nanoseconds ? a.nanoseconds < b.nanoseconds : a.serial < b.serial
    }

    private func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(heap[child], heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private func popFirst() -> Pending {
        let first = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < heap.count && precedes(heap[left], heap[smallest]) { smallest = left }
                if right < heap.count && precedes(heap[right], heap[smallest]) { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }
}

extension LogDatagramSynthesizer {
    /// Hands a made datagram (its time, its bytes) on; false stops the replay.
    typealias Emit = (_ nanoseconds: UInt64, _ frame: UnsafeRawBufferPointer) -> Bool

    /// The replay every log player runs: `parse` reads the log into `report` (its damage) and
    /// hands the log's values to this synthesizer with the `emit` it is given; each datagram made
    /// in `from..<until` goes to `body`, until it says stop. Then what is held back is flushed,
    /// `fill` completes the contents (the parser's counts), which `store` keeps, and the report
    /// holds the parse's damage with the datagrams' counts and times.
    func replay(
        fromNanoseconds: UInt64?, untilNanoseconds: UInt64?, body: (RecordedDatagram) -> Bool,
        parse: (_ report: inout ReadReport, _ emit: Emit) -> Void, fill: (inout LogContents) -> Void,
        store: (LogContents) -> Void
    ) -> ReadReport {
        // `emit` calls `body` from inside `parse`; neither outlives this call.
        withoutActuallyEscaping(body) { body in
            replay(fromNanoseconds: fromNanoseconds, untilNanoseconds: untilNanoseconds, escapingBody: body, parse: parse, fill: fill, store: store)
        }
    }

    private func replay(
        fromNanoseconds: UInt64?, untilNanoseconds: UInt64?, escapingBody body: @escaping (RecordedDatagram) -> Bool,
        parse: (_ report: inout ReadReport, _ emit: Emit) -> Void, fill: (inout LogContents) -> Void,
        store: (LogContents) -> Void
    ) -> ReadReport {
        var datagrams = ReadReport()
        let from = fromNanoseconds ?? 0
        let until = untilNanoseconds ?? .max
        let noSource = UnsafeRawBufferPointer(start: nil, count: 0)
        var stopped = false
        func emit(_ nanoseconds: UInt64, _ frame: UnsafeRawBufferPointer) -> Bool {
            datagrams.datagramsFound += 1
            datagrams.noteTime(nanoseconds)
            guard nanoseconds >= from && nanoseconds < until else { return true }
            datagrams.datagramsRead += 1
            if body(RecordedDatagram(receivedNanoseconds: nanoseconds, bytes: frame, source: noSource, isTruncated: false)) { return true }
            stopped = true
            return false
        }
        var report = ReadReport()
        parse(&report, emit)
        if !stopped { _ = flush(emit: emit) }
        // The parse's damage counts with the synthesizer's datagram counts.
        (report.datagramsFound, report.datagramsRead, report.firstNanoseconds, report.lastNanoseconds) =
            (datagrams.datagramsFound, datagrams.datagramsRead, datagrams.firstNanoseconds, datagrams.lastNanoseconds)
        var final = contents
        fill(&final)
        if !final.hasUTC { report.note("no GPS time in the log: times are the boot clock from 1970-01-01") }
        if final.recordsLate > 0 { report.note("\(final.recordsLate) records more than the reorder window out of time order, replayed late") }
        store(final)
        return report
    }
}

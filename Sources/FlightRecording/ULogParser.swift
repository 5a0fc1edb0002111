import Telemetry

/// What the first pass over a log learns.
struct ULogSurvey {
    var systemID: UInt8?
    var vehicleType: UInt8
    var firstOffsetMicroseconds: Int64?
    var hasGlobalPosition: Bool
}

/// What the ULog walk hands its caller.
enum ULogEvent {
    case parameter(name: Substring, value: Double)
    case fix(LogFix)
    case position(LogFix)
    case battery(LogBattery)
    case globalPositionSubscribed
}

/// The ULog walk: frames messages, keeps formats and subscriptions, counts topics, and turns the
/// records of the mapped topics into events. Damage is counted into the report.
struct ULogParser {
    /// What a subscription's records become.
    enum Role { case gps, globalPosition, battery, other }

    struct Subscription {
        var topic: Substring
        var multiID: UInt8
        var role: Role
        var size: Int
        var fields: [Substring: ULogField]
    }

    /// Where a data message's id leads: its subscription (-1 = none), the size its format allows
    /// and the role. Plain values, so the walk's hot path reads them without reference counting.
    struct Route {
        var subscription: Int32 = -1
        var size: Int32 = 0
        var role: Role = .other
    }

    var formats = ULogFormats()
    /// Gives back the file's pages as the walk passes them.
    var pages = PageRelease.none
    var subscriptions: [Subscription] = []
    /// Data messages per subscription (by index).
    var dataCounts: [Int] = []
    /// Routes by message id, as long as the highest id subscribed (ids are small and dense in
    /// practice; 64 Ki entries at most).
    var routes: [Route] = []
    /// Message ids whose subscription named an undefined or damaged format: their data is skipped
    /// by its size, not taken for garbage.
    var unknownDataIDs = Set<UInt16>()
    var info: [String: String] = [:]
    var parameters = 0
    var textMessages = 0
    var dropouts = 0
    var dropoutMilliseconds = 0
    var bootFirst: UInt64 = .max
    var bootLast: UInt64 = 0
    /// The header's time: when logging started, on the boot clock (pyulog's start).
    var headerMicroseconds: UInt64 = 0

    static let knownTypes: Set<UInt8> = Set("BFIMPQARDLCSO".utf8)

    /// Walks `bytes`; `onEvent` returns false to stop.
    mutating func parse(_ bytes: UnsafeRawBufferPointer, report: inout ReadReport, onEvent: (ULogEvent) -> Bool) {
        guard ULogReader.looksLikeULog(bytes) && bytes.count >= ULogReader.headerLength else {
            report.trailingBytes = bytes.count
            report.note("the ULog header is cut off")
            return
        }
        headerMicroseconds = bytes.littleEndian(at: 8, as: UInt64.self)
        var offset = ULogReader.headerLength
        // Bounded: each pass advances `offset` by at least one byte or ends.
        while offset < bytes.count {
            pages.passed(offset)
            let remaining = bytes.count - offset
            guard remaining >= ULogReader.messageHeaderLength else {
                report.trailingBytes = remaining
                report.skip("cut record", at: offset)
                return
            }
            let size = Int(bytes.littleEndian(at: offset, as: UInt16.self))
            let type = bytes[offset + 2]
            let end = offset + ULogReader.messageHeaderLength + size
            // Most messages are data of a subscribed topic: decided here from the route alone
            // (what `plausible` and `handle` conclude for them, without their general paths).
            if type == UInt8(ascii: "D") && size >= 10 && end <= bytes.count {
                let id = Int(bytes.littleEndian(at: offset + ULogReader.messageHeaderLength, as: UInt16.self))
                if id < routes.count {
                    let route = routes[id]
                    if route.subscription >= 0 && size - 2 <= Int(route.size) {
                        let body = UnsafeRawBufferPointer(rebasing: bytes[(offset + ULogReader.messageHeaderLength)..<end])
                        if !data(body, route: route, onEvent: onEvent) { return }
                        offset = end
                        continue
                    }
                }
            }
            if plausible(bytes, at: offset) {
                if end > bytes.count {
                    report.trailingBytes = remaining
                    report.skip("cut record", at: offset)
                    return
                }
                let body = UnsafeRawBufferPointer(rebasing: bytes[(offset + ULogReader.messageHeaderLength)..<end])
                if !handle(type: type, body: body, at: offset, report: &report, onEvent: onEvent) { return }
                offset = end
                continue
            }
            if isUnknownData(bytes, at: offset) {
                report.recordsDamaged += 1
                report.skip("data of a subscription that failed", at: offset)
                offset = end
                continue
            }
            // Not a message: look for the next offset where one starts and is followed by another
            // (or by the end), and count the bytes in between.
            let next = nextMessage(bytes, after: offset)
            report.skipGarbage(at: offset, resumingAt: next, end: bytes.count)
            guard let next else { return }
            offset = next
        }
    }

    /// Whether a message header at `offset` is believable: a known type whose body looks like
    /// that type's (text where text belongs, the sync magic, a subscribed id and a size its format
    /// allows for data). A header whose body runs past the end is judged by what is there (a cut
    /// record). With `resynchronising`, data must also carry a timestamp near the log's clock.
    func plausible(_ bytes: UnsafeRawBufferPointer, at offset: Int, resynchronising: Bool = false) -> Bool {
        guard offset + ULogReader.messageHeaderLength <= bytes.count else { return false }
        let size = Int(bytes.littleEndian(at: offset, as: UInt16.self))
        let type = bytes[offset + 2]
        let bodyStart = offset + ULogReader.messageHeaderLength
        let available = min(size, bytes.count - bodyStart)
        func printable(_ from: Int, _ count: Int) -> Bool {
            let end = min(bodyStart + from + count, bodyStart + available)
            var index = bodyStart + from
            while index < end {
                let byte = bytes[index]
                guard byte >= 0x20 && byte < 0x7F else { return false }
                index += 1
            }
            return true
        }
        /// A key (`type name`, length-prefixed at `at`) that is text and fits the body.
        func keyFits(at: Int) -> Bool {
            guard available > at else { return available == at && size > at }
            let keyLength = Int(bytes[bodyStart + at])
            return keyLength >= 3 && at + 1 + keyLength <= size && printable(at + 1, keyLength)
        }
        switch type {
        case UInt8(ascii: "D"):
            guard size >= 2 + 8 else { return false }
            guard available >= 2 else { return true }
            let id = Int(bytes.littleEndian(at: bodyStart, as: UInt16.self))
            guard id < routes.count, routes[id].subscription >= 0 else { return false }
            guard size - 2 <= Int(routes[id].size) else { return false }
            if resynchronising && available >= 10 && bootFirst <= bootLast {
                let timestamp = bytes.littleEndian(at: bodyStart + 2, as: UInt64.self)
                let slack: UInt64 = 3_600_000_000
                return timestamp &+ slack >= bootFirst && timestamp <= bootLast &+ slack
            }
            return true
        case UInt8(ascii: "S"):
            guard size == 8 else { return false }
            let magic: [UInt8] = [0x2F, 0x73, 0x13, 0x20, 0x25, 0x0C, 0xBB, 0x12]
            for index in 0..<available where bytes[bodyStart + index] != magic[index] { return false }
            return true
        case UInt8(ascii: "O"): return size == 2
        case UInt8(ascii: "R"):
            guard size == 2 else { return false }
            guard available == 2 else { return true }
            let id = Int(bytes.littleEndian(at: bodyStart, as: UInt16.self))
            return id < routes.count && routes[id].subscription >= 0
        case UInt8(ascii: "A"): return size >= 4 && printable(3, size - 3)
        case UInt8(ascii: "B"): return offset == ULogReader.headerLength && size >= 40
        case UInt8(ascii: "L"):
            return size >= 9 && (available < 1 || (bytes[bodyStart] >= UInt8(ascii: "0") && bytes[bodyStart] <= UInt8(ascii: "7")))
        case UInt8(ascii: "C"):
            return size >= 11 && (available < 1 || (bytes[bodyStart] >= UInt8(ascii: "0") && bytes[bodyStart] <= UInt8(ascii: "7")))
        case UInt8(ascii: "F"): return size >= 2 && printable(0, size)
        case UInt8(ascii: "I"), UInt8(ascii: "P"): return size >= 2 && keyFits(at: 0)
        case UInt8(ascii: "M"), UInt8(ascii: "Q"): return size >= 3 && keyFits(at: 1)
        default: return false
        }
    }

    /// A data message whose id no subscription names, framed well enough to step over: followed
    /// by a believable message or by the end. (A subscription whose format was damaged leaves
    /// its data like this; pyulog skips such data too.)
    func isUnknownData(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        guard offset + 5 <= bytes.count, bytes[offset + 2] == UInt8(ascii: "D") else { return false }
        let size = Int(bytes.littleEndian(at: offset, as: UInt16.self))
        let id = Int(bytes.littleEndian(at: offset + 3, as: UInt16.self))
        guard size >= 10, id >= routes.count || routes[id].subscription < 0, unknownDataIDs.contains(UInt16(id)) else { return false }
        let following = offset + ULogReader.messageHeaderLength + size
        return following == bytes.count || plausible(bytes, at: following)
    }

    func nextMessage(_ bytes: UnsafeRawBufferPointer, after offset: Int) -> Int? {
        var candidate = offset + 1
        while candidate + ULogReader.messageHeaderLength <= bytes.count {
            if plausible(bytes, at: candidate, resynchronising: true) {
                let following = candidate + ULogReader.messageHeaderLength + Int(bytes.littleEndian(at: candidate, as: UInt16.self))
                if following >= bytes.count || plausible(bytes, at: following) { return candidate }
            }
            candidate += 1
        }
        return nil
    }

    /// `key` of an info or parameter body: `type name` (length-prefixed), then the value.
    static func keyValue(_ body: UnsafeRawBufferPointer, keyAt start: Int) -> (type: Substring, name: Substring, value: UnsafeRawBufferPointer)? {
        guard body.count > start else { return nil }
        let keyLength = Int(body[start])
        guard start + 1 + keyLength <= body.count else { return nil }
        let key = String(decoding: UnsafeRawBufferPointer(rebasing: body[(start + 1)..<(start + 1 + keyLength)]), as: UTF8.self)[...]
        let parts = key.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        return (parts[0], parts[1], UnsafeRawBufferPointer(rebasing: body[(start + 1 + keyLength)...]))
    }

    /// Handles one whole message; false when `onEvent` asked to stop.
    mutating func handle(
        type: UInt8, body: UnsafeRawBufferPointer, at offset: Int, report: inout ReadReport, onEvent: (ULogEvent) -> Bool
    ) -> Bool {
        switch type {
        case UInt8(ascii: "F"):
            let text = String(decoding: body, as: UTF8.self)
            if !formats.add(text[...]) {
                report.recordsDamaged += 1
                report.skip("bad format definition", at: offset)
            }
        case UInt8(ascii: "I"):
            guard let (keyType, name, value) = Self.keyValue(body, keyAt: 0) else {
                report.skip("bad info message", at: offset)
                return true
            }
            if keyType.hasPrefix("char") {
                info[String(name)] = String(decoding: value.prefix { $0 != 0 }, as: UTF8.self)
            } else if let primitive = ULogPrimitive(name: keyType), value.count >= primitive.size {
                info[String(name)] = String(primitive.integer(in: value, at: 0) ?? 0)
            }
        case UInt8(ascii: "M"):
            // Multi-part info (`is_continued`, then a key and value): kept only as a count.
            break
        case UInt8(ascii: "P"), UInt8(ascii: "Q"):
            // `Q` (default parameters) has a type-mask byte before the key.
            guard let (keyType, name, value) = Self.keyValue(body, keyAt: type == UInt8(ascii: "Q") ? 1 : 0),
                let primitive = ULogPrimitive(name: keyType), value.count >= primitive.size
            else {
                report.skip("bad parameter", at: offset)
                return true
            }
            guard type == UInt8(ascii: "P") else { return true }
            parameters += 1
            return onEvent(.parameter(name: name, value: primitive.number(in: value, at: 0)))
        case UInt8(ascii: "A"):
            let multiID = body[0]
            let id = Int(body.littleEndian(at: 1, as: UInt16.self))
            let topic = String(decoding: UnsafeRawBufferPointer(rebasing: body[3...]).prefix { $0 != 0 }, as: UTF8.self)[...]
            guard subscriptions.count < Limits.Recording.logSubscriptionsMax, let format = formats.fields(of: topic) else {
                unknownDataIDs.insert(UInt16(id))
                if id < routes.count { routes[id] = Route() }
                report.recordsDamaged += 1
                report.skip("subscription to an undefined format", at: offset)
                return true
            }
            var role = Role.other
            if multiID == 0 {
                switch topic {
                case "vehicle_gps_position", "sensor_gps": role = .gps
                case "vehicle_global_position": role = .globalPosition
                case "battery_status": role = .battery
                default: break
                }
            }
            var fields: [Substring: ULogField] = [:]
            if role != .other { for field in format.fields { fields[field.name] = field } }
            if id >= routes.count { routes += [Route](repeating: Route(), count: id + 1 - routes.count) }
            routes[id] = Route(subscription: Int32(subscriptions.count), size: Int32(clamping: format.size), role: role)
            subscriptions.append(Subscription(topic: topic, multiID: multiID, role: role, size: format.size, fields: fields))
            dataCounts.append(0)
            if role == .globalPosition { return onEvent(.globalPositionSubscribed) }
        case UInt8(ascii: "R"):
            // The id stops being used; its counts stay.
            break
        case UInt8(ascii: "D"):
            return data(body, route: routes[Int(body.littleEndian(at: 0, as: UInt16.self))], onEvent: onEvent)
        case UInt8(ascii: "L"), UInt8(ascii: "C"):
            textMessages += 1
        case UInt8(ascii: "O"):
            dropouts += 1
            dropoutMilliseconds += Int(body.littleEndian(at: 0, as: UInt16.self))
        default:
            // `B` flag bits and `S` sync markers carry nothing to replay.
            break
        }
        return true
    }

    /// A data message (`body`: the id, then the topic's fields) of a subscribed id.
    @inline(__always)
    mutating func data(_ body: UnsafeRawBufferPointer, route: Route, onEvent: (ULogEvent) -> Bool) -> Bool {
        let index = Int(route.subscription)
        let payload = UnsafeRawBufferPointer(rebasing: body[2...])
        dataCounts[index] += 1
        let timestamp = payload.littleEndian(at: 0, as: UInt64.self)
        // (Some topics log a zero timestamp before their first update; it is no time.)
        if timestamp > 0 {
            bootFirst = min(bootFirst, timestamp)
            bootLast = max(bootLast, timestamp)
        }
        switch route.role {
        case .other: return true
        case .gps: return onEvent(.fix(Self.fix(payload, fields: subscriptions[index].fields, timestamp: timestamp)))
        case .globalPosition:
            return onEvent(.position(Self.globalPosition(payload, fields: subscriptions[index].fields, timestamp: timestamp)))
        case .battery: return onEvent(.battery(Self.battery(payload, fields: subscriptions[index].fields, timestamp: timestamp)))
        }
    }

    static func fix(_ payload: UnsafeRawBufferPointer, fields: [Substring: ULogField], timestamp: UInt64) -> LogFix {
        func number(_ name: Substring) -> Double? { fields[name]?.number(in: payload) }
        func integer(_ name: Substring) -> Int64? { fields[name]?.integer(in: payload) }
        var fix = LogFix(bootMicroseconds: timestamp, utcMicroseconds: nil, latitudeE7: 0, longitudeE7: 0, altitudeMM: 0)
        if let utc = integer("time_utc_usec"), utc > 0 { fix.utcMicroseconds = UInt64(utc) }
        // PX4 up to v1.13: lat/lon in 1e-7 degrees and alt in mm (int32); v1.14 on: degrees and
        // metres as doubles.
        if let lat = integer("lat"), let lon = integer("lon") {
            fix.latitudeE7 = Int32(truncatingIfNeeded: lat)
            fix.longitudeE7 = Int32(truncatingIfNeeded: lon)
            fix.altitudeMM = Int32(truncatingIfNeeded: integer("alt") ?? 0)
        } else {
            fix.latitudeE7 = e7(number("latitude_deg"))
            fix.longitudeE7 = e7(number("longitude_deg"))
            fix.altitudeMM = millimetres(number("altitude_msl_m"))
        }
        fix.fixType = UInt8(clamping: integer("fix_type") ?? 0)
        fix.satellites = UInt8(clamping: integer("satellites_used") ?? 255)
        fix.velocityNorth = Float(number("vel_n_m_s") ?? .nan)
        fix.velocityEast = Float(number("vel_e_m_s") ?? .nan)
        fix.velocityDown = Float(number("vel_d_m_s") ?? .nan)
        if let course = number("cog_rad") { fix.headingDegrees = Float(course * 180 / .pi) }
        return fix
    }

    static func globalPosition(_ payload: UnsafeRawBufferPointer, fields: [Substring: ULogField], timestamp: UInt64) -> LogFix {
        func number(_ name: Substring) -> Double? { fields[name]?.number(in: payload) }
        var position = LogFix(
            bootMicroseconds: timestamp, utcMicroseconds: nil, latitudeE7: e7(number("lat")), longitudeE7: e7(number("lon")),
            altitudeMM: millimetres(number("alt")))
        position.velocityNorth = Float(number("vel_n") ?? .nan)
        position.velocityEast = Float(number("vel_e") ?? .nan)
        position.velocityDown = Float(number("vel_d") ?? .nan)
        if let yaw = number("yaw") { position.headingDegrees = Float(yaw * 180 / .pi) }
        return position
    }

    static func battery(_ payload: UnsafeRawBufferPointer, fields: [Substring: ULogField], timestamp: UInt64) -> LogBattery {
        func number(_ name: Substring) -> Double? { fields[name]?.number(in: payload) }
        let volts = number("voltage_v") ?? number("voltage_filtered_v") ?? .nan
        let remaining = number("remaining").flatMap { $0.isFinite && $0 >= 0 && $0 <= 1 ? Int(($0 * 100).rounded()) : nil }
        return LogBattery(bootMicroseconds: timestamp, volts: Float(volts), amperes: Float(number("current_a") ?? .nan), remainingPercent: remaining)
    }

    /// Degrees as 1e-7 degrees; 0 when not a number or beyond what an Int32 holds (±214.7°,
    /// past any latitude or longitude). (The fuzzer found the trap when this allowed ±360°.)
    static func e7(_ degrees: Double?) -> Int32 {
        guard let degrees, degrees.isFinite, abs(degrees) <= 214 else { return 0 }
        return Int32((degrees * 1e7).rounded())
    }

    static func millimetres(_ metres: Double?) -> Int32 {
        guard let metres, metres.isFinite, abs(metres) < 2e6 else { return 0 }
        return Int32((metres * 1_000).rounded())
    }

    /// Adds the walk's counts to `contents`.
    func fill(_ contents: inout LogContents) {
        // Topics with data only (a subscription may log nothing), as pyulog lists them.
        for (subscription, count) in zip(subscriptions, dataCounts) where count > 0 {
            contents.messageCounts["\(subscription.topic)[\(subscription.multiID)]", default: 0] += count
        }
        var vehicle = info["sys_name"] ?? "ULog"
        if let release = info["ver_sw_release"].flatMap(UInt32.init) ?? info["ver_sw_release"].flatMap(Int64.init).map({ UInt32(truncatingIfNeeded: $0) }), release != 0 {
            vehicle += " v\(release >> 24 & 0xFF).\(release >> 16 & 0xFF).\(release >> 8 & 0xFF)"
        }
        if let hardware = info["ver_hw"] { vehicle += " " + hardware }
        contents.vehicle = vehicle
        contents.parameters = parameters
        contents.textMessages = textMessages
        contents.dropouts = dropouts
        contents.dropoutMilliseconds = dropoutMilliseconds
        if bootFirst <= bootLast {
            // The log starts at the header's time; topics may carry older samples (a mission
            // loaded before logging began), which do not move the start.
            contents.bootFirstMicroseconds = headerMicroseconds > 0 && headerMicroseconds <= bootLast ? headerMicroseconds : bootFirst
            contents.bootLastMicroseconds = bootLast
        }
    }
}

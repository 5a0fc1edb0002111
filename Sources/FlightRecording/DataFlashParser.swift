#if canImport(Glibc)
import Glibc
#endif

/// What the first pass over a log learns.
struct DataFlashSurvey {
    var systemID: UInt8?
    var vehicleType: UInt8?
    var firstOffsetMicroseconds: Int64?
}

enum DataFlashEvent {
    case parameter(name: String, value: Double)
    case text(String)
    case fix(LogFix)
    case battery(LogBattery)
}

/// The DataFlash walk: frames records by their FMT lengths, keeps the formats, counts types and
/// turns GPS, BAT/CURR, PARM and MSG records into events.
struct DataFlashParser {
    enum Role { case gps, battery, parameter, text, units, other }

    struct Column {
        var name: Substring
        var offset: Int
        var code: UInt8

        var field: Field { Field(offset: offset, code: code) }
    }

    /// Where a field is in a record and how it is stored: plain values, cheap to copy.
    struct Field {
        var offset: Int
        var code: UInt8
    }

    struct Format {
        var name: String
        var length: Int
        var columns: [Column]
        var role: Role
        /// Index into `columns` of the instance field, if any.
        var instanceColumn: Int?
        /// The boot time field (`TimeUS`, µs, or `TimeMS`, ms), looked up once.
        var timeColumn: Column?
        var timeIsMilliseconds = false
        /// The columns a GPS or battery record is read by, looked up once (not by name per record).
        var fixColumns = FixColumns()
        var batteryColumns = BatteryColumns()

        func column(_ names: Substring...) -> Column? {
            for name in names { if let found = columns.first(where: { $0.name == name }) { return found } }
            return nil
        }
    }

    struct FixColumns {
        var timeUS, bootMS, timeMS, week, weekNew, weekMS, lat, lng, alt, status, satellites, speed, course, climb: Field?
        /// Old GPS records: TimeMS is the GPS ms of the week beside Week, and T the boot ms.
        var hasOldTime = false

        init(_ format: Format? = nil) {
            timeUS = format?.column("TimeUS")?.field
            bootMS = format?.column("T")?.field
            timeMS = format?.column("TimeMS")?.field
            week = format?.column("Week")?.field
            weekNew = format?.column("GWk")?.field
            weekMS = format?.column("GMS")?.field
            lat = format?.column("Lat")?.field
            lng = format?.column("Lng")?.field
            alt = format?.column("Alt")?.field
            status = format?.column("Status")?.field
            satellites = format?.column("NSats")?.field
            speed = format?.column("Spd")?.field
            course = format?.column("GCrs")?.field
            climb = format?.column("VZ")?.field
            hasOldTime = week != nil
        }
    }

    struct BatteryColumns {
        var volts, amperes, remaining: Field?

        init(_ format: Format? = nil) {
            volts = format?.column("Volt")?.field
            amperes = format?.column("Curr")?.field
            remaining = format?.column("RemPct")?.field
        }
    }

    /// What every record of a type needs, in plain values (no reference counting on the walk's
    /// hot path): its length (0 = undefined type), role and boot-time field (code 0 = none).
    struct Route {
        var length = 0
        var role = Role.other
        /// Code 0: none.
        var time = Field(offset: 0, code: 0)
        var timeScale: UInt64 = 1

        init() {}

        init(_ format: Format) {
            length = format.length
            role = format.role
            if let column = format.timeColumn {
                time = column.field
                timeScale = format.timeIsMilliseconds ? 1_000 : 1
            }
        }
    }

    /// Gives back the file's pages as the walk passes them.
    var pages = PageRelease.none
    var formats = [Format?](repeating: nil, count: 256)
    var routes = [Route](repeating: Route(), count: 256)
    /// Records per type, and those of types later redefined under another name.
    var counts = [Int](repeating: 0, count: 256)
    var retiredCounts: [String: Int] = [:]
    var parameters = 0
    var textMessages = 0
    var vehicle = ""
    var bootFirst: UInt64 = .max
    var bootLast: UInt64 = 0
    /// Types whose records were found before their FMT (counted once each).
    var undefinedTypes = Set<UInt8>()

    /// Bytes of one field by its format character, nil for an unknown character.
    static func size(of code: UInt8) -> Int? {
        switch code {
        case UInt8(ascii: "b"), UInt8(ascii: "B"), UInt8(ascii: "M"): 1
        case UInt8(ascii: "h"), UInt8(ascii: "H"), UInt8(ascii: "c"), UInt8(ascii: "C"), UInt8(ascii: "g"): 2
        case UInt8(ascii: "i"), UInt8(ascii: "I"), UInt8(ascii: "f"), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "L"), UInt8(ascii: "n"): 4
        case UInt8(ascii: "d"), UInt8(ascii: "q"), UInt8(ascii: "Q"): 8
        case UInt8(ascii: "N"): 16
        case UInt8(ascii: "a"), UInt8(ascii: "Z"): 64
        default: nil
        }
    }

    /// A field's value as a number, with the format's own scaling (`c`, `C`, `e`, `E`: hundredths;
    /// `L`: 1e-7 degrees). MULT multipliers are not applied: the format characters already give
    /// the units the log viewers use.
    @inline(__always)
    static func number(_ record: UnsafeRawBufferPointer, _ column: Column) -> Double? { number(record, column.field) }

    static func number(_ record: UnsafeRawBufferPointer, _ field: Field) -> Double? {
        let o = field.offset
        switch field.code {
        case UInt8(ascii: "b"): return Double(Int8(bitPattern: record[o]))
        case UInt8(ascii: "B"), UInt8(ascii: "M"): return Double(record[o])
        case UInt8(ascii: "h"): return Double(record.littleEndian(at: o, as: Int16.self))
        case UInt8(ascii: "H"): return Double(record.littleEndian(at: o, as: UInt16.self))
        case UInt8(ascii: "c"): return Double(record.littleEndian(at: o, as: Int16.self)) / 100
        case UInt8(ascii: "C"): return Double(record.littleEndian(at: o, as: UInt16.self)) / 100
        case UInt8(ascii: "g"): return Double(Float(Float16(bitPattern: record.littleEndian(at: o, as: UInt16.self))))
        case UInt8(ascii: "i"): return Double(record.littleEndian(at: o, as: Int32.self))
        case UInt8(ascii: "I"): return Double(record.littleEndian(at: o, as: UInt32.self))
        case UInt8(ascii: "e"): return Double(record.littleEndian(at: o, as: Int32.self)) / 100
        case UInt8(ascii: "E"): return Double(record.littleEndian(at: o, as: UInt32.self)) / 100
        case UInt8(ascii: "L"): return Double(record.littleEndian(at: o, as: Int32.self)) / 1e7
        case UInt8(ascii: "f"): return Double(Float(bitPattern: record.littleEndian(at: o, as: UInt32.self)))
        case UInt8(ascii: "d"): return Double(bitPattern: record.littleEndian(at: o, as: UInt64.self))
        case UInt8(ascii: "q"): return Double(record.littleEndian(at: o, as: Int64.self))
        case UInt8(ascii: "Q"): return Double(record.littleEndian(at: o, as: UInt64.self))
        default: return nil
        }
    }

    /// Integer fields exactly (times in µs do not all fit a Double).
    @inline(__always)
    static func integer(_ record: UnsafeRawBufferPointer, _ column: Column) -> Int64? { integer(record, column.field) }

    static func integer(_ record: UnsafeRawBufferPointer, _ field: Field) -> Int64? {
        let o = field.offset
        switch field.code {
        case UInt8(ascii: "b"): return Int64(Int8(bitPattern: record[o]))
        case UInt8(ascii: "B"), UInt8(ascii: "M"): return Int64(record[o])
        case UInt8(ascii: "h"): return Int64(record.littleEndian(at: o, as: Int16.self))
        case UInt8(ascii: "H"): return Int64(record.littleEndian(at: o, as: UInt16.self))
        case UInt8(ascii: "i"), UInt8(ascii: "L"): return Int64(record.littleEndian(at: o, as: Int32.self))
        case UInt8(ascii: "I"): return Int64(record.littleEndian(at: o, as: UInt32.self))
        case UInt8(ascii: "q"): return record.littleEndian(at: o, as: Int64.self)
        case UInt8(ascii: "Q"): return Int64(bitPattern: record.littleEndian(at: o, as: UInt64.self))
        default: return number(record, field).map { Int64($0.isFinite && abs($0) < 9e18 ? $0.rounded() : 0) }
        }
    }

    static func text(_ record: UnsafeRawBufferPointer, _ column: Column) -> String {
        let size = Self.size(of: column.code) ?? 0
        return String(decoding: UnsafeRawBufferPointer(rebasing: record[column.offset..<(column.offset + size)]).prefix { $0 != 0 }, as: UTF8.self)
    }

    /// MAV_TYPE from a firmware banner (`ArduCopter V3.5.0`, `ArduSub V4.1.0`).
    static func vehicleType(firmware text: String) -> UInt8? {
        if text.hasPrefix("ArduCopter") { return 2 }
        if text.hasPrefix("ArduPlane") { return 1 }
        if text.hasPrefix("ArduSub") { return 12 }
        if text.hasPrefix("ArduRover") || text.hasPrefix("Rover") { return 10 }
        if text.hasPrefix("ArduHeli") { return 4 }
        if text.hasPrefix("Blimp") { return 7 }
        return nil
    }

    /// Whether a whole record of a defined type starts at `offset`.
    func recordLength(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Int? {
        guard offset + 3 <= bytes.count, bytes[offset] == DataFlashReader.head0, bytes[offset + 1] == DataFlashReader.head1,
            case let length = routes[Int(bytes[offset + 2])].length, length > 0
        else { return nil }
        return length
    }

    mutating func parse(_ bytes: UnsafeRawBufferPointer, report: inout ReadReport, onEvent: (DataFlashEvent) -> Bool) {
        // FMT defines itself; the first record (checked by `looksLikeDataFlash`) says so, but a
        // file cut or damaged there still gets FMT's fixed layout.
        let formatOfFormats = Self.makeFormat(
            name: "FMT", length: DataFlashReader.formatLength, codes: Array("BBnNZ".utf8), names: "Type,Length,Name,Format,Columns")!
        formats[Int(DataFlashReader.formatType)] = formatOfFormats
        routes[Int(DataFlashReader.formatType)] = Route(formatOfFormats)
        var offset = 0
        // Bounded: each pass advances `offset` by at least one byte or ends.
        while offset < bytes.count {
            pages.passed(offset)
            let remaining = bytes.count - offset
            if let length = recordLength(bytes, at: offset) {
                guard length <= remaining else {
                    report.trailingBytes = remaining
                    report.skip("cut record", at: offset)
                    return
                }
                let record = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
                if !handle(record, at: offset, report: &report, onEvent: onEvent) { return }
                offset += length
                continue
            }
            if remaining < 3 && bytes[offset] == DataFlashReader.head0 && (remaining == 1 || bytes[offset + 1] == DataFlashReader.head1) {
                report.trailingBytes = remaining
                report.skip("cut record", at: offset)
                return
            }
            if remaining >= 3 && bytes[offset] == DataFlashReader.head0 && bytes[offset + 1] == DataFlashReader.head1
                && undefinedTypes.insert(bytes[offset + 2]).inserted
            {
                report.note("records of type \(bytes[offset + 2]) before (or without) its FMT")
            }
            let next = nextRecord(bytes, after: offset)
            report.skipGarbage(at: offset, resumingAt: next, end: bytes.count)
            guard let next else { return }
            offset = next
        }
    }

    /// The next offset after `offset` where a record starts that is followed by another, by a
    /// cut record, or by the end.
    func nextRecord(_ bytes: UnsafeRawBufferPointer, after offset: Int) -> Int? {
        var candidate = offset + 1
        while candidate + 3 <= bytes.count {
            if bytes[candidate] == DataFlashReader.head0, let length = recordLength(bytes, at: candidate) {
                let following = candidate + length
                if following >= bytes.count - 2 || recordLength(bytes, at: following) != nil { return candidate }
            }
            candidate += 1
        }
        return nil
    }

    static func makeFormat(name: String, length: Int, codes: [UInt8], names: Substring) -> Format? {
        let columnNames = names.split(separator: ",", omittingEmptySubsequences: false)
        guard columnNames.count == codes.count || codes.isEmpty && names.isEmpty else { return nil }
        var columns: [Column] = []
        var offset = 3
        for (code, columnName) in zip(codes, columnNames) {
            guard let size = size(of: code) else { return nil }
            columns.append(Column(name: columnName, offset: offset, code: code))
            offset += size
        }
        guard offset == length else { return nil }
        let role: Role =
            switch name {
            case "GPS": .gps
            case "BAT", "CURR": .battery
            case "PARM": .parameter
            case "MSG": .text
            case "FMTU": .units
            default: .other
            }
        var format = Format(name: name, length: length, columns: columns, role: role)
        if let time = format.column("TimeUS") {
            format.timeColumn = time
        } else if name != "GPS", let time = format.column("TimeMS") {
            // (Old GPS records' TimeMS is the GPS time of week, not the boot clock.)
            format.timeColumn = time
            format.timeIsMilliseconds = true
        }
        format.instanceColumn = columns.firstIndex { $0.name == "I" || $0.name == "Instance" || $0.name == "Inst" }
        if role == .gps { format.fixColumns = FixColumns(format) }
        if role == .battery { format.batteryColumns = BatteryColumns(format) }
        return format
    }

    mutating func handle(_ record: UnsafeRawBufferPointer, at offset: Int, report: inout ReadReport, onEvent: (DataFlashEvent) -> Bool) -> Bool {
        let type = Int(record[2])
        counts[type] += 1
        let route = routes[type]
        if route.time.code != 0 {
            let value = Self.integer(record, route.time) ?? 0
            if value > 0 {
                let time = UInt64(value) &* route.timeScale
                bootFirst = min(bootFirst, time)
                bootLast = max(bootLast, time)
            }
        }
        // Most records are of types nothing is read from: counted, timed, done.
        if route.role == .other && type != Int(DataFlashReader.formatType) { return true }
        let format = formats[type]!
        if type == Int(DataFlashReader.formatType) {
            let defined = Int(record[3])
            let length = Int(record[4])
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: record[5..<9]).prefix { $0 != 0 }, as: UTF8.self)
            let codes = Array(UnsafeRawBufferPointer(rebasing: record[9..<25]).prefix { $0 != 0 })
            let names = String(decoding: UnsafeRawBufferPointer(rebasing: record[25..<89]).prefix { $0 != 0 }, as: UTF8.self)
            // FMT's own definition is fixed; a log that redefines it differently is damaged.
            guard defined != Int(DataFlashReader.formatType) || length == DataFlashReader.formatLength else {
                report.recordsDamaged += 1
                report.skip("bad format definition", at: offset)
                return true
            }
            guard length >= 3, !name.isEmpty, let made = Self.makeFormat(name: name, length: length, codes: codes, names: names[...]) else {
                report.recordsDamaged += 1
                report.skip("bad format definition", at: offset)
                return true
            }
            if defined == Int(DataFlashReader.formatType) { return true }
            var new = made
            if let old = formats[defined] {
                if old.name == made.name {
                    // A repeated definition (logs restart their FMT list) keeps FMTU's instance.
                    if new.instanceColumn == nil { new.instanceColumn = old.instanceColumn }
                } else if counts[defined] > 0 {
                    // Redefined under another name: the old name keeps its count.
                    retiredCounts[old.name, default: 0] += counts[defined]
                    counts[defined] = 0
                }
            }
            formats[defined] = new
            routes[defined] = Route(new)
            return true
        }
        switch format.role {
        case .other:
            return true
        case .units:
            // FMTU: the unit ids of a type's fields; `#` marks its instance field.
            guard let typeColumn = format.column("FmtType"), let unitsColumn = format.column("UnitIds"),
                let described = Self.integer(record, typeColumn), described >= 0, described < 256, formats[Int(described)] != nil
            else { return true }
            let units = Array(Self.text(record, unitsColumn).utf8)
            if let index = units.firstIndex(of: UInt8(ascii: "#")), index < formats[Int(described)]!.columns.count {
                formats[Int(described)]!.instanceColumn = index
            }
            return true
        case .parameter:
            guard let nameColumn = format.column("Name"), let valueColumn = format.column("Value"), let value = Self.number(record, valueColumn)
            else { return true }
            parameters += 1
            return onEvent(.parameter(name: Self.text(record, nameColumn), value: value))
        case .text:
            guard let column = format.column("Message") else { return true }
            textMessages += 1
            let text = Self.text(record, column)
            if vehicle.isEmpty && Self.vehicleType(firmware: text) != nil { vehicle = text }
            return onEvent(.text(text))
        case .gps:
            if let column = format.instanceColumn, Self.integer(record, format.columns[column]) != 0 { return true }
            return onEvent(.fix(Self.fix(record, format)))
        case .battery:
            if let column = format.instanceColumn, Self.integer(record, format.columns[column]) != 0 { return true }
            let time = format.timeColumn.flatMap { Self.integer(record, $0) } ?? 0
            let boot = UInt64(max(0, time)) &* (format.timeIsMilliseconds ? 1_000 : 1)
            let columns = format.batteryColumns
            let volts = columns.volts.flatMap { Self.number(record, $0) } ?? .nan
            let amperes = columns.amperes.flatMap { Self.number(record, $0) } ?? .nan
            let remaining = columns.remaining.flatMap { Self.integer(record, $0) }.flatMap { $0 >= 0 && $0 <= 100 ? Int($0) : nil }
            return onEvent(.battery(LogBattery(bootMicroseconds: boot, volts: Float(volts), amperes: Float(amperes), remainingPercent: remaining)))
        }
    }

    static func fix(_ record: UnsafeRawBufferPointer, _ format: Format) -> LogFix {
        let columns = format.fixColumns
        // (Fixed arities, not variadics: a variadic call allocates its array.)
        func number(_ field: Field?) -> Double? { field.flatMap { Self.number(record, $0) } }
        func integer(_ field: Field?) -> Int64? { field.flatMap { Self.integer(record, $0) } }
        func integer(_ first: Field?, _ second: Field?) -> Int64? { integer(first) ?? integer(second) }
        // Newer logs: TimeUS (boot), GMS and GWk (GPS time). Older: TimeMS is the GPS ms of the
        // week beside Week, and T the boot ms.
        let hasOldTime = columns.hasOldTime
        // ms to µs without trapping on a damaged value (the fuzzer found one): out of range is 0.
        func microseconds(_ milliseconds: Int64) -> Int64 {
            let (value, overflow) = milliseconds.multipliedReportingOverflow(by: 1_000)
            return overflow ? 0 : value
        }
        let boot: Int64 =
            integer(columns.timeUS) ?? (integer(columns.bootMS).map(microseconds) ?? (hasOldTime ? 0 : microseconds(integer(columns.timeMS) ?? 0)))
        let week = integer(columns.weekNew, columns.week) ?? 0
        let milliseconds = hasOldTime ? integer(columns.timeMS) ?? 0 : integer(columns.weekMS) ?? 0
        func e7(_ field: Field?) -> Int32 {
            guard let field else { return 0 }
            switch field.code {
            case UInt8(ascii: "L"), UInt8(ascii: "i"): return Int32(truncatingIfNeeded: integer(field) ?? 0)
            default: return ULogParser.e7(Self.number(record, field))
            }
        }
        var fix = LogFix(
            bootMicroseconds: UInt64(max(0, boot)), utcMicroseconds: GPSTime.utcMicroseconds(week: week, milliseconds: milliseconds),
            latitudeE7: e7(columns.lat), longitudeE7: e7(columns.lng), altitudeMM: ULogParser.millimetres(number(columns.alt)))
        fix.fixType = UInt8(clamping: integer(columns.status) ?? 0)
        fix.satellites = UInt8(clamping: integer(columns.satellites) ?? 255)
        let speed = number(columns.speed) ?? .nan
        let course = number(columns.course) ?? .nan
        if speed.isFinite && course.isFinite {
            fix.velocityNorth = Float(speed * cos(course * .pi / 180))
            fix.velocityEast = Float(speed * sin(course * .pi / 180))
            fix.headingDegrees = Float(course)
        }
        fix.velocityDown = Float(number(columns.climb) ?? .nan)
        return fix
    }

    func fill(_ contents: inout LogContents) {
        for (format, count) in zip(formats, counts) where count > 0 {
            if let format { contents.messageCounts[format.name, default: 0] += count }
        }
        for (name, count) in retiredCounts { contents.messageCounts[name, default: 0] += count }
        contents.vehicle = vehicle.isEmpty ? "ArduPilot" : vehicle
        contents.parameters = parameters
        contents.textMessages = textMessages
        if bootFirst <= bootLast {
            contents.bootFirstMicroseconds = bootFirst
            contents.bootLastMicroseconds = bootLast
        }
    }
}

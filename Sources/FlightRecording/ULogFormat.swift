import Telemetry

/// ULog's message formats (the `F` definitions): `name:type field;type[n] field;...`, where a type
/// is a primitive (`int8_t` … `uint64_t`, `float`, `double`, `bool`, `char`) or another format's
/// name. Fields are packed in the order written, without alignment, so each field's offset is
/// the sum of the sizes before it. Format of the file: PX4's "ULog File Format" page
/// (docs.px4.io, "Definitions section").
enum ULogPrimitive: UInt8 {
    case int8, uint8, int16, uint16, int32, uint32, int64, uint64, float, double, bool, char

    init?(name: Substring) {
        switch name {
        case "int8_t": self = .int8
        case "uint8_t": self = .uint8
        case "int16_t": self = .int16
        case "uint16_t": self = .uint16
        case "int32_t": self = .int32
        case "uint32_t": self = .uint32
        case "int64_t": self = .int64
        case "uint64_t": self = .uint64
        case "float": self = .float
        case "double": self = .double
        case "bool": self = .bool
        case "char": self = .char
        default: return nil
        }
    }

    var size: Int {
        switch self {
        case .int8, .uint8, .bool, .char: 1
        case .int16, .uint16: 2
        case .int32, .uint32, .float: 4
        case .int64, .uint64, .double: 8
        }
    }

    /// The value at `offset` of `bytes` as a Double (the caller checked the bounds).
    func number(in bytes: UnsafeRawBufferPointer, at offset: Int) -> Double {
        switch self {
        case .int8: Double(Int8(bitPattern: bytes[offset]))
        case .uint8, .bool, .char: Double(bytes[offset])
        case .int16: Double(bytes.littleEndian(at: offset, as: Int16.self))
        case .uint16: Double(bytes.littleEndian(at: offset, as: UInt16.self))
        case .int32: Double(bytes.littleEndian(at: offset, as: Int32.self))
        case .uint32: Double(bytes.littleEndian(at: offset, as: UInt32.self))
        case .int64: Double(bytes.littleEndian(at: offset, as: Int64.self))
        case .uint64: Double(bytes.littleEndian(at: offset, as: UInt64.self))
        case .float: Double(Float(bitPattern: bytes.littleEndian(at: offset, as: UInt32.self)))
        case .double: Double(bitPattern: bytes.littleEndian(at: offset, as: UInt64.self))
        }
    }

    /// Integer fields exactly (64-bit values do not fit a Double's mantissa).
    func integer(in bytes: UnsafeRawBufferPointer, at offset: Int) -> Int64? {
        switch self {
        case .int8: Int64(Int8(bitPattern: bytes[offset]))
        case .uint8, .bool, .char: Int64(bytes[offset])
        case .int16: Int64(bytes.littleEndian(at: offset, as: Int16.self))
        case .uint16: Int64(bytes.littleEndian(at: offset, as: UInt16.self))
        case .int32: Int64(bytes.littleEndian(at: offset, as: Int32.self))
        case .uint32: Int64(bytes.littleEndian(at: offset, as: UInt32.self))
        case .int64: bytes.littleEndian(at: offset, as: Int64.self)
        case .uint64: Int64(bitPattern: bytes.littleEndian(at: offset, as: UInt64.self))
        case .float, .double: nil
        }
    }
}

/// One top-level field of a format: where it is and, for primitives, how to read it.
struct ULogField {
    var name: Substring
    var offset: Int
    var size: Int
    /// nil for a nested format.
    var primitive: ULogPrimitive?
    var count: Int

    func number(in payload: UnsafeRawBufferPointer) -> Double? {
        guard let primitive, count == 1, offset + size <= payload.count else { return nil }
        return primitive.number(in: payload, at: offset)
    }

    func integer(in payload: UnsafeRawBufferPointer) -> Int64? {
        guard let primitive, count == 1, offset + size <= payload.count else { return nil }
        return primitive.integer(in: payload, at: offset)
    }
}

/// The formats a log defines, by name, with their sizes worked out on demand.
struct ULogFormats {
    /// Field list text (after the colon) by format name.
    private var texts: [Substring: Substring] = [:]
    private var resolved: [Substring: (fields: [ULogField], size: Int)] = [:]

    var count: Int { texts.count }

    /// Adds one `F` message's text; false when it is malformed.
    mutating func add(_ definition: Substring) -> Bool {
        guard let colon = definition.firstIndex(of: ":") else { return false }
        let name = definition[..<colon]
        guard !name.isEmpty, texts.count < Limits.Recording.logSubscriptionsMax else { return false }
        texts[name] = definition[definition.index(after: colon)...]
        resolved[name] = nil
        return true
    }

    /// The fields and size of `name`, or nil when it (or a format inside it) is undefined or
    /// malformed, or nests deeper than `logFormatDepthMax` (a cycle).
    mutating func fields(of name: Substring, depth: Int = 0) -> (fields: [ULogField], size: Int)? {
        if let known = resolved[name] { return known }
        guard depth < Limits.Recording.logFormatDepthMax, let text = texts[name] else { return nil }
        var list: [ULogField] = []
        var offset = 0
        for item in text.split(separator: ";", omittingEmptySubsequences: true) {
            let parts = item.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2 else { return nil }
            var typeName = parts[0]
            var count = 1
            if let open = typeName.firstIndex(of: "[") {
                guard typeName.last == "]", let n = Int(typeName[typeName.index(after: open)..<typeName.index(before: typeName.endIndex)]),
                    n >= 0, n <= 65_535
                else { return nil }
                count = n
                typeName = typeName[..<open]
            }
            let primitive = ULogPrimitive(name: typeName)
            let elementSize: Int
            if let primitive {
                elementSize = primitive.size
            } else {
                guard let nested = fields(of: typeName, depth: depth + 1) else { return nil }
                elementSize = nested.size
            }
            let size = elementSize * count
            list.append(ULogField(name: parts[1], offset: offset, size: size, primitive: primitive, count: count))
            offset += size
            guard offset <= 65_535 else { return nil }
        }
        resolved[name] = (list, offset)
        return (list, offset)
    }
}

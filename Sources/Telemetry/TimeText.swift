
/// Parses the times users type for --from/--until and `from=`/`until=`: ISO 8601 UTC
/// (`2026-01-01T12:00:00Z`, optional fraction, `Z` or `+00:00`; a date alone means midnight) or
/// a plain integer of microseconds since the Unix epoch. Returns µs, or nil when not understood.
public enum TimeText {
    public static func microseconds(from text: String) -> UInt64? {
        if let value = UInt64(text) { return value }
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int64? {
            guard range.upperBound <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[range] {
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int64(byte - 48)
            }
            return value
        }
        guard bytes.count >= 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            (1...12).contains(month), (1...31).contains(day), year >= 1970
        else { return nil }
        var hour: Int64 = 0, minute: Int64 = 0, second: Int64 = 0, micros: Int64 = 0
        var index = 10
        if bytes.count > 10 {
            guard bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "), bytes.count >= 19,
                bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
                let h = number(11..<13), let m = number(14..<16), let s = number(17..<19), h < 24, m < 60, s < 61
            else { return nil }
            hour = h
            minute = m
            second = s
            index = 19
            if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
                index += 1
                var digits = 0
                while index < bytes.count, bytes[index] >= 48 && bytes[index] <= 57 {
                    if digits < 6 { micros = micros * 10 + Int64(bytes[index] - 48) }
                    digits += 1
                    index += 1
                }
                guard digits > 0 else { return nil }
                for _ in digits..<max(digits, 6) { micros *= 10 }
            }
            let zone = String(decoding: bytes[index...], as: UTF8.self)
            guard zone == "Z" || zone == "+00:00" || zone.isEmpty else { return nil }
        }
        let seconds = CivilTime(
            year: Int(year), month: Int(month), day: Int(day), hour: Int(hour), minute: Int(minute), second: Int(second)
        ).secondsSinceEpoch
        return UInt64(seconds) * 1_000_000 + UInt64(micros)
    }
}

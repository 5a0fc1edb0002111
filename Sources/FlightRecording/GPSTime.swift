/// GPS time to UTC for the autopilot logs' clocks. GPS time started at 1980-01-06 00:00:00 UTC
/// and counts no leap seconds; UTC has inserted one now and then since, so
/// UTC = GPS − (leap seconds inserted before that moment). The table is the IERS list
/// (Bulletin C) from 1981 to the last insertion, 2016-12-31; none has been announced since, so
/// any later time uses 18 s. A future insertion needs one more row here.
public enum GPSTime {
    /// Unix time of the GPS epoch, 1980-01-06 00:00:00 UTC, in seconds.
    public static let epochUnixSeconds: Int64 = 315_964_800
    public static let secondsPerWeek: Int64 = 604_800

    /// (Unix time in seconds from which the offset applies, GPS − UTC in seconds).
    static let leapSeconds: [(unixSeconds: Int64, offset: Int64)] = [
        (362_793_600, 1),  // 1981-07-01
        (394_329_600, 2),  // 1982-07-01
        (425_865_600, 3),  // 1983-07-01
        (489_024_000, 4),  // 1985-07-01
        (567_993_600, 5),  // 1988-01-01
        (631_152_000, 6),  // 1990-01-01
        (662_688_000, 7),  // 1991-01-01
        (709_948_800, 8),  // 1992-07-01
        (741_484_800, 9),  // 1993-07-01
        (773_020_800, 10),  // 1994-07-01
        (820_454_400, 11),  // 1996-01-01
        (867_715_200, 12),  // 1997-07-01
        (915_148_800, 13),  // 1999-01-01
        (1_136_073_600, 14),  // 2006-01-01
        (1_230_768_000, 15),  // 2009-01-01
        (1_341_100_800, 16),  // 2012-07-01
        (1_435_708_800, 17),  // 2015-07-01
        (1_483_228_800, 18),  // 2017-01-01
    ]

    /// GPS − UTC in seconds at a GPS time given as seconds since the Unix epoch on the GPS scale.
    public static func leapSeconds(gpsUnixSeconds: Int64) -> Int64 {
        var offset: Int64 = 0
        // The GPS scale runs ahead of UTC by the offset, so an insertion at UTC instant T is in
        // force from GPS instant T + new offset.
        for entry in leapSeconds where gpsUnixSeconds >= entry.unixSeconds + entry.offset { offset = entry.offset }
        return offset
    }

    /// UTC in µs since the Unix epoch for a GPS week and millisecond of the week, or nil when the
    /// week is 0 (no time from the receiver yet) or the values are out of range.
    public static func utcMicroseconds(week: Int64, milliseconds: Int64) -> UInt64? {
        guard week > 0 && week < 10_000 && milliseconds >= 0 && milliseconds < secondsPerWeek * 1_000 else { return nil }
        let gpsMilliseconds = (epochUnixSeconds + week * secondsPerWeek) * 1_000 + milliseconds
        let leap = leapSeconds(gpsUnixSeconds: gpsMilliseconds / 1_000)
        return UInt64((gpsMilliseconds - leap * 1_000) * 1_000)
    }
}

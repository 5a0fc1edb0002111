import Telemetry
import Testing

/// The one civil-date algorithm: known dates both ways (leap days, century rules, before 1970),
/// and a round trip over every day from 1900 to 2200, so recording names, exports and time
/// options agree.
@Suite struct CivilTimeTests {
    @Test(arguments: [
        (Int64(0), CivilTime(year: 1970, month: 1, day: 1)),
        (Int64(951_782_400 + 3_723), CivilTime(year: 2000, month: 2, day: 29, hour: 1, minute: 2, second: 3)),
        (Int64(1_767_225_600), CivilTime(year: 2026, month: 1, day: 1)),
        (Int64(4_107_542_399), CivilTime(year: 2100, month: 2, day: 28, hour: 23, minute: 59, second: 59)),
        (Int64(-1), CivilTime(year: 1969, month: 12, day: 31, hour: 23, minute: 59, second: 59)),
        (Int64(-2_208_988_800), CivilTime(year: 1900, month: 1, day: 1)),
    ])
    func knownDates(seconds: Int64, civil: CivilTime) {
        #expect(CivilTime(secondsSinceEpoch: seconds) == civil)
        #expect(civil.secondsSinceEpoch == seconds)
    }

    @Test func everyDayRoundTrips() {
        var previous: CivilTime?
        for day in Int64(-25_567)...Int64(84_006) {
            let seconds = day * 86_400 + 43_210
            let civil = CivilTime(secondsSinceEpoch: seconds)
            #expect(civil.secondsSinceEpoch == seconds)
            if let previous, previous.day + 1 != civil.day {
                // A month boundary: the day restarts at 1 in the next month (or year).
                #expect(civil.day == 1)
                #expect(civil.month == previous.month % 12 + 1)
            }
            previous = civil
        }
    }

    @Test func padding() {
        #expect(CivilTime.padded(7, width: 2) == "07")
        #expect(CivilTime.padded(2026, width: 4) == "2026")
        #expect(CivilTime.padded(123_456, width: 3) == "123456")
    }
}

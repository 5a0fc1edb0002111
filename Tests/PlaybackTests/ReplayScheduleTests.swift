import Playback
import SkygateTestSupport
import Testing

/// `ReplaySchedule` is pure arithmetic: when each recorded datagram is due on the wall clock for
/// a speed factor, so `replay --to` pacing is tested without sockets or sleeping.
@Suite struct ReplayScheduleTests {
    @Test("The schedule scales recorded time by 1/speed from the first datagram, and re-anchors")
    func schedule() {
        var schedule = ReplaySchedule(speed: 10)
        #expect(schedule.dueWall(recorded: 5_000_000_000, nowWall: 100) == 100)
        #expect(schedule.dueWall(recorded: 35_000_000_000, nowWall: 999) == 100 + 3_000_000_000)
        #expect(schedule.dueWall(recorded: 4_000_000_000, nowWall: 999) == 100, "a step back in the recording is due at once")
        schedule.reanchor()
        #expect(schedule.dueWall(recorded: 90_000_000_000, nowWall: 7_000) == 7_000)
        #expect(schedule.dueWall(recorded: 91_000_000_000, nowWall: 7_000) == 7_000 + 100_000_000)
        var realTime = ReplaySchedule(speed: 1)
        _ = realTime.dueWall(recorded: 0, nowWall: 0)
        #expect(realTime.dueWall(recorded: 60_000_000_000, nowWall: 0) == 60_000_000_000)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The two clocks every stage reads, written once. Receive timestamps, commit latencies and
/// sample times are wall-clock nanoseconds (`CLOCK_REALTIME`, comparable with the drones' own
/// clocks); pacing, ages and intervals use the monotonic clock, which never steps.
public enum SystemClock {
    /// Nanoseconds since the Unix epoch (`CLOCK_REALTIME`).
    @inlinable
    public static func realtimeNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }

    /// Microseconds since the Unix epoch.
    @inlinable
    public static func realtimeMicroseconds() -> UInt64 { realtimeNanoseconds() / 1_000 }

    /// Nanoseconds on `CLOCK_MONOTONIC`.
    @inlinable
    public static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }

    /// Sleeps until `target` on the monotonic clock (absolute), resuming after signals unless
    /// `shouldStop` says otherwise. Bounded: `EINTR` only repeats the wait for the same deadline.
    public static func sleep(untilMonotonicNanoseconds target: UInt64, shouldStop: () -> Bool = { false }) {
        var deadline = timespec(tv_sec: Int(target / 1_000_000_000), tv_nsec: Int(target % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nil) == EINTR {
            if shouldStop() { return }
        }
    }

    /// Sleeps the calling thread for `duration` (dedicated threads only, never a Swift task).
    public static func sleep(for duration: Duration) {
        sleep(untilMonotonicNanoseconds: monotonicNanoseconds() &+ duration.nanosecondsClamped)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The time source a run is paced by. The simulator itself never reads a clock: the runner asks
/// this one what time it is and sleeps on it, so tests drive a run with `ManualClock` in no time.
public protocol SimulationClock {
    /// Time since an arbitrary fixed origin.
    func now() -> Duration
    /// Returns once `now()` has reached `deadline` (at once when it already has).
    func sleep(until deadline: Duration)
}

/// The system's monotonic clock; sleeps to an absolute deadline, so pacing does not drift by the
/// time spent working between sleeps.
public struct MonotonicClock: SimulationClock {
    public init() {}

    public func now() -> Duration {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return .seconds(time.tv_sec) + .nanoseconds(time.tv_nsec)
    }

    public func sleep(until deadline: Duration) {
        let (seconds, attoseconds) = deadline.components
        var time = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        // Bounded: each pass either sleeps to the deadline or is interrupted by a signal, and the
        // deadline is absolute, so retrying never sleeps longer in total.
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &time, nil) == EINTR {}
    }
}

/// A clock that moves only when slept on: sleeping jumps straight to the deadline. Runs paced by
/// it finish at once, with every wake-up where a real clock would have put it.
public final class ManualClock: SimulationClock {
    public private(set) var current: Duration
    /// Deadlines slept to, in order, for tests of the pacing.
    public private(set) var sleeps: [Duration] = []
    /// Added to each wake-up, to simulate a sender that oversleeps or is descheduled.
    public var oversleep: Duration = .zero

    public init(start: Duration = .zero) { current = start }

    public func now() -> Duration { current }

    public func sleep(until deadline: Duration) {
        sleeps.append(deadline)
        current = max(current, deadline) + oversleep
    }

    /// Moves the clock on without a sleep (time spent working).
    public func advance(by duration: Duration) { current += duration }
}

extension Duration {
    /// Whole microseconds, truncated.
    var wholeMicroseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    /// Seconds as a Double.
    var secondsDouble: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}

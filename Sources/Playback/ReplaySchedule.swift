/// When each recorded datagram is due in a paced replay: recorded time scaled by `1 / speed`
/// from an anchor (the first datagram played, on the wall clock). Pure arithmetic, so the pacing
/// can be tested without sockets or sleeping.
public struct ReplaySchedule: Sendable {
    /// 1 = real time, 10 = ten times faster.
    public let speed: Double
    /// Recorded and wall time of the anchor, ns.
    public private(set) var anchorRecorded: UInt64?
    public private(set) var anchorWall: UInt64 = 0

    public init(speed: Double) {
        precondition(speed > 0 && speed.isFinite, "speed must be positive")
        self.speed = speed
    }

    /// The wall time (ns, monotonic) at which a datagram recorded at `recorded` is due. The first
    /// call anchors the schedule at `nowWall`. A datagram recorded before the anchor (a clock step
    /// backwards in the recording) is due at once.
    public mutating func dueWall(recorded: UInt64, nowWall: UInt64) -> UInt64 {
        guard let anchor = anchorRecorded else {
            anchorRecorded = recorded
            anchorWall = nowWall
            return nowWall
        }
        guard recorded > anchor else { return anchorWall }
        return anchorWall &+ UInt64((Double(recorded - anchor) / speed).rounded())
    }

    /// Starts a new timeline at the next datagram: for a file that does not follow the previous
    /// one closely, and for each pass of `--loop`.
    public mutating func reanchor() {
        anchorRecorded = nil
    }
}

/// Every limit of the simulator in one place, each with the reason for its value. The command
/// line validates against these, and `SimulatorLimitsTests` checks how they relate.
public enum SimulatorLimits {
    /// Most drones in one run. A drone costs about 300 bytes of state (plus its held frames when
    /// `--reorder` is on), so 100,000 drones stay well under 100 MB.
    public static let dronesMax = 100_000
    /// Highest sample rate per drone. Autopilots stream positions at 1 to 50 Hz; 1,000 Hz leaves
    /// room for stress tests while keeping the sample period a whole number of microseconds.
    public static let sampleRateMaxHz = 1_000.0
    /// Longest run: one week of simulated time, so sample indexes and timestamps cannot overflow.
    public static let durationMaxSeconds = 7.0 * 24 * 3_600
    /// Datagrams handed to the sender at once; one sendmmsg call each (CSOCKET_BATCH_MAX).
    public static let datagramsPerBatchMax = 256
    /// Interval between the sender's wake-ups when pacing at real time. Samples that fall between
    /// two wake-ups are sent together; 5 ms keeps a drone's sample within 5 ms of its timestamp
    /// and costs 200 wake-ups a second, which is nothing next to the sends themselves.
    public static let pacingTick: Duration = .milliseconds(5)
    /// Most simulated time a single wake-up may catch up when the sender fell behind (descheduled,
    /// a slow receiver): the backlog is then sent at up to 10 times the requested rate instead of
    /// in one burst that would overflow the receiver's socket buffer.
    public static let catchUpMax: Duration = .milliseconds(50)
    /// Datagrams a drone may hold back for `--reorder` at once. Each costs one frame of memory
    /// per drone; three is enough to reorder within any gateway's window.
    public static let reorderHoldMax = 3
    /// How often the progress line is redrawn.
    public static let progressInterval: Duration = .seconds(1)
    /// Socket send buffer requested, so a full batch never waits on the kernel.
    public static let sendBufferBytes: Int32 = 4 << 20
}

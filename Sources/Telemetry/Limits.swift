/// Every bound of the gateway in one place (after TigerBeetle's `constants.zig`): queue sizes,
/// batch sizes, table sizes and time windows. Memory is allocated from these at start-up and
/// never grows. `validate()` checks how they relate; the gateway calls it before starting, and a
/// test calls it on the defaults.
public struct Limits: Sendable, Equatable {
    /// Slots in each packet ring (a power of two). At ~240k datagrams/s this absorbs ~0.25 s of
    /// backlog while a commit runs.
    public var ringCapacity: Int = 65_536
    /// Bytes one ring slot holds. Larger datagrams are rejected as `oversized`. 2,048 covers every
    /// Skygate frame (1,076) and a MAVLink 2 frame (280) several times over.
    public var datagramBytesMax: Int = 2_048
    /// Datagrams the receive thread asks the kernel for per `recvmmsg` call.
    public var receiveBatchDatagrams: Int = 64
    /// Kernel receive buffer requested for the UDP socket (`SO_RCVBUF`; the kernel doubles it and
    /// caps it at `net.core.rmem_max`).
    public var socketReceiveBufferBytes: Int = 8 << 20

    /// Datagrams a batch processor takes from the ring per pass.
    public var drainBatchDatagrams: Int = 1_024
    /// Samples one commit batch holds; a batch is committed when it is this full...
    public var commitSamplesMax: Int = 65_536
    /// ...or when its oldest sample has waited this long, whichever comes first.
    public var commitInterval: Duration = .milliseconds(250)
    /// Commit batches in flight between the processor and the store writer (double buffering).
    public var commitBatchesInFlight: Int = 2

    /// Drones the fleet table holds. A new drone beyond this is rejected as `too_many_drones`.
    public var dronesMax: Int = 16_384
    /// Recent (sequence, timestamp) pairs remembered per drone to recognise duplicates.
    public var duplicateWindowFrames: Int = 32
    /// How far in the future a sample's timestamp may be, against the gateway's clock.
    public var futureTolerance: Duration = .seconds(300)

    public init() {}

    /// Room a batch must have before it takes another datagram: every sample occupies at least
    /// 32 bytes of a datagram, and the decoder wants room for one whole frame (32 samples) before
    /// each frame it decodes.
    public var samplesPerDatagramMax: Int { datagramBytesMax / 32 + 32 }

    /// Problems with the relations between limits, as messages naming the limit.
    public func validate() -> [String] {
        var problems: [String] = []
        if ringCapacity < 2 || ringCapacity & (ringCapacity - 1) != 0 || ringCapacity > 1 << 22 {
            problems.append("ringCapacity \(ringCapacity) must be a power of two in 2...4194304")
        }
        if datagramBytesMax < 280 || datagramBytesMax > 65_536 {
            problems.append("datagramBytesMax \(datagramBytesMax) must be in 280...65536 (a MAVLink 2 frame is 280 bytes)")
        }
        if receiveBatchDatagrams < 1 || receiveBatchDatagrams > 1_024 || receiveBatchDatagrams > ringCapacity {
            problems.append("receiveBatchDatagrams \(receiveBatchDatagrams) must be in 1...1024 and at most ringCapacity")
        }
        if drainBatchDatagrams < 1 || drainBatchDatagrams > ringCapacity {
            problems.append("drainBatchDatagrams \(drainBatchDatagrams) must be in 1...ringCapacity")
        }
        if commitSamplesMax > 1 << 22 {
            problems.append("commitSamplesMax \(commitSamplesMax) must be at most 4194304")
        }
        if commitSamplesMax < 2 * samplesPerDatagramMax {
            problems.append("commitSamplesMax \(commitSamplesMax) must hold at least two of the largest datagrams (\(2 * samplesPerDatagramMax) samples)")
        }
        if commitInterval < .milliseconds(1) || commitInterval > .seconds(10) {
            problems.append("commitInterval \(commitInterval) must be in 1 ms...10 s")
        }
        if commitBatchesInFlight < 1 || commitBatchesInFlight > 8 {
            problems.append("commitBatchesInFlight \(commitBatchesInFlight) must be in 1...8")
        }
        if dronesMax < 1 || dronesMax > 1 << 20 {
            problems.append("dronesMax \(dronesMax) must be in 1...1048576")
        }
        if duplicateWindowFrames < 1 || duplicateWindowFrames > 1_024 {
            problems.append("duplicateWindowFrames \(duplicateWindowFrames) must be in 1...1024")
        }
        if futureTolerance < .zero || futureTolerance > .seconds(86_400) {
            problems.append("futureTolerance \(futureTolerance) must be in 0...1 day")
        }
        return problems
    }
}

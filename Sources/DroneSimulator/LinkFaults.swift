/// The faults a radio link adds, as the simulator's command line gives them. Each datagram meets
/// them in this order, and at most one of the first three:
/// 1. an **outage**: each drone's link goes down at random, `outageRatePerMinute` times per minute
///    of link time on average, for `outageDurationSeconds` each; every datagram of the drone
///    generated while it is down is lost (so losses come in bursts);
/// 2. **loss**: otherwise the datagram is lost with probability `lossFraction`;
/// 3. **corruption**: otherwise 1 to 3 distinct bits are flipped with probability
///    `corruptFraction`, never in the magic, version or length fields, so the receiver's CRC check
///    is what catches it (CRC-32C detects every error of up to 3 bits in frames this short);
/// 4. **duplication**: an intact datagram is sent twice, back to back, with probability
///    `duplicateFraction`;
/// 5. **reordering**: a datagram that is sent is held back with probability `reorderFraction`
///    and sent right after the drone's next datagram that is not held (at most
///    `Limits.Simulator.reorderHoldMax` are held at once; beyond that it goes out in order).
///
/// Shares are of the datagrams reaching each step: `--corrupt 10` corrupts 10 % of the
/// datagrams that were not lost.
public struct LinkFaults: Sendable, Equatable {
    public var lossFraction: Double = 0
    public var corruptFraction: Double = 0
    public var duplicateFraction: Double = 0
    public var reorderFraction: Double = 0
    public var outageRatePerMinute: Double = 0
    public var outageDurationSeconds: Double = 2

    public init(
        lossFraction: Double = 0, corruptFraction: Double = 0, duplicateFraction: Double = 0,
        reorderFraction: Double = 0, outageRatePerMinute: Double = 0, outageDurationSeconds: Double = 2
    ) {
        self.lossFraction = lossFraction
        self.corruptFraction = corruptFraction
        self.duplicateFraction = duplicateFraction
        self.reorderFraction = reorderFraction
        self.outageRatePerMinute = outageRatePerMinute
        self.outageDurationSeconds = outageDurationSeconds
    }

    /// A perfect link.
    public static let none = LinkFaults()
}

/// What the link does to one datagram.
public struct FaultDecision: Equatable, Sendable {
    public enum Fate: UInt8, Sendable {
        case intact, lost, lostInOutage, corrupted
    }
    public var fate: Fate
    /// Send a second copy (only ever for intact datagrams).
    public var isDuplicated: Bool
    /// Hold back behind the drone's next datagram.
    public var isHeldBack: Bool
    /// Random bits from which the corrupted bit positions are taken.
    public var corruptionBits: UInt64
}

/// Decides the fate of each datagram of one drone's link. Every datagram costs the same number of
/// draws whatever the options, so turning one fault on does not change the decisions of another.
public struct LinkFaultInjector: Sendable {
    public let faults: LinkFaults
    var random: SimulatorRandom
    /// The link is down until this timestamp (microseconds).
    var outageUntilMicroseconds: UInt64 = 0
    /// Probability that an outage begins at a given datagram.
    let outageStartProbability: Double
    let outageDurationMicroseconds: UInt64

    /// - Parameter datagramPeriodMicroseconds: time between two datagrams of the drone.
    public init(faults: LinkFaults, datagramPeriodMicroseconds: UInt64, random: SimulatorRandom) {
        self.faults = faults
        self.random = random
        outageStartProbability = min(
            1, faults.outageRatePerMinute / 60 * Double(datagramPeriodMicroseconds) / 1_000_000)
        outageDurationMicroseconds = UInt64((faults.outageDurationSeconds * 1_000_000).rounded())
    }

    /// The fate of the drone's datagram stamped `timestampMicroseconds`.
    public mutating func decide(timestampMicroseconds: UInt64) -> FaultDecision {
        let outageDraw = random.nextUnit()
        let lossDraw = random.nextUnit()
        let corruptDraw = random.nextUnit()
        let corruptionBits = random.next()
        let duplicateDraw = random.nextUnit()
        let reorderDraw = random.nextUnit()

        let fate: FaultDecision.Fate
        if timestampMicroseconds < outageUntilMicroseconds {
            fate = .lostInOutage
        } else if outageDraw < outageStartProbability {
            outageUntilMicroseconds = timestampMicroseconds &+ outageDurationMicroseconds
            fate = .lostInOutage
        } else if lossDraw < faults.lossFraction {
            fate = .lost
        } else if corruptDraw < faults.corruptFraction {
            fate = .corrupted
        } else {
            fate = .intact
        }
        let isSent = fate == .intact || fate == .corrupted
        return FaultDecision(
            fate: fate, isDuplicated: fate == .intact && duplicateDraw < faults.duplicateFraction,
            isHeldBack: isSent && reorderDraw < faults.reorderFraction, corruptionBits: corruptionBits)
    }

    /// Flips 1 to 3 distinct bits of the frame in `bytes`, chosen by `bits`, outside the fields
    /// a receiver reads before the CRC (magic, version and frame length), so the CRC rejects it.
    public static func corrupt(_ bytes: UnsafeMutableRawBufferPointer, bits: UInt64) {
        // Bytes 0 and 1 (magic, version) and 22...23 (frame length) are skipped.
        let eligibleBytes = bytes.count - 4
        precondition(eligibleBytes > 0, "frame too short to corrupt")
        let eligibleBits = UInt64(eligibleBytes * 8)
        let flips = 1 + Int(bits >> 62) % 3
        var chosen: (UInt64, UInt64, UInt64) = (.max, .max, .max)
        for flip in 0..<flips {
            let position = ((bits >> UInt64(flip * 20)) & 0xF_FFFF) % eligibleBits
            // Flipping one bit twice would restore it; take each position once.
            if position == chosen.0 || position == chosen.1 { continue }
            if flip == 0 { chosen.0 = position } else if flip == 1 { chosen.1 = position } else { chosen.2 = position }
            var byte = Int(position / 8) + 2
            if byte >= 22 { byte += 2 }
            bytes[byte] ^= UInt8(1) << UInt8(position % 8)
        }
    }
}

import TelemetryWire

/// The protocols a simulated drone can speak: Skygate's wire format (`SkygateTelemetryEncoder`)
/// and MAVLink 2 or 1 (`MAVLinkTelemetryEncoder`), chosen in `SimulateCommand`.
public enum WireProtocol: String, CaseIterable, Sendable {
    case skygate
    case mavlink2
    case mavlink1
}

/// Turns a drone's samples into one datagram. Conforming types own whatever state their protocol
/// needs per drone (authentication counters, MAVLink's 8-bit sequence), and write into a buffer
/// the caller owns, so encoding allocates nothing.
public protocol TelemetryEncoder {
    /// The protocol the datagrams are in.
    var wireProtocol: WireProtocol { get }

    /// Whether datagrams of `droneID` carry an authentication tag (or MAVLink signature).
    func isAuthenticating(droneID: UInt32) -> Bool

    /// The longest datagram `encode` writes for `sampleCount` samples.
    func datagramLengthMax(sampleCount: Int) -> Int

    /// Writes one datagram carrying `samples` (taken at `timestampMicroseconds` plus each
    /// sample's offset) from drone `droneID`, whose `sequence`-th datagram it is, into the start of
    /// `buffer`; returns its length.
    mutating func encode(
        droneID: UInt32, sequence: UInt32, timestampMicroseconds: UInt64, samples: UnsafeBufferPointer<WireSample>,
        into buffer: UnsafeMutableRawBufferPointer
    ) -> Int
}

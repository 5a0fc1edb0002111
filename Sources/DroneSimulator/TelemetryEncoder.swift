import TelemetryWire

/// The protocols a simulated drone can speak: Skygate's wire format (`SkygateTelemetryEncoder`)
/// and MAVLink 2 or 1 (`MAVLinkTelemetryEncoder`), chosen in `SimulateCommand`.
public enum TelemetryProtocol: String, CaseIterable, Sendable {
    case skygate
    case mavlink2
    case mavlink1

    /// Whether this build can encode the protocol.
    public var isImplemented: Bool { true }
}

/// Turns a drone's samples into one datagram. Conforming types own whatever state their protocol
/// needs per drone (authentication counters, MAVLink's 8-bit sequence), and write into a buffer
/// the caller owns, so encoding allocates nothing.
public protocol TelemetryEncoder {
    /// The protocol the datagrams are in.
    var telemetryProtocol: TelemetryProtocol { get }

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

/// Why a simulation cannot be set up.
public struct SimulatorError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }

    /// The message for a protocol this build cannot speak yet.
    public static func protocolNotImplemented(_ telemetryProtocol: TelemetryProtocol) -> SimulatorError {
        SimulatorError(
            "protocol '\(telemetryProtocol.rawValue)' is not implemented yet; only 'skygate' is (MAVLink arrives with the MAVLinkWire target)"
        )
    }
}

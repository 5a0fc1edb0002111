/// Counts from decoding one datagram.
public struct DatagramDecodeResult: Equatable, Sendable {
    /// Frames (units) that `onFrame` accepted: their samples were appended and kept.
    public var framesAccepted = 0
    /// Rejected units: intact frames rejected for what they said, garbage runs (MAVLink) and unframeable rests.
    public var framesRejected = 0
    /// Frames decoded intact but refused by the caller's `onFrame` (their rows were removed).
    public var framesRefused = 0
    /// Rows appended to the columns (and kept).
    public var samplesAccepted = 0
    /// Bytes looked at; less than the datagram only when the columns filled up.
    public var bytesConsumed = 0

    @inlinable public init() {}
}

/// One datagram as a player hands it out: a view valid only inside the callback that receives
/// it (players reuse their buffers, so nothing is allocated per datagram).
public struct RecordedDatagram {
    /// When the gateway received it (or the .tlog stamped it), ns since the Unix epoch.
    public var receivedNanoseconds: UInt64
    /// The datagram's bytes.
    public var bytes: UnsafeRawBufferPointer
    /// The sender in `RecordedSource` form: empty (unknown), 6 bytes (IPv4) or 18 bytes (IPv6).
    public var source: UnsafeRawBufferPointer
    /// The kernel cut the datagram to the gateway's slot size; replay rejects it as `oversized`,
    /// as the live gateway did.
    public var isTruncated: Bool

    public init(receivedNanoseconds: UInt64, bytes: UnsafeRawBufferPointer, source: UnsafeRawBufferPointer, isTruncated: Bool) {
        self.receivedNanoseconds = receivedNanoseconds
        self.bytes = bytes
        self.source = source
        self.isTruncated = isTruncated
    }
}

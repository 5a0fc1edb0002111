/// One drone's latest stored state in a shared store, and which gateway stored it when.
public struct SharedDroneState: Sendable, Equatable {
    /// The latest sample (greatest sample time).
    public var latest: StoredSample
    /// Wall-clock µs of the first and the latest commit that carried the drone.
    public var firstStoredMicroseconds: UInt64
    public var lastStoredMicroseconds: UInt64
    /// The `--gateway-name` of the gateway that stored the latest sample.
    public var gateway: String

    public init(latest: StoredSample, firstStoredMicroseconds: UInt64, lastStoredMicroseconds: UInt64, gateway: String) {
        self.latest = latest
        self.firstStoredMicroseconds = firstStoredMicroseconds
        self.lastStoredMicroseconds = lastStoredMicroseconds
        self.gateway = gateway
    }
}

import TelemetryWire
import WireAuthentication

/// Encodes datagrams in the Skygate wire format: one frame of 1...32 samples per datagram, tagged
/// with HMAC-SHA256 for every drone that has a key.
///
/// The authentication counter of a frame is `counterBase + sequence`: consecutive per drone, so
/// frames reordered on the link stay inside the receiver's 64-frame replay window, and strictly
/// increasing. `counterBase` comes from the run's start time (whole seconds shifted left 32 bits),
/// so a later run with the same keys continues above every counter of an earlier one, as the
/// protocol requires across reboots.
public struct SkygateTelemetryEncoder: TelemetryEncoder {
    @usableFromInline let authenticator: HMACAuthenticator?
    @usableFromInline let keys: DroneKeys
    public let counterBase: UInt64

    public var wireProtocol: WireProtocol { .skygate }

    /// - Parameters:
    ///   - keys: per-drone keys; drones without one send untagged frames.
    ///   - startTimeMicroseconds: the run's first timestamp, from which the counters start.
    public init(keys: DroneKeys = DroneKeys(), startTimeMicroseconds: UInt64) {
        self.keys = keys
        authenticator = keys.count > 0 ? HMACAuthenticator(keys: keys) : nil
        counterBase = (startTimeMicroseconds / 1_000_000) << 32
    }

    /// Whether frames of `droneID` are tagged.
    public func isAuthenticating(droneID: UInt32) -> Bool { authenticator != nil && keys[droneID] != nil }

    public func datagramLengthMax(sampleCount: Int) -> Int {
        WireFormat.frameLength(sampleCount: sampleCount, isAuthenticated: authenticator != nil)
    }

    @inlinable
    public mutating func encode(
        droneID: UInt32, sequence: UInt32, timestampMicroseconds: UInt64, samples: UnsafeBufferPointer<WireSample>,
        into buffer: UnsafeMutableRawBufferPointer
    ) -> Int {
        let header = FrameHeader(droneID: droneID, sequence: sequence, timestampMicroseconds: timestampMicroseconds)
        guard let authenticator, keys[droneID] != nil else {
            return FrameEncoder.encode(header: header, samples: samples, into: buffer)
        }
        do {
            return try FrameEncoder.encode(
                header: header, samples: samples, counter: counterBase | UInt64(sequence),
                authenticator: authenticator, into: buffer)
        } catch {
            // The drone has a key (checked above), so the authenticator always computes a tag.
            preconditionFailure("HMAC authenticator had no key for drone \(droneID)")
        }
    }
}

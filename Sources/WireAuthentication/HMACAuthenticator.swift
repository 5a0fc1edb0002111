import Crypto
import Telemetry
import TelemetryWire

/// Authenticates Skygate frames with per-drone keys: HMAC-SHA256 from swift-crypto, truncated to
/// the wire format's 16 bytes, and one RFC 4303-style replay window per drone.
///
/// A drone with a key must authenticate: its untagged frames are rejected as `unauthenticated`,
/// so an attacker cannot bypass the tag by clearing the flag (unless `allowUntaggedFromKeyed`, an
/// explicit choice). With `requireForAllDrones`, drones without a key are refused too.
public struct HMACAuthenticator: FrameAuthenticator {
    @usableFromInline let keys: [UInt32: SymmetricKey]
    @usableFromInline var windows: [UInt32: ReplayWindow]
    /// Whether frames from drones without a key are refused.
    public let requireForAllDrones: Bool
    /// Whether drones with a key may still send untagged frames (`--allow-unsigned-from-keyed`).
    public let allowsUntaggedFromKeyed: Bool
    /// The store's part of the replay windows (the gateway sets it; replay and tests leave it
    /// nil): a counter at or below a drone's floor is a replay, and accepted counters are noted
    /// for the store (docs/security.md, "Replay windows in the store").
    public var replayMarks: ReplayMarks?

    /// - Parameters:
    ///   - keys: the secret key of each drone (32 bytes recommended; see docs/protocol.md).
    ///   - requireForAllDrones: refuse untagged frames from every drone, not only keyed ones.
    ///   - allowUntaggedFromKeyed: accept untagged frames from drones that have a key.
    public init(keys: DroneKeys, requireForAllDrones: Bool = false, allowUntaggedFromKeyed: Bool = false) {
        var symmetricKeys: [UInt32: SymmetricKey] = [:]
        symmetricKeys.reserveCapacity(keys.count)
        for (droneID, key) in keys.keys { symmetricKeys[droneID] = SymmetricKey(data: key) }
        self.keys = symmetricKeys
        // One window per keyed drone, reserved now so accepting a counter never allocates.
        var windows: [UInt32: ReplayWindow] = [:]
        windows.reserveCapacity(symmetricKeys.count)
        for droneID in symmetricKeys.keys { windows[droneID] = ReplayWindow() }
        self.windows = windows
        self.requireForAllDrones = requireForAllDrones
        allowsUntaggedFromKeyed = allowUntaggedFromKeyed
    }

    /// Drones that have a key.
    public var keyedDroneCount: Int { keys.count }

    public func requiresAuthentication(droneID: UInt32) -> Bool {
        requireForAllDrones || (!allowsUntaggedFromKeyed && keys[droneID] != nil)
    }

    public func computeTag(droneID: UInt32, message: UnsafeRawBufferPointer, into tag: UnsafeMutableRawBufferPointer)
        -> Bool
    {
        guard let key = keys[droneID] else { return false }
        var hmac = HMAC<SHA256>(key: key)
        hmac.update(data: message)
        let code = hmac.finalize()
        code.withUnsafeBytes { full in
            precondition(tag.count <= full.count)
            tag.copyMemory(from: UnsafeRawBufferPointer(rebasing: full[0..<tag.count]))
        }
        return true
    }

    public mutating func acceptCounter(_ counter: UInt64, droneID: UInt32) -> Bool {
        if let replayMarks, !replayMarks.isAboveFloor(counter, protocol: .skygate, sender: droneID) { return false }
        // Only called after the tag verified, so the drone has a key and therefore a window.
        guard windows[droneID, default: ReplayWindow()].accept(counter) else { return false }
        replayMarks?.noteAccepted(counter, protocol: .skygate, sender: droneID)
        return true
    }

    /// The drones that have a key (for the replay marks' slots).
    public var keyedDrones: [UInt32] { Array(keys.keys) }

    /// The replay window of a drone, for inspection and tests.
    public func replayWindow(droneID: UInt32) -> ReplayWindow? { windows[droneID] }
}

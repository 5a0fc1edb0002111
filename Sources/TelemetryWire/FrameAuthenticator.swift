/// The seam through which frames are authenticated. The wire format fixes the construction (a
/// 16-byte tag, HMAC-SHA256 truncated, over the frame from its first byte through the counter);
/// the hashing itself comes from outside, because this module imports nothing but the standard
/// library so that firmware can compile it:
/// - the gateway and the simulator use `WireAuthentication.HMACAuthenticator` (swift-crypto);
/// - firmware conforms its own type to this protocol, calling whatever HMAC-SHA256 it has
///   (a hardware hash unit, mbedTLS' `mbedtls_md_hmac`, or the crypto library of its RTOS).
public protocol FrameAuthenticator {
    /// Whether untagged frames from this drone are refused.
    func requiresAuthentication(droneID: UInt32) -> Bool

    /// Writes the first `tag.count` bytes of HMAC-SHA256(key of `droneID`, `message`) into `tag`.
    /// Returns false when no key is configured for the drone.
    func computeTag(droneID: UInt32, message: UnsafeRawBufferPointer, into tag: UnsafeMutableRawBufferPointer)
        -> Bool

    /// Called only after a frame's tag verified: records `counter` for the drone and returns
    /// false when it was seen already or is too old for the replay window (a replay).
    mutating func acceptCounter(_ counter: UInt64, droneID: UInt32) -> Bool
}

/// No keys at all: untagged frames are accepted, tagged ones are rejected as `unknownKey`.
public struct NoAuthentication: FrameAuthenticator {
    @inlinable public init() {}
    @inlinable public func requiresAuthentication(droneID: UInt32) -> Bool { false }
    @inlinable
    public func computeTag(droneID: UInt32, message: UnsafeRawBufferPointer, into tag: UnsafeMutableRawBufferPointer)
        -> Bool
    { false }
    @inlinable public mutating func acceptCounter(_ counter: UInt64, droneID: UInt32) -> Bool { false }
}

/// Anti-replay window over a drone's authentication counters, after RFC 4303 section 3.4.3:
/// the highest counter accepted plus a 64-bit map of the 64 counters below it, so frames that
/// UDP reorders within the window are still accepted once, and anything older is refused.
public struct ReplayWindow: Equatable, Sendable {
    /// Counters this far below the highest accepted one are still accepted (once).
    public static let width: UInt64 = 64

    @usableFromInline var highestStorage: UInt64 = 0
    @usableFromInline var seen: UInt64 = 0
    @usableFromInline var isEmptyStorage = true

    /// The highest counter accepted so far (meaningless while `isEmpty`).
    @inlinable public var highest: UInt64 { highestStorage }
    /// True until the first counter is accepted.
    @inlinable public var isEmpty: Bool { isEmptyStorage }

    @inlinable public init() {}

    /// Accepts `counter` once: true the first time a counter inside the window is offered.
    @inlinable
    public mutating func accept(_ counter: UInt64) -> Bool {
        if isEmptyStorage {
            isEmptyStorage = false
            highestStorage = counter
            seen = 1
            return true
        }
        if counter > highest {
            let shift = counter &- highest
            seen = shift >= ReplayWindow.width ? 1 : (seen << shift) | 1
            highestStorage = counter
            return true
        }
        let age = highest &- counter
        if age >= ReplayWindow.width { return false }
        let bit: UInt64 = 1 << age
        if seen & bit != 0 { return false }
        seen |= bit
        return true
    }
}

/// Compares two tags in time independent of where they differ, so a forger learns nothing from
/// how long a rejection took.
@inlinable
public func tagsAreEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for index in 0..<a.count { difference |= a[index] ^ b[index] }
    return difference == 0
}

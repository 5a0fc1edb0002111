import Crypto
import MAVLinkWire
import Telemetry

/// MAVLink 2 signature checks with swift-crypto's SHA-256: signature = first 6 bytes of
/// SHA-256(key ‖ frame through the timestamp), per https://mavlink.io/en/guide/message_signing.html.
/// Keys are looked up by system id in a 256-entry table, so a check hashes and never allocates.
public struct MAVLinkSHA256Verifier: MAVLinkSignatureVerifier, Sendable {
    /// Key per system id (nil = no key).
    let keysBySystem: [[UInt8]?]
    /// Whether every system must sign (`--require-signing`), not only those with a key.
    public let requiresSigningFromAllSystems: Bool
    /// Whether systems with a key may still send unsigned frames (`--allow-unsigned-from-keyed`).
    public let allowsUnsignedFromKeyed: Bool
    /// The store's part of the replay windows (the gateway sets it; replay and tests leave it
    /// nil): a signature timestamp at or below the system's floor is a replay, and accepted
    /// timestamps are noted for the store (docs/security.md, "Replay windows in the store").
    public var replayMarks: ReplayMarks?

    /// - Parameters:
    ///   - requireSigning: refuse unsigned frames from every system, keyed or not.
    ///   - allowUnsignedFromKeyed: accept unsigned frames from systems that have a key (by
    ///     default they are refused, `mavlink_unsigned`: otherwise the key protects nothing).
    public init(keys: MAVLinkKeys, requireSigning: Bool = false, allowUnsignedFromKeyed: Bool = false) {
        var table = [[UInt8]?](repeating: nil, count: 256)
        for (system, key) in keys.keys { table[Int(system)] = key }
        keysBySystem = table
        requiresSigningFromAllSystems = requireSigning
        allowsUnsignedFromKeyed = allowUnsignedFromKeyed
    }

    public func hasKey(systemID: UInt8) -> Bool { keysBySystem[Int(systemID)] != nil }

    public func requiresSigning(systemID: UInt8) -> Bool {
        requiresSigningFromAllSystems || (!allowsUnsignedFromKeyed && keysBySystem[Int(systemID)] != nil)
    }

    public func acceptsSignedTimestamp(_ timestamp: UInt64, systemID: UInt8) -> Bool {
        guard let replayMarks else { return true }
        guard replayMarks.isAboveFloor(timestamp, protocol: .mavlink, sender: UInt32(systemID)) else { return false }
        replayMarks.noteAccepted(timestamp, protocol: .mavlink, sender: UInt32(systemID))
        return true
    }

    /// The systems that have a key (for the replay marks' slots).
    public var keyedSystems: [UInt8] { (0..<256).compactMap { keysBySystem[$0] == nil ? nil : UInt8($0) } }

    /// Systems that have a key.
    public var keyedSystemCount: Int { keysBySystem.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }

    public func computeSignature(
        systemID: UInt8, message: UnsafeRawBufferPointer, into signature: UnsafeMutableRawBufferPointer
    ) -> Bool {
        guard let key = keysBySystem[Int(systemID)] else { return false }
        var hasher = SHA256()
        key.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        hasher.update(bufferPointer: message)
        let digest = hasher.finalize()
        digest.withUnsafeBytes { bytes in
            for index in 0..<min(signature.count, bytes.count) { signature[index] = bytes[index] }
        }
        return true
    }

}

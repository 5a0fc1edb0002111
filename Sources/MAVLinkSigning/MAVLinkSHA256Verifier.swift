import Crypto
import MAVLinkWire

/// MAVLink 2 signature checks with swift-crypto's SHA-256: signature = first 6 bytes of
/// SHA-256(key ‖ frame through the timestamp), per https://mavlink.io/en/guide/message_signing.html.
/// Keys are looked up by system id in a 256-entry table, so a check hashes and never allocates.
public struct MAVLinkSHA256Verifier: MAVLinkSignatureVerifier, Sendable {
    /// Key per system id (nil = no key).
    let keysBySystem: [[UInt8]?]
    public let requiresSigning: Bool

    public init(keys: MAVLinkKeys, requireSigning: Bool = false) {
        var table = [[UInt8]?](repeating: nil, count: 256)
        for (system, key) in keys.keys { table[Int(system)] = key }
        keysBySystem = table
        requiresSigning = requireSigning
    }

    public func hasKey(systemID: UInt8) -> Bool { keysBySystem[Int(systemID)] != nil }

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

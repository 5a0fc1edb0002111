/// The seam through which MAVLink 2 signatures are checked. The construction is MAVLink's
/// (https://mavlink.io/en/guide/message_signing.html): the signature is the first 6 bytes of
/// SHA-256(secret key (32 bytes) ‖ frame from the start byte through the signature's timestamp).
/// The hashing comes from outside, so this module keeps to the standard library:
/// `MAVLinkSigning.MAVLinkSHA256Verifier` (swift-crypto) in the gateway, a firmware's own SHA-256
/// elsewhere.
public protocol MAVLinkSignatureVerifier {
    /// Whether a key is configured for `systemID`.
    func hasKey(systemID: UInt8) -> Bool

    /// Whether unsigned frames from `systemID` are refused: the gateway's default for systems
    /// that have a key (a key means something, docs/security.md), and for every system with
    /// `--require-signing`. A system that must sign and has no key cannot be verified, so its
    /// signed frames are refused too (`badSignature`).
    func requiresSigning(systemID: UInt8) -> Bool

    /// Writes the first `signature.count` bytes of SHA-256(key of `systemID` ‖ `message`) into
    /// `signature`. Returns false when no key is configured for the system.
    func computeSignature(systemID: UInt8, message: UnsafeRawBufferPointer, into signature: UnsafeMutableRawBufferPointer)
        -> Bool

    /// Called after a signature verified and its stream's timestamp rose: false refuses the frame
    /// as a replay. The gateway's verifier checks the store's floor for the system here (replay
    /// windows that outlive the process, docs/security.md); the default accepts.
    func acceptsSignedTimestamp(_ timestamp: UInt64, systemID: UInt8) -> Bool
}

extension MAVLinkSignatureVerifier {
    @inlinable public func acceptsSignedTimestamp(_ timestamp: UInt64, systemID: UInt8) -> Bool { true }
}

/// No keys: signatures are not checked (a signed frame is taken like an unsigned one, as
/// pymavlink and the MAVLink C library do without a key), and nothing needs signing.
public struct MAVLinkNoSigning: MAVLinkSignatureVerifier {
    @inlinable public init() {}
    @inlinable public func hasKey(systemID: UInt8) -> Bool { false }
    @inlinable public func requiresSigning(systemID: UInt8) -> Bool { false }
    @inlinable
    public func computeSignature(
        systemID: UInt8, message: UnsafeRawBufferPointer, into signature: UnsafeMutableRawBufferPointer
    ) -> Bool { false }
}

/// Timestamps of signed streams, for replay protection: a stream is (system, component, link),
/// and its 48-bit timestamp (10 µs units since 2015-01-01) must rise strictly from frame to frame.
/// A new stream is accepted unless its timestamp is more than a minute behind the newest seen
/// from the same system (pymavlink's rule, which stops an old frame being replayed on a fresh
/// link id).
///
/// Fixed capacity, allocated once: open addressing over a power-of-two table at most half full.
public final class MAVLinkSignatureStreams {
    /// Streams remembered. Streams come only from systems that have keys, so this bounds
    /// keyed systems × components × links; beyond it new streams are refused, never forgotten
    /// (forgetting one would let its old frames be replayed).
    public let capacity: Int
    /// How far (10 µs units) a new stream may start behind the system's newest timestamp: one minute.
    public static let newStreamToleranceTicks: UInt64 = 6_000_000

    @usableFromInline let slotMask: Int
    /// Key + 1 per slot (0 = empty); key = system << 16 | component << 8 | link.
    @usableFromInline let keys: UnsafeMutablePointer<UInt32>
    @usableFromInline let timestamps: UnsafeMutablePointer<UInt64>
    /// Newest accepted timestamp per system id.
    @usableFromInline let newestBySystem: UnsafeMutablePointer<UInt64>
    public private(set) var count = 0

    public init(capacity: Int = 4_096) {
        precondition(capacity >= 1 && capacity <= 1 << 20)
        self.capacity = capacity
        var slots = 2
        while slots < capacity * 2 { slots <<= 1 }
        slotMask = slots - 1
        keys = .allocate(capacity: slots)
        keys.initialize(repeating: 0, count: slots)
        timestamps = .allocate(capacity: slots)
        timestamps.initialize(repeating: 0, count: slots)
        newestBySystem = .allocate(capacity: 256)
        newestBySystem.initialize(repeating: 0, count: 256)
    }

    deinit {
        keys.deallocate()
        timestamps.deallocate()
        newestBySystem.deallocate()
    }

    /// The outcome of offering a timestamp.
    public enum Verdict: Equatable, Sendable {
        case accepted
        case replayed
        case full
    }

    /// Records `timestamp` for the stream if it rises; call only after the signature verified.
    public func accept(timestamp: UInt64, systemID: UInt8, componentID: UInt8, linkID: UInt8) -> Verdict {
        let key = UInt32(systemID) << 16 | UInt32(componentID) << 8 | UInt32(linkID)
        var slot = Int(truncatingIfNeeded: (UInt64(key) &* 0x9E37_79B9_7F4A_7C15) >> 40) & slotMask
        // Bounded: the table is at most half full, so an empty slot is reached within its size.
        for _ in 0...slotMask {
            let entry = keys[slot]
            if entry == key &+ 1 {
                guard timestamp > timestamps[slot] else { return .replayed }
                timestamps[slot] = timestamp
                noteNewest(timestamp, systemID: systemID)
                return .accepted
            }
            if entry == 0 { break }
            slot = (slot &+ 1) & slotMask
        }
        if timestamp &+ Self.newStreamToleranceTicks < newestBySystem[Int(systemID)] { return .replayed }
        guard count < capacity else { return .full }
        keys[slot] = key &+ 1
        timestamps[slot] = timestamp
        count &+= 1
        noteNewest(timestamp, systemID: systemID)
        return .accepted
    }

    private func noteNewest(_ timestamp: UInt64, systemID: UInt8) {
        if timestamp > newestBySystem[Int(systemID)] { newestBySystem[Int(systemID)] = timestamp }
    }
}

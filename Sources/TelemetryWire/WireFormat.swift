// The Skygate wire format, version 1: every constant of the layout in one place.
// docs/protocol.md specifies the same layout byte by byte; the golden vectors in Fixtures/wire
// were produced from that document by an independent implementation (Scripts/make_wire_vectors.py).

/// Layout constants of Skygate wire format version 1.
public enum WireFormat {
    /// First byte of every Skygate frame. It is neither 0xFD (MAVLink 2) nor 0xFE (MAVLink 1),
    /// so one UDP port can tell the protocols apart by the first byte.
    public static let magic: UInt8 = 0xA7
    /// The only version this decoder understands. Any other version is rejected, never guessed at.
    public static let version: UInt8 = 1

    /// Bytes in the frame header: magic, version, type, flags, drone id, sequence, timestamp,
    /// sample count, reserved, frame length.
    public static let headerLength = 24
    /// Bytes in one sample record. Fixed within a version, so samples are a flat array of records.
    public static let sampleLength = 32
    /// Bytes in the authentication trailer: 8-byte counter and 16-byte tag.
    public static let authenticationTrailerLength = 24
    /// Bytes of the truncated HMAC-SHA256 tag.
    public static let tagLength = 16
    /// Bytes of the CRC-32C at the end of every frame.
    public static let crcLength = 4

    /// Most samples one frame may carry. Chosen so the largest frame fits in one unfragmented
    /// datagram on any IPv6 path (1,280-byte minimum MTU less 48 bytes of IPv6 and UDP headers).
    public static let maxSamplesPerFrame = 32
    /// Smallest valid frame: one sample, no tag.
    public static let minFrameLength = headerLength + sampleLength + crcLength
    /// Largest valid frame: 32 samples with a tag (1,076 bytes).
    public static let maxFrameLength =
        headerLength + maxSamplesPerFrame * sampleLength + authenticationTrailerLength + crcLength

    /// Header field offsets.
    public enum HeaderOffset {
        public static let magic = 0
        public static let version = 1
        public static let messageType = 2
        public static let flags = 3
        public static let droneID = 4
        public static let sequence = 8
        public static let timestamp = 12
        public static let sampleCount = 20
        public static let reserved = 21
        public static let frameLength = 22
    }

    /// Sample record field offsets, relative to the start of the record.
    public enum SampleOffset {
        public static let timeOffset = 0
        public static let latitude = 4
        public static let longitude = 8
        public static let altitude = 12
        public static let velocityNorth = 16
        public static let velocityEast = 18
        public static let velocityDown = 20
        public static let heading = 22
        public static let batteryVoltage = 24
        public static let batteryPercent = 26
        public static let satellites = 27
        public static let status = 28
    }

    /// Frame flag bits (header byte 3). Unknown bits are rejected.
    public enum Flag {
        /// The frame carries the authentication trailer (counter and tag) before its CRC.
        public static let authenticated: UInt8 = 0x01
        /// Every flag bit this version defines.
        public static let known: UInt8 = authenticated
    }

    /// Length of a frame with `sampleCount` samples, with or without the authentication trailer.
    @inlinable
    public static func frameLength(sampleCount: Int, isAuthenticated: Bool) -> Int {
        headerLength + sampleCount * sampleLength + (isAuthenticated ? authenticationTrailerLength : 0)
            + crcLength
    }
}

/// Message types of wire format version 1. Unknown types are rejected with a counted reason.
public enum MessageType: UInt8, Sendable {
    /// One or more telemetry samples from one drone.
    case telemetry = 1
}

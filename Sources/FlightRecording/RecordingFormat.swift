import CZlib

/// The layout of a Skygate recording (`.skyrec`), byte by byte: docs/recording-format.md is the
/// specification and these constants are its single source in code. Every integer is
/// little-endian; every structure carries a CRC-32 (zlib's, the IEEE polynomial) so a reader
/// trusts no length it has not checked.
public enum RecordingFormat {
    /// First 8 bytes of every recording: `\x89SKYREC\n`. The high-bit first byte catches 7-bit
    /// transfers and the newline catches line-ending conversion, as PNG's signature does.
    public static let fileMagic: [UInt8] = [0x89, 0x53, 0x4B, 0x59, 0x52, 0x45, 0x43, 0x0A]
    /// The format version this code writes; readers refuse a higher one.
    public static let version: UInt16 = 1
    /// File extension of recordings written by `serve --record` and `record`.
    public static let fileExtension = "skyrec"

    /// File header: magic (8), version (2), header length (2), flags (4), start time ns (8),
    /// gateway version length (2), the version text, then a CRC-32 over everything before it.
    public static let headerFixedLength = 26
    public static let gatewayVersionBytesMax = 200

    /// "SKYC": the start of each chunk.
    public static let chunkMagic: UInt32 = 0x4359_4B53
    /// Chunk header: magic (4), compressed length (4), uncompressed length (4), record count (4),
    /// first record time ns (8), last record time ns (8), payload CRC-32 (4), header CRC-32 (4).
    public static let chunkHeaderLength = 40
    /// A chunk's uncompressed records may be at most this long (a reader's inflate buffer).
    public static let chunkUncompressedBytesMax = 4 << 20

    /// Record header inside a chunk: receive time ns (8), datagram length (2), source length (1),
    /// flags (1); then the source address, then the datagram.
    public static let recordHeaderLength = 12
    /// Record flag: the kernel cut the datagram to the slot's size (`MSG_TRUNC`).
    public static let recordFlagTruncated: UInt8 = 0x01

    /// "SKYI": the chunk index, written when a recording is closed.
    public static let indexMagic: UInt32 = 0x4959_4B53
    /// Index header: magic (4), entry count (4); each entry: chunk offset (8), first time ns (8),
    /// last time ns (8), record count (4), reserved (4); then a CRC-32 over header and entries.
    public static let indexHeaderLength = 8
    public static let indexEntryLength = 32

    /// "SKYT": the trailer, the last 32 bytes of a closed recording: magic (4), reserved (4),
    /// index offset (8), record count (8), chunk count (4), CRC-32 of the bytes before it (4).
    public static let trailerMagic: UInt32 = 0x5459_4B53
    public static let trailerLength = 32

    /// Byte offsets inside the file header.
    public enum HeaderField {
        public static let version = 8
        public static let headerLength = 10
        public static let startNanoseconds = 16
        public static let gatewayVersionLength = 24
        public static let gatewayVersion = 26
    }

    /// Byte offsets inside a chunk header.
    public enum ChunkField {
        public static let compressedLength = 4
        public static let uncompressedLength = 8
        public static let recordCount = 12
        public static let firstNanoseconds = 16
        public static let lastNanoseconds = 24
        public static let payloadCRC = 32
        public static let headerCRC = 36
    }

    /// Byte offsets inside a record header.
    public enum RecordField {
        public static let receivedNanoseconds = 0
        public static let datagramLength = 8
        public static let sourceLength = 10
        public static let flags = 11
    }

    /// Byte offsets inside the index (header, then each entry) and the trailer.
    public enum IndexField {
        public static let entryCount = 4
        public static let entryOffset = 0
        public static let entryFirstNanoseconds = 8
        public static let entryLastNanoseconds = 16
        public static let entryRecordCount = 24
    }

    public enum TrailerField {
        public static let indexOffset = 8
        public static let recordCount = 16
        public static let chunkCount = 24
    }

    /// CRC-32 (IEEE, as zlib computes it) of `bytes`.
    public static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return 0 }
        var crc: UInt = 0
        var offset = 0
        // zlib takes a 32-bit length; recordings never hand it more, but stay correct anyway.
        while offset < bytes.count {
            let length = min(bytes.count - offset, Int(UInt32.max))
            crc = CZlib.crc32(crc, base.assumingMemoryBound(to: UInt8.self) + offset, UInt32(length))
            offset += length
        }
        return UInt32(truncatingIfNeeded: crc)
    }
}

/// Appends little-endian integers and bytes to a growing byte array (headers, index, trailer).
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ raw: UnsafeRawBufferPointer) { bytes.append(contentsOf: raw) }
    mutating func append(_ array: [UInt8]) { bytes.append(contentsOf: array) }

    /// Appends the CRC-32 of everything written so far.
    mutating func appendCRC() {
        let crc = bytes.withUnsafeBytes { RecordingFormat.crc32($0) }
        append(crc)
    }
}

extension UnsafeRawBufferPointer {
    /// The little-endian integer at `offset`; the caller has checked the bounds.
    @inline(__always)
    func littleEndian<T: FixedWidthInteger>(at offset: Int, as type: T.Type) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

/// Where a recorder thread writes datagrams: one recording file (`RecordingWriter`, for
/// `skygate record`) or a rotating directory of them (`RecordingDirectoryWriter`, for
/// `serve --record`). Both take the same three calls, so one drain loop serves both.
public protocol RecordingSink: AnyObject {
    /// Appends one datagram; `source` is in the `RecordedSource` portable form.
    func append(
        receivedNanoseconds: UInt64, source: UnsafeRawBufferPointer, datagram: UnsafeRawBufferPointer, isTruncated: Bool,
        nowNanoseconds: UInt64
    ) throws(RecordingError)
    /// Writes the open chunk when its interval has passed (called when idle, too).
    func writeChunkIfDue(nowNanoseconds: UInt64) throws(RecordingError)
    /// Writes what is buffered and closes the file (index and trailer).
    func close() throws(RecordingError)
}

extension RecordingWriter: RecordingSink {
    public func append(
        receivedNanoseconds: UInt64, source: UnsafeRawBufferPointer, datagram: UnsafeRawBufferPointer, isTruncated: Bool,
        nowNanoseconds: UInt64
    ) throws(RecordingError) {
        try append(
            receivedNanoseconds: receivedNanoseconds, source: source, datagram: datagram, isTruncated: isTruncated,
            nowNanoseconds: Optional(nowNanoseconds))
    }
}

extension RecordingDirectoryWriter: RecordingSink {}

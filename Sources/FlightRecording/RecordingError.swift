#if canImport(Glibc)
import Glibc
#endif

/// Why a recording could not be written or opened. Operating errors (a full disk, a missing or
/// foreign file) are expected and reported in words an operator can act on; damage *inside* a
/// readable recording is not an error but part of the `ReadReport`.
public enum RecordingError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The disk (or the user's quota) is full: recording stops, the gateway does not.
    case diskFull(path: String)
    /// Another system call failed.
    case io(operation: String, path: String, errno: Int32)
    /// The file is not in a format this code reads.
    case notARecording(path: String, reason: String)
    /// A recording from a newer Skygate.
    case unsupportedVersion(path: String, version: UInt16)
    /// Options that contradict each other (named in the message).
    case invalidOptions(String)
    /// The writer was used after `close()` or after it failed.
    case closed(path: String)

    public var description: String {
        switch self {
        case .diskFull(let path): "\(path): no space left on the device; recording stopped"
        case .io(let operation, let path, let code): "\(path): \(operation) failed: \(String(cString: strerror(code)))"
        case .notARecording(let path, let reason): "\(path): not a recording, log or capture Skygate reads (\(reason))"
        case .unsupportedVersion(let path, let version):
            "\(path): recording format version \(version) is newer than this Skygate reads (\(RecordingFormat.version))"
        case .invalidOptions(let message): "invalid recording options: \(message)"
        case .closed(let path): "\(path): the recording is closed"
        }
    }

    /// The error for a failed call, `diskFull` for ENOSPC and EDQUOT.
    static func from(errno code: Int32, operation: String, path: String) -> RecordingError {
        code == ENOSPC || code == EDQUOT ? .diskFull(path: path) : .io(operation: operation, path: path, errno: code)
    }
}

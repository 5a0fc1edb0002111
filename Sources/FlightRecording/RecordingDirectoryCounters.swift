import Synchronization

/// What a `RecordingDirectoryWriter` has done, readable from any thread while its recorder thread
/// writes (`/api/stats`, `/metrics`). The writer updates the atomics with relaxed stores after a
/// call that changed them: no lock and no allocation per datagram. Only the current file's name
/// is behind a lock, and it changes once per file.
public final class RecordingDirectoryCounters: Sendable {
    let bytesWrittenTotal = Atomic<UInt64>(0)
    let chunksWrittenTotal = Atomic<UInt64>(0)
    let filesStartedTotal = Atomic<UInt64>(0)
    let filesRotatedTotal = Atomic<UInt64>(0)
    let filesDeletedTotal = Atomic<UInt64>(0)
    let bytesDeletedTotal = Atomic<UInt64>(0)
    let currentFileBytesNow = Atomic<Int>(0)
    let directoryBytesNow = Atomic<Int>(0)
    let currentFileName = Mutex<String?>(nil)

    init() {}

    /// Bytes this writer wrote into recordings (headers, compressed chunks, indexes, trailers):
    /// what is on disk from this run, plus `bytesDeleted`.
    public var bytesWritten: UInt64 { bytesWrittenTotal.load(ordering: .relaxed) }
    /// Chunks compressed and written.
    public var chunksWritten: UInt64 { chunksWrittenTotal.load(ordering: .relaxed) }
    /// Files this writer created.
    public var filesStarted: UInt64 { filesStartedTotal.load(ordering: .relaxed) }
    /// Files closed because they reached `fileBytesMax` or `fileDuration` (a new one followed).
    public var filesRotated: UInt64 { filesRotatedTotal.load(ordering: .relaxed) }
    /// Recordings deleted to keep the directory under `directoryBytesMax` (an earlier run's too).
    public var filesDeleted: UInt64 { filesDeletedTotal.load(ordering: .relaxed) }
    public var bytesDeleted: UInt64 { bytesDeletedTotal.load(ordering: .relaxed) }
    /// Bytes of the file being written so far (its open chunk not included); 0 between files.
    public var currentFileBytes: Int { currentFileBytesNow.load(ordering: .relaxed) }
    /// Bytes of the `skygate-*.skyrec` recordings in the directory, the current one included.
    public var directoryBytes: Int { directoryBytesNow.load(ordering: .relaxed) }
    /// The name (in the directory) of the file being written, if any.
    public var currentFile: String? { currentFileName.withLock { $0 } }
}

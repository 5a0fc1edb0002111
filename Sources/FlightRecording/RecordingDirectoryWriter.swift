#if canImport(Glibc)
import Glibc
#endif
import Telemetry

/// Records into a directory of files (`serve --record DIR`): starts a new recording when the
/// current one reaches `fileBytesMax` or spans `fileDuration`, and deletes its own oldest
/// recordings (files named `skygate-*.skyrec`, never anything else) to keep the directory within
/// `directoryBytesMax`. One recorder thread owns it.
public final class RecordingDirectoryWriter {
    public let directory: String
    public let options: RecordingOptions
    public let gatewayVersion: String
    /// The file being written, if any.
    public private(set) var current: RecordingWriter?
    /// Files finished (closed) by this writer, and files it deleted to stay in budget.
    public private(set) var filesClosed = 0
    public var filesDeleted: Int { Int(counters.filesDeleted) }
    /// What this writer has done, for readers on other threads (`/api/stats`, `/metrics`).
    public let counters = RecordingDirectoryCounters()
    /// Recordings in the directory, oldest first, with their sizes (the current one excluded).
    private var finished: [(name: String, bytes: Int)] = []
    private var finishedBytes = 0
    /// Bytes and chunks of the files this writer has closed (deleted ones included).
    private var closedBytesWritten = 0
    private var closedChunksWritten = 0
    /// The current file's size when `counters` were last updated.
    private var publishedCurrentBytes = 0
    private var sequence = 0

    public init(directory: String, gatewayVersion: String, options: RecordingOptions = RecordingOptions()) throws(RecordingError) {
        let problems = options.validate()
        guard problems.isEmpty else { throw .invalidOptions(problems.joined(separator: "; ")) }
        self.directory = directory
        self.options = options
        self.gatewayVersion = gatewayVersion
        // 0700, parents included: only the gateway's user lists or reads the recordings.
        let failure = PrivateFile.createDirectories(directory)
        if failure != 0 { throw RecordingError.from(errno: failure, operation: "mkdir", path: directory) }
        finished = try Self.listRecordings(in: directory)
        finishedBytes = finished.reduce(0) { $0 + $1.bytes }
        publishCounters()
    }

    /// Appends one datagram, opening or rotating the file first when needed.
    public func append(
        receivedNanoseconds: UInt64, source: UnsafeRawBufferPointer, datagram: UnsafeRawBufferPointer, isTruncated: Bool,
        nowNanoseconds: UInt64
    ) throws(RecordingError) {
        if let writer = current,
            writer.pendingBytes >= options.fileBytesMax
                || receivedNanoseconds &- writer.startNanoseconds >= options.fileDurationNanoseconds
        {
            try closeCurrent()
            counters.filesRotatedTotal.add(1, ordering: .relaxed)
        }
        if current == nil { try openNext(startNanoseconds: receivedNanoseconds) }
        try current!.append(
            receivedNanoseconds: receivedNanoseconds, source: source, datagram: datagram, isTruncated: isTruncated,
            nowNanoseconds: nowNanoseconds)
        // An append writes only when it closes a full chunk: compare, so most appends store nothing.
        if current!.bytesWritten != publishedCurrentBytes { publishCounters() }
    }

    /// Writes the open chunk when its interval has passed (call it when idle, too).
    public func writeChunkIfDue(nowNanoseconds: UInt64) throws(RecordingError) {
        guard let writer = current, writer.isChunkDue(nowNanoseconds: nowNanoseconds) else { return }
        defer { publishCounters() }
        try writer.writeChunk()
        try enforceBudget()
    }

    /// Closes the current file (index and trailer written).
    public func close() throws(RecordingError) {
        try closeCurrent()
    }

    private func openNext(startNanoseconds: UInt64) throws(RecordingError) {
        sequence += 1
        let name = Self.fileName(startNanoseconds: startNanoseconds, sequence: sequence)
        current = try RecordingWriter(
            path: directory + "/" + name, startNanoseconds: startNanoseconds, gatewayVersion: gatewayVersion, options: options)
        counters.filesStartedTotal.add(1, ordering: .relaxed)
        counters.currentFileName.withLock { $0 = name }
        defer { publishCounters() }
        try enforceBudget()
    }

    private func closeCurrent() throws(RecordingError) {
        guard let writer = current else { return }
        current = nil
        counters.currentFileName.withLock { $0 = nil }
        // What the file got is written even when closing it fails.
        defer {
            closedBytesWritten += writer.bytesWritten
            closedChunksWritten += writer.chunkCount
            publishCounters()
        }
        try writer.close()
        filesClosed += 1
        finished.append((name: String(writer.path.split(separator: "/").last ?? ""), bytes: writer.bytesWritten))
        finishedBytes += writer.bytesWritten
        try enforceBudget()
    }

    /// Stores what changed into `counters` (relaxed: each value is read on its own).
    private func publishCounters() {
        let currentBytes = current?.bytesWritten ?? 0
        publishedCurrentBytes = currentBytes
        counters.bytesWrittenTotal.store(UInt64(closedBytesWritten + currentBytes), ordering: .relaxed)
        counters.chunksWrittenTotal.store(UInt64(closedChunksWritten + (current?.chunkCount ?? 0)), ordering: .relaxed)
        counters.currentFileBytesNow.store(currentBytes, ordering: .relaxed)
        counters.directoryBytesNow.store(finishedBytes + currentBytes, ordering: .relaxed)
    }

    /// Deletes the oldest finished recordings while the directory (with the current file at its
    /// maximum size) would exceed the budget.
    private func enforceBudget() throws(RecordingError) {
        let reserve = current == nil ? 0 : options.fileBytesMax
        var total = finished.reduce(0) { $0 + $1.bytes } + reserve
        // Bounded by the number of files listed.
        while total > options.directoryBytesMax, let oldest = finished.first {
            let path = directory + "/" + oldest.name
            if unlink(path) != 0 && errno != ENOENT { throw RecordingError.from(errno: errno, operation: "unlink", path: path) }
            finished.removeFirst()
            total -= oldest.bytes
            finishedBytes -= oldest.bytes
            counters.filesDeletedTotal.add(1, ordering: .relaxed)
            counters.bytesDeletedTotal.add(UInt64(oldest.bytes), ordering: .relaxed)
        }
    }

    /// `skygate-YYYYMMDDTHHMMSSZ-NNNNNN.skyrec`: names sort by start time, and the sequence keeps
    /// two files started in the same second apart.
    public static func fileName(startNanoseconds: UInt64, sequence: Int) -> String {
        let seconds = Int64(startNanoseconds / 1_000_000_000)
        let civil = CivilTime(secondsSinceEpoch: seconds)
        func pad(_ value: Int, _ width: Int) -> String { CivilTime.padded(value, width: width) }
        let stamp = pad(civil.year, 4) + pad(civil.month, 2) + pad(civil.day, 2) + "T" + pad(civil.hour, 2) + pad(civil.minute, 2)
            + pad(civil.second, 2) + "Z"
        return "skygate-\(stamp)-\(pad(sequence, 6)).\(RecordingFormat.fileExtension)"
    }

    /// The recordings this writer may delete, oldest first (names sort by time).
    static func listRecordings(in directory: String) throws(RecordingError) -> [(name: String, bytes: Int)] {
        guard let handle = opendir(directory) else { throw RecordingError.from(errno: errno, operation: "opendir", path: directory) }
        defer { closedir(handle) }
        var found: [(name: String, bytes: Int)] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasPrefix("skygate-") && name.hasSuffix("." + RecordingFormat.fileExtension) else { continue }
            var status = stat()
            guard stat(directory + "/" + name, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { continue }
            found.append((name: name, bytes: Int(status.st_size)))
        }
        return found.sorted { $0.name < $1.name }
    }
}

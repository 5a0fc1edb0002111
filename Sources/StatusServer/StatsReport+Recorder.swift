extension StatsReport {
    /// The flight recorder's part of `GET /api/stats` (`serve --record DIR`); absent when the
    /// gateway is not recording. Field names are the JSON keys (docs/operations.md, "Stats").
    public struct Recorder: Codable, Sendable, Equatable {
        public var directory: String
        /// Datagrams written into the recording, and their bytes as received (before compression).
        public var datagrams_recorded: UInt64
        public var datagram_bytes_recorded: UInt64
        /// Datagrams left out of the recording (never out of the database), by reason:
        /// `ring_full` (the recorder fell behind), `write_failed` (after a write error).
        public var datagrams_dropped: [String: UInt64]
        /// Bytes written into recording files (what this run put on disk, deleted files included),
        /// and the compressed chunks among them.
        public var bytes_written: UInt64
        public var chunks_written: UInt64
        /// Files started; closed to start a new one (size or age); deleted for the directory
        /// budget, with their bytes (an earlier run's files too).
        public var files_started: UInt64
        public var files_rotated: UInt64
        public var files_deleted: UInt64
        public var bytes_deleted: UInt64
        /// The file being written (name in `directory`) and its size so far; nil and 0 between files.
        public var current_file: String?
        public var current_file_bytes: Int
        /// What the recordings in the directory take now, and the budget (`--record-max-mib`).
        public var directory_bytes: Int
        public var directory_bytes_max: Int
        /// Datagrams copied by the processor's tap and not yet written, and the recorder ring's slots.
        public var ring_depth: Int
        public var ring_capacity: Int
        /// Why recording stopped (a write failed), if it did; the gateway goes on storing.
        public var failure: String?

        public init(
            directory: String, datagrams_recorded: UInt64, datagram_bytes_recorded: UInt64, datagrams_dropped: [String: UInt64],
            bytes_written: UInt64, chunks_written: UInt64, files_started: UInt64, files_rotated: UInt64, files_deleted: UInt64,
            bytes_deleted: UInt64, current_file: String?, current_file_bytes: Int, directory_bytes: Int, directory_bytes_max: Int,
            ring_depth: Int, ring_capacity: Int, failure: String?
        ) {
            self.directory = directory
            self.datagrams_recorded = datagrams_recorded
            self.datagram_bytes_recorded = datagram_bytes_recorded
            self.datagrams_dropped = datagrams_dropped
            self.bytes_written = bytes_written
            self.chunks_written = chunks_written
            self.files_started = files_started
            self.files_rotated = files_rotated
            self.files_deleted = files_deleted
            self.bytes_deleted = bytes_deleted
            self.current_file = current_file
            self.current_file_bytes = current_file_bytes
            self.directory_bytes = directory_bytes
            self.directory_bytes_max = directory_bytes_max
            self.ring_depth = ring_depth
            self.ring_capacity = ring_capacity
            self.failure = failure
        }
    }
}

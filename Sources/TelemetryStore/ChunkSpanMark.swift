/// The longest time any chunk of the file spans (`store_meta`, `chunk_span_max_us`), kept by the
/// writer in the transaction that writes a longer chunk. The chunk index is ordered by (protocol,
/// drone, end_us); a reader asking for chunks that overlap [lo, hi) can stop its index range at
/// end_us < hi + mark instead of reading every later chunk of the drone (a seek into the first
/// hour of a day-long history would otherwise step through the drone's whole day). A file no
/// writer of this version has opened has no mark: readers then scan as before.
enum ChunkSpanMark {
    static let name = "chunk_span_max_us"

    static func read(_ connection: SQLiteConnection) throws(StoreError) -> UInt64? {
        try connection.cachedInteger("SELECT value FROM store_meta WHERE name = '\(name)'").map { UInt64(clamping: $0) }
    }

    /// The longest span of any chunk: the mark, or on a file without one (a v4 to v6 file opened
    /// read-only; a writer adds the mark at open) the longest span in the chunk index, read by one
    /// scan of it.
    static func span(_ connection: SQLiteConnection) throws(StoreError) -> UInt64 {
        if let mark = try read(connection) { return mark }
        return UInt64(clamping: try connection.integer("SELECT coalesce(max(end_us - start_us), 0) FROM telemetry_chunk") ?? 0)
    }

    /// The exclusive upper bound on end_us of the chunks that can overlap a range ending (before)
    /// `upper`, or `Int64.max` without a mark.
    static func endBound(_ connection: SQLiteConnection, upper: UInt64) throws(StoreError) -> Int64 {
        guard let mark = try read(connection) else { return .max }
        return endBound(upper: upper, span: mark)
    }

    /// The exclusive upper bound on end_us of the chunks spanning at most `span` that can overlap
    /// a range ending (before) `upper`.
    static func endBound(upper: UInt64, span: UInt64) -> Int64 {
        let (sum, overflow) = upper.addingReportingOverflow(span)
        return overflow ? .max : Int64(clamping: sum)
    }
}

import Telemetry

extension TelemetryStore {
    /// Bytes an SQLite store opened with `options` allocates at open for its writer (the chunk
    /// layout): the arena and its sort buffer for `max(batchRowsMaximum, compactionStepSamples)`
    /// samples (53 + 48 bytes a sample), and the block buffer for
    /// `max(batchRowsMaximum, chunkSamplesMax)` samples (53 bytes each), the decoder compaction
    /// reads compressed recent blocks with, and when blocks are compressed the encoder (each a
    /// Zstandard workspace and a staging buffer; not counted: zlib's inflate state, ~7 KB, made
    /// with the decoder, and its 32 KB window, made at the first version 2 block). The figures
    /// follow `ChunkWriter.init` and `SortBuffer` as they stand; `/api/stats` shows them under `memory`.
    /// The page cache (`cacheSizeKiB`) is a bound SQLite fills as pages are touched, not counted here.
    public static func writerBufferBytes(options: StoreOptions) -> Int {
        let arenaBytesPerSample = 53
        let sortBytesPerSample = 2 * MemoryLayout<SortEntry>.stride
        let arenaSamples = ChunkWriter.arenaSamples(options)
        let blockSamples = max(options.batchRowsMaximum, options.chunkSamplesMax)
        let codecBytes = (options.compressesBlocks ? SampleCodec.encoderBytes() : 0) + SampleCodec.decoderBytes
        return arenaSamples * (arenaBytesPerSample + sortBytesPerSample) + 8 + blockSamples * arenaBytesPerSample + codecBytes
    }
}

import Telemetry

extension TelemetryStore {
    /// Bytes an SQLite store opened with `options` allocates at open for its writer (the chunk
    /// layout): the arena and its sort buffer for `max(batchRowsMaximum, compactionStepSamples)`
    /// samples (53 + 48 bytes a sample), and the block buffer for
    /// `max(batchRowsMaximum, chunkSamplesMax)` samples (53 bytes each), and when blocks are
    /// compressed the writer's encoder and decoder (their Zstandard workspaces and staging
    /// buffers; zlib's inflate state, ~40 KB, only once a version 2 block is read). The figures
    /// follow `ChunkWriter.init` and `SortBuffer` as they stand; `/api/stats` shows them under `memory`.
    /// The page cache (`cacheSizeKiB`) is a bound SQLite fills as pages are touched, not counted here.
    public static func writerBufferBytes(options: StoreOptions) -> Int {
        let arenaBytesPerSample = 53
        let sortBytesPerSample = 2 * MemoryLayout<SortEntry>.stride
        let arenaSamples = ChunkWriter.arenaSamples(options)
        let blockSamples = max(options.batchRowsMaximum, options.chunkSamplesMax)
        let codecBytes = options.compressesBlocks ? SampleCodec.encoderBytes() + SampleCodec.decoderBytes : 0
        return arenaSamples * (arenaBytesPerSample + sortBytesPerSample) + 8 + blockSamples * arenaBytesPerSample + codecBytes
    }
}

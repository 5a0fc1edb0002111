import Foundation
import Pipeline
import Synchronization
import Telemetry
import TelemetryStore
import TelemetryWire

/// The overload valve between the batch processor and the store writer: when every commit batch
/// is in flight, the processor appends its full batch here instead of waiting (which would let the
/// packet ring overflow), and the writer stores the spilled batches once its queue is empty.
/// Bounded by a byte budget; a batch that does not fit is dropped `spill_full`, counted.
///
/// Records (docs/storage.md, "Spill file"): a 16-byte header (magic `SKSP`, payload length, CRC-32C
/// of the payload, zero) and a payload of the record's number (`UInt64`), its units (`UInt32`),
/// the number of receive times kept (`UInt32`), those times (`UInt64` ns each), then the samples
/// as one `SampleBlock`. The store commits a spilled batch and the record's number in one
/// transaction (`TelemetryStore.write(_:spillSequence:)`), so at start-up `open` knows which
/// records are stored and replays only the rest: after kill -9 nothing is lost or stored twice.
/// The file is emptied whenever the writer has stored everything in it.
public final class SpillFile: @unchecked Sendable {
    // @unchecked: the offsets live in `state` (a Mutex taken once per batch, never per packet);
    // `writeStaging` is the processor's (used under the mutex) and `readStaging` the writer's, each
    // used by one thread.

    public static let magic: UInt32 = 0x5053_4B53  // "SKSP" little-endian
    public static let headerBytes = 16
    static let payloadFixedBytes = 16

    /// A record read back for the writer.
    public struct Record {
        public var sequence: UInt64
        public var units: Int
        public var samples: Int
    }

    struct State {
        var writeOffset: Int
        var readOffset: Int
        var nextSequence: UInt64
        var records: Int
        /// Where the record `takeNext` handed out last starts (for `putBack()`); -1: none.
        var lastTakenOffset: Int = -1
    }

    public let path: String
    public let budgetBytes: Int
    private let descriptor: Int32
    private let state: Mutex<State>
    /// Largest record this file was sized for: a record claiming more is damaged.
    private let recordBytesMax: Int
    private let writeStaging: UnsafeMutableRawBufferPointer
    private let readStaging: UnsafeMutableRawBufferPointer
    let spilledBatches = Atomic<UInt64>(0)
    let replayedBatches = Atomic<UInt64>(0)

    /// Largest record for a commit batch made with `samplesMax` (`Limits.commitSamplesMax`): up
    /// to that many samples per protocol, and that many units.
    public static func recordBytesMax(samplesMax: Int) -> Int {
        headerBytes + payloadFixedBytes + 8 * samplesMax + SampleBlock.size(count: 2 * samplesMax)
    }

    /// Opens (creating) the spill file and finds the records not yet stored: those numbered above
    /// `committedSequence` (the store's `spillCommittedSequence()`). A torn or damaged tail (a
    /// write cut short by kill -9) is cut off; records before it stay.
    public init(path: String, budgetBytes: Int, samplesMax: Int, committedSequence: UInt64) throws(StoreWriterError) {
        let recordMax = Self.recordBytesMax(samplesMax: samplesMax)
        guard budgetBytes >= recordMax else {
            throw StoreWriterError("--spill-budget \(budgetBytes) bytes cannot hold one full batch (\(recordMax) bytes)")
        }
        self.path = path
        self.budgetBytes = budgetBytes
        // Flight data: 0600 in a directory made 0700 (docs/security.md).
        let madeDirectory = PrivateFile.createDirectories(PrivateFile.directory(of: path))
        guard madeDirectory == 0 else { throw StoreWriterError("--spill \(path): \(String(cString: strerror(madeDirectory)))") }
        let descriptor = PrivateFile.open(path, flags: O_RDWR)
        guard descriptor >= 0 else { throw StoreWriterError("--spill \(path): \(String(cString: strerror(errno)))") }
        self.descriptor = descriptor
        recordBytesMax = recordMax
        // Records stream through two small buffers, one per thread, whatever the batch size (two
        // whole-record buffers were 7.8 MiB at the default batch). Zero-filled, so resident from
        // the start: the spill is used first when the writer falls behind, which is no moment to
        // fault pages in (a first spill late in the 10-minute soak stepped the resident size up
        // 4.4 MiB when the whole-record buffers were lazy).
        writeStaging = .allocate(byteCount: Limits.Store.spillStagingBytes, alignment: 16)
        writeStaging.initializeMemory(as: UInt8.self, repeating: 0)
        readStaging = .allocate(byteCount: Limits.Store.spillStagingBytes, alignment: 16)
        readStaging.initializeMemory(as: UInt8.self, repeating: 0)
        var scan = State(writeOffset: 0, readOffset: -1, nextSequence: committedSequence + 1, records: 0)
        var offset = 0
        // Bounded: each step advances past one record, and the file is finite.
        while let record = Self.checkRecord(descriptor, at: offset, recordBytesMax: recordMax, staging: readStaging) {
            if record.sequence > committedSequence {
                if scan.readOffset < 0 { scan.readOffset = offset }
                scan.records += 1
            }
            scan.nextSequence = max(scan.nextSequence, record.sequence + 1)
            offset += record.bytes
        }
        if scan.records == 0 {
            offset = 0
            scan.readOffset = 0
        }
        if ftruncate(descriptor, off_t(offset)) != 0 {
            close(descriptor)
            throw StoreWriterError("--spill \(path): \(String(cString: strerror(errno)))")
        }
        scan.writeOffset = offset
        state = Mutex(scan)
        firstSequenceOfRun = scan.nextSequence
    }

    /// Records numbered below this were spilled by an earlier run (replayed at start-up).
    public let firstSequenceOfRun: UInt64

    deinit {
        close(descriptor)
        writeStaging.deallocate()
        readStaging.deallocate()
    }

    /// Records waiting for the writer.
    public var pendingRecords: Int { state.withLock { $0.records } }
    /// Bytes the file holds.
    public var bytesUsed: Int { state.withLock { $0.writeOffset } }
    public var spilledBatchCount: UInt64 { spilledBatches.load(ordering: .relaxed) }
    public var replayedBatchCount: UInt64 { replayedBatches.load(ordering: .relaxed) }

    public enum AppendOutcome: Equatable {
        case spilled
        /// The budget is spent: the batch is not kept.
        case full
        /// The file could not be written (disk full, I/O error): the batch is not kept.
        case failed
    }

    /// Appends `batch` as one record (processor thread). The batch is not changed.
    public func append(_ batch: TelemetryBatch) -> AppendOutcome {
        let samples = batch.sampleCount
        let times = batch.unitReceiveTimes
        let payloadBytes = Self.payloadFixedBytes + 8 * times.count + SampleBlock.size(count: samples)
        let recordBytes = Self.headerBytes + payloadBytes
        precondition(recordBytes <= recordBytesMax, "a batch larger than the spill file was sized for")
        return state.withLock { state -> AppendOutcome in
            guard state.writeOffset + recordBytes <= budgetBytes else { return .full }
            let sequence = state.nextSequence
            // The payload goes first, a staging buffer at a time, folded into its CRC; the header
            // last, so a write cut short leaves no record start behind it (`open` cuts it off).
            var crc: UInt32 = 0
            var at = state.writeOffset + Self.headerBytes
            var written = true
            let staging = writeStaging
            let descriptor = descriptor
            func emit(_ piece: UnsafeRawBufferPointer) {
                crc = CRC32C.checksum(piece, continuing: crc)
                if written { written = Self.writeAll(descriptor, piece, at: at) }
                at += piece.count
            }
            var used = 0
            func put(_ value: UInt64) {
                if used + 8 > staging.count {
                    emit(UnsafeRawBufferPointer(rebasing: staging[0..<used]))
                    used = 0
                }
                staging.storeBytes(of: value.littleEndian, toByteOffset: used, as: UInt64.self)
                used += 8
            }
            put(sequence)
            put(UInt64(UInt32(truncatingIfNeeded: batch.units)) | UInt64(UInt32(times.count)) << 32)
            for time in times { put(time) }
            emit(UnsafeRawBufferPointer(rebasing: staging[0..<used]))
            _ = SampleBlock.encode(
                [StoreBatchPart(protocol: .skygate, columns: batch.skygate), StoreBatchPart(protocol: .mavlink, columns: batch.mavlink)],
                through: staging, emit: emit)
            staging.storeBytes(of: Self.magic.littleEndian, toByteOffset: 0, as: UInt32.self)
            staging.storeBytes(of: UInt32(payloadBytes).littleEndian, toByteOffset: 4, as: UInt32.self)
            staging.storeBytes(of: crc.littleEndian, toByteOffset: 8, as: UInt32.self)
            staging.storeBytes(of: UInt32(0), toByteOffset: 12, as: UInt32.self)
            guard written, at == state.writeOffset + recordBytes,
                  Self.writeAll(descriptor, UnsafeRawBufferPointer(rebasing: staging[0..<Self.headerBytes]), at: state.writeOffset)
            else {
                // Cut off whatever part was written, so the file stays a sequence of records.
                _ = ftruncate(descriptor, off_t(state.writeOffset))
                return .failed
            }
            state.writeOffset += recordBytes
            state.nextSequence += 1
            state.records += 1
            spilledBatches.add(1, ordering: .relaxed)
            return .spilled
        }
    }

    /// Reads the oldest record not yet handed out into `batch` (writer thread); nil when none is
    /// waiting. A record whose samples cannot be unpacked is skipped with its units in
    /// `unreadableUnits`; one that fails its checks (damaged since it was written) ends the file:
    /// nothing after it can be trusted to start a record.
    public func takeNext(into batch: TelemetryBatch) -> (record: Record?, unreadableUnits: Int, sequence: UInt64?)? {
        let position = state.withLock { state -> (offset: Int, end: Int)? in
            state.records > 0 ? (state.readOffset, state.writeOffset) : nil
        }
        guard let position else { return nil }
        batch.reset()
        guard let record = Self.checkRecord(descriptor, at: position.offset, recordBytesMax: recordBytesMax, staging: readStaging),
              position.offset + record.bytes <= position.end
        else {
            // Damaged: nothing after it can be trusted to be a record boundary.
            state.withLock { state in
                state.records = 0
                state.readOffset = state.writeOffset
            }
            return (nil, 0, nil)
        }
        // Checked whole by `checkRecord`; read again a piece at a time (from the page cache).
        let payloadStart = position.offset + Self.headerBytes
        let timesStart = payloadStart + Self.payloadFixedBytes
        let blockStart = timesStart + 8 * record.timesKept
        let descriptor = descriptor
        let decoded = SampleBlock.decode(
            blockBytes: position.offset + record.bytes - blockStart, staging: readStaging,
            read: { offset, into in Self.readAll(descriptor, into, at: blockStart + offset) },
            skygate: batch.skygate, mavlink: batch.mavlink)
        var times = [UInt64](repeating: 0, count: decoded ? record.timesKept : 0)
        let timesRead = decoded && times.withUnsafeMutableBytes { Self.readAll(descriptor, $0, at: timesStart) }
        state.withLock { state in
            state.readOffset = position.offset + record.bytes
            state.records -= 1
            state.lastTakenOffset = position.offset
        }
        guard timesRead else {
            batch.reset()
            return (nil, record.units, record.sequence)
        }
        for index in times.indices { times[index] = UInt64(littleEndian: times[index]) }
        times.withUnsafeBufferPointer { batch.restoreUnits(record.units, receiveTimes: $0) }
        return (Record(sequence: record.sequence, units: record.units, samples: batch.sampleCount), 0, record.sequence)
    }

    /// The record `takeNext` handed out last could not be stored now (the database is away):
    /// it is the next one handed out again.
    public func putBack() {
        state.withLock { state in
            guard state.lastTakenOffset >= 0 else { return }
            state.readOffset = state.lastTakenOffset
            state.records += 1
            state.lastTakenOffset = -1
        }
    }

    /// After the writer stored (or gave up on) a record it took: empties the file once every
    /// record in it is stored, so the budget is whole again.
    public func didStore() {
        replayedBatches.add(1, ordering: .relaxed)
        state.withLock { state in
            guard state.records == 0, state.readOffset == state.writeOffset, state.writeOffset > 0 else { return }
            if ftruncate(descriptor, 0) == 0 {
                state.writeOffset = 0
                state.readOffset = 0
            }
        }
    }

    // MARK: File access

    private static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        var done = 0
        // Bounded: each pass writes at least one byte or fails.
        while done < bytes.count {
            let written = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return false }
            done += written
        }
        return true
    }

    private static func readAll(_ descriptor: Int32, _ bytes: UnsafeMutableRawBufferPointer, at offset: Int) -> Bool {
        var done = 0
        while done < bytes.count {
            let read = pread(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if read < 0 && errno == EINTR { continue }
            guard read > 0 else { return false }
            done += read
        }
        return true
    }

    /// The record at `offset`, checked (magic, length, CRC) by reading it through `staging`; nil
    /// at the end of the file or at a torn or damaged record.
    private static func checkRecord(
        _ descriptor: Int32, at offset: Int, recordBytesMax: Int, staging: UnsafeMutableRawBufferPointer
    ) -> (sequence: UInt64, units: Int, timesKept: Int, bytes: Int)? {
        let header = UnsafeMutableRawBufferPointer(rebasing: staging[0..<headerBytes])
        guard readAll(descriptor, header, at: offset) else { return nil }
        guard UInt32(littleEndian: header.loadUnaligned(fromByteOffset: 0, as: UInt32.self)) == magic else { return nil }
        let payloadBytes = Int(UInt32(littleEndian: header.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
        let crc = UInt32(littleEndian: header.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard payloadBytes >= payloadFixedBytes + SampleBlock.headerBytes, headerBytes + payloadBytes <= recordBytesMax else { return nil }
        var checked: UInt32 = 0
        var done = 0
        // Bounded: each pass checks up to a staging buffer more of the payload.
        while done < payloadBytes {
            let piece = UnsafeMutableRawBufferPointer(rebasing: staging[0..<min(staging.count, payloadBytes - done)])
            guard readAll(descriptor, piece, at: offset + headerBytes + done) else { return nil }
            checked = CRC32C.checksum(UnsafeRawBufferPointer(piece), continuing: checked)
            done += piece.count
        }
        guard checked == crc else { return nil }
        let fixed = UnsafeMutableRawBufferPointer(rebasing: staging[0..<payloadFixedBytes])
        guard readAll(descriptor, fixed, at: offset + headerBytes) else { return nil }
        let timesKept = Int(UInt32(littleEndian: fixed.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
        guard payloadFixedBytes + 8 * timesKept + SampleBlock.headerBytes <= payloadBytes else { return nil }
        return (
            UInt64(littleEndian: fixed.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
            Int(UInt32(littleEndian: fixed.loadUnaligned(fromByteOffset: 8, as: UInt32.self))),
            timesKept,
            headerBytes + payloadBytes
        )
    }
}

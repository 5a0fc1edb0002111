import Foundation
import Pipeline
import StoreWriter
import SkygateTestSupport
import Telemetry
import TelemetryStore
import TelemetryWire
import Testing

/// The spill file on its own (records back exactly, the budget, a torn tail, the committed mark)
/// and in the commit loop: a writer made slow on purpose overflows into the spill, and afterwards
/// every frame is stored exactly once.
@Suite struct SpillTests {
    static func filledBatch(drones: ClosedRange<UInt32>, first: Int, perDrone: Int, samplesMax: Int = 1_024) -> TelemetryBatch {
        let batch = TelemetryBatch(samplesMax: samplesMax)
        for index in first..<(first + perDrone) {
            for drone in drones {
                let sample = WireSample(
                    latitudeE7: 473_977_000 + Int32(index), longitudeE7: 85_456_000 - Int32(drone), altitudeMM: 450_000,
                    batteryMillivolts: 16_000, batteryPercent: 80, satellites: 12, status: .gpsFix)
                let columns = drone % 2 == 0 ? batch.mavlink : batch.skygate
                columns.append(sample, droneID: drone, sequence: UInt32(index), timestampMicroseconds: 1_767_225_600_000_000 + UInt64(index) * 1_000)
            }
        }
        let times = (0..<batch.sampleCount).map { UInt64(1_000 + $0) }
        times.withUnsafeBufferPointer { batch.restoreUnits(batch.sampleCount, receiveTimes: $0) }
        return batch
    }

    @Test func recordsComeBackExactlyAndTheFileEmptiesWhenStored() throws {
        let directory = TemporaryDirectory()
        let spill = try SpillFile(
            path: directory.file("s.spill"), budgetBytes: 8 << 20, samplesMax: 1_024, committedSequence: 0)
        let first = Self.filledBatch(drones: 1...4, first: 0, perDrone: 50)
        let second = Self.filledBatch(drones: 5...6, first: 7, perDrone: 3)
        #expect(spill.append(first) == .spilled)
        #expect(spill.append(second) == .spilled)
        #expect(spill.pendingRecords == 2 && spill.bytesUsed > 0)
        let back = TelemetryBatch(samplesMax: 1_024)
        for (number, original) in [(UInt64(1), first), (2, second)] {
            let taken = try #require(spill.takeNext(into: back))
            let record = try #require(taken.record)
            #expect(record.sequence == number)
            #expect(record.units == original.units && back.units == original.units)
            #expect(Array(back.unitReceiveTimes) == Array(original.unitReceiveTimes))
            #expect(back.skygate.count == original.skygate.count && back.mavlink.count == original.mavlink.count)
            for row in 0..<original.skygate.count {
                #expect(back.skygate.sample(at: row) == original.skygate.sample(at: row))
                #expect(back.skygate.droneID(at: row) == original.skygate.droneID(at: row))
                #expect(back.skygate.timestampMicroseconds(at: row) == original.skygate.timestampMicroseconds(at: row))
            }
            spill.didStore()
        }
        #expect(spill.takeNext(into: back) == nil)
        #expect(spill.bytesUsed == 0)  // emptied once everything in it was stored
    }

    @Test func aRecordLargerThanTheStagingBuffersStreamsBothWays() throws {
        // 8,000 samples (a 424 KB record) pass through the 64 KiB staging buffers a piece at a
        // time: the file holds exactly the documented record, every row comes back, and a byte
        // changed in the middle of a payload fails its CRC, so reopening cuts the file there.
        let directory = TemporaryDirectory()
        let path = directory.file("big.spill")
        let samplesMax = 4_096
        #expect(SpillFile.recordBytesMax(samplesMax: samplesMax) > 4 * Limits.Store.spillStagingBytes)
        let batch = Self.filledBatch(drones: 1...400, first: 0, perDrone: 20, samplesMax: samplesMax)
        #expect(batch.skygate.count == 4_000 && batch.mavlink.count == 4_000)
        let recordBytes = 16 + 16 + 8 * batch.unitReceiveTimes.count + SampleBlock.size(count: 8_000)
        do {
            let spill = try SpillFile(path: path, budgetBytes: 8 << 20, samplesMax: samplesMax, committedSequence: 0)
            #expect(spill.append(batch) == .spilled)
            #expect(spill.bytesUsed == recordBytes)
            let back = TelemetryBatch(samplesMax: samplesMax)
            let record = try #require(spill.takeNext(into: back)?.record)
            #expect(record.sequence == 1 && record.samples == 8_000 && back.units == batch.units)
            #expect(Array(back.unitReceiveTimes) == Array(batch.unitReceiveTimes))
            for (original, copy) in [(batch.skygate, back.skygate), (batch.mavlink, back.mavlink)] {
                #expect(copy.count == original.count)
                for row in 0..<original.count {
                    #expect(copy.sample(at: row) == original.sample(at: row))
                    #expect(copy.droneID(at: row) == original.droneID(at: row))
                    #expect(copy.sequence(at: row) == original.sequence(at: row))
                    #expect(copy.timestampMicroseconds(at: row) == original.timestampMicroseconds(at: row))
                }
            }
            #expect(spill.append(batch) == .spilled)
        }
        let bytes = try #require(FileManager.default.contents(atPath: path))
        #expect(bytes.count == 2 * recordBytes)
        // The header as docs/storage.md gives it: magic, payload length, CRC-32C of the payload.
        #expect(bytes.prefix(4) == Data("SKSP".utf8))
        #expect(bytes[4..<8].withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) } == UInt32(recordBytes - 16))
        let crc = bytes[16..<recordBytes].withUnsafeBytes { CRC32C.checksum($0) }
        #expect(bytes[8..<12].withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) } == crc)
        var damaged = bytes
        damaged[recordBytes + recordBytes / 2] ^= 0x40
        #expect(FileManager.default.createFile(atPath: path, contents: damaged))
        let reopened = try SpillFile(path: path, budgetBytes: 8 << 20, samplesMax: samplesMax, committedSequence: 0)
        #expect(reopened.pendingRecords == 1)
        #expect(reopened.bytesUsed == recordBytes)
        let back = TelemetryBatch(samplesMax: samplesMax)
        #expect(reopened.takeNext(into: back)?.record?.samples == 8_000)
        #expect(reopened.takeNext(into: back) == nil)
    }

    @Test func budgetRefusesWhatDoesNotFit() throws {
        let directory = TemporaryDirectory()
        let budget = SpillFile.recordBytesMax(samplesMax: 64)
        let spill = try SpillFile(path: directory.file("s.spill"), budgetBytes: budget, samplesMax: 64, committedSequence: 0)
        let batch = Self.filledBatch(drones: 1...8, first: 0, perDrone: 8, samplesMax: 64)
        #expect(spill.append(batch) == .spilled)
        #expect(spill.append(batch) == .full)
        #expect(spill.pendingRecords == 1)
        #expect(throws: StoreWriterError.self) {
            _ = try SpillFile(path: directory.file("t.spill"), budgetBytes: budget - 1, samplesMax: 64, committedSequence: 0)
        }
    }

    @Test func reopeningSkipsStoredRecordsAndCutsATornTail() throws {
        // Three records; the store says the first is stored; the last is torn (kill -9 mid-write).
        // Reopening hands out only the second, numbers new records after the highest seen, and
        // leaves the file without the torn bytes.
        let directory = TemporaryDirectory()
        let path = directory.file("s.spill")
        do {
            let spill = try SpillFile(path: path, budgetBytes: 8 << 20, samplesMax: 1_024, committedSequence: 0)
            for first in [0, 10, 20] { #expect(spill.append(Self.filledBatch(drones: 1...3, first: first, perDrone: 10)) == .spilled) }
        }
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: UInt64(size - 10))
        try handle.close()
        let reopened = try SpillFile(path: path, budgetBytes: 8 << 20, samplesMax: 1_024, committedSequence: 1)
        #expect(reopened.pendingRecords == 1)
        #expect(reopened.firstSequenceOfRun == 3)
        let back = TelemetryBatch(samplesMax: 1_024)
        let record = try #require(reopened.takeNext(into: back)?.record)
        #expect(record.sequence == 2 && back.skygate.sequence(at: 0) == 10)
        #expect(reopened.takeNext(into: back) == nil)
        #expect(reopened.append(Self.filledBatch(drones: 1...1, first: 0, perDrone: 1)) == .spilled)
        #expect(reopened.takeNext(into: back)?.record?.sequence == 3)
    }

    @Test func slowWriterOverflowsIntoTheSpillAndEveryFrameIsStoredOnce() throws {
        // The writer sleeps 30 ms before each commit while the processor hands off a batch of
        // ~400 samples at a time without pause: batches pile up, the processor never waits, the
        // overflow goes to the spill file, and after the drain all 20,000 frames are stored once,
        // the accounting balances and the spill file is empty.
        let directory = TemporaryDirectory()
        let store = try TelemetryStore(path: directory.file("slow.db"))
        let counters = IngestCounters()
        var rawLimits = Limits()
        rawLimits.commitSamplesMax = 512
        let limits = try ValidLimits(rawLimits)
        let spill = try SpillFile(
            path: directory.file("slow.spill"), budgetBytes: 64 << 20, samplesMax: 512,
            committedSequence: try store.spillCommittedSequence())
        let commits = CommitLoop(
            store: store, limits: limits, counters: counters, hooks: CommitLoop.Hooks(recordsLatency: true, commitDelay: .milliseconds(30)),
            spill: spill)
        let processor = TestProcessor(limits: limits, counters: counters, batch: commits.firstBatch)
        commits.start(threadName: "skygate-test-slow")
        let frames = 20_000
        for _ in 0..<frames { counters.countDatagram(bytes: 80) }
        CommitLoopTests.feed(frames, processor: processor, commits: commits)
        // The processor did not wait for the writer: the feeding is over while spilled batches
        // still wait (at 30 ms a commit the writer needs ~1.5 s for the ~50 batches).
        #expect(spill.spilledBatchCount > 0, "the slow writer never fell behind")
        #expect(spill.pendingRecords > 0)
        commits.finish()
        let snapshot = counters.snapshot()
        #expect(snapshot.stored == UInt64(frames))
        #expect(snapshot.droppedTotal == 0)
        #expect(snapshot.isBalanced)
        #expect(spill.pendingRecords == 0 && spill.bytesUsed == 0)
        #expect(spill.replayedBatchCount == spill.spilledBatchCount)
        #expect(try store.rowCount() == frames)
        var keys = Set<UInt64>()
        try store.readSamples { page in
            for row in page { keys.insert(UInt64(row.drone.number) << 32 | UInt64(row.sequence)) }
            return true
        }
        #expect(keys.count == frames)  // no frame twice, none missing
        #expect(try store.spillCommittedSequence() == UInt64(spill.spilledBatchCount))
        store.close()
    }
}

import Testing
import TelemetryWire

/// What the counting storage below saw: blocks handed out and given back, and their sizes.
/// Only `theColumnsTakeOneBlockFromTheirStorageAndGiveItBack` touches these (serialized).
nonisolated(unsafe) private var allocatedSizes: [Int] = []
nonisolated(unsafe) private var releasedSizes: [Int] = []
nonisolated(unsafe) private var blocks: [UnsafeMutableRawPointer] = []

/// `SampleColumns` takes all its columns as one block from the `ColumnStorage` it is given (the
/// gateway passes zero pages; firmware can pass its own), lays them out on cache lines inside it,
/// and gives the same block back on deinit.
@Suite(.serialized) struct SampleColumnsStorageTests {
    static let counting = ColumnStorage(
        allocate: { bytes in
            let block = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            block.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
            allocatedSizes.append(bytes)
            blocks.append(block)
            return block
        },
        deallocate: { block, bytes in
            releasedSizes.append(bytes)
            #expect(blocks.contains(block))
            block.deallocate()
        })

    @Test func theColumnsTakeOneBlockFromTheirStorageAndGiveItBack() {
        allocatedSizes = []
        releasedSizes = []
        blocks = []
        for capacity in [1, 3, 17, 1_000] {
            do {
                let columns = SampleColumns(capacity: capacity, storage: Self.counting)
                #expect(columns.allocatedBytes == SampleColumns.storageBytes(capacity: capacity))
                #expect(columns.allocatedBytes >= capacity * SampleColumns.bytesPerRow)
                // Each of the 14 columns rounded up to one cache line at most.
                #expect(columns.allocatedBytes < capacity * SampleColumns.bytesPerRow + 14 * 64)
                // Fill every row to the last and read each back: no column overlaps another.
                func sample(_ row: Int) -> WireSample {
                    WireSample(
                        latitudeE7: Int32(row), longitudeE7: -Int32(row), altitudeMM: Int32(row) * 3,
                        velocityNorthCMS: Int16(truncatingIfNeeded: row), velocityEastCMS: -1, velocityDownCMS: 2,
                        headingCentidegrees: UInt16(truncatingIfNeeded: row), batteryMillivolts: 16_000, batteryPercent: 90,
                        satellites: UInt8(truncatingIfNeeded: row), status: .gpsFix)
                }
                for row in 0..<capacity {
                    columns.append(sample(row), droneID: UInt32(row), sequence: UInt32(row) &* 7, timestampMicroseconds: UInt64(row) << 20)
                }
                #expect(columns.count == capacity)
                for row in 0..<capacity {
                    #expect(columns.sample(at: row) == sample(row))
                    #expect(columns.droneID(at: row) == UInt32(row))
                    #expect(columns.sequence(at: row) == UInt32(row) &* 7)
                    #expect(columns.timestampMicroseconds(at: row) == UInt64(row) << 20)
                }
            }
        }
        #expect(allocatedSizes == [1, 3, 17, 1_000].map { SampleColumns.storageBytes(capacity: $0) })
        #expect(releasedSizes == allocatedSizes, "every block given back once, with its size")
    }
}

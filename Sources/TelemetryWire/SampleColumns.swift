/// Decoded samples as a struct of arrays: one contiguous column per field, allocated once with a
/// fixed capacity and reused batch after batch. Hot loops (validation, derivation) run over single
/// columns so the compiler can vectorise them; the decoder appends without allocating.
///
/// Each row carries its frame's drone id, sequence and the sample's absolute timestamp.
public final class SampleColumns {
    /// Rows the columns can hold.
    public let capacity: Int
    @usableFromInline var countStorage: Int = 0
    /// Rows currently held.
    @inlinable public var count: Int { countStorage }

    @usableFromInline let droneIDStorage: UnsafeMutablePointer<UInt32>
    @usableFromInline let sequenceStorage: UnsafeMutablePointer<UInt32>
    @usableFromInline let timestampStorage: UnsafeMutablePointer<UInt64>
    @usableFromInline let latitudeStorage: UnsafeMutablePointer<Int32>
    @usableFromInline let longitudeStorage: UnsafeMutablePointer<Int32>
    @usableFromInline let altitudeStorage: UnsafeMutablePointer<Int32>
    @usableFromInline let velocityNorthStorage: UnsafeMutablePointer<Int16>
    @usableFromInline let velocityEastStorage: UnsafeMutablePointer<Int16>
    @usableFromInline let velocityDownStorage: UnsafeMutablePointer<Int16>
    @usableFromInline let headingStorage: UnsafeMutablePointer<UInt16>
    @usableFromInline let batteryMillivoltsStorage: UnsafeMutablePointer<UInt16>
    @usableFromInline let batteryPercentStorage: UnsafeMutablePointer<UInt8>
    @usableFromInline let satellitesStorage: UnsafeMutablePointer<UInt8>
    @usableFromInline let statusStorage: UnsafeMutablePointer<UInt32>

    /// Bytes of column storage per row (the sum of the fourteen columns' element sizes).
    public static let bytesPerRow = 44

    /// Where the columns' storage comes from, and the bytes of it.
    let storage: ColumnStorage
    let storageBytes: Int

    /// Bytes of column storage, allocated by `init` (`bytesPerRow` a row, each column rounded up to
    /// a whole cache line).
    public var allocatedBytes: Int { storageBytes }

    /// Bytes of one column of `width`-byte values: `capacity` of them, rounded up to a cache line.
    @inline(__always) static func columnBytes(capacity: Int, width: Int) -> Int { (capacity * width + 63) & ~63 }

    /// Bytes of the block `init(capacity:storage:)` takes: six 4-byte columns, one of 8, five of
    /// 2 and two of 1 (the declarations above), each on its own cache lines.
    public static func storageBytes(capacity: Int) -> Int {
        6 * columnBytes(capacity: capacity, width: 4) + columnBytes(capacity: capacity, width: 8)
            + 5 * columnBytes(capacity: capacity, width: 2) + 2 * columnBytes(capacity: capacity, width: 1)
    }

    /// Allocates every column for `capacity` rows in one block from `storage`, each column
    /// starting on a cache line. Rows are read only below `count`, so the block's first contents
    /// do not matter; both storages here give zeros.
    public init(capacity: Int, storage: ColumnStorage = .heap) {
        precondition(capacity > 0, "SampleColumns needs a positive capacity")
        self.capacity = capacity
        self.storage = storage
        func bytes(_ width: Int) -> Int { Self.columnBytes(capacity: capacity, width: width) }
        let total = Self.storageBytes(capacity: capacity)
        guard let base = storage.allocate(total) else { fatalError("SampleColumns: no storage for \(total) bytes") }
        storageBytes = total
        var offset = 0
        var rowBytes = 0
        func column<T: FixedWidthInteger>(_: T.Type) -> UnsafeMutablePointer<T> {
            let pointer = (base + offset).bindMemory(to: T.self, capacity: capacity)
            rowBytes += MemoryLayout<T>.stride
            offset += bytes(MemoryLayout<T>.stride)
            return pointer
        }
        droneIDStorage = column(UInt32.self)
        sequenceStorage = column(UInt32.self)
        timestampStorage = column(UInt64.self)
        latitudeStorage = column(Int32.self)
        longitudeStorage = column(Int32.self)
        altitudeStorage = column(Int32.self)
        velocityNorthStorage = column(Int16.self)
        velocityEastStorage = column(Int16.self)
        velocityDownStorage = column(Int16.self)
        headingStorage = column(UInt16.self)
        batteryMillivoltsStorage = column(UInt16.self)
        batteryPercentStorage = column(UInt8.self)
        satellitesStorage = column(UInt8.self)
        statusStorage = column(UInt32.self)
        assert(rowBytes == Self.bytesPerRow, "SampleColumns.bytesPerRow is \(Self.bytesPerRow), the columns take \(rowBytes)")
        assert(offset == total, "SampleColumns laid out \(offset) of \(total) bytes")
    }

    deinit {
        storage.deallocate(UnsafeMutableRawPointer(droneIDStorage), storageBytes)
    }

    /// Rows that can still be appended.
    @inlinable public var remainingCapacity: Int { capacity &- count }

    /// Forgets every row; the storage stays allocated.
    @inlinable public func removeAll() { countStorage = 0 }

    /// Makes room for `rows` more rows and returns the index of the first; the caller fills them.
    @inlinable
    func reserveRows(_ rows: Int) -> Int {
        precondition(rows <= remainingCapacity, "SampleColumns overflow: caller must check remainingCapacity")
        let first = count
        countStorage = first &+ rows
        return first
    }

    /// Removes the last `rows` rows (a frame refused after decoding, such as a duplicate).
    @inlinable
    public func removeLast(_ rows: Int) {
        precondition(rows >= 0 && rows <= count)
        countStorage &-= rows
    }

    /// Appends one sample with its frame's identity.
    @inlinable
    public func append(_ sample: WireSample, header: FrameHeader) {
        append(
            sample, droneID: header.droneID, sequence: header.sequence,
            timestampMicroseconds: header.timestampMicroseconds &+ UInt64(sample.timeOffsetMicroseconds))
    }

    /// Appends one sample with its identity given directly (a store or spill file reading back).
    @inlinable
    public func append(_ sample: WireSample, droneID: UInt32, sequence: UInt32, timestampMicroseconds: UInt64) {
        let row = reserveRows(1)
        droneIDStorage[row] = droneID
        sequenceStorage[row] = sequence
        timestampStorage[row] = timestampMicroseconds
        latitudeStorage[row] = sample.latitudeE7
        longitudeStorage[row] = sample.longitudeE7
        altitudeStorage[row] = sample.altitudeMM
        velocityNorthStorage[row] = sample.velocityNorthCMS
        velocityEastStorage[row] = sample.velocityEastCMS
        velocityDownStorage[row] = sample.velocityDownCMS
        headingStorage[row] = sample.headingCentidegrees
        batteryMillivoltsStorage[row] = sample.batteryMillivolts
        batteryPercentStorage[row] = sample.batteryPercent
        satellitesStorage[row] = sample.satellites
        statusStorage[row] = sample.status.rawValue
    }

    /// The sample at `row`, with its timestamp made relative to nothing (offset 0, absolute time
    /// in `timestampMicroseconds(at:)`).
    @inlinable
    public func sample(at row: Int) -> WireSample {
        precondition(row >= 0 && row < count)
        return WireSample(
            timeOffsetMicroseconds: 0, latitudeE7: latitudeStorage[row], longitudeE7: longitudeStorage[row],
            altitudeMM: altitudeStorage[row], velocityNorthCMS: velocityNorthStorage[row],
            velocityEastCMS: velocityEastStorage[row], velocityDownCMS: velocityDownStorage[row],
            headingCentidegrees: headingStorage[row], batteryMillivolts: batteryMillivoltsStorage[row],
            batteryPercent: batteryPercentStorage[row], satellites: satellitesStorage[row],
            status: StatusFlags(rawValue: statusStorage[row]))
    }

    @inlinable public func droneID(at row: Int) -> UInt32 { precondition(row < count); return droneIDStorage[row] }
    @inlinable public func sequence(at row: Int) -> UInt32 { precondition(row < count); return sequenceStorage[row] }
    @inlinable public func timestampMicroseconds(at row: Int) -> UInt64 {
        precondition(row < count)
        return timestampStorage[row]
    }

    // Whole columns, for the vectorisable loops of later stages. Valid until the next mutation.
    @inlinable public var droneIDs: UnsafeBufferPointer<UInt32> { .init(start: droneIDStorage, count: count) }
    @inlinable public var sequences: UnsafeBufferPointer<UInt32> { .init(start: sequenceStorage, count: count) }
    @inlinable public var timestampsMicroseconds: UnsafeBufferPointer<UInt64> {
        .init(start: timestampStorage, count: count)
    }
    @inlinable public var latitudesE7: UnsafeBufferPointer<Int32> { .init(start: latitudeStorage, count: count) }
    @inlinable public var longitudesE7: UnsafeBufferPointer<Int32> { .init(start: longitudeStorage, count: count) }
    @inlinable public var altitudesMM: UnsafeBufferPointer<Int32> { .init(start: altitudeStorage, count: count) }
    @inlinable public var velocitiesNorthCMS: UnsafeBufferPointer<Int16> {
        .init(start: velocityNorthStorage, count: count)
    }
    @inlinable public var velocitiesEastCMS: UnsafeBufferPointer<Int16> {
        .init(start: velocityEastStorage, count: count)
    }
    @inlinable public var velocitiesDownCMS: UnsafeBufferPointer<Int16> {
        .init(start: velocityDownStorage, count: count)
    }
    @inlinable public var headingsCentidegrees: UnsafeBufferPointer<UInt16> {
        .init(start: headingStorage, count: count)
    }
    @inlinable public var batteriesMillivolts: UnsafeBufferPointer<UInt16> {
        .init(start: batteryMillivoltsStorage, count: count)
    }
    @inlinable public var batteriesPercent: UnsafeBufferPointer<UInt8> {
        .init(start: batteryPercentStorage, count: count)
    }
    @inlinable public var satellites: UnsafeBufferPointer<UInt8> { .init(start: satellitesStorage, count: count) }
    @inlinable public var statuses: UnsafeBufferPointer<UInt32> { .init(start: statusStorage, count: count) }
}

/// Where `SampleColumns` gets its one block of storage: a pair of C function pointers, so firmware
/// (Embedded Swift, no platform modules here) and the gateway can each plug in their own (the
/// gateway's commit batches pass `ZeroPages`, resident only as rows are written).
public struct ColumnStorage: Sendable {
    /// Returns a block of `bytes` bytes aligned to at least 64, or nil.
    public var allocate: @convention(c) (Int) -> UnsafeMutableRawPointer?
    /// Releases a block `allocate` returned, given its size.
    public var deallocate: @convention(c) (UnsafeMutableRawPointer, Int) -> Void

    public init(
        allocate: @convention(c) (Int) -> UnsafeMutableRawPointer?,
        deallocate: @convention(c) (UnsafeMutableRawPointer, Int) -> Void
    ) {
        self.allocate = allocate
        self.deallocate = deallocate
    }

    /// A heap allocation filled with zeros (resident from the start).
    public static var heap: ColumnStorage {
        ColumnStorage(
            allocate: { bytes in
                let block = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
                block.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
                return block
            },
            deallocate: { block, _ in block.deallocate() })
    }
}

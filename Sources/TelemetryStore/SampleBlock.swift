import Telemetry
import TelemetryWire

/// The packed form in which the store keeps samples: one blob per recent batch
/// (`telemetry_recent`) and one per drone chunk (`telemetry_chunk`). docs/storage.md specifies it.
///
/// An 8-byte header (format version, three zero bytes, the sample count as a little-endian
/// `UInt32`), then one column per field, each `count` little-endian values, widest first so every
/// column is naturally aligned in an aligned buffer:
///
/// | column | type | | column | type |
/// | --- | --- | --- | --- | --- |
/// | time_us | UInt64 | | velocity_north_cms | Int16 |
/// | stored_us | UInt64 | | velocity_east_cms | Int16 |
/// | drone | UInt32 | | velocity_down_cms | Int16 |
/// | sequence | UInt32 | | heading_cdeg | UInt16 |
/// | latitude_e7 | Int32 | | battery_mv | UInt16 |
/// | longitude_e7 | Int32 | | protocol | UInt8 |
/// | altitude_mm | Int32 | | battery_pct | UInt8 |
/// | status | UInt32 | | satellites | UInt8 |
///
/// 53 bytes per sample. A block's rows are sorted by (protocol, drone, time); within a chunk
/// every row has the chunk's protocol and drone.
public enum SampleBlock {
    public static let formatVersion: UInt8 = 1
    public static let headerBytes = 8
    public static let bytesPerSample = 53

    /// Bytes a block of `count` samples takes.
    @inlinable public static func size(count: Int) -> Int { headerBytes + count * bytesPerSample }

    /// Column offsets of a block of `count` samples, in the order above.
    @usableFromInline
    struct Offsets {
        let time, stored, drone, sequence, latitude, longitude, altitude, status: Int
        let velocityNorth, velocityEast, velocityDown, heading, batteryMillivolts: Int
        let protocolValue, batteryPercent, satellites: Int

        @usableFromInline
        init(count n: Int) {
            var at = SampleBlock.headerBytes
            func next(_ width: Int) -> Int { defer { at += width * n }; return at }
            time = next(8); stored = next(8)
            drone = next(4); sequence = next(4); latitude = next(4); longitude = next(4); altitude = next(4); status = next(4)
            velocityNorth = next(2); velocityEast = next(2); velocityDown = next(2); heading = next(2); batteryMillivolts = next(2)
            protocolValue = next(1); batteryPercent = next(1); satellites = next(1)
        }

        /// Every column's offset and value width, in order.
        var columns: [(offset: Int, width: Int)] {
            [(time, 8), (stored, 8), (drone, 4), (sequence, 4), (latitude, 4), (longitude, 4), (altitude, 4), (status, 4),
             (velocityNorth, 2), (velocityEast, 2), (velocityDown, 2), (heading, 2), (batteryMillivolts, 2),
             (protocolValue, 1), (batteryPercent, 1), (satellites, 1)]
        }
    }
}

/// A read view of one block's bytes (which may be unaligned: SQLite's blob buffers are).
struct SampleBlockView {
    let bytes: UnsafeRawBufferPointer
    let count: Int
    let offsets: SampleBlock.Offsets

    /// Nil when the bytes are not a block of this format (wrong version or length): a damaged or
    /// foreign row, which readers skip rather than misread.
    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= SampleBlock.headerBytes, bytes[0] == SampleBlock.formatVersion else { return nil }
        let count = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
        guard bytes.count == SampleBlock.size(count: count) else { return nil }
        self.bytes = bytes
        self.count = count
        offsets = SampleBlock.Offsets(count: count)
    }

    @inline(__always)
    private func load<T: FixedWidthInteger>(_ offset: Int, _ row: Int, _: T.Type) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + row * MemoryLayout<T>.size, as: T.self))
    }

    @inline(__always) func time(_ row: Int) -> UInt64 { load(offsets.time, row, UInt64.self) }
    @inline(__always) func drone(_ row: Int) -> UInt32 { load(offsets.drone, row, UInt32.self) }
    @inline(__always) func sequence(_ row: Int) -> UInt32 { load(offsets.sequence, row, UInt32.self) }
    @inline(__always) func protocolValue(_ row: Int) -> UInt8 { load(offsets.protocolValue, row, UInt8.self) }
    /// (protocol, drone) as one sortable key.
    @inline(__always) func key(_ row: Int) -> UInt64 { DroneIdentity.storeKey(protocol: protocolValue(row), number: drone(row)) }

    /// The rows whose (protocol, drone) is `key`, found by binary search (rows are sorted by key).
    func rows(of key: UInt64) -> Range<Int> {
        func firstRow(notBelow target: UInt64) -> Int {
            var low = 0, high = count
            while low < high {
                let middle = (low + high) / 2
                if self.key(middle) < target { low = middle + 1 } else { high = middle }
            }
            return low
        }
        return firstRow(notBelow: key)..<firstRow(notBelow: key + 1)
    }

    /// The row as a stored sample (nil for a protocol this version does not know).
    func storedSample(_ row: Int) -> StoredSample? {
        guard let known = TelemetryProtocol(rawValue: protocolValue(row)) else { return nil }
        let sample = WireSample(
            timeOffsetMicroseconds: 0,
            latitudeE7: load(offsets.latitude, row, Int32.self), longitudeE7: load(offsets.longitude, row, Int32.self),
            altitudeMM: load(offsets.altitude, row, Int32.self),
            velocityNorthCMS: load(offsets.velocityNorth, row, Int16.self),
            velocityEastCMS: load(offsets.velocityEast, row, Int16.self),
            velocityDownCMS: load(offsets.velocityDown, row, Int16.self),
            headingCentidegrees: load(offsets.heading, row, UInt16.self),
            batteryMillivolts: load(offsets.batteryMillivolts, row, UInt16.self),
            batteryPercent: load(offsets.batteryPercent, row, UInt8.self),
            satellites: load(offsets.satellites, row, UInt8.self),
            status: StatusFlags(rawValue: load(offsets.status, row, UInt32.self)))
        let stored = load(offsets.stored, row, UInt64.self)
        return StoredSample(
            drone: DroneIdentity(protocol: known, number: drone(row)), sequence: load(offsets.sequence, row, UInt32.self),
            timestampMicroseconds: time(row), sample: sample, storedMicroseconds: stored == 0 ? nil : stored)
    }
}

/// Samples as a struct of arrays with their protocol and commit time: the writer's working set
/// (one batch before it is packed, or every recent batch while they are compacted into chunks).
/// Allocated once with a fixed capacity.
final class SampleArena {
    let capacity: Int
    private(set) var count = 0
    let times, stored: UnsafeMutablePointer<UInt64>
    let drones, sequences, statuses: UnsafeMutablePointer<UInt32>
    let latitudes, longitudes, altitudes: UnsafeMutablePointer<Int32>
    let velocitiesNorth, velocitiesEast, velocitiesDown: UnsafeMutablePointer<Int16>
    let headings, batteryMillivolts: UnsafeMutablePointer<UInt16>
    let protocols, batteryPercents, satellites: UnsafeMutablePointer<UInt8>

    /// Allocates every column, reading as zeros (`ZeroPages`: resident as rows are written).
    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
        func column<T: FixedWidthInteger & BitwiseCopyable>(_: T.Type) -> UnsafeMutablePointer<T> {
            ZeroPages.allocate(T.self, count: capacity)
        }
        times = column(UInt64.self); stored = column(UInt64.self)
        drones = column(UInt32.self); sequences = column(UInt32.self); statuses = column(UInt32.self)
        latitudes = column(Int32.self); longitudes = column(Int32.self); altitudes = column(Int32.self)
        velocitiesNorth = column(Int16.self); velocitiesEast = column(Int16.self); velocitiesDown = column(Int16.self)
        headings = column(UInt16.self); batteryMillivolts = column(UInt16.self)
        protocols = column(UInt8.self); batteryPercents = column(UInt8.self); satellites = column(UInt8.self)
    }

    deinit {
        func release<T: FixedWidthInteger & BitwiseCopyable>(_ pointer: UnsafeMutablePointer<T>) {
            ZeroPages.deallocate(pointer, count: capacity)
        }
        release(times); release(stored); release(drones); release(sequences); release(statuses)
        release(latitudes); release(longitudes); release(altitudes)
        release(velocitiesNorth); release(velocitiesEast); release(velocitiesDown)
        release(headings); release(batteryMillivolts)
        release(protocols); release(batteryPercents); release(satellites)
    }

    var remainingCapacity: Int { capacity - count }

    func removeAll() { count = 0 }

    /// Appends every row of `columns` under `protocol`, committed at `storedMicroseconds`.
    func append(_ columns: SampleColumns, protocol: TelemetryProtocol, storedMicroseconds: UInt64) {
        let n = columns.count
        precondition(n <= remainingCapacity, "SampleArena overflow: the caller checks the batch size")
        let at = count
        func copy<T>(_ source: UnsafeBufferPointer<T>, _ target: UnsafeMutablePointer<T>) {
            if let base = source.baseAddress { (target + at).update(from: base, count: n) }
        }
        copy(columns.timestampsMicroseconds, times)
        (stored + at).update(repeating: storedMicroseconds, count: n)
        copy(columns.droneIDs, drones)
        copy(columns.sequences, sequences)
        copy(columns.statuses, statuses)
        copy(columns.latitudesE7, latitudes)
        copy(columns.longitudesE7, longitudes)
        copy(columns.altitudesMM, altitudes)
        copy(columns.velocitiesNorthCMS, velocitiesNorth)
        copy(columns.velocitiesEastCMS, velocitiesEast)
        copy(columns.velocitiesDownCMS, velocitiesDown)
        copy(columns.headingsCentidegrees, headings)
        copy(columns.batteriesMillivolts, batteryMillivolts)
        (protocols + at).update(repeating: `protocol`.rawValue, count: n)
        copy(columns.batteriesPercent, batteryPercents)
        copy(columns.satellites, satellites)
        count += n
    }

    /// Appends every row of a block (as it was written: rows keep their commit time).
    func append(_ block: SampleBlockView) {
        let n = block.count
        precondition(n <= remainingCapacity, "SampleArena overflow: the caller checks the block size")
        let at = count
        let o = block.offsets
        func copy<T: FixedWidthInteger>(_ offset: Int, _ target: UnsafeMutablePointer<T>) {
            let size = MemoryLayout<T>.size
            for row in 0..<n {
                target[at + row] = T(littleEndian: block.bytes.loadUnaligned(fromByteOffset: offset + row * size, as: T.self))
            }
        }
        copy(o.time, times); copy(o.stored, stored)
        copy(o.drone, drones); copy(o.sequence, sequences); copy(o.status, statuses)
        copy(o.latitude, latitudes); copy(o.longitude, longitudes); copy(o.altitude, altitudes)
        copy(o.velocityNorth, velocitiesNorth); copy(o.velocityEast, velocitiesEast); copy(o.velocityDown, velocitiesDown)
        copy(o.heading, headings); copy(o.batteryMillivolts, batteryMillivolts)
        copy(o.protocolValue, protocols); copy(o.batteryPercent, batteryPercents); copy(o.satellites, satellites)
        count += n
    }

    /// Packs the rows `order[range]` (arena row numbers) into `target` as one block and returns
    /// its byte count. `target` must hold `SampleBlock.size(count: range.count)` bytes.
    func encode(rows order: UnsafeBufferPointer<SortEntry>, _ range: Range<Int>, into target: UnsafeMutableRawBufferPointer) -> Int {
        let n = range.count
        let size = SampleBlock.size(count: n)
        precondition(size <= target.count)
        target.storeBytes(of: SampleBlock.formatVersion, toByteOffset: 0, as: UInt8.self)
        target.storeBytes(of: 0, toByteOffset: 1, as: UInt8.self)
        target.storeBytes(of: 0, toByteOffset: 2, as: UInt16.self)
        target.storeBytes(of: UInt32(n).littleEndian, toByteOffset: 4, as: UInt32.self)
        let o = SampleBlock.Offsets(count: n)
        func put<T: FixedWidthInteger>(_ offset: Int, _ source: UnsafeMutablePointer<T>) {
            let size = MemoryLayout<T>.size
            var at = offset
            for index in range {
                target.storeBytes(of: source[Int(order[index].row)].littleEndian, toByteOffset: at, as: T.self)
                at += size
            }
        }
        put(o.time, times); put(o.stored, stored)
        put(o.drone, drones); put(o.sequence, sequences); put(o.latitude, latitudes); put(o.longitude, longitudes)
        put(o.altitude, altitudes); put(o.status, statuses)
        put(o.velocityNorth, velocitiesNorth); put(o.velocityEast, velocitiesEast); put(o.velocityDown, velocitiesDown)
        put(o.heading, headings); put(o.batteryMillivolts, batteryMillivolts)
        put(o.protocolValue, protocols); put(o.batteryPercent, batteryPercents); put(o.satellites, satellites)
        return size
    }
}

extension SampleBlock {
    /// The recent-block group of a (protocol, drone) key.
    @inline(__always)
    static func group(ofKey key: UInt64) -> Int64 {
        Int64(bitPattern: key / UInt64(Limits.Store.recentGroupDrones))
    }

    /// Packs every row of `parts`, in the order given (not sorted), with no commit time, as one
    /// block streamed through `staging`: each time it is full (and once at the end) its bytes are
    /// handed to `emit`, in order, so the pieces make the block. The spill file writes batches this
    /// way, with a buffer of a few pages however large the batch. Returns the block's size.
    public static func encode(
        _ parts: [StoreBatchPart], through staging: UnsafeMutableRawBufferPointer,
        emit: (UnsafeRawBufferPointer) -> Void
    ) -> Int {
        precondition(staging.count >= 8, "SampleBlock.encode: the staging buffer holds no value")
        var n = 0
        for part in parts { n += part.columns.count }
        // `used` (bytes staged) is passed along rather than captured by the helpers.
        func flush(_ used: inout Int) {
            emit(UnsafeRawBufferPointer(rebasing: staging[0..<used]))
            used = 0
        }
        func store<T: FixedWidthInteger>(_ value: T, _ used: inout Int) {
            if used + MemoryLayout<T>.size > staging.count { flush(&used) }
            staging.storeBytes(of: value.littleEndian, toByteOffset: used, as: T.self)
            used += MemoryLayout<T>.size
        }
        // The columns in `Offsets` order.
        func put<T: FixedWidthInteger>(_ column: (SampleColumns) -> UnsafeBufferPointer<T>, _ used: inout Int) {
            for part in parts {
                for value in column(part.columns) { store(value, &used) }
            }
        }
        func fill<T: FixedWidthInteger>(_ value: (StoreBatchPart) -> T, _ used: inout Int) {
            for part in parts {
                let v = value(part)
                for _ in 0..<part.columns.count { store(v, &used) }
            }
        }
        var used = 0
        store(formatVersion, &used)
        store(UInt8(0), &used)
        store(UInt16(0), &used)
        store(UInt32(n), &used)
        put(\.timestampsMicroseconds, &used)
        fill({ _ in UInt64(0) }, &used)
        put(\.droneIDs, &used); put(\.sequences, &used)
        put(\.latitudesE7, &used); put(\.longitudesE7, &used); put(\.altitudesMM, &used)
        put(\.statuses, &used)
        put(\.velocitiesNorthCMS, &used); put(\.velocitiesEastCMS, &used); put(\.velocitiesDownCMS, &used)
        put(\.headingsCentidegrees, &used); put(\.batteriesMillivolts, &used)
        fill({ $0.protocol.rawValue }, &used)
        put(\.batteriesPercent, &used); put(\.satellites, &used)
        if used > 0 { flush(&used) }
        return size(count: n)
    }

    /// Unpacks a block of `blockBytes` bytes that is read a window of rows at a time:
    /// `read(offset, into)` fills `into` with the block's bytes from `offset` (false when it
    /// cannot). Each window is laid out in `staging` as a block of its own and unpacked as
    /// `decode(_:skygate:mavlink:)` does; the spill file reads its records back this way. False
    /// when the bytes are not a valid block, a read fails, a row has an unknown protocol, or the
    /// columns lack room; the columns may then hold part of it and the caller discards them.
    public static func decode(
        blockBytes: Int, staging: UnsafeMutableRawBufferPointer,
        read: (_ offset: Int, _ into: UnsafeMutableRawBufferPointer) -> Bool,
        skygate: SampleColumns, mavlink: SampleColumns
    ) -> Bool {
        let windowRows = (staging.count - headerBytes) / bytesPerSample
        precondition(windowRows > 0, "SampleBlock.decode: the staging buffer holds no row")
        guard blockBytes >= headerBytes, read(0, UnsafeMutableRawBufferPointer(rebasing: staging[0..<headerBytes])),
              staging[0] == formatVersion
        else { return false }
        let n = Int(UInt32(littleEndian: staging.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
        guard size(count: n) == blockBytes else { return false }
        let whole = Offsets(count: n).columns
        var first = 0
        // Bounded: each pass unpacks `windowRows` more rows.
        while first < n {
            let rows = min(windowRows, n - first)
            let window = Offsets(count: rows).columns
            staging.storeBytes(of: UInt32(rows).littleEndian, toByteOffset: 4, as: UInt32.self)
            for (column, at) in zip(whole, window) {
                let target = UnsafeMutableRawBufferPointer(rebasing: staging[at.offset..<(at.offset + rows * column.width)])
                guard read(column.offset + first * column.width, target) else { return false }
            }
            guard decode(UnsafeRawBufferPointer(rebasing: staging[0..<size(count: rows)]), skygate: skygate, mavlink: mavlink)
            else { return false }
            first += rows
        }
        return true
    }

    /// Unpacks a block into per-protocol columns. False when the bytes are not a valid block, a
    /// row has an unknown protocol, or the columns lack room; the columns may then hold part of it
    /// and the caller discards them.
    public static func decode(_ bytes: UnsafeRawBufferPointer, skygate: SampleColumns, mavlink: SampleColumns) -> Bool {
        guard let block = SampleBlockView(bytes) else { return false }
        for row in 0..<block.count {
            guard let stored = block.storedSample(row) else { return false }
            let columns = stored.drone.protocol == .skygate ? skygate : mavlink
            guard columns.remainingCapacity > 0 else { return false }
            columns.append(
                stored.sample, droneID: stored.drone.number, sequence: stored.sequence,
                timestampMicroseconds: stored.timestampMicroseconds)
        }
        return true
    }
}

/// Rows `order[range]` of an arena as the compressed codec's column source.
struct ArenaRows: SampleColumnSource {
    let arena: SampleArena
    let order: UnsafeBufferPointer<SortEntry>
    let range: Range<Int>

    var count: Int { range.count }

    @inline(__always)
    func value(column: Int, row: Int) -> UInt64 {
        let r = Int(order[range.lowerBound + row].row)
        switch column {
        case 0: return arena.times[r]
        case 1: return arena.stored[r]
        case 2: return UInt64(arena.drones[r])
        case 3: return UInt64(arena.sequences[r])
        case 4: return UInt64(UInt32(bitPattern: arena.latitudes[r]))
        case 5: return UInt64(UInt32(bitPattern: arena.longitudes[r]))
        case 6: return UInt64(UInt32(bitPattern: arena.altitudes[r]))
        case 7: return UInt64(arena.statuses[r])
        case 8: return UInt64(UInt16(bitPattern: arena.velocitiesNorth[r]))
        case 9: return UInt64(UInt16(bitPattern: arena.velocitiesEast[r]))
        case 10: return UInt64(UInt16(bitPattern: arena.velocitiesDown[r]))
        case 11: return UInt64(arena.headings[r])
        case 12: return UInt64(arena.batteryMillivolts[r])
        case 13: return UInt64(arena.protocols[r])
        case 14: return UInt64(arena.batteryPercents[r])
        default: return UInt64(arena.satellites[r])
        }
    }
}

extension SampleArena {
    /// Packs the rows `order[range]` into `target` compressed (format version 3) when that is
    /// smaller than the plain block, else plain (version 1); returns the bytes written. `target`
    /// must hold `SampleBlock.size(count: range.count)` bytes. Allocates nothing.
    func encodeCompressed(
        rows order: UnsafeBufferPointer<SortEntry>, _ range: Range<Int>, into target: UnsafeMutableRawBufferPointer,
        encoder: SampleBlockEncoder, level: Int32
    ) -> Int {
        let plain = SampleBlock.size(count: range.count)
        precondition(plain <= target.count)
        let room = UnsafeMutableRawBufferPointer(rebasing: target[0..<plain])
        if let bytes = encoder.encode(ArenaRows(arena: self, order: order, range: range), into: room, level: level) { return bytes }
        return encode(rows: order, range, into: target)
    }
}

/// Reads stored blocks of any format: a version 1 block is viewed in place, a compressed block
/// (version 3 or 2) is decoded into this reader's buffer first (so a view lasts until the next `view` call). A
/// reader on the write path is given a fixed buffer and its decoder up front and never allocates; a
/// query's reader is cheap to make (a query makes one or two): it decodes with its store's query
/// decoder (`OpenState.queryDecoder`) and its buffer grows to the largest block met, at most
/// `Limits.Store.decodedBlockSamplesMax` samples.
final class SampleBlockReader {
    private var decoder: SampleBlockDecoder?
    private var buffer: UnsafeMutableRawBufferPointer
    private let ownsBuffer: Bool
    /// Blocks refused (damaged, or larger than the buffer or the limit).
    private(set) var refused = 0

    /// A reader that decodes into `buffer` (owned by the caller) and refuses larger blocks.
    init(buffer: UnsafeMutableRawBufferPointer) {
        self.buffer = buffer
        ownsBuffer = false
        decoder = SampleBlockDecoder()
    }

    /// A reader with its own buffer, grown as blocks need, decoding with `decoder` (a store's
    /// query decoder, kept between queries) or, without one, a decoder of its own made at the
    /// first compressed block.
    init(decoder: SampleBlockDecoder? = nil) {
        buffer = .allocate(byteCount: SampleBlock.size(count: 64), alignment: 16)
        ownsBuffer = true
        self.decoder = decoder
    }

    deinit { if ownsBuffer { buffer.deallocate() } }

    /// The block in `bytes` as a view, nil when it is no valid block of either format.
    func view(_ bytes: UnsafeRawBufferPointer) -> SampleBlockView? {
        guard let version = bytes.first else { refused += 1; return nil }
        if version == SampleBlock.formatVersion {
            let view = SampleBlockView(bytes)
            if view == nil { refused += 1 }
            return view
        }
        guard let count = SampleCodec.sampleCount(bytes), count <= Limits.Store.decodedBlockSamplesMax else {
            refused += 1
            return nil
        }
        let size = SampleBlock.size(count: count)
        if size > buffer.count && ownsBuffer {
            buffer.deallocate()
            buffer = .allocate(byteCount: size, alignment: 16)
        }
        let decoder: SampleBlockDecoder
        if let made = self.decoder {
            decoder = made
        } else {
            decoder = SampleBlockDecoder()
            self.decoder = decoder
        }
        guard decoder.decode(bytes, samplesMax: Limits.Store.decodedBlockSamplesMax, into: buffer) != nil else {
            refused += 1
            return nil
        }
        return SampleBlockView(UnsafeRawBufferPointer(rebasing: buffer[0..<size]))
    }
}

/// A fixed-capacity batch of datagrams in one buffer allocated once: the simulator writes
/// datagrams into it and a sink (the UDP sender, or a test) takes them all at once. Slots have a
/// fixed stride, so appending is a copy and nothing is allocated per datagram.
public final class DatagramBatch {
    /// Most datagrams the batch holds.
    public let capacity: Int
    /// Longest datagram a slot holds.
    public let slotLength: Int
    @usableFromInline let storage: UnsafeMutableRawPointer
    @usableFromInline let lengths: UnsafeMutablePointer<UInt32>
    @usableFromInline var countStorage = 0

    /// Datagrams in the batch.
    @inlinable public var count: Int { countStorage }
    /// Room left, in datagrams.
    @inlinable public var remainingCapacity: Int { capacity &- countStorage }
    @inlinable public var isEmpty: Bool { countStorage == 0 }

    public init(capacity: Int, slotLength: Int) {
        precondition(capacity > 0 && slotLength > 0)
        self.capacity = capacity
        self.slotLength = slotLength
        storage = .allocate(byteCount: capacity * slotLength, alignment: 16)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: capacity * slotLength)
        lengths = .allocate(capacity: capacity)
        lengths.initialize(repeating: 0, count: capacity)
    }

    deinit {
        storage.deallocate()
        lengths.deallocate()
    }

    /// Copies `bytes` in as the next datagram.
    @inlinable
    public func append(_ bytes: UnsafeRawBufferPointer) {
        precondition(countStorage < capacity, "datagram batch full")
        precondition(bytes.count <= slotLength, "datagram longer than a slot")
        let slot = storage + countStorage &* slotLength
        if let base = bytes.baseAddress { slot.copyMemory(from: base, byteCount: bytes.count) }
        lengths[countStorage] = UInt32(truncatingIfNeeded: bytes.count)
        countStorage &+= 1
    }

    /// The datagram at `index`.
    @inlinable
    public subscript(index: Int) -> UnsafeRawBufferPointer {
        precondition(index >= 0 && index < countStorage)
        return UnsafeRawBufferPointer(start: storage + index &* slotLength, count: Int(lengths[index]))
    }

    /// The bytes of all datagrams together.
    public var byteCount: Int {
        var total = 0
        for index in 0..<countStorage { total &+= Int(lengths[index]) }
        return total
    }

    /// Empties the batch, keeping its buffer.
    @inlinable public func removeAll() { countStorage = 0 }
}

/// Where generated datagrams go: the UDP sender in the product, a recorder in tests.
public protocol DatagramSink {
    /// Takes every datagram of `batch` (the caller empties it afterwards).
    mutating func send(_ batch: DatagramBatch)
    /// Datagrams the sink failed to send, counted and skipped.
    var sendErrorCount: Int { get }
}

extension DatagramSink {
    public var sendErrorCount: Int { 0 }
}

/// A sink that keeps copies of every datagram, for tests and the generator benchmark.
public struct MemoryDatagramSink: DatagramSink {
    public private(set) var datagrams: [[UInt8]] = []
    /// When false, only counts are kept (the benchmark measures generation, not copying).
    public var keepsBytes: Bool
    public private(set) var datagramCount = 0
    public private(set) var byteCount = 0

    public init(keepsBytes: Bool = true) { self.keepsBytes = keepsBytes }

    public mutating func send(_ batch: DatagramBatch) {
        for index in 0..<batch.count {
            let datagram = batch[index]
            datagramCount += 1
            byteCount += datagram.count
            if keepsBytes { datagrams.append(Array(datagram)) }
        }
    }
}

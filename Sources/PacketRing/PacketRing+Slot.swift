// One slot of the ring and a run of consecutive slots, as views into the ring's storage.

extension PacketRing {
    /// One slot of the ring: a view into its storage, valid while the ring is alive and until the
    /// slot is published (producer) or released (consumer).
    ///
    /// Layout of a slot (offsets in bytes; the slot starts on a 64-byte boundary):
    /// `0` receive timestamp `UInt64` · `8` datagram byte count `UInt32` · `12` source address
    /// length `UInt16` · `14` truncated flag `UInt8` · `15` framed flag `UInt8` (the consumer's
    /// verdict, for the flight recorder's tap) · `16` source address, 128 bytes (8-byte
    /// aligned, as `sockaddr_storage` needs) · `144` datagram bytes, ``datagramCapacity`` of them.
    /// The header, the address and the start of the datagram share the slot's first cache lines,
    /// so a consumer reading a short datagram touches few lines.
    public struct Slot {
        @usableFromInline internal let base: UnsafeMutableRawPointer
        /// Most bytes of datagram this slot holds.
        public let datagramCapacity: Int

        @usableFromInline static let timestampOffset = 0
        @usableFromInline static let byteCountOffset = 8
        @usableFromInline static let sourceAddressLengthOffset = 12
        @usableFromInline static let truncatedOffset = 14
        @usableFromInline static let framedOffset = 15
        @usableFromInline static let sourceAddressOffset = 16
        @usableFromInline static let datagramOffset = sourceAddressOffset + PacketRing.sourceAddressCapacity

        @inlinable
        internal init(base: UnsafeMutableRawPointer, datagramCapacity: Int) {
            self.base = base
            self.datagramCapacity = datagramCapacity
        }

        /// When the datagram was received, in nanoseconds on the producer's clock.
        @inlinable
        public var receiveTimestampNanoseconds: UInt64 {
            get { base.load(fromByteOffset: Self.timestampOffset, as: UInt64.self) }
            nonmutating set { base.storeBytes(of: newValue, toByteOffset: Self.timestampOffset, as: UInt64.self) }
        }

        /// Bytes of datagram in ``datagramBuffer``, `0...datagramCapacity`.
        @inlinable
        public var byteCount: Int {
            get { Int(base.load(fromByteOffset: Self.byteCountOffset, as: UInt32.self)) }
            nonmutating set {
                precondition(
                    newValue >= 0 && newValue <= datagramCapacity,
                    "datagram of \(newValue) bytes in a slot of \(datagramCapacity)"
                )
                base.storeBytes(of: UInt32(truncatingIfNeeded: newValue), toByteOffset: Self.byteCountOffset, as: UInt32.self)
            }
        }

        /// Whether the datagram was longer than ``datagramCapacity`` and only its first bytes were
        /// kept (`recvmmsg`'s `MSG_TRUNC`). The consumer should reject such a datagram, not decode it.
        /// A producer filling slots in a batch cannot skip one in the middle, so it marks it instead.
        @inlinable
        public var isTruncated: Bool {
            get { base.load(fromByteOffset: Self.truncatedOffset, as: UInt8.self) != 0 }
            nonmutating set { base.storeBytes(of: newValue ? 1 : 0, toByteOffset: Self.truncatedOffset, as: UInt8.self) }
        }

        /// Whether the consumer found at least one intact frame in the datagram (whatever it then
        /// decided about the frame): set by the batch processor for each slot it takes, read by
        /// the flight recorder's tap before the slots are released, so a flood of datagrams that
        /// do not frame never reaches a recording (docs/security.md). Producers leave it alone.
        @inlinable
        public var isFramed: Bool {
            get { base.load(fromByteOffset: Self.framedOffset, as: UInt8.self) != 0 }
            nonmutating set { base.storeBytes(of: newValue ? 1 : 0, toByteOffset: Self.framedOffset, as: UInt8.self) }
        }

        /// Bytes of source address in ``sourceAddressBuffer``, `0...128`.
        @inlinable
        public var sourceAddressLength: Int {
            get { Int(base.load(fromByteOffset: Self.sourceAddressLengthOffset, as: UInt16.self)) }
            nonmutating set {
                precondition(
                    newValue >= 0 && newValue <= PacketRing.sourceAddressCapacity,
                    "source address of \(newValue) bytes"
                )
                base.storeBytes(
                    of: UInt16(truncatingIfNeeded: newValue), toByteOffset: Self.sourceAddressLengthOffset, as: UInt16.self
                )
            }
        }

        /// The whole datagram area, ``datagramCapacity`` bytes, for the producer to fill (for
        /// example as the `iovec` of a `recvmmsg` message). Set ``byteCount`` after filling it.
        @inlinable
        public var datagramBuffer: UnsafeMutableRawBufferPointer {
            UnsafeMutableRawBufferPointer(start: base + Self.datagramOffset, count: datagramCapacity)
        }

        /// The datagram: the first ``byteCount`` bytes of the datagram area.
        @inlinable
        public var datagram: UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: base + Self.datagramOffset, count: byteCount)
        }

        /// The whole source address area, 128 bytes (a `sockaddr_storage`), for the producer to
        /// fill (for example as `msg_name` of a `recvmmsg` message). Set ``sourceAddressLength``
        /// after filling it.
        @inlinable
        public var sourceAddressBuffer: UnsafeMutableRawBufferPointer {
            UnsafeMutableRawBufferPointer(start: base + Self.sourceAddressOffset, count: PacketRing.sourceAddressCapacity)
        }

        /// The source address: the first ``sourceAddressLength`` bytes of the address area.
        @inlinable
        public var sourceAddress: UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: base + Self.sourceAddressOffset, count: sourceAddressLength)
        }

        /// Copies a whole datagram, its source address and its receive time into the slot.
        /// The datagram must fit (`bytes.count <= datagramCapacity`) and so must the address
        /// (`source.count <= 128`): callers check first, as ``PacketRing/push(bytes:source:timestamp:)`` does.
        @inlinable
        public func store(bytes: UnsafeRawBufferPointer, source: UnsafeRawBufferPointer, timestamp: UInt64) {
            byteCount = bytes.count
            sourceAddressLength = source.count
            isTruncated = false
            receiveTimestampNanoseconds = timestamp
            if let start = bytes.baseAddress {
                (base + Self.datagramOffset).copyMemory(from: start, byteCount: bytes.count)
            }
            if let start = source.baseAddress {
                (base + Self.sourceAddressOffset).copyMemory(from: start, byteCount: source.count)
            }
        }
    }

    /// A run of consecutive slots in ring order, oldest first, possibly wrapping around the end of
    /// the storage. Indices are `0..<count`. Valid while the ring is alive and until the slots are
    /// published (producer) or released (consumer).
    public struct Slots: RandomAccessCollection {
        @usableFromInline internal let storage: UnsafeMutableRawPointer
        @usableFromInline internal let slotStride: Int
        @usableFromInline internal let mask: Int
        @usableFromInline internal let datagramCapacity: Int
        /// Ring index of the first slot (it grows without bound; `& mask` gives the position).
        @usableFromInline internal let firstIndex: Int
        /// Number of slots in the run.
        public let count: Int

        @inlinable
        internal init(
            storage: UnsafeMutableRawPointer, slotStride: Int, mask: Int, datagramCapacity: Int,
            firstIndex: Int, count: Int
        ) {
            self.storage = storage
            self.slotStride = slotStride
            self.mask = mask
            self.datagramCapacity = datagramCapacity
            self.firstIndex = firstIndex
            self.count = count
        }

        @inlinable public var startIndex: Int { 0 }
        @inlinable public var endIndex: Int { count }

        @inlinable
        public subscript(position: Int) -> Slot {
            precondition(position >= 0 && position < count, "slot \(position) of \(count)")
            let offset = ((firstIndex &+ position) & mask) &* slotStride
            return Slot(base: storage + offset, datagramCapacity: datagramCapacity)
        }
    }
}

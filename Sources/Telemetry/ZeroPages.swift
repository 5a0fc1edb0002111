import Glibc

/// Start-up storage that reads as zeros and becomes resident only as it is written (issue 23).
///
/// The gateway allocates every buffer at start-up, sized by `Limits`. Zero-filling them there made
/// the whole reservation resident at once: an idle gateway held the memory of a 10,000-drone flood.
/// A buffer of at least ``mappingBytesMin`` bytes is its own anonymous private mapping instead; the
/// kernel maps a zeroed page the first time one is written. The address space is still reserved
/// at start-up and nothing is allocated afterwards: the resident size grows with the work up to
/// the reservation and no further. Smaller buffers are heap allocations filled with zeros.
///
/// Only for element types whose all-zero bytes are a valid value (integers, floats, `Bool`,
/// structs of them). Release with ``deallocate(_:count:)`` and the same count.
public enum ZeroPages {
    /// Buffers below this many bytes are heap allocations, zero-filled (a mapping is whole pages);
    /// those are aligned to 64 bytes, a cache line.
    public static let mappingBytesMin = 64 << 10

    /// `count` elements of zero bytes.
    public static func allocate<T: BitwiseCopyable>(_: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        precondition(count > 0, "ZeroPages needs a positive count")
        return allocate(byteCount: count * MemoryLayout<T>.stride).bindMemory(to: T.self, capacity: count)
    }

    /// `byteCount` zero bytes, page-aligned when mapped and cache-line aligned otherwise.
    public static func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        precondition(byteCount > 0, "ZeroPages needs a positive size")
        if byteCount >= mappingBytesMin {
            let address = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            // Start-up only: out of address space is not something to run on from.
            guard let address, address != MAP_FAILED else { fatalError("mmap of \(byteCount) bytes failed (errno \(errno))") }
            return address
        }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
        return raw
    }

    /// Releases what ``allocate(_:count:)`` returned for the same `count`.
    public static func deallocate<T: BitwiseCopyable>(_ pointer: UnsafeMutablePointer<T>, count: Int) {
        deallocate(UnsafeMutableRawPointer(pointer), byteCount: count * MemoryLayout<T>.stride)
    }

    /// Releases what ``allocate(byteCount:)`` (or ``allocate(_:count:)``) returned, given its size
    /// in bytes.
    public static func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        if byteCount >= mappingBytesMin {
            munmap(pointer, byteCount)
        } else {
            pointer.deallocate()
        }
    }
}

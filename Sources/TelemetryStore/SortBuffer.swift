import Telemetry

/// A row's sort key and where to find it: (protocol, drone) in `high`, time in `low`, then
/// part and row. Stable order for equal keys keeps arrival order.
@usableFromInline
struct SortEntry: BitwiseCopyable {
    var high: UInt64
    var low: UInt64
    var part: UInt32
    var row: UInt32

    @inline(__always)
    static func precedes(_ a: SortEntry, _ b: SortEntry) -> Bool {
        a.high != b.high ? a.high < b.high : a.low < b.low
    }
}

/// Sort entries and their merge scratch, allocated once: the writers sort every batch (and every
/// compaction) by (protocol, drone, time) without allocating.
final class SortBuffer {
    let entries: UnsafeMutableBufferPointer<SortEntry>
    private let scratch: UnsafeMutableBufferPointer<SortEntry>

    /// Both halves read as zeros (`ZeroPages`: resident as far as the largest sort so far).
    init(capacity: Int) {
        entries = .init(start: ZeroPages.allocate(SortEntry.self, count: capacity), count: capacity)
        scratch = .init(start: ZeroPages.allocate(SortEntry.self, count: capacity), count: capacity)
    }

    deinit {
        ZeroPages.deallocate(entries.baseAddress!, count: entries.count)
        ZeroPages.deallocate(scratch.baseAddress!, count: scratch.count)
    }

    var capacity: Int { entries.count }

    /// Stable bottom-up merge sort of `entries[0..<count]` through the preallocated scratch:
    /// insertion sort of 32-entry runs, then merges of doubling width. A merge whose halves are
    /// already in order is a copy, so input made of sorted runs (batches) costs little.
    func sort(count: Int) {
        precondition(count <= capacity)
        let run = 32
        var start = 0
        while start < count {
            let end = min(start + run, count)
            var index = start + 1
            while index < end {
                let entry = entries[index]
                var hole = index
                while hole > start && SortEntry.precedes(entry, entries[hole - 1]) {
                    entries[hole] = entries[hole - 1]
                    hole -= 1
                }
                entries[hole] = entry
                index += 1
            }
            start = end
        }
        var source = entries
        var target = scratch
        var width = run
        while width < count {
            var left = 0
            while left < count {
                let middle = min(left + width, count)
                let right = min(left + 2 * width, count)
                if middle >= right || !SortEntry.precedes(source[middle], source[middle - 1]) {
                    // Already in order (or a lone run): copy it across.
                    _ = UnsafeMutableBufferPointer(rebasing: target[left..<right]).update(fromContentsOf: source[left..<right])
                    left = right
                    continue
                }
                var i = left, j = middle, k = left
                while i < middle && j < right {
                    if SortEntry.precedes(source[j], source[i]) {
                        target[k] = source[j]; j += 1
                    } else {
                        target[k] = source[i]; i += 1
                    }
                    k += 1
                }
                while i < middle { target[k] = source[i]; i += 1; k += 1 }
                while j < right { target[k] = source[j]; j += 1; k += 1 }
                left = right
            }
            swap(&source, &target)
            width *= 2
        }
        if source.baseAddress != entries.baseAddress {
            _ = UnsafeMutableBufferPointer(rebasing: entries[0..<count]).update(fromContentsOf: source[0..<count])
        }
    }
}

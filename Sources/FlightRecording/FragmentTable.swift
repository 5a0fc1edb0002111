import Telemetry

/// IP fragments waiting for the rest of their datagram: a fixed number of sets, each with one
/// 64 KiB buffer allocated when first used; the oldest set is dropped (and counted) when a new one
/// needs room.
struct FragmentTable {
    struct Key: Equatable {
        var source: [UInt8]
        var destination: [UInt8]
        var identification: UInt32
        var protocolNumber: UInt8
    }

    struct FragmentSet {
        var key: Key?
        var buffer: [UInt8] = []
        /// Covered byte ranges, merged; the datagram is whole when one range covers 0..<total.
        var ranges: [Range<Int>] = []
        /// Total length, known once the last fragment arrived.
        var total = -1
        var age = 0
    }

    enum Outcome { case pending, complete(Int) }

    var sets = [FragmentSet](repeating: FragmentSet(), count: Limits.Recording.captureFragmentSetsMax)
    var clock = 0
    static let datagramBytesMax = 65_535

    var pendingCount: Int { sets.filter { $0.key != nil }.count }

    mutating func add(_ key: Key, offset: Int, isLast: Bool, payload: UnsafeRawBufferPointer, report: inout ReadReport) -> Outcome {
        clock += 1
        let end = offset + payload.count
        guard end <= Self.datagramBytesMax else {
            report.skip("IP fragment past 64 KiB")
            return .pending
        }
        var index = sets.firstIndex { $0.key == key }
        if index == nil {
            index = sets.firstIndex { $0.key == nil }
            if index == nil {
                let oldest = sets.indices.min { sets[$0].age < sets[$1].age }!
                report.skip("IP fragments never completed")
                release(oldest)
                index = oldest
            }
            sets[index!].key = key
            if sets[index!].buffer.isEmpty { sets[index!].buffer = [UInt8](repeating: 0, count: Self.datagramBytesMax) }
        }
        let i = index!
        sets[i].age = clock
        sets[i].buffer.withUnsafeMutableBytes { buffer in
            UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<end]).copyMemory(from: payload)
        }
        if isLast { sets[i].total = end }
        var ranges = sets[i].ranges
        ranges.append(offset..<end)
        ranges.sort { $0.lowerBound < $1.lowerBound }
        var merged: [Range<Int>] = []
        for range in ranges {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        // Bounded: overlapping ranges merge, so a set never holds more than its fragments.
        sets[i].ranges = merged
        if sets[i].total >= 0, merged.count == 1, merged[0].lowerBound == 0, merged[0].upperBound >= sets[i].total { return .complete(i) }
        if merged.count > 1_024 {
            report.skip("IP fragments never completed")
            release(i)
        }
        return .pending
    }

    mutating func release(_ index: Int) {
        sets[index].key = nil
        sets[index].ranges.removeAll(keepingCapacity: true)
        sets[index].total = -1
    }
}

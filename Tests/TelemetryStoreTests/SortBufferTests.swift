@testable import TelemetryStore
import Testing

/// The writers' sort, directly: at sizes around its 32-entry runs and merge widths (0, 1, 31, 32,
/// 33, 1,000, full capacity), on random keys, sorted runs and reversed input, it orders by
/// (high, low) exactly as a stable library sort does, keeping arrival order for equal keys.
@Suite struct SortBufferTests {
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    enum Shape: CaseIterable { case random, fewKeys, sortedRuns, reversed }

    static func entries(_ count: Int, _ shape: Shape, seed: UInt64) -> [SortEntry] {
        var random = Generator(state: seed)
        return (0..<count).map { index in
            let (high, low): (UInt64, UInt64)
            switch shape {
            case .random: (high, low) = (random.next() % 64, random.next() % 1_000)
            case .fewKeys: (high, low) = (random.next() % 3, random.next() % 3)
            case .sortedRuns: (high, low) = (UInt64(index % 97), UInt64(index / 97))
            case .reversed: (high, low) = (UInt64(count - index), 0)
            }
            return SortEntry(high: high, low: low, part: 0, row: UInt32(index))
        }
    }

    @Test(arguments: [0, 1, 31, 32, 33, 65, 1_000, 4_096])
    func sortsLikeAStableSort(count: Int) {
        let buffer = SortBuffer(capacity: 4_096)
        for shape in Shape.allCases {
            let input = Self.entries(count, shape, seed: UInt64(count) &+ 17)
            for (index, entry) in input.enumerated() { buffer.entries[index] = entry }
            buffer.sort(count: count)
            // The library's sort is not stable; sorting by (key, arrival) makes it so.
            let expected = input.sorted { ($0.high, $0.low, $0.row) < ($1.high, $1.low, $1.row) }
            let got = Array(buffer.entries.prefix(count))
            #expect(got.map(\.row) == expected.map(\.row), "\(shape) of \(count)")
        }
    }
}

import Synchronization

/// Sample-to-commit latency: fixed logarithmic buckets from 1 µs to ~70 s (8 per power of two),
/// filled by the store writer once per batch and read by the API; quantiles are bucket upper
/// bounds, within 9 % of the true value. Fixed memory, one lock per batch.
public final class LatencyHistogram: Sendable {
    static let bucketsPerOctave = 8
    static let bucketCount = 26 * 8  // 2^0 ... 2^26 µs

    private let state = Mutex<[UInt64]>([UInt64](repeating: 0, count: LatencyHistogram.bucketCount))

    public init() {}

    static func bucket(microseconds: UInt64) -> Int {
        guard microseconds > 1 else { return 0 }
        let octave = 63 - microseconds.leadingZeroBitCount
        let fraction = Int((microseconds << (63 - octave)) >> 60) & (bucketsPerOctave - 1)  // next 3 bits
        return min(octave * bucketsPerOctave + fraction, bucketCount - 1)
    }

    static func upperBound(bucket: Int) -> Double {
        let octave = bucket / bucketsPerOctave
        let fraction = bucket % bucketsPerOctave
        return Double(UInt64(1) << octave) * (1 + Double(fraction + 1) / Double(bucketsPerOctave))
    }

    /// Records the latencies (µs) of many units at once.
    public func record(_ microseconds: some Sequence<UInt64>) {
        state.withLock { buckets in
            for value in microseconds { buckets[Self.bucket(microseconds: value)] &+= 1 }
        }
    }

    /// Total recorded, and the latency (µs) under which `quantile` of them fall.
    public func quantile(_ quantile: Double) -> Double? {
        state.withLock { buckets in
            let total = buckets.reduce(0, +)
            guard total > 0 else { return nil }
            let rank = UInt64((Double(total) * quantile).rounded(.up))
            var seen: UInt64 = 0
            for (index, count) in buckets.enumerated() {
                seen += count
                if seen >= max(rank, 1) { return Self.upperBound(bucket: index) }
            }
            return Self.upperBound(bucket: Self.bucketCount - 1)
        }
    }

    public var count: UInt64 { state.withLock { $0.reduce(0, +) } }

    /// Every non-empty bucket as (upper bound in µs, count), ascending: `/metrics` sums them
    /// into its Prometheus histogram.
    public func buckets() -> [(upperBoundMicroseconds: Double, count: UInt64)] {
        state.withLock { buckets in
            buckets.indices.filter { buckets[$0] > 0 }.map { (Self.upperBound(bucket: $0), buckets[$0]) }
        }
    }
}

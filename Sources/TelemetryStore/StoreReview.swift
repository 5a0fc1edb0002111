import Telemetry

// What flight review (`/api/fleet`, `/api/timeline`, docs/operations.md) asks of a store: every
// drone's last sample before an instant, the stored time range, and the activity per time bucket.
// Each store answers through its own indexes (TelemetryStore+Review.swift,
// PostgresTelemetryStore+Review.swift); the `scan…` answers below work on any store through
// `readSamples` alone (a test double, the benchmark's row layout) and are the reference the
// stores' tests compare against.

/// The activity of one time bucket of a timeline.
public struct ActivityBucket: Sendable, Equatable {
    /// Distinct drones with at least one sample in the bucket.
    public var drones: Int
    /// Samples in the bucket.
    public var samples: Int

    public init(drones: Int = 0, samples: Int = 0) {
        self.drones = drones
        self.samples = samples
    }
}

/// Equal-width time buckets from `originMicroseconds`: bucket i covers
/// [origin + i × width, origin + (i + 1) × width).
public struct ActivityBuckets: Sendable, Equatable {
    public var originMicroseconds: UInt64
    public var widthMicroseconds: UInt64
    public var count: Int

    public init(originMicroseconds: UInt64, widthMicroseconds: UInt64, count: Int) {
        precondition(widthMicroseconds >= 1 && count >= 1)
        self.originMicroseconds = originMicroseconds
        self.widthMicroseconds = widthMicroseconds
        self.count = count
    }

    /// The times the buckets cover, clamped to what an `Int64` column holds.
    public var range: Range<UInt64> {
        let span = widthMicroseconds.multipliedReportingOverflow(by: UInt64(count))
        let end = originMicroseconds.addingReportingOverflow(span.partialValue)
        let upper = span.overflow || end.overflow ? UInt64(Int64.max) : min(end.partialValue, UInt64(Int64.max))
        return min(originMicroseconds, upper)..<upper
    }

    /// The bucket holding `time`, or nil outside the range.
    @inline(__always)
    public func index(of time: UInt64) -> Int? {
        guard range.contains(time) else { return nil }
        return Int((time - originMicroseconds) / widthMicroseconds)
    }
}

extension TelemetryStoreReading {
    /// Each drone's last sample with time in `timeRangeMicroseconds` (the greatest (time, sequence),
    /// the row `export` lists last), in (protocol, number) order, at most `dronesMax` of them. Read
    /// through `readSamples`: every sample of the range is visited.
    public func scanLastSamples(in timeRangeMicroseconds: Range<UInt64>, dronesMax: Int) throws(StoreError) -> [StoredSample] {
        var latest: [StoredSample] = []
        try readSamples(drone: nil, timeRangeMicroseconds: timeRangeMicroseconds, pageSize: Limits.Status.trackPageRows) { page in
            for sample in page {
                if let last = latest.last, last.drone == sample.drone {
                    if (sample.timestampMicroseconds, sample.sequence) >= (last.timestampMicroseconds, last.sequence) {
                        latest[latest.count - 1] = sample
                    }
                } else {
                    latest.append(sample)
                }
            }
            return true
        }
        latest.sort { $0.drone.storeKey < $1.drone.storeKey }
        return Array(latest.prefix(max(dronesMax, 0)))
    }

    /// The first and last stored sample times (nil when the store holds none), from the drones'
    /// summaries.
    public func scanSampleTimeBounds() throws(StoreError) -> ClosedRange<UInt64>? {
        let summaries = try droneSummaries()
        guard let first = summaries.map(\.firstTimestampMicroseconds).min(),
              let last = summaries.map(\.lastTimestampMicroseconds).max(), first <= last else { return nil }
        return first...last
    }

    /// Samples and distinct drones per bucket, counted exactly from every sample in the buckets.
    public func scanActivity(_ buckets: ActivityBuckets) throws(StoreError) -> [ActivityBucket] {
        var activity = [ActivityBucket](repeating: ActivityBucket(), count: buckets.count)
        var lastDroneOfBucket = [UInt64](repeating: .max, count: buckets.count)
        // Samples come drone by drone, so "a new drone in this bucket" is "not the last one seen".
        try readSamples(drone: nil, timeRangeMicroseconds: buckets.range, pageSize: Limits.Status.trackPageRows) { page in
            for sample in page {
                guard let index = buckets.index(of: sample.timestampMicroseconds) else { continue }
                activity[index].samples += 1
                if lastDroneOfBucket[index] != sample.drone.storeKey {
                    lastDroneOfBucket[index] = sample.drone.storeKey
                    activity[index].drones += 1
                }
            }
            return true
        }
        return activity
    }
}

extension DroneIdentity {
    /// (protocol, number) as the one sortable key the blocks use.
    public var storeKey: UInt64 { Self.storeKey(protocol: `protocol`.rawValue, number: number) }

    /// The same key from a stored row's raw protocol value and drone number.
    @inline(__always) public static func storeKey(protocol value: UInt8, number: UInt32) -> UInt64 {
        UInt64(value) << 32 | UInt64(number)
    }
}

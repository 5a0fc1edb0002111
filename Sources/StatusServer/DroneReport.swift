import Telemetry

/// One drone as `/api/drones` shows it: the live fleet state in the API's units, with its
/// online/stale/offline state and alerts worked out here so the page and scripts agree.
public struct DroneReport: Codable, Sendable, Equatable {
    /// Battery at or below this percentage raises the `low_battery` alert.
    public static let lowBatteryPercent = 20
    /// Link quality below this share of frames raises `lost_link` (as does a stale drone).
    public static let linkQualityAlert = 0.8

    public var `protocol`: String
    public var id: UInt32
    /// "online", "stale" or "offline" by the configured thresholds.
    public var state: String
    public var last_seen_seconds_ago: Double
    public var last_sample_time_us: UInt64
    public var first_seen_seconds_ago: Double
    public var has_fix: Bool
    public var lat: Double
    public var lon: Double
    public var alt_m: Double
    public var heading_deg: Double?
    public var ground_speed_mps: Double
    public var climb_rate_mps: Double
    public var battery_percent: Int?
    public var battery_v: Double
    public var satellites: Int?
    public var status: UInt32
    public var link_quality: Double
    public var frames_received: UInt64
    public var frames_lost: UInt64
    public var frames_duplicate: UInt64
    public var samples_received: UInt64
    /// Samples per second over the drone's time with the gateway (the page shows a live rate
    /// from successive polls).
    public var sample_rate_hz: Double
    public var distance_flown_m: Double
    /// Any of "low_battery", "lost_link", "no_fix", "failsafe".
    public var alerts: [String]

    public init(_ status: DroneStatus, nowNanoseconds: UInt64, settings: StatusSettings) {
        let ago = Double(nowNanoseconds &- min(status.lastSeenNanoseconds, nowNanoseconds)) / 1e9
        let lifetime = Double(status.lastSeenNanoseconds &- min(status.firstSeenNanoseconds, status.lastSeenNanoseconds)) / 1e9
        self.protocol = status.drone.protocol.name
        id = status.drone.number
        state = ago >= settings.offlineAfterSeconds ? "offline" : ago >= settings.staleAfterSeconds ? "stale" : "online"
        last_seen_seconds_ago = (ago * 10).rounded() / 10
        last_sample_time_us = status.lastSampleMicroseconds
        first_seen_seconds_ago = Double(nowNanoseconds &- min(status.firstSeenNanoseconds, nowNanoseconds)) / 1e9
        has_fix = status.hasFix
        lat = Double(status.latitudeE7) / 1e7
        lon = Double(status.longitudeE7) / 1e7
        alt_m = Double(status.altitudeMM) / 1_000
        heading_deg = status.headingCentidegrees == DroneStatus.headingUnknown ? nil : Double(status.headingCentidegrees) / 100
        ground_speed_mps = Double(status.groundSpeedMetresPerSecond)
        climb_rate_mps = Double(status.climbRateMetresPerSecond)
        battery_percent = status.batteryPercent == DroneStatus.batteryPercentUnknown ? nil : Int(status.batteryPercent)
        battery_v = Double(status.batteryMillivolts) / 1_000
        satellites = status.satellites == 0xFF ? nil : Int(status.satellites)
        self.status = status.status
        link_quality = status.linkQuality
        frames_received = status.framesReceived
        frames_lost = status.framesLost
        frames_duplicate = status.framesDuplicate
        samples_received = status.samplesReceived
        sample_rate_hz = lifetime > 0 ? Double(status.samplesReceived) / lifetime : 0
        distance_flown_m = status.distanceFlownMetres
        var alerts: [String] = []
        if let percent = battery_percent, percent <= Self.lowBatteryPercent { alerts.append("low_battery") } else if status.reportsLowBattery {
            alerts.append("low_battery")
        }
        if state != "online" || status.linkQuality < Self.linkQualityAlert { alerts.append("lost_link") }
        if !status.hasFix { alerts.append("no_fix") }
        if status.reportsFailsafe { alerts.append("failsafe") }
        self.alerts = alerts
    }
}

/// `GET /api/drones`: the fleet and the thresholds it was judged by.
public struct FleetReport: Codable, Sendable, Equatable {
    public var drones: [DroneReport]
    public var stale_after_seconds: Double
    public var offline_after_seconds: Double
    public var tile_url: String?
    public var online: Int
    public var stale: Int
    public var offline: Int
    /// When this report was built (gateway wall clock, µs since 1970). The body is rebuilt at most
    /// every 250 ms, so clients work out rates from this, not from when they received it.
    public var generated_at_us: UInt64
}

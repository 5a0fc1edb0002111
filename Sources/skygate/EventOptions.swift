import Alerts
import ArgumentParser
import Telemetry

/// The zone and rule options, the same for `serve` and `replay --db`, so a replay evaluates what
/// the live gateway evaluated (docs/events.md).
struct EventOptions: ParsableArguments {
    @Option(help: "Geofence zones: a GeoJSON file of keep-out/keep-in polygons and circles (docs/events.md); reread on SIGHUP.")
    var zones: String?
    @Option(parsing: .unconditional, help: "Zones: a drone inside leaves only once this many metres outside (default \(Limits.Zones.hysteresisDefaultMetres)).")
    var zoneHysteresisM: Double?
    @Option(parsing: .unconditional, help: "Rule low_battery below this battery percentage; 0 off (default \(RuleSettings().lowBatteryPercent)).")
    var ruleLowBatteryPercent: Int?
    @Option(parsing: .unconditional, help: "Rule lost_link after this many seconds without a frame; 0 off (default \(RuleSettings().lostLinkSeconds)).")
    var ruleLostLinkSeconds: Double?
    @Option(parsing: .unconditional, help: "Rule overspeed above this ground speed in m/s; 0 off (default off).")
    var ruleOverspeedMps: Double?
    @Option(parsing: .unconditional, help: "Rule altitude_ceiling above this altitude in metres; 0 off (default off).")
    var ruleAltitudeCeilingM: Double?
    @Option(parsing: .unconditional, help: "Rule sequence_gap_burst for one gap of at least this many frames; 0 off (default \(RuleSettings().sequenceGapFrames)).")
    var ruleSequenceGapFrames: Int?
    @Option(help: "Rule gps_fix_lost: on or off (default on).") var ruleGpsFixLost: String?

    /// The zones file and the rules: each value from the command line, else from `config(name)`
    /// (serve's config file), else the default. Errors name the option.
    func resolve(config: (String) -> String? = { _ in nil }) throws -> (zonesPath: String?, rules: RuleSettings) {
        func value(_ name: String, _ commandLine: String?) -> String? { commandLine ?? config(name) }
        func number(_ name: String, _ commandLine: Double?) throws -> Double? {
            guard let text = value(name, commandLine.map { "\($0)" }) else { return nil }
            guard let number = Double(text), number.isFinite, number >= 0 else {
                throw ValidationError("--\(name) must be a number of at least 0, got '\(text)'")
            }
            return number
        }
        var rules = RuleSettings()
        if let metres = try number("zone-hysteresis-m", zoneHysteresisM) { rules.zoneHysteresisMetres = metres }
        if let percent = try number("rule-low-battery-percent", ruleLowBatteryPercent.map(Double.init)) {
            guard percent <= 100, percent == percent.rounded() else { throw ValidationError("--rule-low-battery-percent must be a whole number in 0...100") }
            rules.lowBatteryPercent = UInt8(percent)
        }
        if let seconds = try number("rule-lost-link-seconds", ruleLostLinkSeconds) { rules.lostLinkSeconds = seconds }
        if let speed = try number("rule-overspeed-mps", ruleOverspeedMps) { rules.overspeedMetresPerSecond = speed }
        if let metres = try number("rule-altitude-ceiling-m", ruleAltitudeCeilingM) { rules.altitudeCeilingMetres = metres }
        if let frames = try number("rule-sequence-gap-frames", ruleSequenceGapFrames.map(Double.init)) {
            guard frames == frames.rounded(), frames <= 1_000_000 else { throw ValidationError("--rule-sequence-gap-frames must be a whole number in 0...1000000") }
            rules.sequenceGapFrames = Int(frames)
        }
        if let text = value("rule-gps-fix-lost", ruleGpsFixLost) {
            switch text {
            case "on", "true": rules.gpsFixLost = true
            case "off", "false": rules.gpsFixLost = false
            default: throw ValidationError("--rule-gps-fix-lost must be on or off, got '\(text)'")
            }
        }
        let problems = rules.problems()
        if !problems.isEmpty { throw ValidationError(problems.joined(separator: "; ")) }
        return (value("zones", zones), rules)
    }
}

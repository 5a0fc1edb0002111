import Pipeline
import Telemetry

/// The process loop's observer: the event engine evaluates each batch before it is handed to the
/// store, and what it raised is published through the hub (numbered, stored, streamed, sent to
/// webhooks). The live gateway and `replay --db` both run one, so a replayed flight raises the
/// events the live gateway raised for the same datagrams.
public final class EventStage: BatchObserver {
    public let engine: EventEngine
    public let hub: EventHub

    public init(engine: EventEngine, hub: EventHub) {
        self.engine = engine
        self.hub = hub
    }

    /// The zones (`zonesPath`, checked whole), the rules and the hub for a fleet of `capacity`
    /// rows; each problem names its option.
    public static func make(
        zonesPath: String?, rules: RuleSettings, capacity: Int, sinks: [any EventSink]
    ) throws(ZoneFile.Problem) -> EventStage {
        let problems = rules.problems()
        if !problems.isEmpty { throw ZoneFile.Problem(problems.joined(separator: "; ")) }
        var zones: [Zone] = []
        if let zonesPath { zones = try ZoneFile.load(path: zonesPath) }
        let source = ZoneSource(ZoneSet(zones: zones, hysteresisMetres: rules.zoneHysteresisMetres), path: zonesPath)
        return EventStage(engine: EventEngine(capacity: capacity, rules: rules, zones: source), hub: EventHub(sinks: sinks))
    }

    /// The zones in force (reloaded on SIGHUP).
    public var zones: ZoneSource { engine.zoneSource }

    public func observe(_ batch: TelemetryBatch, nowNanoseconds: UInt64) {
        engine.evaluate(batch, nowNanoseconds: nowNanoseconds)
        publish()
    }

    public func tick(nowNanoseconds: UInt64) {
        engine.checkLostLinks(nowNanoseconds: nowNanoseconds)
        publish()
    }

    private func publish() {
        hub.countBurstDropped(engine.takeDroppedBurst())
        hub.countRateLimitedDropped(engine.takeDroppedRateLimited())
        let hub = self.hub
        engine.takeEvents { events in hub.publish(events) }
    }
}

import Telemetry

/// The replay windows' part kept in the store (docs/security.md, "Replay windows in the store"):
/// each keyed sender's highest accepted Skygate tag counter or MAVLink signature timestamp. The
/// gateway seeds its windows' floors from it at start and writes its own marks before each batch
/// that needs them; with a store shared by replicas, it also reads the other gateways' marks on a
/// bounded interval.
public protocol ReplayMarkStoring: AnyObject {
    /// Raises the stored marks to `marks` (a mark never goes down), in one transaction. Values
    /// above `Int64.max` are kept as `Int64.max`.
    func writeReplayMarks(_ marks: [ReplayMark]) throws(StoreError)
    /// The greatest stored mark per sender; with `othersOnly`, only those written by other
    /// gateways (nothing for a store that has one writer).
    func readReplayMarks(othersOnly: Bool) throws(StoreError) -> [ReplayMark]
}

extension TelemetryStore: ReplayMarkStoring {
    public func writeReplayMarks(_ marks: [ReplayMark]) throws(StoreError) {
        guard !marks.isEmpty else { return }
        let state = try openState()
        // The row layout (the benchmark's) keeps no marks.
        guard state.layout == .chunks else { return }
        let upsert = try state.connection.prepare("""
            INSERT INTO replay_marks (protocol, sender, value) VALUES (?1, ?2, ?3)
            ON CONFLICT (protocol, sender) DO UPDATE SET value = max(value, excluded.value)
            """)
        try state.inTransaction { () throws(StoreError) in
            for mark in marks {
                upsert.reset()
                upsert.bind(1, Int64(mark.protocol.rawValue))
                upsert.bind(2, Int64(mark.sender))
                upsert.bind(3, Int64(clamping: mark.value))
                try upsert.run()
            }
        }
    }

    public func readReplayMarks(othersOnly: Bool) throws(StoreError) -> [ReplayMark] {
        let state = try openState()
        guard !othersOnly, state.layout == .chunks else { return [] }
        let select = try state.connection.prepare("SELECT protocol, sender, value FROM replay_marks")
        var marks: [ReplayMark] = []
        // Bounded: one row per keyed sender that ever authenticated.
        while try select.step() {
            guard let telemetryProtocol = TelemetryProtocol(rawValue: UInt8(truncatingIfNeeded: select.int64(0))) else { continue }
            marks.append(
                ReplayMark(
                    protocol: telemetryProtocol, sender: UInt32(truncatingIfNeeded: select.int64(1)),
                    value: UInt64(max(0, select.int64(2)))))
        }
        return marks
    }
}

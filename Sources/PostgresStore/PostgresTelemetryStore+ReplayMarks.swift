import Logging
import PostgresNIO
import Telemetry
import TelemetryStore

extension PostgresTelemetryStore: ReplayMarkStoring {
    /// One upsert of this gateway's marks (`greatest`, so a mark never goes down).
    public func writeReplayMarks(_ marks: [ReplayMark]) throws(StoreError) {
        guard !marks.isEmpty else { return }
        let protocols = marks.map { Int64($0.protocol.rawValue) }
        let senders = marks.map { Int64($0.sender) }
        let values = marks.map { Int64(clamping: $0.value) }
        let gateway = gatewayName
        let logger = logger
        try transaction("write \(marks.count) replay marks") { connection in
            _ = try await connection.query("""
                INSERT INTO replay_marks (gateway, protocol, sender, value)
                SELECT \(gateway), u.* FROM unnest(\(protocols)::smallint[], \(senders)::bigint[], \(values)::bigint[]) AS u
                ON CONFLICT (gateway, protocol, sender) DO UPDATE SET value = greatest(replay_marks.value, excluded.value)
                """, logger: logger)
        }
    }

    /// The greatest mark per sender over every gateway, or over the other gateways only.
    public func readReplayMarks(othersOnly: Bool) throws(StoreError) -> [ReplayMark] {
        let gateway = gatewayName
        let logger = logger
        let rows = try run("read replay marks") { connection -> [ReplayMark] in
            let result = try await connection.query("""
                SELECT protocol, sender, max(value) FROM replay_marks
                WHERE NOT \(othersOnly) OR gateway <> \(gateway) GROUP BY protocol, sender
                """, logger: logger)
            var marks: [ReplayMark] = []
            for try await (protocolValue, sender, value) in result.decode((Int16, Int64, Int64).self) {
                guard let telemetryProtocol = TelemetryProtocol(rawValue: UInt8(truncatingIfNeeded: protocolValue)) else { continue }
                marks.append(
                    ReplayMark(protocol: telemetryProtocol, sender: UInt32(truncatingIfNeeded: sender), value: UInt64(max(0, value))))
            }
            return marks
        }
        return rows
    }
}

import Telemetry

/// What one retention pass did.
public struct StoreRetentionResult: Sendable, Equatable {
    public var rowsDeleted: Int
    /// Transactions committed; each deleted at most the step limit.
    public var transactions: Int
}

extension TelemetryStore {
    /// Deletes rows whose sample time is before `cutoffMicroseconds`, never more than
    /// `stepRowsMaximum` rows in one transaction, so the writer (and readers' WAL snapshots) never
    /// wait on one huge DELETE. Each drone's old rows are found through the (protocol, drone, time)
    /// index, so the pass costs what it deletes, not a scan of the table.
    @discardableResult
    public func retain(
        olderThanMicroseconds cutoffMicroseconds: UInt64, stepRowsMaximum: Int = Limits.Store.retentionStepRowsMax
    ) throws(StoreError) -> StoreRetentionResult {
        precondition(stepRowsMaximum > 0 && stepRowsMaximum <= 1_000_000)
        let state = try openState()
        let connection = state.connection
        let delete = try connection.prepare(
            state.layout == .clustered
                ? """
                DELETE FROM telemetry WHERE (protocol, drone, time_us, sequence) IN (
                  SELECT protocol, drone, time_us, sequence FROM telemetry
                  WHERE protocol = ?1 AND drone = ?2 AND time_us < ?3 ORDER BY time_us LIMIT ?4)
                """
                : """
                DELETE FROM telemetry WHERE rowid IN (
                  SELECT rowid FROM telemetry WHERE protocol = ?1 AND drone = ?2 AND time_us < ?3 ORDER BY time_us LIMIT ?4)
                """)
        let drones = try storedDrones(connection)
        var result = StoreRetentionResult(rowsDeleted: 0, transactions: 0)
        var droneIndex = 0
        // Each transaction deletes up to the step limit across as many drones as it takes; a drone
        // that still has old rows when the step is full is continued in the next transaction.
        // Bounded: every transaction but the last deletes exactly stepRowsMaximum rows.
        while droneIndex < drones.count {
            let deleted = try state.inTransaction { () throws(StoreError) -> Int in
                var deletedInStep = 0
                while droneIndex < drones.count && deletedInStep < stepRowsMaximum {
                    let drone = drones[droneIndex]
                    let limit = stepRowsMaximum - deletedInStep
                    delete.bind(1, Int64(drone.protocol.rawValue))
                    delete.bind(2, Int64(drone.number))
                    delete.bind(3, Int64(clamping: cutoffMicroseconds))
                    delete.bind(4, Int64(limit))
                    try delete.run()
                    let changes = connection.changes
                    deletedInStep += changes
                    if changes < limit { droneIndex += 1 }
                }
                return deletedInStep
            }
            result.rowsDeleted += deleted
            result.transactions += 1
        }
        return result
    }
}

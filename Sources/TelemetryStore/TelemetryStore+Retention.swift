import Telemetry

/// What one retention pass did.
public struct StoreRetentionResult: Sendable, Equatable {
    /// Rows deleted (PostgreSQL: the planner's estimate of the dropped partitions' rows).
    public var rowsDeleted: Int
    /// Transactions committed; each deleted at most the step limit.
    public var transactions: Int
    /// Whole daily partitions dropped (PostgreSQL; 0 for SQLite).
    public var partitionsDropped: Int = 0

    public init(rowsDeleted: Int, transactions: Int, partitionsDropped: Int = 0) {
        self.rowsDeleted = rowsDeleted
        self.transactions = transactions
        self.partitionsDropped = partitionsDropped
    }
}

extension TelemetryStore {
    /// Deletes rows whose sample time is before `cutoffMicroseconds`, never more than
    /// `stepRowsMaximum` rows in one transaction, so the writer (and readers' WAL snapshots) never
    /// wait on one huge DELETE. Each drone's old rows are found through the (protocol, drone, time)
    /// index, so the pass costs what it deletes, not a scan of the table.
    @discardableResult
    public func retain(
        olderThanMicroseconds cutoffMicroseconds: UInt64, stepRowsMaximum: Int
    ) throws(StoreError) -> StoreRetentionResult {
        precondition(stepRowsMaximum > 0 && stepRowsMaximum <= 1_000_000)
        let state = try openState()
        if state.layout == .chunks {
            let result = try retainChunks(state, olderThanMicroseconds: cutoffMicroseconds, stepRowsMaximum: stepRowsMaximum)
            _ = try retainEvents(state, olderThanMicroseconds: cutoffMicroseconds)
            return result
        }
        let connection = state.connection
        let delete = try connection.prepare("""
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

    /// Chunk layout: compacts the recent blocks first, then deletes whole chunks whose newest
    /// sample is before the cutoff (as TimescaleDB drops whole chunks), found per drone through the
    /// (protocol, drone, end_us) index. A chunk that straddles the cutoff stays until all of it is
    /// older: a drone keeps at most one compaction's worth of samples beyond the cutoff. A
    /// transaction ends once it deleted `stepRowsMaximum` samples or
    /// `Limits.Store.retentionStepChunksMax` chunks.
    private func retainChunks(
        _ state: OpenState, olderThanMicroseconds cutoff: UInt64, stepRowsMaximum: Int
    ) throws(StoreError) -> StoreRetentionResult {
        try compactAll()
        let connection = state.connection
        let candidates = try connection.prepare(
            "SELECT rowid, samples FROM telemetry_chunk WHERE protocol = ?1 AND drone = ?2 AND end_us < ?3 LIMIT ?4")
        let delete = try connection.prepare("DELETE FROM telemetry_chunk WHERE rowid = ?1")
        let drones = try chunkDrones(connection)
        let stepChunks = Limits.Store.retentionStepChunksMax
        var result = StoreRetentionResult(rowsDeleted: 0, transactions: 0)
        var droneIndex = 0
        var found: [(rowid: Int64, samples: Int)] = []
        found.reserveCapacity(stepChunks)
        // Bounded: every transaction but the last fills its step, and the chunks are finitely many.
        while droneIndex < drones.count {
            let deleted = try state.inTransaction { () throws(StoreError) -> Int in
                var chunks = 0
                var samples = 0
                while droneIndex < drones.count && chunks < stepChunks && samples < stepRowsMaximum {
                    let drone = drones[droneIndex]
                    candidates.reset()
                    candidates.bind(1, Int64(drone.protocol.rawValue))
                    candidates.bind(2, Int64(drone.number))
                    candidates.bind(3, Int64(clamping: cutoff))
                    candidates.bind(4, Int64(stepChunks - chunks + 1))
                    found.removeAll(keepingCapacity: true)
                    while try candidates.step() { found.append((candidates.int64(0), Int(candidates.int64(1)))) }
                    candidates.reset()
                    var taken = 0
                    while taken < found.count && chunks < stepChunks && samples < stepRowsMaximum {
                        delete.bind(1, found[taken].rowid)
                        try delete.run()
                        samples += found[taken].samples
                        chunks += 1
                        taken += 1
                    }
                    if taken == found.count { droneIndex += 1 }
                }
                return samples
            }
            result.rowsDeleted += deleted
            result.transactions += 1
        }
        return result
    }
}

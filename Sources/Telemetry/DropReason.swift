/// Why a datagram was dropped before it could be looked at.
public enum DropReason: Int, Sendable, CaseIterable, Hashable {
    /// The packet ring was full: the batch processors fell behind the socket.
    case ringFull = 0
    /// The store failed to commit the batch (disk full, I/O error); its units are lost.
    case storeFailed
    /// The store writer fell behind and the spill file's budget was spent: the batch that did
    /// not fit is lost (`serve --spill-budget`).
    case spillFull
    /// The spill file could not be written, or a record in it could not be read back.
    case spillFailed
    /// The database was unreachable (a PostgreSQL restart or outage) and the spill file's budget
    /// was spent: the batch that did not fit is lost.
    case storeUnavailable

    public var name: String {
        switch self {
        case .ringFull: "ring_full"
        case .storeFailed: "store_failed"
        case .spillFull: "spill_full"
        case .spillFailed: "spill_failed"
        case .storeUnavailable: "store_unavailable"
        }
    }
}

/// The delivery counters, per endpoint and in total. Every accepted event is in exactly one of
/// delivered, dead letters, dropped (queue full, shutdown) or pending:
/// `accepted == delivered + deadLetters + droppedQueueFull + droppedShutdown + pending`.
public struct WebhookStats: Sendable, Equatable {
    public struct Counts: Sendable, Equatable {
        /// Events offered to the endpoint (`accept`).
        public var accepted: UInt64 = 0
        /// Events in a request the receiver answered with 2xx.
        public var delivered: UInt64 = 0
        /// Events given up on: refused (4xx but 408 and 429) or failed every attempt.
        public var deadLetters: UInt64 = 0
        /// Events that did not fit the endpoint's queue.
        public var droppedQueueFull: UInt64 = 0
        /// Events offered after shutdown began, or still undelivered when its drain time ran out.
        public var droppedShutdown: UInt64 = 0
        /// Events in the queue or in a request in flight (waiting for a retry included).
        public var pending: UInt64 = 0
        /// Requests sent, every attempt counted.
        public var requests: UInt64 = 0
        /// Attempts that did not get a 2xx answer (connection error, time-out, any other status).
        public var requestFailures: UInt64 = 0
        /// Attempts that repeated an earlier one.
        public var retries: UInt64 = 0

        public init() {}

        /// Whether every accepted event is accounted for exactly once.
        public var isBalanced: Bool {
            accepted == delivered + deadLetters + droppedQueueFull + droppedShutdown + pending
        }

        /// The counters by their metric names (`skygate_webhook_<name>`), in a fixed order.
        public var named: [(name: String, value: UInt64)] {
            [
                ("accepted", accepted), ("delivered", delivered), ("dead_letters", deadLetters),
                ("dropped_queue_full", droppedQueueFull), ("dropped_shutdown", droppedShutdown), ("pending", pending),
                ("requests", requests), ("request_failures", requestFailures), ("retries", retries),
            ]
        }

        static func + (left: Counts, right: Counts) -> Counts {
            var sum = Counts()
            sum.accepted = left.accepted + right.accepted
            sum.delivered = left.delivered + right.delivered
            sum.deadLetters = left.deadLetters + right.deadLetters
            sum.droppedQueueFull = left.droppedQueueFull + right.droppedQueueFull
            sum.droppedShutdown = left.droppedShutdown + right.droppedShutdown
            sum.pending = left.pending + right.pending
            sum.requests = left.requests + right.requests
            sum.requestFailures = left.requestFailures + right.requestFailures
            sum.retries = left.retries + right.retries
            return sum
        }
    }

    public struct Endpoint: Sendable, Equatable {
        /// The endpoint's `displayName` (origin only: the path may hold a token).
        public var name: String
        public var counts: Counts
    }

    /// In the order of the `--webhook` options.
    public var endpoints: [Endpoint]
    public var total: Counts
}

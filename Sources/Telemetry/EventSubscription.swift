/// A live SSE stream and how to end it.
public struct EventSubscription: Sendable {
    public let events: AsyncStream<AlertEvent>
    public let cancel: @Sendable () -> Void
    public init(events: AsyncStream<AlertEvent>, cancel: @escaping @Sendable () -> Void) {
        self.events = events
        self.cancel = cancel
    }
}

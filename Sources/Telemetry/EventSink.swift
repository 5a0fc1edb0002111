/// Takes events the gateway published (webhook dispatch, the SSE stream). Called on the batch
/// processor's thread, once per batch with events: it must copy what it keeps and return at once,
/// never block or wait on I/O.
public protocol EventSink: AnyObject, Sendable {
    func accept(_ events: UnsafeBufferPointer<AlertEvent>)
}

import HummingbirdCore
import NIOCore
import NIOHTTPTypes
import Synchronization
import Telemetry

/// Bounds what HTTP clients can hold (docs/security.md, "HTTP"): at most `connectionsMax`
/// connections at once (one more is closed as soon as it is accepted), and a connection must
/// deliver each whole request, head and body, within `idleTimeout` of opening or of its previous
/// response, or it is closed. The second rule catches the idle client and the slow one alike: a
/// client that trickles a header or a body a byte at a time gets no more time than one that sends
/// nothing (Hummingbird's own idle timeout restarts on every body part, so it alone would not).
/// A request being answered is not timed: a long store read or an event stream is bounded
/// elsewhere (`StoreReadLimiter`, the stream slots).
///
/// One guard is shared by every connection of a server; each connection gets its own
/// `HTTPConnectionGuardHandler` in its pipeline (`serverBuilder()`).
public final class HTTPConnectionGuard: Sendable {
    public let connectionsMax: Int
    public let idleTimeout: Duration
    private let open = Atomic<Int>(0)
    private let accepted = Atomic<UInt64>(0)
    private let refused = Atomic<UInt64>(0)
    private let timedOut = Atomic<UInt64>(0)

    public init(connectionsMax: Int, idleTimeout: Duration) {
        precondition(connectionsMax >= 1 && idleTimeout > .zero)
        self.connectionsMax = connectionsMax
        self.idleTimeout = idleTimeout
    }

    public convenience init(limits: ValidLimits) {
        self.init(connectionsMax: limits.value.httpConnectionsMax, idleTimeout: limits.value.httpIdleTimeout)
    }

    /// An HTTP/1.1 server whose connections carry this guard, with Hummingbird's idle timeout
    /// set to the same time as a second line.
    public func serverBuilder() -> HTTPServerBuilder {
        .http1(
            configuration: .init(
                additionalChannelHandlers: [HTTPConnectionGuardHandler(guard: self)],
                idleTimeout: .nanoseconds(Int64(clamping: idleTimeout.nanosecondsClamped))))
    }

    /// The counters, for `/api/stats` and `/metrics`.
    public struct Counts: Sendable, Equatable {
        /// Connections open now.
        public var open: Int
        public var accepted: UInt64
        /// Closed at once because `connectionsMax` were open.
        public var refused: UInt64
        /// Closed because a whole request did not arrive within the idle timeout.
        public var timedOut: UInt64
    }

    public var counts: Counts {
        Counts(
            open: open.load(ordering: .relaxed), accepted: accepted.load(ordering: .relaxed),
            refused: refused.load(ordering: .relaxed), timedOut: timedOut.load(ordering: .relaxed))
    }

    /// Takes a connection slot; false when all `connectionsMax` are taken (counted refused).
    func admit() -> Bool {
        var current = open.load(ordering: .relaxed)
        while current < connectionsMax {
            let (exchanged, original) = open.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged {
                accepted.add(1, ordering: .relaxed)
                return true
            }
            current = original
        }
        refused.add(1, ordering: .relaxed)
        return false
    }

    func release() {
        let before = open.subtract(1, ordering: .relaxed).oldValue
        assert(before > 0, "an HTTP connection released twice")
    }

    func countTimedOut() { timedOut.add(1, ordering: .relaxed) }
}

/// The per-connection half of `HTTPConnectionGuard`. It sits after HTTP decoding, so it sees
/// request parts coming in and response parts going out; every method runs on the connection's
/// event loop.
///
/// The deadline is armed while the client owes the server bytes: while a request is being read
/// (its head came, its end not yet), and while every request read has been answered (the
/// connection is idle). It is disarmed only while a whole request waits for its answer, and never
/// pushed back by bytes arriving.
final class HTTPConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let connectionGuard: HTTPConnectionGuard
    private var isAdmitted = false
    private var isActiveSeen = false
    private var headsRead = 0
    private var endsRead = 0
    private var responsesEnded = 0
    private var deadline: Scheduled<Void>?

    init(guard connectionGuard: HTTPConnectionGuard) {
        self.connectionGuard = connectionGuard
    }

    /// A request is being read, or every request read has been answered.
    private var isOwedBytes: Bool { headsRead > endsRead || responsesEnded >= headsRead }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { becameActive(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        becameActive(context)
        context.fireChannelActive()
    }

    private func becameActive(_ context: ChannelHandlerContext) {
        guard !isActiveSeen else { return }
        isActiveSeen = true
        guard connectionGuard.admit() else {
            // Refused: closed before a byte is read, so an over-cap client costs nothing more.
            context.close(promise: nil)
            return
        }
        isAdmitted = true
        update(context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish()
    }

    private func finish() {
        deadline?.cancel()
        deadline = nil
        if isAdmitted {
            isAdmitted = false
            connectionGuard.release()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: headsRead += 1
        case .body: break
        case .end: endsRead += 1
        }
        update(context)
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            responsesEnded += 1
            update(context)
        }
        context.write(data, promise: promise)
    }

    /// Arms the deadline when the client owes bytes and none runs (a running one is kept, never
    /// pushed back); disarms it while a whole request waits for its answer.
    private func update(_ context: ChannelHandlerContext) {
        guard isAdmitted else { return }
        guard isOwedBytes else {
            deadline?.cancel()
            deadline = nil
            return
        }
        guard deadline == nil else { return }
        let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: .nanoseconds(Int64(clamping: connectionGuard.idleTimeout.nanosecondsClamped))) {
            let (handler, context) = loopBound.value
            handler.deadline = nil
            guard handler.isAdmitted, handler.isOwedBytes else { return }
            handler.connectionGuard.countTimedOut()
            context.close(promise: nil)
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSocketShims
import Telemetry

/// Sends batches of datagrams to one address with sendmmsg, for the simulator, `replay --to` and
/// the bench. A datagram the kernel refuses (no buffer space, no route) is counted in
/// `sendErrorCount` and skipped, as a radio would drop it, so a run never stalls on the network.
public final class UDPSender: DatagramSink {
    public let destination: SocketAddress
    let socketDescriptor: Int32
    public private(set) var sendErrorCount = 0
    /// The last error the kernel gave, for the end summary.
    public private(set) var lastErrorNumber: Int32 = 0
    /// The system's words for `lastErrorNumber`.
    public var lastErrorText: String { String(cString: strerror(lastErrorNumber)) }
    public private(set) var datagramsSent = 0
    public private(set) var sendCalls = 0

    /// Opens a socket for `destination` and checks that the destination is routable: connecting
    /// a UDP socket sends nothing but fails at once for an unreachable network or host.
    public init(destination: SocketAddress) throws(SocketError) {
        self.destination = destination
        let descriptor = socket(destination.family, SocketAddress.datagramSocketType, 0)
        guard descriptor >= 0 else { throw SocketError(operation: "socket", errno: errno) }
        var sendBuffer = Int32(Limits.Transport.sendBufferBytes)
        // Best effort: the kernel caps the size at net.core.wmem_max, which is fine.
        _ = setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &sendBuffer, socklen_t(MemoryLayout<Int32>.size))
        let connected = destination.withSockaddr { address, length in connect(descriptor, address, length) }
        guard connected == 0 else {
            let code = errno
            close(descriptor)
            throw SocketError(operation: "cannot reach \(destination)", errno: code)
        }
        socketDescriptor = descriptor
    }

    deinit { close(socketDescriptor) }

    /// Sends every datagram of `batch`, in order, in sendmmsg calls of up to CSOCKET_BATCH_MAX.
    public func send(_ batch: DatagramBatch) {
        let count = batch.count
        guard count > 0 else { return }
        withUnsafeTemporaryAllocation(of: UnsafeRawPointer?.self, capacity: Int(CSOCKET_BATCH_MAX)) { bases in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: Int(CSOCKET_BATCH_MAX)) { lengths in
                var next = 0
                // Bounded: every pass sends at least one datagram or skips one as an error.
                while next < count {
                    let chunk = min(count - next, Int(CSOCKET_BATCH_MAX))
                    for index in 0..<chunk {
                        let datagram = batch[next + index]
                        bases[index] = datagram.baseAddress
                        lengths[index] = UInt32(datagram.count)
                    }
                    // The socket is connected, so no address per message.
                    let sent = csocket_sendmmsg(
                        socketDescriptor, bases.baseAddress, lengths.baseAddress, UInt32(chunk), nil, 0, 0)
                    sendCalls += 1
                    if sent > 0 {
                        next += Int(sent)
                        datagramsSent += Int(sent)
                    } else if sent < 0 && errno == EINTR {
                        continue
                    } else {
                        // The first datagram of the chunk was refused (ECONNREFUSED after an ICMP
                        // port unreachable, ENOBUFS, ...): count it, skip it, go on.
                        lastErrorNumber = sent < 0 ? errno : 0
                        sendErrorCount += 1
                        next += 1
                    }
                }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import CSocketShims
import PacketRing
import Synchronization
import Telemetry

/// A bound UDP socket and its receive loop: `recvmmsg` into a scratch area allocated once, then
/// each datagram appended to the packet ring by its size (one copy, so the ring never reserves
/// the largest size per datagram), one receive timestamp per call, every datagram counted. A
/// datagram the ring has no room for is counted `dropped{ring_full}`; the loop never blocks on
/// the ring and never allocates.
public final class UDPReceiver: @unchecked Sendable {
    // @unchecked: the socket descriptor is immutable; the receive loop runs on one thread.

    public let limits: Limits
    public let ring: DatagramRing
    public let counters: IngestCounters
    /// The socket descriptor.
    let socket: Int32
    /// The address actually bound (the port is filled in when 0 was asked for).
    public let boundAddress: SocketAddress
    /// The socket's inode, to find its drop counter in /proc/net/udp{,6}.
    let inode: UInt64

    /// Set to stop the loop; it notices within `Limits.Transport.receiveTimeout`.
    public let stopRequested = Atomic<Bool>(false)
    /// `recvmmsg` calls that returned datagrams (received datagrams over this is the mean batch).
    public let receiveCalls = Atomic<UInt64>(0)
    /// Where `recvmmsg` puts a batch (`receiveBatchDatagrams` × `datagramBytesMax`) before the
    /// datagrams are appended to the ring.
    let scratch: UnsafeMutableRawPointer
    // recvmmsg argument arrays, allocated once.
    let bases: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    let capacities: UnsafeMutablePointer<UInt32>
    let lengths: UnsafeMutablePointer<UInt32>
    let messageFlags: UnsafeMutablePointer<Int32>
    let addresses: UnsafeMutablePointer<sockaddr_storage>

    /// Binds a UDP socket to `address` with `SO_RCVBUF` from the limits.
    public init(address: SocketAddress, limits validLimits: ValidLimits, ring: DatagramRing, counters: IngestCounters)
        throws(SocketError)
    {
        let limits = validLimits.value
        precondition(ring.datagramCapacity >= limits.datagramBytesMax)
        self.limits = limits
        self.ring = ring
        self.counters = counters
        let fd = Glibc.socket(address.family, SocketAddress.datagramSocketType, 0)
        guard fd >= 0 else { throw SocketError(operation: "socket", errno: errno) }
        var receiveBuffer = Int32(clamping: limits.socketReceiveBufferBytes)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, socklen_t(MemoryLayout<Int32>.size))
        // SO_RCVBUFFORCE lifts net.core.rmem_max when running with CAP_NET_ADMIN; harmless otherwise.
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &receiveBuffer, socklen_t(MemoryLayout<Int32>.size))
        let timeoutMicroseconds = Limits.Transport.receiveTimeout.microsecondsClamped
        var timeout = timeval(tv_sec: Int(timeoutMicroseconds / 1_000_000), tv_usec: Int(timeoutMicroseconds % 1_000_000))
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if address.family == AF_INET6 {
            var off: Int32 = 0  // accept IPv4-mapped traffic too when bound to [::]
            _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &off, socklen_t(MemoryLayout<Int32>.size))
        }
        let bindStatus = address.withSockaddr { bind(fd, $0, $1) }
        guard bindStatus == 0 else {
            let code = errno
            close(fd)
            throw SocketError(operation: "bind \(address)", errno: code)
        }
        var bound = sockaddr_storage()
        var boundLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &boundLength) }
        }
        boundAddress = SocketAddress(storage: bound, length: boundLength)
        var status = stat()
        fstat(fd, &status)
        inode = UInt64(status.st_ino)
        socket = fd

        let batch = min(limits.receiveBatchDatagrams, Int(CSOCKET_BATCH_MAX))
        scratch = .allocate(byteCount: batch * limits.datagramBytesMax, alignment: 64)
        scratch.initializeMemory(as: UInt8.self, repeating: 0, count: batch * limits.datagramBytesMax)
        bases = .allocate(capacity: batch)
        bases.initialize(repeating: nil, count: batch)
        capacities = .allocate(capacity: batch)
        capacities.initialize(repeating: UInt32(limits.datagramBytesMax), count: batch)
        lengths = .allocate(capacity: batch)
        lengths.initialize(repeating: 0, count: batch)
        messageFlags = .allocate(capacity: batch)
        messageFlags.initialize(repeating: 0, count: batch)
        addresses = .allocate(capacity: batch)
        addresses.initialize(repeating: sockaddr_storage(), count: batch)
    }

    deinit {
        close(socket)
        scratch.deallocate()
        bases.deallocate()
        capacities.deallocate()
        lengths.deallocate()
        messageFlags.deallocate()
        addresses.deallocate()
    }

    /// Bytes of the scratch area and the `recvmmsg` argument arrays, allocated by `init`.
    public var allocatedBytes: Int {
        batchDatagramsMax * (limits.datagramBytesMax + MemoryLayout<sockaddr_storage>.stride + MemoryLayout<UnsafeMutableRawPointer?>.stride + 3 * 4)
    }

    /// The port the socket is bound to.
    public var port: UInt16 { boundAddress.port }

    /// Receives until `stopRequested` is set. Run it on a dedicated thread.
    public func run() {
        let batch = batchDatagramsMax
        let pause = limits.receivePause
        while !stopRequested.load(ordering: .relaxed) {
            let received = receiveOnce(batch: batch)
            // The call emptied the socket: let the next datagrams gather (`Limits.receivePause`).
            if received > 0 && received < batch && pause > .zero { SystemClock.sleep(for: pause) }
        }
    }

    /// Datagrams one call takes at most: the size of the argument arrays and the scratch area.
    var batchDatagramsMax: Int { min(limits.receiveBatchDatagrams, Int(CSOCKET_BATCH_MAX)) }

    /// One `recvmmsg` call of at most `batch` datagrams (and never more than the arrays allocated
    /// for `Limits.receiveBatchDatagrams`) into the scratch area, then each datagram appended to
    /// the ring; those it has no room for are counted `dropped{ring_full}`. Returns the datagrams
    /// received (0 on timeout or error).
    @discardableResult
    public func receiveOnce(batch requested: Int) -> Int {
        let batch = max(1, min(requested, batchDatagramsMax))
        let datagramBytesMax = limits.datagramBytesMax
        for index in 0..<batch {
            bases[index] = scratch + index * datagramBytesMax
            capacities[index] = UInt32(datagramBytesMax)
        }
        let received = csocket_recvmmsg(
            socket, bases, capacities, lengths, messageFlags, addresses, UInt32(batch), csocket_msg_waitforone())
        guard received > 0 else { return 0 }
        receiveCalls.add(1, ordering: .relaxed)
        let timestamp = SystemClock.realtimeNanoseconds()
        let n = Int(received)
        var refused = 0
        for index in 0..<n {
            let length = Int(lengths[index])
            counters.countDatagram(bytes: length)
            let truncated = messageFlags[index] & Int32(MSG_TRUNC) != 0
            let datagram = UnsafeRawBufferPointer(start: scratch + index * datagramBytesMax, count: min(length, datagramBytesMax))
            let source = UnsafeRawBufferPointer(start: addresses + index, count: Self.addressLength(addresses[index]))
            if !ring.append(datagram: datagram, source: source, timestamp: timestamp, isTruncated: truncated) {
                refused += 1
            }
        }
        ring.publish()
        if refused > 0 { counters.countDropped(.ringFull, units: refused) }
        return n
    }

    /// Bytes of a received address worth keeping: its family's `sockaddr`, not the whole
    /// 128-byte `sockaddr_storage`.
    static func addressLength(_ address: sockaddr_storage) -> Int {
        switch Int32(address.ss_family) {
        case AF_INET: MemoryLayout<sockaddr_in>.size
        case AF_INET6: MemoryLayout<sockaddr_in6>.size
        default: MemoryLayout<sockaddr_storage>.size
        }
    }
}

/// A socket call failed: which one, and the system's words for why.
public struct SocketError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var errno: Int32
    public var description: String { "\(operation): \(String(cString: strerror(errno)))" }
}

#if canImport(Glibc)
import Glibc
#endif
import CSocketShims
import PacketRing
import Synchronization
import Telemetry

/// A bound UDP socket and its receive loop: `recvmmsg` straight into the packet ring's free
/// slots, one receive timestamp per call, every datagram counted. When the ring is full the
/// datagrams are still read (so the kernel buffer drains) into a scratch area and counted as
/// `dropped{ring_full}`; the loop never blocks on the ring and never allocates.
public final class UDPReceiver: @unchecked Sendable {
    // @unchecked: the socket descriptor is immutable; the receive loop runs on one thread.

    public let limits: Limits
    public let ring: PacketRing
    public let counters: IngestCounters
    /// The socket descriptor.
    let socket: Int32
    /// The address actually bound (the port is filled in when 0 was asked for).
    public let boundAddress: SocketAddress
    /// The socket's inode, to find its drop counter in /proc/net/udp{,6}.
    let inode: UInt64

    /// Set to stop the loop; it notices within `Limits.Transport.receiveTimeout`.
    public let stopRequested = Atomic<Bool>(false)
    /// Datagrams read while the ring was full go here and are dropped.
    let scratch: UnsafeMutableRawPointer
    // recvmmsg argument arrays, allocated once.
    let bases: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    let capacities: UnsafeMutablePointer<UInt32>
    let lengths: UnsafeMutablePointer<UInt32>
    let messageFlags: UnsafeMutablePointer<Int32>
    let addresses: UnsafeMutablePointer<sockaddr_storage>

    /// Binds a UDP socket to `address` with `SO_RCVBUF` from the limits.
    public init(address: SocketAddress, limits validLimits: ValidLimits, ring: PacketRing, counters: IngestCounters)
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

    /// The port the socket is bound to.
    public var port: UInt16 { boundAddress.port }

    /// Receives until `stopRequested` is set. Run it on a dedicated thread.
    public func run() {
        while !stopRequested.load(ordering: .relaxed) {
            _ = receiveOnce(batch: batchDatagramsMax)
        }
    }

    /// Datagrams one call takes at most: the size of the argument arrays and the scratch area.
    var batchDatagramsMax: Int { min(limits.receiveBatchDatagrams, Int(CSOCKET_BATCH_MAX)) }

    /// One `recvmmsg` call of at most `batch` datagrams (and never more than the arrays allocated
    /// for `Limits.receiveBatchDatagrams`): into ring slots when there is room, else into the
    /// scratch area. Returns the datagrams received (0 on timeout or error).
    @discardableResult
    public func receiveOnce(batch requested: Int) -> Int {
        let batch = max(1, min(requested, batchDatagramsMax))
        let slots = ring.freeSlots(upTo: batch)
        let intoRing = !slots.isEmpty
        let count = intoRing ? slots.count : batch
        for index in 0..<count {
            bases[index] = intoRing ? slots[index].datagramBuffer.baseAddress : scratch + index * limits.datagramBytesMax
            capacities[index] = UInt32(limits.datagramBytesMax)
        }
        let received = csocket_recvmmsg(
            socket, bases, capacities, lengths, messageFlags, addresses, UInt32(count), csocket_msg_waitforone())
        guard received > 0 else { return 0 }
        let timestamp = SystemClock.realtimeNanoseconds()
        let n = Int(received)
        for index in 0..<n {
            counters.countDatagram(bytes: Int(lengths[index]))
        }
        if intoRing {
            for index in 0..<n {
                let slot = slots[index]
                let truncated = messageFlags[index] & Int32(MSG_TRUNC) != 0
                slot.byteCount = min(Int(lengths[index]), limits.datagramBytesMax)
                slot.isTruncated = truncated
                slot.receiveTimestampNanoseconds = timestamp
                slot.sourceAddressBuffer.copyMemory(
                    from: UnsafeRawBufferPointer(start: addresses + index, count: MemoryLayout<sockaddr_storage>.size))
                slot.sourceAddressLength = MemoryLayout<sockaddr_storage>.size
            }
            ring.publish(count: n)
        } else {
            counters.countDropped(.ringFull, units: n)
        }
        return n
    }
}

/// A socket call failed: which one, and the system's words for why.
public struct SocketError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var errno: Int32
    public var description: String { "\(operation): \(String(cString: strerror(errno)))" }
}

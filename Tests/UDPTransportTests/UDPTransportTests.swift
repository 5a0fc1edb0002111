#if canImport(Glibc)
import Glibc
#endif
import CSocketShims
import PacketRing
import Telemetry
import Testing
import UDPTransport

/// The transport on real loopback sockets: what the sender sends with sendmmsg, the receiver
/// reads with recvmmsg and appends to the ring by size, byte for byte, with a receive time and the
/// sender's address; a full ring drops and counts; addresses parse or are refused in words an
/// option can quote. Every receive is bounded by the receive time-out, so nothing can hang.
@Suite(.serialized) struct UDPTransportTests {
    static func makeReceiver(ringBytes: Int = 1 << 20) throws -> (UDPReceiver, DatagramRing, IngestCounters) {
        var limits = Limits()
        limits.ringBytes = ringBytes
        limits.receiveBatchDatagrams = 64
        limits.drainBatchDatagrams = 1_024
        let valid = try ValidLimits(limits)
        let ring = DatagramRing(byteCapacity: ringBytes, datagramCapacity: limits.datagramBytesMax)
        let counters = IngestCounters()
        let receiver = try UDPReceiver(
            address: try SocketAddress(parsing: "127.0.0.1:0", allowingPortZero: true), limits: valid, ring: ring, counters: counters)
        return (receiver, ring, counters)
    }

    static func batch(_ datagrams: [[UInt8]]) -> DatagramBatch {
        let batch = DatagramBatch(capacity: datagrams.count, slotLength: 2_048)
        for datagram in datagrams { datagram.withUnsafeBytes { batch.append($0) } }
        return batch
    }

    /// Receives until `count` datagrams arrived or 20 calls came back empty (2 s at most).
    static func receive(_ receiver: UDPReceiver, count: Int) -> Int {
        var received = 0
        var emptyCalls = 0
        while received < count && emptyCalls < 20 {
            let got = receiver.receiveOnce(batch: 64)
            received += got
            emptyCalls += got == 0 ? 1 : 0
        }
        return received
    }

    @Test func sentDatagramsLandInRingSlots() throws {
        let (receiver, ring, counters) = try Self.makeReceiver()
        #expect(receiver.port != 0)
        let sender = try UDPSender(destination: try SocketAddress(parsing: "127.0.0.1:\(receiver.port)"))
        let datagrams = (0..<40).map { index in [UInt8](repeating: UInt8(index), count: 1 + index * 7) }
        let before = SystemClock.realtimeNanoseconds()
        sender.send(Self.batch(datagrams))
        #expect(sender.datagramsSent == 40 && sender.sendErrorCount == 0 && sender.sendCalls == 1)
        #expect(Self.receive(receiver, count: 40) == 40)
        let slots = ring.filledRecords(upTo: 64)
        #expect(slots.count == 40)
        for (index, slot) in slots.enumerated() {
            // Only the family's sockaddr is kept, not the whole sockaddr_storage.
            #expect(slot.sourceAddressLength == MemoryLayout<sockaddr_in>.size)
            #expect(Array(slot.datagram) == datagrams[index])
            #expect(!slot.isTruncated)
            #expect(slot.receiveTimestampNanoseconds >= before)
            // The sender's address as the kernel gave it: AF_INET, 127.0.0.1.
            let source = slot.sourceAddress
            #expect(Int32(source.loadUnaligned(fromByteOffset: 0, as: sa_family_t.self)) == AF_INET)
            #expect(Array(source[4..<8]) == [127, 0, 0, 1])
        }
        ring.release(count: slots.count)
        let snapshot = counters.snapshot()
        #expect(snapshot.datagramsReceived == 40)
        #expect(snapshot.bytesReceived == UInt64(datagrams.reduce(0) { $0 + $1.count }))
        #expect(receiver.kernelDrops() == 0)
    }

    @Test func aCallThatEmptiedTheSocketPausesSoTheNextDatagramsComeTogether() throws {
        // The receive thread pauses after a call that emptied the socket (`Limits.receivePause`):
        // what arrives meanwhile comes back in one call, not one wake-up each.
        var limits = Limits()
        limits.receivePause = .milliseconds(50)
        let ring = DatagramRing(byteCapacity: 1 << 20, datagramCapacity: limits.datagramBytesMax)
        let receiver = try UDPReceiver(
            address: try SocketAddress(parsing: "127.0.0.1:0", allowingPortZero: true), limits: try ValidLimits(limits), ring: ring,
            counters: IngestCounters())
        let thread = ThreadHandle.start(name: "test-receive") { [receiver] in receiver.run() }
        defer {
            receiver.stopRequested.store(true, ordering: .relaxed)
            thread.join()
        }
        /// Waits up to 2 s for `count` datagrams in the ring.
        func waitFor(_ count: Int) -> Bool {
            for _ in 0..<4_000 where ring.count < count { SystemClock.sleep(for: .microseconds(500)) }
            return ring.count == count
        }
        let sender = try UDPSender(destination: try SocketAddress(parsing: "127.0.0.1:\(receiver.port)"))
        sender.send(Self.batch([[1]]))
        #expect(waitFor(1))
        // Sent while the receiver pauses after taking the first one.
        sender.send(Self.batch((0..<30).map { [UInt8($0)] }))
        #expect(waitFor(31))
        #expect(receiver.receiveCalls.load(ordering: .relaxed) == 2)
    }

    @Test func aFullRingDropsAndCounts() throws {
        let ringBytes = 8_192
        let (receiver, ring, counters) = try Self.makeReceiver(ringBytes: ringBytes)
        // One-byte datagrams from an IPv4 sender: records of 24 + 16 + 1 bytes, rounded to 48.
        let recordBytes = DatagramRing.recordBytes(datagramBytes: 1, sourceBytes: MemoryLayout<sockaddr_in>.size)
        #expect(recordBytes == 48)
        let fitting = ringBytes / recordBytes
        let sent = fitting + 30
        let sender = try UDPSender(destination: try SocketAddress(parsing: "127.0.0.1:\(receiver.port)"))
        sender.send(Self.batch((0..<sent).map { [UInt8(truncatingIfNeeded: $0)] }))
        #expect(Self.receive(receiver, count: sent) == sent)
        #expect(ring.count == fitting)
        let snapshot = counters.snapshot()
        #expect(snapshot.datagramsReceived == UInt64(sent))
        #expect(snapshot.dropped[.ringFull] == 30)
        // The ones kept are the first ones, in order.
        var expected = 0
        for record in ring.filledRecords(upTo: sent) {
            #expect(Array(record.datagram) == [UInt8(truncatingIfNeeded: expected)])
            expected += 1
        }
        #expect(expected == fitting)
    }

    @Test func oversizedDatagramsAreMarkedTruncated() throws {
        let (receiver, ring, _) = try Self.makeReceiver()
        let sender = try UDPSender(destination: try SocketAddress(parsing: "127.0.0.1:\(receiver.port)"))
        let big = DatagramBatch(capacity: 1, slotLength: 4_000)
        [UInt8](repeating: 0xAB, count: 3_000).withUnsafeBytes { big.append($0) }
        sender.send(big)
        #expect(Self.receive(receiver, count: 1) == 1)
        let slot = try #require(ring.filledRecords(upTo: 1).first { _ in true })
        #expect(slot.isTruncated && slot.byteCount == Limits().datagramBytesMax)
    }

    @Test func addressesParseAndBadOnesAreNamed() throws {
        #expect(try SocketAddress(parsing: "127.0.0.1:14550").family == AF_INET)
        #expect(try SocketAddress(parsing: "127.0.0.1:14550").port == 14550)
        #expect(try SocketAddress(parsing: "[::1]:14550").family == AF_INET6)
        #expect(try SocketAddress(parsing: "localhost:14550").length > 0)
        #expect(try SocketAddress(parsing: "127.0.0.1:0", allowingPortZero: true).port == 0)
        for bad in ["127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", ":14550", "[::1]14550", "::1:14550"] {
            #expect(throws: AddressError.self) { try SocketAddress(parsing: bad) }
        }
        do {
            _ = try SocketAddress(parsing: "127.0.0.1:0")
        } catch {
            #expect(error.description.contains("no valid port"))
        }
    }

    @Test func aSecondBindOnTheSamePortIsAnError() throws {
        let (receiver, _, _) = try Self.makeReceiver()
        let address = try SocketAddress(parsing: "127.0.0.1:\(receiver.port)")
        do throws(SocketError) {
            _ = try UDPReceiver(
                address: address, limits: .defaults,
                ring: DatagramRing(byteCapacity: 1 << 16, datagramCapacity: 2_048), counters: IngestCounters())
            Issue.record("bound the same port twice")
        } catch {
            #expect(error.operation.hasPrefix("bind") && error.errno == EADDRINUSE)
        }
    }

    @Test func portProbe() throws {
        // Bind a TCP port on loopback, then probe it: taken; once closed: free again.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                try #require(bind(fd, $0, length) == 0)
                try #require(getsockname(fd, $0, &length) == 0)
            }
        }
        let port = UInt16(bigEndian: address.sin_port)
        #expect(!PortProbe.isLoopbackTCPPortFree(port))
        close(fd)
        #expect(PortProbe.isLoopbackTCPPortFree(port))
    }

    /// The C shim's batch bound and the one in `Limits` are the same number.
    @Test func callBoundMatchesTheShim() {
        #expect(Limits.Transport.datagramsPerCallMax == Int(CSOCKET_BATCH_MAX))
        #expect(Limits().receiveBatchDatagrams <= Limits.Transport.datagramsPerCallMax)
    }
}

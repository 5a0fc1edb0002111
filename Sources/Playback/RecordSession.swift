import FlightRecording
import PacketRing
import Telemetry
import UDPTransport

/// `skygate record`: the gateway's receive thread and packet ring, with a recorder thread
/// (`RecordingDrain`) in place of the batch processor, writing every datagram to one Skygate
/// recording and storing nothing. Datagrams the ring cannot take are counted
/// `dropped{ring_full}`, as in the gateway.
public final class RecordSession: @unchecked Sendable {
    // @unchecked: `threads` is touched only by `start()` and `stop()`, from the owner's thread.

    public let counters = IngestCounters()
    public let receiver: UDPReceiver
    let drain: RecordingDrain
    private var threads: [ThreadHandle] = []

    /// Binds `udpAddress` and creates `outputPath`; errors name the option.
    public init(udpAddress: String, outputPath: String, limits validLimits: ValidLimits, options: RecordingOptions = RecordingOptions())
        throws(PlaybackError)
    {
        let limits = validLimits.value
        let address: SocketAddress
        do { address = try SocketAddress(parsing: udpAddress, allowingPortZero: true) } catch { throw PlaybackError("--udp: \(error)") }
        let ring = DatagramRing(byteCapacity: limits.recordSessionRingBytes, datagramCapacity: limits.datagramBytesMax)
        do {
            receiver = try UDPReceiver(address: address, limits: validLimits, ring: ring, counters: counters)
        } catch {
            throw PlaybackError("--udp \(udpAddress): \(error)")
        }
        let writer: RecordingWriter
        do {
            writer = try RecordingWriter(
                path: outputPath, startNanoseconds: SystemClock.realtimeNanoseconds(), gatewayVersion: FlightRecorder.gatewayVersion,
                options: options)
        } catch {
            throw PlaybackError("--out \(outputPath): \(error)")
        }
        drain = RecordingDrain(ring: ring, sink: writer, sourceForm: .socketAddress)
    }

    public var udpPort: UInt16 { receiver.port }
    public var datagramsRecorded: UInt64 { drain.datagramsRecorded }
    /// Datagrams received but not in the recording because a write failed.
    public var datagramsNotRecorded: UInt64 { drain.datagramsNotRecorded }
    /// Why recording failed (a full disk), if it did; the command ends then.
    public var failure: String? { drain.failure }

    public func start() {
        precondition(threads.isEmpty, "started twice")
        threads = [
            ThreadHandle.start(name: "skygate-receive") { [receiver] in receiver.run() },
            ThreadHandle.start(name: "skygate-record") { [drain] in drain.run() },
        ]
    }

    /// Stops receiving, writes everything received, closes the recording (index and trailer).
    /// Returns the accounting: every datagram received is recorded or dropped (ring full).
    @discardableResult
    public func stop() -> IngestCounters.Snapshot {
        if threads.count == 2 {
            receiver.stopRequested.store(true, ordering: .relaxed)
            threads[0].join()
            drain.requestStop()
            threads[1].join()
            threads = []
        }
        return counters.snapshot()
    }
}

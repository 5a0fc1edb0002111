import DroneSimulator
import Foundation
import Gateway
import Playback
import Telemetry
import TelemetryStore
import UDPTransport

/// A temporary directory for one test's database, removed afterwards.
public final class TemporaryDirectory {
    public let path: String
    public init() {
        path = NSTemporaryDirectory() + "skygate-test-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    public func file(_ name: String) -> String { path + "/" + name }
}

/// A gateway on ephemeral loopback ports with a temporary database.
public func makeGateway(in directory: TemporaryDirectory, keyFile: String? = nil) throws -> Gateway {
    var configuration = GatewayConfiguration()
    configuration.udpAddress = "127.0.0.1:0"
    configuration.httpAddress = "127.0.0.1:0"
    configuration.databasePath = directory.file("gateway.db")
    configuration.keyFile = keyFile
    configuration.limits.commitInterval = .milliseconds(50)
    return try Gateway(configuration: configuration)
}

/// Flies a seeded fleet as fast as possible into `port` and returns the simulator's summary.
/// Samples are fresh: the flight ends at the wall clock (a live flight sent as fast as possible;
/// the gateway refuses samples older than `Limits.sampleAgeMax` and further ahead than
/// `Limits.futureTolerance`), or starts at `startTimeMicroseconds` when given.
public func fly(
    drones: Int, rate: Double, duration: Double, samplesPerDatagram: Int = 1, faults: LinkFaults = .none,
    seed: UInt64 = 7, firstDroneID: UInt32 = 1, startTimeMicroseconds: UInt64? = nil, port: UInt16
) throws -> SimulationSummary {
    var configuration = FleetConfiguration(
        droneCount: drones, sampleRateHz: rate, durationSeconds: duration, samplesPerDatagram: samplesPerDatagram, seed: seed)
    configuration.firstDroneID = firstDroneID
    configuration.startTimeMicroseconds = startTimeMicroseconds ?? SystemClock.realtimeMicroseconds() - UInt64(duration * 1_000_000)
    configuration.faults = faults
    return try FleetSender.flyNow(FleetSender.makeFleet(configuration), to: try SocketAddress(parsing: "127.0.0.1:\(port)"))
}

/// Waits (bounded) until `condition` holds; returns whether it did.
public func waitUntil(seconds: Double = 15, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// Every stored row of every drone, read back from the database.
public func storedRows(_ path: String) throws -> [DroneIdentity: [StoredSample]] {
    var options = StoreOptions()
    options.isReadOnly = true
    let store = try TelemetryStore(path: path, options: options)
    defer { store.close() }
    var rows: [DroneIdentity: [StoredSample]] = [:]
    try store.readSamples { page in
        for row in page { rows[row.drone, default: []].append(row) }
        return true
    }
    return rows
}

/// Sends raw datagrams from a plain UDP socket.
public func sendRaw(_ datagrams: [[UInt8]], to port: UInt16) {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    defer { close(fd) }
    var size: Int32 = 4 << 20
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    for datagram in datagrams {
        _ = datagram.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }
}

import DroneSimulator
import Telemetry
import TelemetryWire
import WireAuthentication

/// Runs `configuration` as fast as possible into memory and returns the datagrams and the fleet.
func runInMemory(
    _ configuration: FleetConfiguration, keys: DroneKeys = DroneKeys()
) -> (datagrams: [[UInt8]], fleet: FleetSimulator<SkygateTelemetryEncoder>) {
    let encoder = SkygateTelemetryEncoder(keys: keys, startTimeMicroseconds: configuration.startTimeMicroseconds)
    let fleet = FleetSimulator(configuration: configuration, encoder: encoder)
    var sink = MemoryDatagramSink()
    _ = SimulationRunner.run(fleet, into: &sink, clock: ManualClock(), pacing: .asFastAsPossible)
    return (sink.datagrams, fleet)
}

/// A key of 32 bytes derived from the drone id, for tests.
func testKeys(droneIDs: ClosedRange<UInt32>) throws -> DroneKeys {
    var table: [UInt32: [UInt8]] = [:]
    for droneID in droneIDs {
        table[droneID] = (0..<32).map { UInt8(truncatingIfNeeded: Int($0) &* 31 &+ Int(droneID)) }
    }
    return try DroneKeys(table)
}

/// Whether `observed` successes out of `trials` agree with probability `p` within `sigmas`
/// binomial standard deviations (plus one, for the discreteness of small counts).
func isWithinBinomialTolerance(observed: Int, trials: Int, p: Double, sigmas: Double = 4.5) -> Bool {
    let expected = Double(trials) * p
    let deviation = (Double(trials) * p * (1 - p)).squareRoot()
    return abs(Double(observed) - expected) <= sigmas * deviation + 1
}

/// Per-drone view of what a receiver accepted.
struct ReceivedDrone: Equatable {
    var samples = 0
    var first: ReportedPosition?
    var last: ReportedPosition?
}

/// Decodes datagrams as a gateway would and tallies, per drone, the accepted samples and the
/// earliest and latest of them.
struct ReceiverTally {
    var drones: [UInt32: ReceivedDrone] = [:]
    var rejections: [WireError: Int] = [:]
    var datagrams = 0
    var authenticator: HMACAuthenticator
    let columns = SampleColumns(capacity: 4 * WireFormat.maxSamplesPerFrame)

    init(keys: DroneKeys = DroneKeys()) { authenticator = HMACAuthenticator(keys: keys) }

    mutating func receive(_ datagram: UnsafeRawBufferPointer) {
        datagrams += 1
        columns.removeAll()
        var rejections = self.rejections
        _ = FrameDecoder.decodeDatagram(datagram, into: columns, authenticator: &authenticator) { error in
            rejections[error, default: 0] += 1
        }
        self.rejections = rejections
        for row in 0..<columns.count {
            let position = ReportedPosition(
                latitudeE7: columns.latitudesE7[row], longitudeE7: columns.longitudesE7[row],
                altitudeMM: columns.altitudesMM[row], timestampMicroseconds: columns.timestampsMicroseconds[row])
            var drone = drones[columns.droneIDs[row], default: ReceivedDrone()]
            drone.samples += 1
            if drone.first == nil || position.timestampMicroseconds < drone.first!.timestampMicroseconds {
                drone.first = position
            }
            if drone.last == nil || position.timestampMicroseconds > drone.last!.timestampMicroseconds {
                drone.last = position
            }
            drones[columns.droneIDs[row]] = drone
        }
    }

    mutating func receive(_ datagram: [UInt8]) {
        datagram.withUnsafeBytes { receive($0) }
    }
}

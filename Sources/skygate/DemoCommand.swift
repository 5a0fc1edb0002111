import ArgumentParser
import DroneSimulator
import Foundation
import Gateway
import Logging
import Playback
import Synchronization
import Telemetry
import UDPTransport

/// `skygate demo`: the gateway and a simulated fleet on embedded defaults, so a new user sees the
/// whole path work with one command. The gateway listens on loopback only; the fleet flies for
/// `--duration` seconds, then the status server stays up so the flight can be reviewed at
/// `/review` until Ctrl-C (or, with `--exit-when-done`, for scripts and CI, the gateway stops at
/// once); either way it drains and prints its accounting.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the gateway with a simulated fleet on loopback (embedded defaults).",
        discussion: "UDP 127.0.0.1:14550 and HTTP 127.0.0.1:8080 (free ports are picked if those are taken), database skygate-demo.db. After the flight the status page stays up for review until Ctrl-C (--exit-when-done stops instead). Ctrl-C stops early; everything received is still committed."
    )

    @Option(help: "Drones in the simulated fleet.") var drones: Int = 25
    @Option(help: "Samples per second per drone.") var rate: Double = 5
    @Option(help: "Seconds the fleet flies (the status page then stays up for review until Ctrl-C).") var duration: Double = 20
    @Option(help: "Database file.") var db: String = "skygate-demo.db"
    @Option(help: "Percent of datagrams lost, corrupted and duplicated each, to show the accounting.") var faults: Double = 2
    @Flag(help: "Stop the gateway when the fleet has landed instead of serving the review page until Ctrl-C (scripts, CI).")
    var exitWhenDone = false

    func validate() throws {
        guard (1...10_000).contains(drones) else { throw ValidationError("--drones must be in 1...10000, got \(drones)") }
        guard rate > 0 && rate <= 50 else { throw ValidationError("--rate must be above 0 and at most 50, got \(rate)") }
        guard duration >= 1 && duration <= 86_400 else { throw ValidationError("--duration must be in 1...86400 seconds, got \(duration)") }
        guard faults >= 0 && faults <= 30 else { throw ValidationError("--faults must be a percentage in 0...30, got \(faults)") }
    }

    func run() async throws {
        var logger = Logger(label: "skygate")
        logger.logLevel = .warning
        var configuration = GatewayConfiguration()
        configuration.udpAddress = "127.0.0.1:14550"
        configuration.httpAddress = "127.0.0.1:8080"
        configuration.databasePath = db
        if !PortProbe.isLoopbackTCPPortFree(8080) { configuration.httpAddress = "127.0.0.1:0" }
        let gateway: Gateway
        do {
            gateway = try Gateway(configuration: configuration, logger: logger)
        } catch {
            configuration.udpAddress = "127.0.0.1:0"
            do { gateway = try Gateway(configuration: configuration, logger: logger) } catch { throw ValidationError(error.description) }
        }
        let udpPort = gateway.udpPort
        let databasePath = configuration.databasePath
        let httpPort = BoundPort()
        let group = try gateway.makeServiceGroup(
            logger: logger,
            onRunning: { port in
                httpPort.value.store(port, ordering: .relaxed)
                print("Skygate demo: gateway on UDP 127.0.0.1:\(udpPort), database \(databasePath)")
                print("  status page: http://127.0.0.1:\(port)/   API: /api/drones  /api/stats  /metrics  health: /healthz  /readyz")
                print("  export:    skygate export --db \(databasePath) --format csv")
                fflush(nil)
            },
            onStopped: { final in
                print(FinalAccounting.text(final))
                fflush(nil)
            })

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask { [drones, rate, duration, faults, exitWhenDone] in
                let flightStart = SystemClock.realtimeMicroseconds()
                let summary = try await Self.fly(drones: drones, rate: rate, duration: duration, faults: faults, udpPort: udpPort)
                print("simulator sent \(summary.totals.samplesIntact) intact samples (\(summary.totals.samplesLost) lost, \(summary.totals.samplesCorrupted) corrupted, \(summary.totals.samplesDuplicated) duplicated)")
                try await Task.sleep(for: Limits.Commands.demoSettleTime)
                if exitWhenDone {
                    await group.triggerGracefulShutdown()
                    return
                }
                // The page stays up: the whole flight is in the database, ready to be reviewed.
                let port = httpPort.value.load(ordering: .relaxed)
                let until = SystemClock.realtimeMicroseconds()
                print("The fleet has landed. Review the flight: http://127.0.0.1:\(port)/review?from=\(flightStart)&until=\(until)")
                print("  (the status server stays up until Ctrl-C)")
                fflush(nil)
            }
            try await tasks.waitForAll()
        }
    }

    /// Flies the faulty demo fleet at real time into the gateway and returns its summary.
    static func fly(drones: Int, rate: Double, duration: Double, faults: Double, udpPort: UInt16) async throws -> SimulationSummary {
        var fleetConfiguration = FleetConfiguration(droneCount: drones, sampleRateHz: rate, durationSeconds: duration, samplesPerDatagram: 1, seed: 1)
        fleetConfiguration.startTimeMicroseconds = SystemClock.realtimeMicroseconds()
        fleetConfiguration.faults = LinkFaults(
            lossFraction: faults / 100, corruptFraction: faults / 100, duplicateFraction: faults / 100, reorderFraction: 0,
            outageRatePerMinute: 0, outageDurationSeconds: 1)
        print("Flying \(drones) drones at \(rate) Hz for \(Int(duration)) s (\(Int(faults)) % loss, corruption and duplication each)…")
        let destination = try SocketAddress(parsing: "127.0.0.1:\(udpPort)")
        return try await FleetSender.fly(FleetSender.makeFleet(fleetConfiguration), to: destination, pacing: .realTime(speed: 1)).summary
    }
}

/// The HTTP port the status server bound, handed from its start-up callback to the fleet's task.
final class BoundPort: Sendable {
    let value = Atomic<Int>(0)
}

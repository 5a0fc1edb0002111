import Logging
import Pipeline
import PostgresStore
import Synchronization
import Telemetry
import TelemetryWire
import TelemetryStore

/// The fleet every gateway sharing one store wrote: a thread of its own reads `drone_latest`
/// every `Limits.Postgres.fleetRefreshInterval` on its own connection (the writer's stays busy
/// with commits), and `/api/drones` merges it with the live fleet of this gateway. A drone this
/// gateway hears shows its live state; any other shows what the store last held, so the page is
/// at most one refresh plus one commit interval behind. The same thread raises the replay
/// windows' floors with the marks other gateways stored (docs/security.md).
final class SharedFleetView: Sendable {
    private let request: StoreOpener.Request
    private let logger: Logger
    private let drones = Mutex<[DroneIdentity: SharedDroneState]>([:])
    private let stopRequested = Atomic<Bool>(false)
    private let thread = Mutex<ThreadHandle?>(nil)
    /// The replay windows' floors, raised with every mark the other gateways stored, each
    /// refresh (nil: no keys).
    private let replayMarks: ReplayMarks?
    /// The most drones `merged` lists (the gateway's `dronesMax`).
    private let dronesMax: Int

    init(request: StoreOpener.Request, logger: Logger, replayMarks: ReplayMarks? = nil, dronesMax: Int = Int.max) {
        var request = request
        request.options.isReadOnly = true
        self.request = request
        self.logger = logger
        self.replayMarks = replayMarks
        self.dronesMax = dronesMax
    }

    func start() {
        thread.withLock { $0 = ThreadHandle.start(name: "skygate-fleet") { [self] in run() } }
    }

    func stop() {
        stopRequested.store(true, ordering: .relaxed)
        let handle = thread.withLock { handle in
            defer { handle = nil }
            return handle
        }
        handle?.join()
    }

    /// `local` plus the drones only the store knows, in (protocol, number) order: at most
    /// `dronesMax` (every local drone, then those the store heard from most recently).
    func merged(with local: [DroneStatus]) -> [DroneStatus] {
        let shared = drones.withLock { $0 }
        guard !shared.isEmpty else { return local }
        var byDrone: [DroneIdentity: DroneStatus] = [:]
        byDrone.reserveCapacity(shared.count + local.count)
        for state in shared.values { byDrone[state.latest.drone] = Self.status(state) }
        for status in local {
            // The live state wins unless another gateway has stored a newer sample since.
            if let stored = byDrone[status.drone], stored.lastSampleMicroseconds > status.lastSampleMicroseconds {
                var newer = stored
                newer.framesReceived = status.framesReceived
                newer.framesLost = status.framesLost
                newer.framesDuplicate = status.framesDuplicate
                newer.samplesReceived = status.samplesReceived
                newer.distanceFlownMetres = status.distanceFlownMetres
                byDrone[status.drone] = newer
            } else {
                byDrone[status.drone] = status
            }
        }
        var fleet = Array(byDrone.values)
        if fleet.count > dronesMax {
            let isLocal = Set(local.map(\.drone))
            fleet.sort { (isLocal.contains($0.drone) ? 1 : 0, $0.lastSeenNanoseconds) > (isLocal.contains($1.drone) ? 1 : 0, $1.lastSeenNanoseconds) }
            fleet.removeLast(fleet.count - dronesMax)
        }
        return fleet.sorted {
            ($0.drone.protocol.rawValue, $0.drone.number) < ($1.drone.protocol.rawValue, $1.drone.number)
        }
    }

    static func status(_ state: SharedDroneState) -> DroneStatus {
        let sample = state.latest.sample
        let north = Float(sample.velocityNorthCMS) / 100
        let east = Float(sample.velocityEastCMS) / 100
        return DroneStatus(
            drone: state.latest.drone, firstSeenNanoseconds: state.firstStoredMicroseconds &* 1_000,
            lastSeenNanoseconds: state.lastStoredMicroseconds &* 1_000, framesReceived: 0, framesLost: 0, framesDuplicate: 0,
            samplesReceived: 0, lastSampleMicroseconds: state.latest.timestampMicroseconds,
            hasFix: sample.status.contains(.gpsFix), latitudeE7: sample.latitudeE7,
            longitudeE7: sample.longitudeE7, altitudeMM: sample.altitudeMM, headingCentidegrees: sample.headingCentidegrees,
            batteryMillivolts: sample.batteryMillivolts, batteryPercent: sample.batteryPercent, satellites: sample.satellites,
            status: sample.status.rawValue, groundSpeedMetresPerSecond: (north * north + east * east).squareRoot(),
            climbRateMetresPerSecond: -Float(sample.velocityDownCMS) / 100, distanceFlownMetres: 0,
            reportsLowBattery: sample.status.contains(.lowBattery), reportsFailsafe: sample.status.contains(.failsafe))
    }

    private func run() {
        var store: (any SharedFleetReading & TelemetryStoreReading)?
        var lastError = ""
        // Bounded: one read per interval until stop.
        while !stopRequested.load(ordering: .relaxed) {
            do {
                if store == nil {
                    let opened = try StoreOpener.open(request, logger: logger)
                    guard let shared = opened as? any SharedFleetReading & TelemetryStoreReading else {
                        opened.close()
                        logger.error("the store at \(opened.location) is not shared; no fleet to read")
                        return
                    }
                    store = shared
                }
                let fleet = try store!.sharedFleet()
                var table: [DroneIdentity: SharedDroneState] = [:]
                table.reserveCapacity(fleet.count)
                for state in fleet { table[state.latest.drone] = state }
                drones.withLock { $0 = table }
                if let replayMarks, let markStore = store as? any ReplayMarkStoring {
                    replayMarks.raiseFloors(try markStore.readReplayMarks(othersOnly: true))
                }
                lastError = ""
            } catch {
                if error.isUnavailable { store?.close(); store = nil }
                let message = "\(error)"
                if message != lastError { logger.warning("reading the shared fleet failed: \(message)") }
                lastError = message
            }
            SystemClock.sleep(for: Limits.Postgres.fleetRefreshInterval)
        }
        store?.close()
    }
}

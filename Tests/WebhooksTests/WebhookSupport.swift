import Crypto
import Foundation
import Hummingbird
import Logging
import Synchronization
import Telemetry
import SkygateTestSupport

/// Events with ids `ids`, spread over a few drones and kinds.
func makeEvents(_ ids: Range<UInt64>) -> [AlertEvent] {
    ids.map { id in
        AlertEvent(
            id: id, timeMicroseconds: 1_750_000_000_000_000 + id * 1_000, drone: DroneIdentity(protocol: .skygate, number: UInt32(id % 7)),
            kind: EventKind.allCases[Int(id) % EventKind.allCases.count], zone: id % 3 == 0 ? "depot/north" : "", alarm: id % 2 == 0,
            value: Double(id) / 4, latitudeE7: 473_977_000 + Int32(id), longitudeE7: 85_456_000, altitudeMM: 120_500)
    }
}

/// Offers events to a sink the way the batch processor does: one buffer per call.
func offer(_ events: [AlertEvent], to sink: some EventSink) {
    events.withUnsafeBufferPointer { sink.accept($0) }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(20), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// A logger that drops everything but errors (tests expect dead-letter errors).
let quietLogger: Logger = {
    var logger = Logger(label: "webhooks-test")
    logger.logLevel = .critical
    return logger
}()

import ArgumentParser
import TelemetryWire
import WireAuthentication

/// `skygate demo`: the main job on embedded defaults.
///
/// The gateway (issue 4) is not built yet, so for now the demo exercises what exists: it encodes
/// a few seconds of telemetry from a small fleet into Skygate frames (some authenticated), damages
/// a share of them as a radio link would, decodes everything back, and prints what was accepted
/// and what was rejected, by reason.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the wire-format demo (the gateway demo arrives with `skygate serve`)."
    )

    @Option(help: "Drones in the demo fleet.") var drones: Int = 5
    @Option(help: "Frames per drone.") var frames: Int = 50
    @Option(help: "Samples per frame (1...32).") var samplesPerFrame: Int = 5

    func validate() throws {
        guard (1...10_000).contains(drones) else { throw ValidationError("--drones must be in 1...10000, got \(drones)") }
        guard (1...100_000).contains(frames) else { throw ValidationError("--frames must be in 1...100000, got \(frames)") }
        guard (1...WireFormat.maxSamplesPerFrame).contains(samplesPerFrame) else {
            throw ValidationError("--samples-per-frame must be in 1...\(WireFormat.maxSamplesPerFrame), got \(samplesPerFrame)")
        }
    }

    func run() throws {
        print("Skygate demo: the gateway is not built yet; this shows the wire format end to end.")
        // Every odd drone authenticates with its own key.
        var keyTable: [UInt32: [UInt8]] = [:]
        for drone in stride(from: 1, through: drones, by: 2) {
            keyTable[UInt32(drone)] = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ drone) }
        }
        let keys = try DroneKeys(keyTable)
        let sender = HMACAuthenticator(keys: keys)
        var receiver = HMACAuthenticator(keys: keys)

        var frameBuffer = [UInt8](repeating: 0, count: WireFormat.maxFrameLength)
        let columns = SampleColumns(capacity: 4096)
        var rejections = [WireError: Int]()
        var sent = 0, damaged = 0, accepted = 0, samples = 0, bytes = 0
        var noise: UInt64 = 0x9E37_79B9_7F4A_7C15
        let start: UInt64 = 1_767_225_600_000_000  // 2026-01-01T00:00:00Z in µs

        for frame in 0..<frames {
            for drone in 1...drones {
                let header = FrameHeader(
                    droneID: UInt32(drone), sequence: UInt32(frame),
                    timestampMicroseconds: start + UInt64(frame * samplesPerFrame) * 100_000)
                let batch = (0..<samplesPerFrame).map { index in
                    let step = Int32(frame * samplesPerFrame + index)
                    return WireSample(
                        timeOffsetMicroseconds: UInt32(index) * 100_000,
                        latitudeE7: 473_977_000 + Int32(drone) * 10_000 + step * 9,
                        longitudeE7: 85_456_000 + step * 13, altitudeMM: 450_000 + Int32(drone) * 1_000,
                        velocityNorthCMS: 100, velocityEastCMS: 140, headingCentidegrees: 5_430,
                        batteryMillivolts: 16_400, batteryPercent: 87, satellites: 14,
                        status: [.armed, .inAir, .gpsFix])
                }
                let length = try frameBuffer.withUnsafeMutableBytes { buffer in
                    try batch.withUnsafeBufferPointer { samples in
                        keys[UInt32(drone)] != nil
                            ? try FrameEncoder.encode(
                                header: header, samples: samples, counter: UInt64(frame), authenticator: sender,
                                into: buffer)
                            : FrameEncoder.encode(header: header, samples: samples, into: buffer)
                    }
                }
                // A noisy link: one frame in 16 gets one bit flipped.
                noise = noise &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                if noise >> 60 == 0 {
                    frameBuffer[Int((noise >> 20) % UInt64(length))] ^= 1 << UInt8((noise >> 8) & 7)
                    damaged += 1
                }
                sent += 1
                bytes += length
                if columns.remainingCapacity < WireFormat.maxSamplesPerFrame { columns.removeAll() }
                let result = frameBuffer.withUnsafeBytes { buffer in
                    FrameDecoder.decodeDatagram(
                        UnsafeRawBufferPointer(rebasing: buffer[0..<length]), into: columns,
                        authenticator: &receiver, onRejection: { rejections[$0, default: 0] += 1 })
                }
                accepted += result.framesAccepted
                samples += result.samplesAccepted
            }
        }
        print("frames sent:      \(sent) (\(bytes) bytes, \(damaged) damaged on the way)")
        print("frames accepted:  \(accepted) with \(samples) samples")
        for (reason, count) in rejections.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            print("frames rejected:  \(count) \(reason.name)")
        }
        print("Next: `swift test` runs the wire-format tests; docs/protocol.md specifies the format.")
    }
}

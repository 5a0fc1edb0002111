import Foundation
import MAVLinkSigning
import MAVLinkWire
import Testing
import TelemetryWire

/// A datagram from Fixtures/mavlink/vectors.json (made by Scripts/make_mavlink_vectors.py with
/// pymavlink), with the units pymavlink decoded from it.
struct MAVLinkVector: Decodable, CustomTestStringConvertible, Sendable {
    enum Field: Decodable, Sendable, Equatable {
        case int(Int64)
        case list([Int64])
        case text(String)

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Int64.self) {
                self = .int(value)
            } else if let value = try? container.decode([Int64].self) {
                self = .list(value)
            } else {
                self = .text(try container.decode(String.self))
            }
        }

        var int: Int64 {
            if case .int(let value) = self { return value }
            return .min
        }
        var list: [Int64] {
            if case .list(let value) = self { return value }
            return []
        }
    }
    struct Frame: Decodable, Sendable {
        var version: UInt8
        var sequence: UInt8
        var system: UInt8
        var component: UInt8
        var message: UInt32
        var name: String
        var payloadLength: Int
        var length: Int
        var signed: Bool
        var linkID: UInt8?
        var signatureTimestamp: UInt64?
        var fields: [String: Field]
    }
    struct Unit: Decodable, Sendable {
        var frame: Frame?
        var rejected: String?
    }
    struct Key: Decodable, Sendable {
        var system: UInt8
        var hex: String
        var requireSigning: Bool
    }
    var name: String
    var note: String
    var hex: String
    var units: [Unit]
    var key: Key?

    var testDescription: String { name }
    var bytes: [UInt8] { MAVLinkWireTests.bytes(fromHex: hex) }

    static let all: [MAVLinkVector] = {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/mavlink/vectors.json")
        struct File: Decodable { var vectors: [MAVLinkVector] }
        do {
            return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).vectors
        } catch {
            fatalError("cannot read \(url.path): \(error)")
        }
    }()

    /// The verifier the vector asks for.
    var verifier: MAVLinkSHA256Verifier {
        guard let key else { return MAVLinkSHA256Verifier(keys: MAVLinkKeys()) }
        // The fixture's key is valid by construction; a bad one fails the test loudly.
        let keys = try! MAVLinkKeys([key.system: MAVLinkWireTests.bytes(fromHex: key.hex)])
        // The vectors' `requireSigning` is "keyed systems must sign" (the gateway's default now).
        return MAVLinkSHA256Verifier(keys: keys, allowUnsignedFromKeyed: !key.requireSigning)
    }
}

/// Every golden vector decodes to the same units, in the same order, as pymavlink gave: the same
/// header and field values for each frame (floats bit for bit), and the same reason for each
/// rejection; and each GLOBAL_POSITION_INT from an autopilot is one row with its exact values.
@Suite struct MAVLinkGoldenVectorTests {
    @Test func fixtureHasEveryKind() {
        let names = Set(MAVLinkVector.all.flatMap { $0.units.compactMap { $0.frame?.name } })
        #expect(names == ["HEARTBEAT", "SYS_STATUS", "GPS_RAW_INT", "ATTITUDE", "GLOBAL_POSITION_INT", "BATTERY_STATUS"])
        let reasons = Set(MAVLinkVector.all.flatMap { $0.units.compactMap(\.rejected) })
        #expect(reasons == Set(MAVLinkError.allCases.filter { $0 != .tooManyStreams }.map { "\($0.name)" }))
        #expect(MAVLinkVector.all.count >= 40)
    }

    @Test(arguments: MAVLinkVector.all)
    func vector(_ vector: MAVLinkVector) {
        let (units, columns, result) = decodeAll(vector.bytes, verifier: vector.verifier)
        #expect(units.count == vector.units.count, "units \(units)")
        #expect(result.framesAccepted + result.framesRejected == units.count)
        #expect(result.bytesConsumed == vector.bytes.count)
        var row = 0
        for (got, want) in zip(units, vector.units) {
            switch got {
            case .rejected(let error):
                #expect(want.rejected == "\(error.name)", "got \(error.name), want \(want.rejected ?? want.frame?.name ?? "?")")
            case .frame(let frame, let message, let rows):
                guard let expected = want.frame else {
                    Issue.record("decoded a frame where pymavlink rejected: \(want.rejected ?? "?")")
                    continue
                }
                check(frame, message, against: expected)
                let isPositionRow = expected.name == "GLOBAL_POSITION_INT" && expected.component == 1
                #expect(rows == (isPositionRow ? 1 : 0))
                if isPositionRow {
                    checkRow(columns, row, against: expected)
                    row += 1
                }
            }
        }
        #expect(columns.count == row)
    }

    func check(_ frame: MAVLinkFrame, _ message: MAVLinkMessage, against want: MAVLinkVector.Frame) {
        #expect(frame.version == want.version)
        #expect(frame.sequence == want.sequence)
        #expect(frame.systemID == want.system)
        #expect(frame.componentID == want.component)
        #expect(frame.messageID == want.message)
        #expect(frame.payloadLength == want.payloadLength)
        #expect(frame.length == want.length)
        #expect(frame.isSigned == want.signed)
        if want.signed {
            #expect(frame.signatureLinkID == want.linkID)
            #expect(frame.signatureTimestamp == want.signatureTimestamp)
        }
        let f = want.fields
        func int(_ name: String) -> Int64 { f[name]?.int ?? 0 }
        switch message {
        case .heartbeat(let m):
            #expect(want.name == "HEARTBEAT")
            #expect(Int64(m.customMode) == int("custom_mode"))
            #expect(Int64(m.vehicleType) == int("type"))
            #expect(Int64(m.autopilot) == int("autopilot"))
            #expect(Int64(m.baseMode) == int("base_mode"))
            #expect(Int64(m.systemStatus) == int("system_status"))
            #expect(Int64(m.mavlinkVersion) == int("mavlink_version"))
        case .systemStatus(let m):
            #expect(want.name == "SYS_STATUS")
            #expect(Int64(m.voltageBattery) == int("voltage_battery"))
            #expect(Int64(m.currentBattery) == int("current_battery"))
            #expect(Int64(m.batteryRemaining) == int("battery_remaining"))
        case .gpsRawInt(let m):
            #expect(want.name == "GPS_RAW_INT")
            #expect(Int64(m.timeMicroseconds) == int("time_usec"))
            #expect(Int64(m.latitudeE7) == int("lat"))
            #expect(Int64(m.longitudeE7) == int("lon"))
            #expect(Int64(m.altitudeMM) == int("alt"))
            #expect(Int64(m.fixType) == int("fix_type"))
            #expect(Int64(m.satellitesVisible) == int("satellites_visible"))
        case .attitude(let m):
            #expect(want.name == "ATTITUDE")
            #expect(Int64(m.timeBootMilliseconds) == int("time_boot_ms"))
            #expect(Int64(m.roll.bitPattern) == int("roll"))
            #expect(Int64(m.pitch.bitPattern) == int("pitch"))
            #expect(Int64(m.yaw.bitPattern) == int("yaw"))
        case .globalPositionInt(let m):
            #expect(want.name == "GLOBAL_POSITION_INT")
            #expect(Int64(m.timeBootMilliseconds) == int("time_boot_ms"))
            #expect(Int64(m.latitudeE7) == int("lat"))
            #expect(Int64(m.longitudeE7) == int("lon"))
            #expect(Int64(m.altitudeMM) == int("alt"))
            #expect(Int64(m.relativeAltitudeMM) == int("relative_alt"))
            #expect(Int64(m.velocityX) == int("vx"))
            #expect(Int64(m.velocityY) == int("vy"))
            #expect(Int64(m.velocityZ) == int("vz"))
            #expect(Int64(m.heading) == int("hdg"))
        case .batteryStatus(let m):
            #expect(want.name == "BATTERY_STATUS")
            #expect(Int64(m.id) == int("id"))
            #expect(Int64(m.batteryRemaining) == int("battery_remaining"))
            #expect(Int64(m.chargeState) == int("charge_state"))
            // The total voltage rule (docs/protocol.md): the sum of the cells that are sent.
            let cells = f["voltages"]?.list ?? []
            let extensionCells = f["voltages_ext"]?.list ?? []
            let expected: Int64? =
                cells.first == 65_535
                ? nil
                : cells.filter { $0 != 65_535 }.reduce(0, +) + extensionCells.filter { $0 != 0 && $0 != 65_535 }.reduce(0, +)
            #expect(m.voltageMillivolts.map(Int64.init) == expected)
        }
    }

    func checkRow(_ columns: SampleColumns, _ row: Int, against want: MAVLinkVector.Frame) {
        let f = want.fields
        #expect(columns.droneID(at: row) == UInt32(want.system))
        #expect(columns.sequence(at: row) == UInt32(want.sequence))
        let sample = columns.sample(at: row)
        #expect(Int64(sample.latitudeE7) == f["lat"]?.int)
        #expect(Int64(sample.longitudeE7) == f["lon"]?.int)
        #expect(Int64(sample.altitudeMM) == f["alt"]?.int)
        #expect(Int64(sample.velocityNorthCMS) == f["vx"]?.int)
        #expect(Int64(sample.velocityEastCMS) == f["vy"]?.int)
        #expect(Int64(sample.velocityDownCMS) == f["vz"]?.int)
        #expect(Int64(sample.headingCentidegrees) == f["hdg"]?.int)
    }
}

/// The encoder writes what pymavlink writes: every HEARTBEAT and GLOBAL_POSITION_INT frame in
/// the vectors (messages whose every field Skygate keeps), signed ones with the vector's key,
/// re-encodes from its decoded message to the same bytes.
@Suite struct MAVLinkEncoderVectorTests {
    @Test(arguments: MAVLinkVector.all)
    func reencodes(_ vector: MAVLinkVector) {
        let bytes = vector.bytes
        let frames = MAVLinkDecoderVerifierTests.acceptedFrames(bytes, verifier: vector.verifier)
        var frameIndex = 0
        for unit in decodeAll(bytes, verifier: vector.verifier).units {
            guard case .frame(let frame, let message, _) = unit else { continue }
            defer { frameIndex += 1 }
            switch message {
            case .heartbeat, .globalPositionInt: break
            default: continue
            }
            var output = [UInt8](repeating: 0, count: MAVLinkFormat.frameLengthMax)
            let length = output.withUnsafeMutableBytes { out -> Int? in
                if frame.isSigned {
                    return MAVLinkEncoder.encodeSigned(
                        message, sequence: frame.sequence, systemID: frame.systemID, componentID: frame.componentID,
                        linkID: frame.signatureLinkID, timestamp: frame.signatureTimestamp, signer: vector.verifier, into: out)
                }
                return MAVLinkEncoder.encode(
                    message, version: frame.version, sequence: frame.sequence, systemID: frame.systemID,
                    componentID: frame.componentID, into: out)
            }
            // A signed frame from a system without a key cannot be re-signed.
            guard let length else { continue }
            #expect(Array(output[0..<length]) == frames[frameIndex], "frame \(frameIndex)")
        }
    }
}

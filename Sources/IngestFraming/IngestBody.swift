import Foundation
import MAVLinkWire
import Telemetry
import TelemetryWire

/// Turns a `POST /api/telemetry` body into ring-slot-sized datagrams of Skygate or MAVLink frames
/// (`IngestBody+MAVLink.swift`), or says why it cannot. The pipeline still decodes, validates and
/// counts every frame; this only checks what must hold before bytes may enter the ring, so a
/// malformed body gets a 400 with the reason instead of a silent rejection counter.
public enum IngestBody {
    /// A body that cannot enter the pipeline; `message` is the 400 response.
    public struct Malformed: Error, Equatable, Sendable {
        public var message: String
        public init(_ message: String) { self.message = message }
    }

    /// Splits concatenated Skygate frames into datagrams of at most `datagramBytesMax` bytes, each
    /// holding whole frames. Framing is checked with the wire decoder on scratch columns: a frame
    /// that cannot be framed (truncated, bad magic, bad length, bad CRC) rejects the whole body.
    /// Intact frames the decoder refuses for what they say (unknown type, a tag it cannot check
    /// here) pass on to the pipeline, which counts them with a reason as it does for UDP.
    public static func datagrams(fromFrames body: [UInt8], datagramBytesMax: Int) throws(Malformed) -> [[UInt8]] {
        guard !body.isEmpty else { throw Malformed("empty body: expected one or more Skygate frames") }
        let scratch = SampleColumns(capacity: WireFormat.maxSamplesPerFrame)
        var authenticator = NoAuthentication()
        var datagrams: [[UInt8]] = []
        var current: [UInt8] = []
        var offset = 0
        var frameIndex = 0
        let failure: Malformed? = body.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Malformed? in
            // Bounded: every pass consumes at least one whole frame (minFrameLength bytes) or returns.
            while offset < bytes.count {
                let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
                scratch.removeAll()
                let length: Int
                do throws(WireError) {
                    length = try FrameDecoder.decodeFrame(rest, into: scratch, authenticator: &authenticator).length
                } catch {
                    guard error.isFrameIntact else {
                        if rest[0] == MAVLinkFormat.startV1 || rest[0] == MAVLinkFormat.startV2 {
                            return Malformed(
                                "frame \(frameIndex) at byte \(offset): a MAVLink frame in a Skygate body: send one protocol per request")
                        }
                        return Malformed("frame \(frameIndex) at byte \(offset): \(error.name)")
                    }
                    length = Int(UInt16(littleEndian: rest.loadUnaligned(
                        fromByteOffset: WireFormat.HeaderOffset.frameLength, as: UInt16.self)))
                }
                if current.count + length > datagramBytesMax {
                    datagrams.append(current)
                    current.removeAll(keepingCapacity: true)
                }
                current.append(contentsOf: rest[0..<length])
                offset += length
                frameIndex += 1
            }
            return nil
        }
        if let failure { throw failure }
        if !current.isEmpty { datagrams.append(current) }
        return datagrams
    }

    /// One sample as JSON (`docs/operations.md`, "HTTP ingest"). Units are the API's: degrees,
    /// metres, m/s, volts; the gateway stores them in the wire's integer units.
    struct JSONSample: Decodable {
        var drone: UInt32
        var sequence: UInt32
        var time_us: UInt64?
        var time: String?
        var lat: Double
        var lon: Double
        var alt_m: Double
        var velocity_north_mps: Double?
        var velocity_east_mps: Double?
        var velocity_down_mps: Double?
        var heading_deg: Double?
        var battery_v: Double?
        var battery_percent: Int?
        var satellites: Int?
        var status: UInt32?
    }

    private struct JSONBody: Decodable {
        var samples: [JSONSample]
    }

    /// Turns JSON samples (`{"samples": [...]}` or a bare array) into one untagged frame per
    /// sample, packed into datagrams of at most `datagramBytesMax` bytes.
    public static func datagrams(fromJSON body: [UInt8], datagramBytesMax: Int, timeParser: (String) -> UInt64?)
        throws(Malformed) -> [[UInt8]]
    {
        let data = Data(body)
        let samples: [JSONSample]
        do {
            if body.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) == UInt8(ascii: "[") {
                samples = try JSONDecoder().decode([JSONSample].self, from: data)
            } else {
                samples = try JSONDecoder().decode(JSONBody.self, from: data).samples
            }
        } catch {
            throw Malformed("JSON body: \(describe(error))")
        }
        guard !samples.isEmpty else { throw Malformed("JSON body: no samples") }
        guard samples.count <= Limits.Status.ingestJSONSamplesMax else {
            throw Malformed("JSON body: \(samples.count) samples, at most \(Limits.Status.ingestJSONSamplesMax) per request")
        }
        var datagrams: [[UInt8]] = []
        var current: [UInt8] = []
        for (index, json) in samples.enumerated() {
            let (header, sample) = try frame(from: json, index: index, timeParser: timeParser)
            let frame = FrameEncoder.encode(header: header, samples: [sample])
            if current.count + frame.count > datagramBytesMax {
                datagrams.append(current)
                current.removeAll(keepingCapacity: true)
            }
            current.append(contentsOf: frame)
        }
        if !current.isEmpty { datagrams.append(current) }
        return datagrams
    }

    static func frame(from json: JSONSample, index: Int, timeParser: (String) -> UInt64?) throws(Malformed) -> (FrameHeader, WireSample) {
        func bad(_ field: String, _ why: String) -> Malformed { Malformed("sample \(index): \(field) \(why)") }
        let time: UInt64
        if let micros = json.time_us {
            time = micros
        } else if let text = json.time {
            guard let micros = timeParser(text) else { throw bad("time", "'\(text)' is not ISO 8601 UTC or µs since the epoch") }
            time = micros
        } else {
            throw bad("time_us", "is missing (or give time as ISO 8601)")
        }
        guard json.lat.isFinite, abs(json.lat) <= 90 else { throw bad("lat", "must be in -90...90") }
        guard json.lon.isFinite, abs(json.lon) <= 180 else { throw bad("lon", "must be in -180...180") }
        guard json.alt_m.isFinite, abs(json.alt_m) < 2_000_000 else { throw bad("alt_m", "must be within ±2,000 km") }
        func centimetres(_ value: Double?, _ field: String) throws(Malformed) -> Int16 {
            guard let value else { return 0 }
            guard value.isFinite, abs(value * 100) <= Double(Int16.max) else { throw bad(field, "must be within ±327 m/s") }
            return Int16((value * 100).rounded())
        }
        var sample = WireSample(
            latitudeE7: Int32((json.lat * 1e7).rounded()), longitudeE7: Int32((json.lon * 1e7).rounded()),
            altitudeMM: Int32((json.alt_m * 1_000).rounded()))
        sample.velocityNorthCMS = try centimetres(json.velocity_north_mps, "velocity_north_mps")
        sample.velocityEastCMS = try centimetres(json.velocity_east_mps, "velocity_east_mps")
        sample.velocityDownCMS = try centimetres(json.velocity_down_mps, "velocity_down_mps")
        if let heading = json.heading_deg {
            guard heading.isFinite, heading >= 0, heading < 360 else { throw bad("heading_deg", "must be in 0..<360") }
            sample.headingCentidegrees = UInt16((heading * 100).rounded(.down))
        }
        if let volts = json.battery_v {
            guard volts.isFinite, volts >= 0, volts * 1_000 <= Double(UInt16.max) else { throw bad("battery_v", "must be in 0...65.5") }
            sample.batteryMillivolts = UInt16((volts * 1_000).rounded())
        }
        if let percent = json.battery_percent {
            guard (0...100).contains(percent) else { throw bad("battery_percent", "must be in 0...100") }
            sample.batteryPercent = UInt8(percent)
        }
        if let satellites = json.satellites {
            guard (0...254).contains(satellites) else { throw bad("satellites", "must be in 0...254") }
            sample.satellites = UInt8(satellites)
        }
        sample.status = StatusFlags(rawValue: json.status ?? StatusFlags.gpsFix.rawValue)
        return (FrameHeader(droneID: json.drone, sequence: json.sequence, timestampMicroseconds: time), sample)
    }

    /// A decoding error in one line, naming the field where JSONDecoder says which.
    static func describe(_ error: Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing '\(key.stringValue)' at \(path(context).isEmpty ? "top level" : path(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "wrong type at \(path(context)): \(context.debugDescription)"
        case .dataCorrupted(let context): return "not valid JSON (\(context.debugDescription))"
        @unknown default: return "\(error)"
        }
    }
}

// libFuzzer target for the `POST /api/telemetry` body parser (`Sources/IngestFraming`): every
// input is handed to the JSON parser (`IngestBody.datagrams(fromJSON:)`, with the gateway's own
// time parser `TimeText.microseconds(from:)`) and to the binary parser
// (`IngestBody.datagrams(fromBinary:)`, Skygate or MAVLink frames). Built by
// Scripts/fuzz-inputs.sh ingest: Telemetry, TelemetryWire and MAVLinkWire as modules, the
// IngestFraming sources and this file as another (docs/testing.md).
//
// Oracles, beyond "no crash, no sanitizer report":
// - JSON accepted: at least one datagram, none empty or longer than `datagramBytesMax`; each
//   decodes with the wire decoder (no keys) into whole untagged frames with no rejection, one
//   sample per frame, as many samples as there are frames, at most `ingestJSONSamplesMax`; every
//   position is on the globe.
// - JSON refused: the message says where (`JSON body: ...`, or `sample N: ...` with N a sample
//   index below the per-request limit).
// - binary accepted: the datagrams, joined, are the body byte for byte, each non-empty and at
//   most `datagramBytesMax`; refused: a non-empty message.

import Telemetry
import TelemetryWire

let datagramBytesMax = 2_048
let columns = SampleColumns(capacity: datagramBytesMax / WireFormat.sampleLength + WireFormat.maxSamplesPerFrame)

func checkJSON(_ body: [UInt8]) {
    let datagrams: [[UInt8]]
    do {
        datagrams = try IngestBody.datagrams(fromJSON: body, datagramBytesMax: datagramBytesMax, timeParser: TimeText.microseconds(from:))
    } catch {
        let message = error.message
        if message.hasPrefix("JSON body: ") { return }
        precondition(message.hasPrefix("sample "), "a refusal that says neither body nor sample: \(message)")
        let index = message.dropFirst("sample ".count).prefix { $0.isNumber }
        precondition(Int(index).map { $0 >= 0 && $0 < Limits.Status.ingestJSONSamplesMax } == true, "no sample index: \(message)")
        return
    }
    precondition(!datagrams.isEmpty, "accepted with no datagram")
    var frames = 0
    var samples = 0
    for datagram in datagrams {
        precondition(!datagram.isEmpty && datagram.count <= datagramBytesMax, "datagram of \(datagram.count) bytes")
        columns.removeAll()
        var authenticator = NoAuthentication()
        let result = datagram.withUnsafeBytes { bytes in
            FrameDecoder.decodeDatagram(bytes, into: columns, authenticator: &authenticator, onRejection: { error in
                preconditionFailure("a frame the parser made is rejected: \(error.name)")
            })
        }
        precondition(result.bytesConsumed == datagram.count && result.framesRejected == 0)
        precondition(result.samplesAccepted == result.framesAccepted, "one sample per frame")
        for row in 0..<columns.count {
            precondition(abs(Int(columns.latitudesE7[row])) <= 900_000_000, "latitude off the globe")
            precondition(abs(Int(columns.longitudesE7[row])) <= 1_800_000_000, "longitude off the globe")
        }
        frames += result.framesAccepted
        samples += result.samplesAccepted
    }
    precondition(frames == samples && frames >= 1 && frames <= Limits.Status.ingestJSONSamplesMax, "\(frames) frames")
}

func checkBinary(_ body: [UInt8]) {
    do {
        let datagrams = try IngestBody.datagrams(fromBinary: body, datagramBytesMax: datagramBytesMax)
        precondition(Array(datagrams.joined()) == body, "the datagrams are not the body")
        for datagram in datagrams {
            precondition(!datagram.isEmpty && datagram.count <= datagramBytesMax, "datagram of \(datagram.count) bytes")
        }
    } catch {
        precondition(!error.message.isEmpty, "a refusal without a message")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIngestBody(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = Array(UnsafeBufferPointer(start: data, count: size))
    checkJSON(body)
    checkBinary(body)
    return 0
}

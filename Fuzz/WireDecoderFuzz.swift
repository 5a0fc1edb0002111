// libFuzzer target for the Skygate wire decoder. Built by Scripts/fuzz-wire.sh together with the
// TelemetryWire sources into one module (docs/testing.md). Every input is one datagram.
//
// Oracles, beyond "no crash, no sanitizer report":
// - every datagram ends in at least one outcome, and every byte is consumed (the batch is large);
// - the rows appended equal the samples the result reports;
// - a first frame accepted untagged re-encodes to exactly the bytes it was decoded from.

/// A stand-in for HMAC so the fuzzer reaches the tag, replay and policy paths without a crypto
/// library: drone ids below 8 have a key; the "tag" is CRC-32C of the message seeded by the key.
struct FuzzAuthenticator: FrameAuthenticator {
    var windows = [ReplayWindow](repeating: ReplayWindow(), count: 8)
    func requiresAuthentication(droneID: UInt32) -> Bool { droneID < 8 }
    func computeTag(droneID: UInt32, message: UnsafeRawBufferPointer, into tag: UnsafeMutableRawBufferPointer) -> Bool {
        guard droneID < 8 else { return false }
        let crc = CRC32C.checksum(message) ^ (droneID &* 0x9E37_79B9)
        for index in 0..<tag.count { tag[index] = UInt8(truncatingIfNeeded: crc >> ((index % 4) * 8)) }
        return true
    }
    mutating func acceptCounter(_ counter: UInt64, droneID: UInt32) -> Bool { windows[Int(droneID)].accept(counter) }
}

nonisolated(unsafe) let columns = SampleColumns(capacity: 65_536)
nonisolated(unsafe) var authenticator = FuzzAuthenticator()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWireDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    columns.removeAll()
    var rejections = 0
    let result = FrameDecoder.decodeDatagram(bytes, into: columns, authenticator: &authenticator) { _ in
        rejections += 1
    }
    precondition(result.framesAccepted + result.framesRejected >= 1, "a datagram without an outcome")
    precondition(rejections == result.framesRejected)
    precondition(result.bytesConsumed == size, "bytes left over with room in the batch")
    precondition(columns.count == result.samplesAccepted)

    // Decode the first frame alone; when it is accepted untagged, re-encoding its samples must
    // give back exactly its bytes (nothing the decoder accepts is lost or altered).
    var check = NoAuthentication()
    let single = SampleColumns(capacity: WireFormat.maxSamplesPerFrame)
    if let frame = try? FrameDecoder.decodeFrame(bytes, into: single, authenticator: &check), !frame.isAuthenticated {
        var samples: [WireSample] = []
        for row in 0..<single.count {
            var sample = single.sample(at: row)
            sample.timeOffsetMicroseconds = UInt32(
                truncatingIfNeeded: single.timestampMicroseconds(at: row) &- frame.header.timestampMicroseconds)
            samples.append(sample)
        }
        let again = FrameEncoder.encode(header: frame.header, samples: samples)
        precondition(again.elementsEqual(bytes[0..<frame.length]), "re-encoding differs")
    }
    return 0
}

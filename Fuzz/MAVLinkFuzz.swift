// libFuzzer target for the MAVLink decoder. Built by Scripts/fuzz-mavlink.sh: TelemetryWire as
// its own module, the MAVLinkWire sources and this file as another (docs/testing.md). Every
// input is one datagram.
//
// Oracles, beyond "no crash, no sanitizer report":
// - every datagram ends in at least one unit, every unit is reported once (accepted + rejected
//   = callbacks), and every byte is consumed (the columns are large);
// - the rows appended equal the samples the result reports, and each row comes from an
//   accepted GLOBAL_POSITION_INT of component 1;
// - the same bytes behind one garbage byte decode to the same frames plus one `bad_magic` unit.

import TelemetryWire

/// A stand-in for SHA-256 so the fuzzer reaches the signature, replay and policy paths without a
/// crypto library: systems below 8 have a key and must sign; the "signature" is the frame's
/// MAVLink CRC seeded by the system id.
struct FuzzVerifier: MAVLinkSignatureVerifier {
    func hasKey(systemID: UInt8) -> Bool { systemID < 8 }
    func requiresSigning(systemID: UInt8) -> Bool { systemID < 8 }
    func computeSignature(systemID: UInt8, message: UnsafeRawBufferPointer, into signature: UnsafeMutableRawBufferPointer) -> Bool {
        guard systemID < 8 else { return false }
        let crc = MAVLinkCRC.accumulate(message, into: UInt16(systemID) &* 0x9E37)
        for index in 0..<signature.count { signature[index] = UInt8(truncatingIfNeeded: crc >> ((index % 2) * 8)) }
        return true
    }
}

nonisolated(unsafe) let columns = SampleColumns(capacity: 65_536)
nonisolated(unsafe) let shifted = SampleColumns(capacity: 65_536)
nonisolated(unsafe) var scratch = [UInt8](repeating: 0, count: 1 << 17)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMAVLinkDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size < scratch.count else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    columns.removeAll()
    var verifier = FuzzVerifier()
    var units = 0
    var positions = 0
    var frames: [MAVLinkFrame] = []
    let result = MAVLinkDecoder().decodeDatagram(
        bytes, receivedMicroseconds: 1_763_700_000_000_000, into: columns, verifier: &verifier,
        onFrame: { frame, message, rows in
            units += 1
            frames.append(frame)
            if case .globalPositionInt = message, frame.componentID == 1 {
                precondition(rows.count == 1, "a position from the autopilot without its row")
                positions += 1
            } else {
                precondition(rows.isEmpty, "a row from a frame that is not a position")
            }
            return true
        },
        onRejection: { _ in units += 1 })
    precondition(units >= 1, "a datagram without an outcome")
    precondition(units == result.framesAccepted + result.framesRejected)
    precondition(result.bytesConsumed == size, "bytes left over with room in the columns")
    precondition(columns.count == result.samplesAccepted && columns.count == positions)

    // The same bytes behind one garbage byte: the same frames, one more unit (bad_magic). Replay
    // state lives in the decoder, so a fresh decoder sees the same streams.
    scratch[0] = 0x00
    for index in 0..<size { scratch[index + 1] = data[index] }
    shifted.removeAll()
    var shiftedUnits = 0
    var shiftedFrames: [MAVLinkFrame] = []
    var firstRejection: MAVLinkError?
    scratch.withUnsafeBytes { all in
        _ = MAVLinkDecoder().decodeDatagram(
            UnsafeRawBufferPointer(rebasing: all[0..<(size + 1)]), receivedMicroseconds: 1_763_700_000_000_000,
            into: shifted, verifier: &verifier,
            onFrame: { frame, _, _ in
                shiftedUnits += 1
                shiftedFrames.append(frame)
                return true
            },
            onRejection: { error in
                if shiftedUnits == 0 { firstRejection = error }
                shiftedUnits += 1
            })
    }
    precondition(shiftedFrames == frames, "a garbage byte in front changed the frames")
    if size > 0 && data[0] != 0xFD && data[0] != 0xFE {
        // The garbage byte merges with the input's own leading garbage run: one unit either way.
        precondition(shiftedUnits == units, "leading garbage counted differently")
    } else {
        precondition(firstRejection == .badMagic && shiftedUnits == units + (size == 0 ? 0 : 1), "garbage not one unit")
    }
    return 0
}

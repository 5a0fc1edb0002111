import Foundation
import MAVLinkWire
import TelemetryWire

/// Bytes from a hex string (the fixtures' encoding).
func bytes(fromHex hex: String) -> [UInt8] {
    var result: [UInt8] = []
    var iterator = hex.utf8.makeIterator()
    func nibble(_ c: UInt8) -> UInt8 {
        switch c {
        case 48...57: c - 48
        case 97...102: c - 87
        default: c - 55
        }
    }
    while let high = iterator.next(), let low = iterator.next() { result.append(nibble(high) << 4 | nibble(low)) }
    return result
}

/// One unit a decoder reported, in order: a frame (with its message and rows) or a rejection.
enum DecodedUnit: Equatable, CustomStringConvertible {
    case frame(MAVLinkFrame, MAVLinkMessage, rows: Int)
    case rejected(MAVLinkError)

    var description: String {
        switch self {
        case .frame(let frame, _, let rows): "frame(sys \(frame.systemID) msg \(frame.messageID) seq \(frame.sequence) rows \(rows))"
        case .rejected(let error): "rejected(\(error.name))"
        }
    }
}

/// Decodes `datagram` with a fresh decoder (or `decoder`), accepting every frame, and returns the
/// units in order, the columns, and the result.
func decodeAll<Verifier: MAVLinkSignatureVerifier>(
    _ datagram: [UInt8], decoder: MAVLinkDecoder = MAVLinkDecoder(), verifier: Verifier = MAVLinkNoSigning(),
    columns: SampleColumns = SampleColumns(capacity: 1_024), receivedMicroseconds: UInt64 = 1_763_700_000_000_000
) -> (units: [DecodedUnit], columns: SampleColumns, result: DatagramDecodeResult) {
    var units: [DecodedUnit] = []
    var verifier = verifier
    let result = datagram.withUnsafeBytes { bytes in
        decoder.decodeDatagram(
            bytes, receivedMicroseconds: receivedMicroseconds, into: columns, verifier: &verifier,
            onFrame: { frame, message, rows in
                units.append(.frame(frame, message, rows: rows.count))
                return true
            },
            onRejection: { units.append(.rejected($0)) })
    }
    return (units, columns, result)
}

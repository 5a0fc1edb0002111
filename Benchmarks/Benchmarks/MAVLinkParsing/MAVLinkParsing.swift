import Benchmark
import MAVLinkWire
import TelemetryWire

// MAVLink parse throughput on one core, on the same bytes as the pymavlink reference
// (shared/limits/mav_bench.py): 200,000 MAVLink 2 GLOBAL_POSITION_INT frames of 40 bytes from
// system 1, component 1, with that script's field formulas (heading >= 256, so no payload byte
// is truncated), CRC with CRC_EXTRA checked and the fields unpacked into a row of the
// struct-of-arrays columns (the state lookup for battery, fix and status included).
//   - "per datagram": one decode call per 40-byte frame, as a UDP gateway receives them;
//     one scaled iteration is one frame.
//   - "bulk": 1,638 frames per call (65,520 bytes, the frames whole; pymavlink's bulk pass cuts
//     64 KiB chunks anywhere, since it buffers across calls); one scaled iteration is one call,
//     so frames/s = calls/s × 1,638.
// mallocCountTotal must be 0: decoding allocates nothing.

/// The reference frames, byte for byte as mav_bench.py's `build_frames`.
func makeReferenceFrames(count: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count * 40)
    var lat: Int32 = 473_977_000
    var lon: Int32 = 85_456_000
    let alt: Int32 = 450_000
    bytes.withUnsafeMutableBytes { buffer in
        var scratch = [UInt8](repeating: 0, count: MAVLinkFormat.frameLengthMax)
        for i in 0..<count {
            lat &+= Int32((i * 7) % 13 - 6)
            lon &+= Int32((i * 5) % 11 - 5)
            let message = MAVLinkMessage.globalPositionInt(MAVLinkGlobalPositionInt(
                timeBootMilliseconds: UInt32(truncatingIfNeeded: i * 20), latitudeE7: lat, longitudeE7: lon,
                altitudeMM: alt + Int32(i % 100), relativeAltitudeMM: Int32(i % 1_000), velocityX: Int16(i % 200 - 100),
                velocityY: Int16(i % 150 - 75), velocityZ: Int16(i % 20 - 10), heading: UInt16(1_000 + (i * 3) % 30_000)))
            let length = scratch.withUnsafeMutableBytes {
                MAVLinkEncoder.encode(message, version: 2, sequence: UInt8(truncatingIfNeeded: i), systemID: 1, componentID: 1, into: $0)
            }
            precondition(length == 40, "reference frames are 40 bytes")
            for index in 0..<40 { buffer[i * 40 + index] = scratch[index] }
        }
    }
    return bytes
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions],
        warmupIterations: 1,
        scalingFactor: .mega,
        maxDuration: .seconds(3),
        maxIterations: 1_000
    )
    let frameCount = 200_000
    let frameLength = 40
    let bytes = makeReferenceFrames(count: frameCount)

    let columns = SampleColumns(capacity: 4_096)
    let decoder = MAVLinkDecoder()
    Benchmark("Parse MAVLink 2 GLOBAL_POSITION_INT, one 40-byte frame per datagram") { benchmark in
        var verifier = MAVLinkNoSigning()
        var accepted = 0
        var rejected = 0
        bytes.withUnsafeBytes { buffer in
            var index = 0
            for _ in benchmark.scaledIterations {
                if columns.remainingCapacity < 1 { columns.removeAll() }
                let start = index &* frameLength
                let datagram = UnsafeRawBufferPointer(rebasing: buffer[start..<(start &+ frameLength)])
                let result = decoder.decodeDatagram(
                    datagram, receivedMicroseconds: 1_767_225_600_000_000, into: columns, verifier: &verifier,
                    onFrame: { _, _, _ in true }, onRejection: { _ in rejected &+= 1 })
                accepted &+= result.framesAccepted
                index = index == frameCount - 1 ? 0 : index + 1
            }
        }
        blackHole(accepted)
        blackHole(rejected)
    }

    let framesPerCall = 1_638
    let bulkColumns = SampleColumns(capacity: framesPerCall)
    Benchmark(
        "Parse MAVLink 2 GLOBAL_POSITION_INT, 1,638 frames per call (bulk)",
        configuration: .init(scalingFactor: .kilo)
    ) { benchmark in
        var verifier = MAVLinkNoSigning()
        var accepted = 0
        bytes.withUnsafeBytes { buffer in
            var start = 0
            for _ in benchmark.scaledIterations {
                if start + framesPerCall * frameLength > buffer.count { start = 0 }
                bulkColumns.removeAll()
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[start..<(start &+ framesPerCall &* frameLength)])
                let result = decoder.decodeDatagram(
                    chunk, receivedMicroseconds: 1_767_225_600_000_000, into: bulkColumns, verifier: &verifier,
                    onFrame: { _, _, _ in true }, onRejection: { _ in })
                accepted &+= result.framesAccepted
                start &+= framesPerCall &* frameLength
            }
        }
        precondition(accepted > 0)
        blackHole(accepted)
    }

    Benchmark("MAVLink CRC-16/MCRF4XX over 40-byte frames, shift-and-XOR form (the reference's crc_accumulate)") { benchmark in
        var crc: UInt16 = 0
        bytes.withUnsafeBytes { buffer in
            var index = 0
            for _ in benchmark.scaledIterations {
                let start = index &* frameLength
                crc ^= MAVLinkCRC.accumulateBytewise(
                    UnsafeRawBufferPointer(rebasing: buffer[(start &+ 1)..<(start &+ 38)]), into: MAVLinkCRC.seed)
                index = index == frameCount - 1 ? 0 : index + 1
            }
        }
        blackHole(crc)
    }

    Benchmark("MAVLink CRC-16/MCRF4XX over 40-byte frames, slicing-by-4 (the CRC the decoder uses)") { benchmark in
        var crc: UInt16 = 0
        bytes.withUnsafeBytes { buffer in
            var index = 0
            for _ in benchmark.scaledIterations {
                let start = index &* frameLength
                crc ^= MAVLinkCRC.checksum(UnsafeRawBufferPointer(rebasing: buffer[(start &+ 1)..<(start &+ 38)]))
                index = index == frameCount - 1 ? 0 : index + 1
            }
        }
        blackHole(crc)
    }
}

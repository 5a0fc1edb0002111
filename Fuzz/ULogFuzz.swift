// libFuzzer target for the ULog player (Scripts/fuzz-logs.sh ulog). Oracles: LogReaderFuzzSupport.swift.
@testable import FlightRecording
import MAVLinkWire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzULog(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    checkRead(UnsafeRawBufferPointer(start: data, count: size), datagramBytesMax: MAVLinkFormat.frameLengthMax) { bytes, body in
        ULogReader.replay(bytes, systemIDOverride: nil, fromNanoseconds: nil, untilNanoseconds: nil, contents: { _ in }, body: body)
    }
    return 0
}

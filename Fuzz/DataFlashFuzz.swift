// libFuzzer target for the DataFlash player (Scripts/fuzz-logs.sh dataflash). Oracles: LogReaderFuzzSupport.swift.
@testable import FlightRecording
import MAVLinkWire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDataFlash(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    checkRead(UnsafeRawBufferPointer(start: data, count: size), datagramBytesMax: MAVLinkFormat.frameLengthMax) { bytes, body in
        DataFlashReader.replay(bytes, systemIDOverride: nil, fromNanoseconds: nil, untilNanoseconds: nil, contents: { _ in }, body: body)
    }
    return 0
}

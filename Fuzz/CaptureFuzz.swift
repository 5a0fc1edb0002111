// libFuzzer target for the pcap and pcapng player (Scripts/fuzz-logs.sh capture). Oracles:
// LogReaderFuzzSupport.swift.
@testable import FlightRecording

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCapture(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    checkRead(UnsafeRawBufferPointer(start: data, count: size), datagramBytesMax: 65_535, cutKeepsPrefix: true) { bytes, body in
        var contents = LogContents()
        return CaptureReader.replay(bytes, fromNanoseconds: nil, untilNanoseconds: nil, contents: &contents, body: body)
    }
    return 0
}

// libFuzzer target for the MAVLink `.tlog` reader (`TlogReader`), the format sniffing of
// `openRecording` and `inspect`'s inventory. Built by Scripts/fuzz-inputs.sh tlog: Telemetry and
// TelemetryWire as their own modules, the FlightRecording sources and this file as another
// (docs/testing.md). The reader is fed from memory (`MappedFile(copying:)`); the corpus starts
// from slices of the real flights in Fixtures/flights.
//
// Oracles, beyond "no crash, no sanitizer report":
// - every byte is accounted for: the records handed out (8-byte timestamp and frame) plus the
//   bytes skipped plus the bytes cut off at the end equal the file's length;
// - every datagram is one whole MAVLink frame by its own header, stamped with a plausible time;
// - a read from a time on hands out exactly the records of the whole read at or after it;
// - the inventory counts the datagrams the read hands out.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTlog(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let file = MappedFile(copying: UnsafeRawBufferPointer(start: data, count: size), path: "fuzz.tlog")
    let reader = TlogReader(file: file)
    var recordBytes = 0
    var times: [UInt64] = []
    let report = reader.read { datagram in
        guard case .frame(let length) = MAVLinkFraming.frameLength(datagram.bytes), length == datagram.bytes.count else {
            preconditionFailure("a datagram that is not one whole frame")
        }
        precondition(TlogReader.plausibleMicroseconds.contains(datagram.receivedNanoseconds / 1_000))
        recordBytes += TlogReader.timestampLength + datagram.bytes.count
        times.append(datagram.receivedNanoseconds)
        return true
    }
    precondition(recordBytes + report.bytesSkipped + report.trailingBytes == size,
                 "records \(recordBytes) + skipped \(report.bytesSkipped) + cut off \(report.trailingBytes) != \(size)")
    precondition(report.datagramsRead == times.count && report.datagramsFound == times.count)
    if let middle = times.dropFirst(times.count / 2).first {
        var later = 0
        let windowed = reader.read(fromNanoseconds: middle, untilNanoseconds: nil) { datagram in
            precondition(datagram.receivedNanoseconds >= middle)
            later += 1
            return true
        }
        precondition(later == times.count { $0 >= middle } && windowed.datagramsRead == later)
    }
    if let sniffed = try? openRecording(file: file) {
        let inventory = RecordingInventory.make(reading: sniffed, fileBytes: size)
        if sniffed.kind == .tlog { precondition(inventory.datagrams == times.count) }
    }
    return 0
}

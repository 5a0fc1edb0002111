// Shared oracles of the log and capture fuzz targets (Scripts/fuzz-logs.sh). Each target hands
// one input to one reader as a whole file and checks, beyond "no crash, no sanitizer report":
// - the datagrams handed out equal the report's count, and each is at most one UDP datagram
//   (64 KiB) or one MAVLink frame long;
// - skipped and cut-off bytes never exceed the input;
// - the same input cut in half reads without a crash; for captures read intact (nothing skipped),
//   it finds no more datagrams than the whole (a cut never invents packets). Logs are exempt: the
//   first half may lack the fused-position topic, and then the GPS fixes become positions.
@testable import FlightRecording

func checkRead(_ bytes: UnsafeRawBufferPointer, datagramBytesMax: Int, cutKeepsPrefix: Bool = false, read: (UnsafeRawBufferPointer, (RecordedDatagram) -> Bool) -> ReadReport) {
    var count = 0
    let report = read(bytes) { datagram in
        precondition(datagram.bytes.count <= datagramBytesMax, "a datagram longer than the format allows")
        precondition(datagram.source.count == 0 || datagram.source.count == 6 || datagram.source.count == 18)
        count += 1
        return true
    }
    precondition(report.datagramsFound == count && report.datagramsRead == count, "datagrams handed out differ from the report")
    precondition(report.bytesSkipped + report.trailingBytes <= bytes.count, "more bytes skipped than read")
    var half = 0
    _ = read(UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count / 2)])) { _ in
        half += 1
        return true
    }
    let intact = report.bytesSkipped == 0 && report.recordsDamaged == 0
    precondition(!cutKeepsPrefix || !intact || half <= count, "a cut file found more datagrams than the whole")
}

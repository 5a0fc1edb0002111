import FlightRecording
import Foundation
import Testing

/// Recordings hold every datagram a gateway received, tagged ones too: the writer creates them
/// 0600, and the directory writer creates its directory (and missing parents) 0700.
@Suite struct RecordingFileModeTests {
    static func mode(_ path: String) -> mode_t? {
        var status = stat()
        return stat(path, &status) == 0 ? status.st_mode & 0o7777 : nil
    }

    @Test func aRecordingIs0600() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("flight.skyrec")
        let writer = try RecordingWriter(path: path, startNanoseconds: 1_767_225_600_000_000_000, gatewayVersion: "test")
        try [UInt8](repeating: 7, count: 40).withUnsafeBytes { datagram in
            try writer.append(receivedNanoseconds: 1_767_225_600_000_000_000, source: UnsafeRawBufferPointer(start: nil, count: 0), datagram: datagram)
        }
        try writer.close()
        #expect(Self.mode(path) == 0o600)
    }

    @Test func aRecordingDirectoryIs0700WithItsFiles0600() throws {
        let directory = TemporaryDirectory()
        let nested = directory.file("records/today")
        let writer = try RecordingDirectoryWriter(directory: nested, gatewayVersion: "test")
        try [UInt8](repeating: 7, count: 40).withUnsafeBytes { datagram in
            try writer.append(
                receivedNanoseconds: 1_767_225_600_000_000_000, source: UnsafeRawBufferPointer(start: nil, count: 0), datagram: datagram,
                isTruncated: false, nowNanoseconds: 1_767_225_600_000_000_000)
        }
        try writer.close()
        #expect(Self.mode(directory.file("records")) == 0o700)
        #expect(Self.mode(nested) == 0o700)
        let files = try FileManager.default.contentsOfDirectory(atPath: nested).filter { $0.hasSuffix(".skyrec") }
        #expect(files.count == 1)
        for file in files { #expect(Self.mode(nested + "/" + file) == 0o600, "\(file)") }
    }
}

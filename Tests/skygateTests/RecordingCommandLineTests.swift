import Foundation
import SkygateTestSupport
import Testing

/// Bad options of `record`, `replay` and `inspect` end the program with a non-zero status and an
/// error line naming the option, before anything is bound, sent or written.
@Suite("Recording command-line errors")
struct RecordingCommandLineTests {
    static let flight = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/flights/ardusub_log_tools_small.tlog").path

    @Test(
        "Each bad option is refused by name",
        arguments: [
            (["replay", flight], "--to/--db"),
            (["replay", flight, "--to", "127.0.0.1:1", "--db", "/tmp/x.db"], "--to/--db"),
            (["replay", flight, "--to", "nonsense"], "--to"),
            (["replay", flight, "--to", "127.0.0.1:9", "--speed", "0"], "--speed"),
            (["replay", flight, "--to", "127.0.0.1:9", "--speed", "fast"], "--speed"),
            (["replay", flight, "--db", "/tmp/x.db", "--speed", "10"], "--speed"),
            (["replay", flight, "--db", "/tmp/x.db", "--loop"], "--loop"),
            (["replay", flight, "--to", "127.0.0.1:9", "--from", "yesterday"], "--from"),
            (["replay", flight, "--to", "127.0.0.1:9", "--until", "soon"], "--until"),
            (["replay", "/nonexistent.tlog", "--to", "127.0.0.1:9"], "FILE"),
            (["replay", "/etc/hostname", "--to", "127.0.0.1:9"], "FILE"),
            (["inspect", "/etc/hostname"], "FILE"),
            (["record", "--out", "/tmp/x.skyrec", "--udp", "nonsense"], "--udp"),
            (["record", "--out", "/nonexistent-dir/x.skyrec", "--udp", "127.0.0.1:0"], "--out"),
            (["record", "--out", "/tmp/x.skyrec", "--duration", "-1"], "--duration"),
            (["serve", "--udp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--record", "/etc/hostname"], "--record"),
            (["serve", "--record-max-mib", "1"], "--record-max-mib"),
        ])
    func badOption(arguments: [String], option: String) throws {
        let (status, output) = try CommandLineTests.run(arguments)
        #expect(status != 0, "\(arguments) exited 0: \(output)")
        let firstLine = output.split(separator: "\n").first.map(String.init) ?? ""
        #expect(firstLine.contains(option), "\(arguments): \(firstLine)")
    }
}

import Foundation
import SkygateTestSupport
import Testing

/// Bad options end the program with a non-zero status and an error line that names the option,
/// before anything is sent or bound.
@Suite("Command-line errors")
struct CommandLineTests {
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) { try SkygateProcess.run(arguments) }

    @Test(
        "Each bad option is refused by name",
        arguments: [
            (["simulate", "--rate", "-1"], "--rate"),
            (["simulate", "--rate", "0"], "--rate"),
            (["simulate", "--loss", "101"], "--loss"),
            (["simulate", "--corrupt", "-5"], "--corrupt"),
            (["simulate", "--protocol", "carrier-pigeon"], "--protocol"),
            (["simulate", "--to", "no-port"], "--to"),
            (["simulate", "--to", "127.0.0.1:99999"], "--to"),
            (["simulate", "--to", "host.invalid:14550"], "--to"),
            (["simulate", "--drones", "0"], "--drones"),
            (["simulate", "--protocol", "mavlink2", "--drones", "300"], "--protocol"),
            (["simulate", "--protocol", "mavlink1", "--first-drone-id", "0"], "--protocol"),
            (["serve", "--udp", "nonsense"], "--udp"),
            (["serve", "--udp", "127.0.0.1:0", "--http", "nonsense", "--db", "/nonexistent-dir/x.db"], "--db"),
            (["serve", "--retain", "-3"], "--retain"),
            (["serve", "--ring-kib", "1000"], "--ring-kib"),
            (["serve", "--commit-interval-ms", "0"], "--commit-interval-ms"),
            (["serve", "--sample-age-max-hours", "-1"], "--sample-age-max-hours"),
            (["serve", "--sample-age-max-hours", "nan"], "--sample-age-max-hours"),
            (["serve", "--offline-after", "inf"], "--offline-after"),
            (["serve", "--config", "/nonexistent.conf"], "--config"),
            (["serve", "--udp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--mavlink-key-file", "/nonexistent.keys"], "--mavlink-key-file"),
            (["export", "--db", "/nonexistent.db", "--format", "csv"], "--db"),
            (["export", "--db", "/nonexistent.db", "--format", "xml"], "--format"),
            (["bench", "--drones", "0"], "--drones"),
            (["bench", "--drones", "2", "--duration", "1", "--http", "0.0.0.0:0"], "--http"),
            (["bench", "--drones", "2", "--duration", "1", "--http", "nonsense"], "--http"),
        ])
    func badOption(arguments: [String], option: String) throws {
        let (status, output) = try Self.run(arguments)
        #expect(status != 0, "\(arguments) exited 0: \(output)")
        let firstLine = output.split(separator: "\n").first.map(String.init) ?? ""
        #expect(firstLine.contains(option), "\(arguments): \(firstLine)")
    }
}

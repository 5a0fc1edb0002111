import ArgumentParser

/// The `skygate` command-line tool: one program for the gateway, the simulator and the tools
/// around recordings. Each subcommand lives in its own file.
@main
struct Skygate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skygate",
        abstract: "Drone telemetry gateway and drone-firmware simulator.",
        subcommands: [
            ServeCommand.self, SimulateCommand.self, RecordCommand.self, ReplayCommand.self, InspectCommand.self, ExportCommand.self,
            BenchCommand.self, StoreBenchCommand.self, DemoCommand.self, ReviewCommand.self,
        ]
    )
}

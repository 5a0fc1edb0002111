import Foundation
import PackagePlugin

/// Embeds a target's front-end files (`Web/*.html`, `*.css`, `*.js`, excluded from the target's
/// sources in Package.swift) into the binary at build time: one command runs the `WebEmbed` tool
/// over them, which writes a Swift source holding each file's text (`WebFiles`). The gateway
/// stays one file to deploy (no resource bundle beside it), and a front-end change is a diff to
/// the front-end files alone.
@main
struct EmbedWebFiles: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        let web = target.directoryURL.appending(path: "Web")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: web.path(percentEncoded: false))) ?? []
        let inputs = names.filter { [".html", ".css", ".js"].contains(where: $0.hasSuffix) }.sorted().map { web.appending(path: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "WebFiles.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(inputs.count) front-end files of \(target.name)",
                executable: try context.tool(named: "WebEmbed").url,
                arguments: [output.path(percentEncoded: false)] + inputs.map { $0.path(percentEncoded: false) },
                inputFiles: inputs,
                outputFiles: [output])
        ]
    }
}

import Foundation

/// The real `skygate` executable, as the process tests and the command-line tests run it.
public enum SkygateProcess {
    /// The binary beside the test bundle (`swift test` builds it with the tests), else the
    /// package's debug build.
    public static var executable: URL {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("skygate")
        if FileManager.default.isExecutableFile(atPath: besideTests.path) { return besideTests }
        return packageDirectory.appendingPathComponent(".build/debug/skygate")
    }

    /// The package's root directory (for `Fixtures/`).
    public static var packageDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Runs `skygate ARGUMENTS` to its end; standard output and error together.
    public static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

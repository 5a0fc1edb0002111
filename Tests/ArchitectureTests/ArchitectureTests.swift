import Foundation
import Testing

/// The architecture as a test: docs/architecture.md's "Allowed dependencies" table is the list of
/// arrows the design allows. This reads `Package.swift`'s target graph and every source file's
/// imports and fails on any arrow the table does not allow, on a source target the table does
/// not list, on a cycle, and on a source target without its mirrored test target.
@Suite struct ArchitectureTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Modules of the platform, allowed wherever the table does not say "(nothing)".
    static let platformModules: Set<String> = [
        "Glibc", "Darwin", "Foundation", "FoundationEssentials", "FoundationNetworking", "FoundationXML", "Synchronization", "Dispatch",
    ]

    struct Target {
        var name: String
        var kind: String
        var dependencies: [String]
    }

    /// The targets of Package.swift: each `.target(`, `.executableTarget(`, `.testTarget(` and
    /// `.systemLibrary(` call, with the names in its `dependencies:` list (a product by its name).
    static func packageTargets() throws -> [Target] {
        let text = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let targetsStart = try #require(text.range(of: "targets: [")).upperBound
        var targets: [Target] = []
        var rest = text[targetsStart...]
        let opening = /\.(target|executableTarget|testTarget|systemLibrary)\(/
        while let match = rest.firstMatch(of: opening) {
            // The call's text runs to its balanced closing parenthesis.
            var depth = 1
            var index = match.range.upperBound
            while depth > 0 && index < rest.endIndex {
                if rest[index] == "(" { depth += 1 } else if rest[index] == ")" { depth -= 1 }
                index = rest.index(after: index)
            }
            let call = rest[match.range.upperBound..<index]
            let name = try #require(call.firstMatch(of: /name: "([^"]+)"/)).1
            var dependencies: [String] = []
            if let list = call.firstMatch(of: /dependencies: \[([^\]]*)\]/) {
                var items = list.1
                // Products first (`.product(name: "X", package: "y")`), then plain names.
                for product in items.matches(of: /\.product\(name: "([^"]+)", package: "[^"]+"\)/) {
                    dependencies.append(String(product.1))
                }
                items.replace(/\.product\([^)]*\)/, with: "")
                for plain in items.matches(of: /"([^"]+)"/) { dependencies.append(String(plain.1)) }
            }
            targets.append(Target(name: String(name), kind: String(match.1), dependencies: dependencies))
            rest = rest[index...]
        }
        return targets
    }

    /// The allowed arrows: target → what it may import, from docs/architecture.md.
    static func allowedArrows() throws -> [String: Set<String>] {
        let text = try String(contentsOf: root.appendingPathComponent("docs/architecture.md"), encoding: .utf8)
        let section = try #require(text.range(of: "### Allowed dependencies"))
        var allowed: [String: Set<String>] = [:]
        for line in text[section.upperBound...].split(separator: "\n") {
            if line.hasPrefix("#") { break }
            guard line.hasPrefix("| `") else { continue }
            let cells = line.split(separator: "|", omittingEmptySubsequences: true).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 2 else { continue }
            let target = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            allowed[target] = Set(cells[1].matches(of: /`([^`]+)`/).map { String($0.1) })
        }
        return allowed
    }

    /// The modules a source target's files import.
    static func imports(ofSourceTarget name: String) throws -> Set<String> {
        let directory = root.appendingPathComponent("Sources/\(name)")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".swift") }
        var modules: Set<String> = []
        for file in files {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") {
                if let match = line.wholeMatch(of: /\s*(?:@testable |@_exported |(?:public|package|internal) )?import (?:struct |enum |class |func )?([A-Za-z_][A-Za-z0-9_]*).*/) {
                    modules.insert(String(match.1))
                }
            }
        }
        return modules
    }

    @Test func everyPackageArrowIsAllowed() throws {
        let allowed = try Self.allowedArrows()
        #expect(allowed.count >= 15, "the table in docs/architecture.md was not found or is short: \(allowed.keys.sorted())")
        let sources = try Self.packageTargets().filter { $0.kind == "target" || $0.kind == "executableTarget" }
        #expect(sources.count >= 15)
        for target in sources where !target.name.hasPrefix("C") && target.name != "SkygateTestSupport" {
            guard let mayImport = allowed[target.name] else {
                Issue.record("target \(target.name) is not in docs/architecture.md's table of allowed dependencies")
                continue
            }
            for dependency in target.dependencies where !mayImport.contains(dependency) {
                Issue.record("Package.swift: \(target.name) → \(dependency) is an arrow the architecture does not allow")
            }
        }
    }

    @Test func everyImportIsDeclaredAndAllowed() throws {
        let allowed = try Self.allowedArrows()
        let sources = try Self.packageTargets().filter { $0.kind == "target" || $0.kind == "executableTarget" }
        for target in sources where !target.name.hasPrefix("C") && target.name != "SkygateTestSupport" {
            let mayImport = allowed[target.name] ?? []
            let isFirmwareTarget = mayImport.isEmpty && (target.name == "TelemetryWire")
            for module in try Self.imports(ofSourceTarget: target.name) {
                if Self.platformModules.contains(module) {
                    #expect(!isFirmwareTarget && target.name != "MAVLinkWire", "\(target.name) imports \(module); firmware compiles it")
                    continue
                }
                #expect(mayImport.contains(module), "Sources/\(target.name) imports \(module), which the architecture does not allow")
                #expect(target.dependencies.contains(module), "Sources/\(target.name) imports \(module) without declaring it in Package.swift")
            }
        }
    }

    /// The rules the table encodes, stated once more so that editing the table alone cannot
    /// quietly lift them.
    @Test func theFirmRulesHold() throws {
        let targets = Dictionary(uniqueKeysWithValues: try Self.packageTargets().map { ($0.name, $0) })
        let sources = targets.values.filter { $0.kind == "target" || $0.kind == "executableTarget" }
        for target in sources {
            if target.dependencies.contains("CSocketShims") {
                #expect(target.name == "UDPTransport", "\(target.name) makes socket calls; only UDPTransport may")
            }
            if target.dependencies.contains("Gateway") {
                #expect(["skygate", "SkygateTestSupport"].contains(target.name), "\(target.name) depends on Gateway")
            }
        }
        #expect(targets["Pipeline"]?.dependencies.contains("Crypto") == false)
        #expect(targets["Pipeline"]?.dependencies.contains { $0.contains("Authentication") || $0.contains("Signing") } == false)
        #expect(targets["DroneSimulator"]?.dependencies.contains("UDPTransport") == false)
        #expect(targets["TelemetryWire"]?.dependencies.isEmpty == true)
        #expect(targets["Telemetry"]?.dependencies.allSatisfy { $0.hasPrefix("C") } == true, "Telemetry imports C shims at most")
        // The HTTP side frames nothing: no wire target, no pipeline (issue 19).
        for wire in ["TelemetryWire", "MAVLinkWire", "Pipeline", "IngestFraming"] {
            #expect(targets["StatusServer"]?.dependencies.contains(wire) == false, "StatusServer imports \(wire)")
        }
        // The gateway's writer is its own target; Playback is replay, record sessions, fleets.
        #expect(targets["Gateway"]?.dependencies.contains("Playback") == false)
        #expect(targets["StoreWriter"]?.dependencies.contains("Playback") == false)
    }

    @Test func theGraphHasNoCycle() throws {
        let targets = Dictionary(uniqueKeysWithValues: try Self.packageTargets().map { ($0.name, $0.dependencies) })
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        func visit(_ name: String, path: [String]) {
            if state[name] == 2 { return }
            if state[name] == 1 {
                Issue.record("cycle: \((path + [name]).joined(separator: " → "))")
                return
            }
            state[name] = 1
            for dependency in targets[name] ?? [] where targets[dependency] != nil { visit(dependency, path: path + [name]) }
            state[name] = 2
        }
        for name in targets.keys.sorted() { visit(name, path: []) }
    }

    /// Tests mirror the sources: each Swift source target has `Tests/<Target>Tests`, a test target
    /// that depends on it.
    @Test func testsMirrorTheSources() throws {
        let all = try Self.packageTargets()
        let tests = Dictionary(uniqueKeysWithValues: all.filter { $0.kind == "testTarget" }.map { ($0.name, $0.dependencies) })
        for target in all where (target.kind == "target" || target.kind == "executableTarget") && !target.name.hasPrefix("C")
            && target.name != "SkygateTestSupport"
        {
            let name = target.name + "Tests"
            #expect(tests[name]?.contains(target.name) == true, "no test target \(name) depending on \(target.name)")
            #expect(FileManager.default.fileExists(atPath: Self.root.appendingPathComponent("Tests/\(name)").path))
        }
    }

    /// The parser reads what it should: a known target's list, products included.
    @Test func parserReadsTheManifest() throws {
        let targets = Dictionary(uniqueKeysWithValues: try Self.packageTargets().map { ($0.name, $0) })
        let gateway = try #require(targets["Gateway"])
        #expect(gateway.kind == "target")
        #expect(gateway.dependencies.contains("StoreWriter") && gateway.dependencies.contains("Logging"))
        #expect(targets["CSQLite"]?.kind == "systemLibrary")
        #expect(targets["skygate"]?.kind == "executableTarget")
    }
}

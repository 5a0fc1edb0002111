import Foundation
import Hummingbird
import HummingbirdTesting
import StatusServer
import Testing

/// `/metrics` is valid Prometheus text: every sample line is `name{labels} value` under a
/// `# TYPE`, the counters follow the accounting (and only grow), and the commit latency is a
/// histogram with cumulative buckets. When `PROM_PY` names a Python with `prometheus_client`
/// (CI installs it), the official parser must read the same text.
@Suite struct MetricsTests {
    @Test func metricsParse() async throws {
        let directory = TemporaryDirectory()
        let source = try PipelineSource(directory: directory)
        source.fly(drones: [1, 2], frames: 5)
        let app = Application(router: StatusRoutes.makeRouter(source: source))
        let texts = try await app.test(.router) { client in
            var texts: [String] = []
            for _ in 0..<2 {
                let text = try await client.execute(uri: "/metrics", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                    return response.body.text
                }
                texts.append(text)
                source.fly(drones: [3], frames: 2)
            }
            return texts
        }
        let first = try Self.parse(texts[0]), second = try Self.parse(texts[1])
        #expect(first["skygate_units_stored_total"] == 10)
        #expect(second["skygate_units_stored_total"] == 12)
        #expect(first["skygate_units_rejected_total{reason=\"bad_crc\"}"] == 0)
        #expect(first["skygate_protocol_frames_received_total{protocol=\"skygate\"}"] == 10)
        #expect(first["skygate_drones_count{protocol=\"skygate\"}"] == 2)
        #expect(first["skygate_commit_latency_seconds_bucket{le=\"0.001\"}"] == 3)
        #expect(first["skygate_commit_latency_seconds_bucket{le=\"+Inf\"}"] == 6)
        #expect(first["skygate_commit_latency_seconds_count"] == 6)
        #expect(first["skygate_accounting_balanced_bool"] == 1)

        if let python = ProcessInfo.processInfo.environment["PROM_PY"] {
            let file = directory.file("metrics.txt")
            try texts[1].write(toFile: file, atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [
                "-c",
                """
                import sys
                from prometheus_client.parser import text_string_to_metric_families
                families = list(text_string_to_metric_families(open(sys.argv[1]).read()))
                names = {f.name for f in families}
                assert "skygate_units_stored" in names, names
                assert any(f.type == "histogram" for f in families)
                print(len(families), "families")
                """,
                file,
            ]
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "prometheus_client could not parse /metrics")
        }
    }

    /// Parses the text format strictly enough to catch malformed lines: comments are HELP or TYPE,
    /// every sample belongs to a declared family, and every value is a number.
    static func parse(_ text: String) throws -> [String: Double] {
        var samples: [String: Double] = [:]
        var families: Set<String> = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# HELP ") { continue }
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                #expect(parts.count == 4 && ["counter", "gauge", "histogram"].contains(String(parts[3])), "\(line)")
                families.insert(String(parts[2]))
                continue
            }
            #expect(!line.hasPrefix("#"), "\(line)")
            guard let space = line.lastIndex(of: " ") else {
                Issue.record("no value: \(line)")
                continue
            }
            let key = String(line[..<space])
            let value = Double(line[line.index(after: space)...])
            #expect(value != nil, "\(line)")
            let name = String(key.prefix { $0 != "{" })
            let family = ["_bucket", "_sum", "_count"].reduce(name) { name, suffix in
                families.contains(name) ? name : (name.hasSuffix(suffix) ? String(name.dropLast(suffix.count)) : name)
            }
            #expect(families.contains(family), "sample without a TYPE: \(line)")
            #expect(name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }, "\(line)")
            samples[key] = value
        }
        return samples
    }
}

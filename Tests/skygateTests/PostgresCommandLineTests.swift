import Foundation
import SkygateTestSupport
import Testing

/// Every command that takes `--db` works on PostgreSQL as on SQLite, end to end with the real
/// executable against the test server `.ci/run` starts (Scripts/pg-test-server.sh): `serve` stores
/// a seeded fleet and records it, `export` reads every stored sample back, and `replay --db` of
/// the recording into a second database stores the same samples (the two exports are equal).
@Suite(
    .enabled(if: PostgresServer.isAvailable, "needs SKYGATE_TEST_PG (Scripts/pg-test-server.sh; .ci/run starts one)"), .serialized)
struct PostgresCommandLineTests {
    @Test func serveExportAndReplayOnPostgres() async throws {
        let directory = TemporaryDirectory()
        let live = try PostgresServer.freshDatabase()
        let replayed = try PostgresServer.freshDatabase()
        defer {
            PostgresServer.drop(live)
            PostgresServer.drop(replayed)
        }
        let passwordFile = try #require(PostgresServer.passwordFile)
        let recordings = directory.file("recordings")

        let server = try ServeProcess(
            database: PostgresServer.url(of: live),
            arguments: ["--db-password-file", passwordFile, "--gateway-name", "pg-cli-test", "--record", recordings,
                        "--spill", directory.file("serve.spill")])
        try #require(server.isServing, "serve on PostgreSQL did not start: \(server.text)")
        let summary = try fly(drones: 12, rate: 10, duration: 3, seed: 23, port: server.udpPort)
        _ = try await server.poll("/api/stats") { ($0["datagrams_received"] as? Int ?? 0) >= summary.totals.datagramsSent }
        let stats = try await server.poll("/api/stats") { ($0["batches_waiting"] as? Int) == 0 && ($0["store"] as? String) == "postgres" }
        let stop = server.terminate()
        #expect(stop.status == 0, "\(stop.output)")
        #expect(stop.output.contains("balanced"), "\(stop.output)")
        #expect(stats["store"] as? String == "postgres")

        let exported = try SkygateProcess.run(
            ["export", "--db", PostgresServer.url(of: live), "--db-password-file", passwordFile, "--format", "csv"])
        #expect(exported.status == 0, "\(exported.output)")
        let rows = exported.output.split(separator: "\n").dropFirst()  // the header line
        #expect(rows.count == summary.totals.samplesIntact, "every sample the fleet sent is stored and exported")
        #expect(rows.count > 300)

        let files = try FileManager.default.contentsOfDirectory(atPath: recordings).filter { $0.hasSuffix(".skyrec") }.sorted()
        try #require(!files.isEmpty)
        let replay = try SkygateProcess.run(
            ["replay"] + files.map { recordings + "/" + $0 } + ["--db", PostgresServer.url(of: replayed), "--db-password-file", passwordFile])
        #expect(replay.status == 0, "\(replay.output)")
        let again = try SkygateProcess.run(
            ["export", "--db", PostgresServer.url(of: replayed), "--db-password-file", passwordFile, "--format", "csv"])
        #expect(again.status == 0)
        #expect(again.output == exported.output, "the replayed recording stored what serve stored")
    }
}

import Telemetry
import Testing

/// Every bound lives in `Limits`: the defaults are valid, each broken relation is reported with
/// the limit's name, `ValidLimits` is the only way past the check, and the fixed bounds agree
/// with each other (after TigerBeetle's comptime asserts over `constants.zig`).
@Suite struct LimitsTests {
    @Test func defaultsAreValid() throws {
        #expect(Limits().problems().isEmpty)
        #expect(try ValidLimits(Limits()) == ValidLimits.defaults)
    }

    @Test func fixedBoundsAgree() {
        #expect(Limits.fixedBoundProblems().isEmpty, "\(Limits.fixedBoundProblems())")
        // A week at the highest rate still counts in an Int and its timestamps in a UInt64.
        #expect(Limits.Simulator.durationMaxSeconds * Limits.Simulator.sampleRateMaxHz * Double(Limits.Simulator.dronesMax) < 1e15)
        #expect(1_000_000 / Limits.Simulator.sampleRateMaxHz >= 1)
    }

    /// Limits with one tunable set out of its range.
    static func breaking(_ name: String) -> Limits {
        var limits = Limits()
        switch name {
        case "ringBytes": limits.ringBytes = 1_000
        case "datagramBytesMax": limits.datagramBytesMax = 100
        case "receiveBatchDatagrams": limits.receiveBatchDatagrams = 0
        case "receivePause": limits.receivePause = .milliseconds(51)
        case "drainBatchDatagrams": limits.drainBatchDatagrams = 1 << 20
        case "commitSamplesMax": limits.commitSamplesMax = 10
        case "commitInterval": limits.commitInterval = .seconds(60)
        case "commitBatchesInFlight": limits.commitBatchesInFlight = 0
        case "dronesMax": limits.dronesMax = 0
        case "duplicateWindowFrames": limits.duplicateWindowFrames = 0
        case "futureTolerance": limits.futureTolerance = .seconds(-1)
        case "recordingRingBytes": limits.recordingRingBytes = 4_096
        case "recordSessionRingBytes": limits.recordSessionRingBytes = 1 << 31
        case "httpIngestRingBytes": limits.httpIngestRingBytes = 1 << 16
        case "httpIdleTimeout": limits.httpIdleTimeout = .milliseconds(10)
        case "httpConnectionsMax": limits.httpConnectionsMax = 1
        case "streamClientsPerPeerMax": limits.streamClientsPerPeerMax = Limits.Events.streamClientsMax + 1
        default: preconditionFailure("no such limit \(name)")
        }
        return limits
    }

    /// One broken tunable at a time: the check names it, and `ValidLimits` refuses it.
    @Test(arguments: [
        "ringBytes", "datagramBytesMax", "receiveBatchDatagrams", "receivePause", "drainBatchDatagrams", "commitSamplesMax", "commitInterval",
        "commitBatchesInFlight", "dronesMax", "duplicateWindowFrames", "futureTolerance", "recordingRingBytes",
        "recordSessionRingBytes", "httpIngestRingBytes", "httpIdleTimeout", "httpConnectionsMax", "streamClientsPerPeerMax",
    ])
    func eachBrokenLimitIsNamed(name: String) {
        let limits = Self.breaking(name)
        let problems = limits.problems()
        #expect(problems.contains { $0.hasPrefix(name) }, "\(problems)")
        #expect(throws: LimitsError.self) { try ValidLimits(limits) }
    }

    @Test func errorListsEveryProblem() {
        var limits = Limits()
        limits.ringBytes = 3_000
        limits.dronesMax = 0
        do {
            _ = try ValidLimits(limits)
            Issue.record("invalid limits were accepted")
        } catch {
            #expect(error.problems.count == 2)
            #expect(error.description.hasPrefix("invalid limits: ") && error.description.contains("dronesMax"))
        }
    }

    @Test func durationsConvertToWholeUnits() {
        #expect(Duration.milliseconds(250).nanosecondsClamped == 250_000_000)
        #expect(Duration.seconds(300).microsecondsClamped == 300_000_000)
        #expect(Duration.microseconds(200).nanosecondsClamped == 200_000)
        #expect(Duration.seconds(-1).nanosecondsClamped == 0)
    }
}

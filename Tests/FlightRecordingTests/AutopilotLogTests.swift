import FlightRecording
import Foundation
import MAVLinkWire
import Testing

/// The ULog and DataFlash players on the real logs in Fixtures/flights. Each test says what it
/// proves; positions are compared with pyulog (ULog) and pymavlink's DFReader (DataFlash) run on
/// the same file when they are installed (`$MAV_PY`, `/tmp/venv-mav`), else with the figures
/// pinned from SOURCES.md and the summaries.
@Suite("Autopilot logs: ULog and DataFlash")
struct AutopilotLogTests {
    /// The frames a log replays as, decoded by the gateway's own MAVLink decoder, give the same
    /// positions as the reference reader: count, first and last position, and sample times in
    /// UTC (the decoder takes a sample's time from the receive time, which is the GPS UTC time).
    @Test("Positions equal the reference reader's", arguments: AutopilotFixtures.all)
    func positionsEqualReference(name: String) throws {
        let expected = try AutopilotFixtures.reference(name)
        let reader = try openRecording(path: AutopilotFixtures.path(name))
        let (datagrams, report) = AutopilotFixtures.datagrams(reader)
        #expect(report.isIntact, "\(name): \(report.summary)")
        let decoded = AutopilotFixtures.decode(datagrams)
        let log = try #require((reader as? any LogContentsReading)?.contents)
        #expect(decoded.rows.count == expected.count, "\(name): \(expected.reader) counts \(expected.count)")
        #expect(log.positions == expected.count)
        if let first = expected.first, let last = expected.last {
            let rows = decoded.rows
            #expect(rows.first?.lat == first.lat && rows.first?.lon == first.lon && rows.first?.alt == first.alt_mm)
            #expect(rows.last?.lat == last.lat && rows.last?.lon == last.lon && rows.last?.alt == last.alt_mm)
            // Logs: the stored time is the UTC time. Captures: the receive time of the frame is the
            // capture time (the gateway then places the autopilot's boot clock on it).
            #expect(log.firstPosition?.timeMicroseconds == first.t_us && log.lastPosition?.timeMicroseconds == last.t_us)
            if reader.kind == .ulog || reader.kind == .dataflash {
                #expect(rows.first?.time == first.t_us && rows.last?.time == last.t_us)
            }
        }
        if reader.kind == .ulog || reader.kind == .dataflash {
            // Every frame made is intact and comes from system 1, the log's MAV_SYS_ID / SYSID_THISMAV.
            #expect(decoded.framesRejected == 0)
            #expect(decoded.framesAccepted == datagrams.count)
            #expect(decoded.systems == [1])
            #expect(log.systemID == 1)
        }
    }

    /// The ULog walk reads every topic instance pyulog lists, with the same sample counts, the
    /// parameters that name the vehicle, the logged strings and the boot clock span.
    @Test("ULog: topics, samples, vehicle and clock as pyulog reports them")
    func ulogContents() throws {
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: AutopilotFixtures.path("pyulog_sample_log_small.summary.json")))) as! [String: Any]
        let reader = try openRecording(path: AutopilotFixtures.path("pyulog_sample_log_small.ulg")) as! ULogReader
        _ = AutopilotFixtures.datagrams(reader)
        let log = reader.contents
        #expect(log.messageCounts == summary["samples_by_topic"] as! [String: Int])
        #expect(log.messageCounts.values.reduce(0, +) == summary["samples_total"] as! Int)
        #expect(log.systemIDSource == "MAV_SYS_ID")
        #expect(log.vehicle.hasPrefix("PX4 v1.11") && log.vehicle.hasSuffix("CUBEPILOT_CUBEORANGE"))
        #expect(log.textMessages == (summary["logged_messages"] as! [Any]).count)
        #expect(log.bootLastMicroseconds == UInt64(summary["last_us"] as! Int))
        #expect(log.bootFirstMicroseconds == UInt64(summary["start_us"] as! Int))
        #expect(log.hasUTC && log.recordsLate == 0)
    }

    /// The DataFlash walk finds exactly the records the byte-level walk and DFReader found, by type,
    /// in the older format (no FMTU) and the newer one (FMTU, UNIT, MULT).
    @Test("DataFlash: record counts by type equal DFReader's", arguments: ["dataflashlog_log", "ardusub_log_tools_small_dataflash"])
    func dataflashCounts(name: String) throws {
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: AutopilotFixtures.path("\(name).summary.json")))) as! [String: Any]
        let decoded = summary["decoded"] as! [String: Any]
        let reader = try openRecording(path: AutopilotFixtures.path("\(name).bin")) as! DataFlashReader
        let (_, report) = AutopilotFixtures.datagrams(reader)
        #expect(report.isIntact)
        #expect(reader.contents.messageCounts == decoded["by_type"] as! [String: Int])
        #expect(reader.contents.systemIDSource == "SYSID_THISMAV")
        let time = summary["time"] as! [String: Any]
        #expect(reader.contents.bootFirstMicroseconds <= UInt64(time["first_us"] as! Int))
        #expect(reader.contents.bootLastMicroseconds == UInt64(time["last_us"] as! Int))
    }

    /// ArduSub writes records out of time order (TimeUS steps back 239 times in file order) and
    /// has no GPS: every BAT record still replays, as one SYS_STATUS frame each, in time order.
    @Test("DataFlash records that step back in time come out in time order")
    func ardusubTimeOrder() throws {
        let reader = try openRecording(path: AutopilotFixtures.path("ardusub_log_tools_small_dataflash.bin"))
        let (datagrams, report) = AutopilotFixtures.datagrams(reader)
        #expect(datagrams.count == 237, "one SYS_STATUS per BAT record")
        #expect(zip(datagrams, datagrams.dropFirst()).allSatisfy { $0.time <= $1.time })
        #expect(datagrams.allSatisfy { MAVLinkFraming.header($0.bytes.withUnsafeBytes { $0 })?.messageID == 1 })
        #expect(report.problems.contains { $0.contains("no GPS time") })
        let log = try #require((reader as? DataFlashReader)?.contents)
        #expect(!log.hasUTC && log.recordsLate == 0 && log.vehicle.hasPrefix("ArduSub V4.1.0"))
        // Times are the boot clock: the first BAT at 265,738,383 µs.
        #expect(datagrams.first?.time == 265_738_383_000)
    }

    /// The system id the frames carry can be overridden (`--system-id`).
    @Test("The MAVLink system id is overridable", arguments: ["pyulog_sample_log_small.ulg", "dataflashlog_log.bin"])
    func systemIDOverride(name: String) throws {
        let reader = try openRecording(path: AutopilotFixtures.path(name), systemID: 42)
        let (datagrams, _) = AutopilotFixtures.datagrams(reader)
        let decoded = AutopilotFixtures.decode(datagrams)
        #expect(decoded.systems == [42])
        #expect(Set(decoded.rows.map(\.system)) == [42])
        #expect((reader as? any LogContentsReading)?.contents.systemIDSource == "override")
    }

    /// The time filter hands out exactly the datagrams in `from..<until`, and a consumer that
    /// stops gets no more.
    @Test("From, until and stopping early", arguments: ["pyulog_sample_log_small.ulg", "dataflashlog_log.bin", "thayer_parsers_longerRun.pcap"])
    func timeFilter(name: String) throws {
        let reader = try openRecording(path: AutopilotFixtures.path(name))
        let (all, _) = AutopilotFixtures.datagrams(reader)
        let from = all[all.count / 3].time
        let until = all[2 * all.count / 3].time
        var window: [UInt64] = []
        let report = reader.read(fromNanoseconds: from, untilNanoseconds: until) { window.append($0.receivedNanoseconds); return true }
        #expect(window == all.map(\.time).filter { $0 >= from && $0 < until })
        #expect(report.datagramsRead == window.count)
        var taken = 0
        _ = reader.read { _ in taken += 1; return taken < 5 }
        #expect(taken == 5)
    }

    /// A file cut at a record boundary keeps every whole record and reports nothing lost; cut
    /// inside a record, it reports exactly the partial record's bytes as cut off. Every
    /// `stride`th boundary (all of them for the small files) and a cut 1 byte and half-way into
    /// the next record.
    @Test("Cut at record boundaries and mid-record: whole records kept, the rest counted", arguments: AutopilotFixtures.logs)
    func cuts(name: String) throws {
        let bytes = try AutopilotFixtures.bytes(name)
        let boundaries = name.hasSuffix(".ulg") ? RecordBoundaries.ulog(bytes) : RecordBoundaries.dataflash(bytes)
        #expect(boundaries.last == bytes.count, "the walk reaches the end")
        let directory = TemporaryDirectory()
        let path = directory.file("cut")
        let stride = max(1, boundaries.count / 60)
        var previousPositions = 0
        for index in Swift.stride(from: 1, to: boundaries.count - 1, by: stride) {
            let boundary = boundaries[index]
            let next = boundaries[index + 1]
            for cut in Set([boundary, boundary + 1, (boundary + next) / 2]) where cut < next || cut == boundary {
                try AutopilotFixtures.write(Array(bytes[0..<cut]), to: path)
                let reader = try openRecording(path: path)
                let (_, report) = AutopilotFixtures.datagrams(reader)
                #expect(report.trailingBytes == cut - boundary, "\(name) cut at \(cut)")
                #expect(report.bytesSkipped == 0 && report.recordsDamaged == 0, "\(name) cut at \(cut): \(report.summary)")
                if cut == boundary {
                    let positions = (reader as! any LogContentsReading).contents.positions
                    #expect(positions >= previousPositions, "a longer prefix never has fewer positions")
                    previousPositions = positions
                }
            }
        }
    }

    /// Garbage between two records is skipped and counted byte for byte, and every record after
    /// it is still read: the positions are those of the whole file.
    @Test("Garbage between records: skipped, counted, nothing else lost", arguments: AutopilotFixtures.logs)
    func garbage(name: String) throws {
        let bytes = try AutopilotFixtures.bytes(name)
        let boundaries = name.hasSuffix(".ulg") ? RecordBoundaries.ulog(bytes) : RecordBoundaries.dataflash(bytes)
        let whole = AutopilotFixtures.datagrams(try openRecording(path: AutopilotFixtures.path(name))).0
        var generator = SeededGenerator(seed: 22)
        let directory = TemporaryDirectory()
        for _ in 0..<5 {
            // After the definitions (a third of the way in), where data records follow data records.
            let at = boundaries[Int.random(in: boundaries.count / 3..<(boundaries.count - 1), using: &generator)]
            // Not the first byte of a record, so the garbage cannot start like one.
            let garbage = [0x00] + (0..<36).map { _ in UInt8.random(in: 0...255, using: &generator) }
            try AutopilotFixtures.write(Array(bytes[0..<at]) + garbage + Array(bytes[at...]), to: directory.file("garbage"))
            let (datagrams, report) = AutopilotFixtures.datagrams(try openRecording(path: directory.file("garbage")))
            #expect(report.bytesSkipped == garbage.count && report.resyncs == 1, "\(name) at \(at): \(report.summary)")
            #expect(report.skipped["garbage"] == 1)
            let same = datagrams == whole
            #expect(same, "\(name): garbage at \(at) changed what is replayed (\(datagrams.count) datagrams, \(whole.count) without it)")
        }
    }

    /// A format definition that cannot be right (an unknown field type) is counted as a bad
    /// definition; its records are skipped as damage; the GPS records still give every position.
    @Test("A bad format definition is counted and its records skipped", arguments: AutopilotFixtures.logs.filter { $0 != "ardusub_log_tools_small_dataflash.bin" })
    func badFormat(name: String) throws {
        var bytes = try AutopilotFixtures.bytes(name)
        let expected = try #require(AutopilotFixtures.pinned[name]).count
        if name.hasSuffix(".ulg") {
            // `F` message of `sensor_combined`: the colon after the name goes, so no field list.
            let marker = Array("sensor_combined:uint64_t".utf8)
            let at = try #require(Self.find(marker, in: bytes))
            bytes[at + "sensor_combined".count] = UInt8(ascii: "#")
        } else {
            // FMT of IMU: its first format character becomes `X`, which no type has.
            let marker = Array("IMU\0".utf8)
            var found: Int?
            var search = 0
            while let at = Self.find(marker, in: bytes, from: search) {
                if at >= 5, bytes[at - 5] == 0xA3, bytes[at - 3] == 0x80 { found = at; break }
                search = at + 1
            }
            let at = try #require(found)
            bytes[at + 4] = UInt8(ascii: "X")
        }
        let directory = TemporaryDirectory()
        try AutopilotFixtures.write(bytes, to: directory.file("bad"))
        let reader = try openRecording(path: directory.file("bad"))
        let (datagrams, report) = AutopilotFixtures.datagrams(reader)
        #expect(report.skipped["bad format definition"] == 1, "\(report.skipped)")
        #expect(!report.isIntact)
        #expect(AutopilotFixtures.decode(datagrams).rows.count == expected)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int = 0) -> Int? {
        guard haystack.count >= needle.count, from <= haystack.count - needle.count else { return nil }
        for start in from...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<(start + needle.count)]) == needle { return start }
        }
        return nil
    }

    /// Random byte flips anywhere (headers, formats, data) never crash a reader, and what it
    /// reports adds up: every byte is read, skipped or cut off.
    @Test("Byte flips: no crash", arguments: AutopilotFixtures.all)
    func byteFlips(name: String) throws {
        let bytes = try AutopilotFixtures.bytes(name)
        var generator = SeededGenerator(seed: 0xF11D)
        let directory = TemporaryDirectory()
        let path = directory.file("flipped")
        for round in 0..<24 {
            var flipped = bytes
            for _ in 0...Int.random(in: 0...7, using: &generator) {
                // Half the flips in the first 2 KiB, where the headers and definitions are.
                let limit = round % 2 == 0 ? min(2_048, bytes.count) : bytes.count
                flipped[Int.random(in: 0..<limit, using: &generator)] ^= UInt8.random(in: 1...255, using: &generator)
            }
            try AutopilotFixtures.write(flipped, to: path)
            guard let reader = try? openRecording(path: path) else { continue }
            let (datagrams, report) = AutopilotFixtures.datagrams(reader)
            #expect(report.datagramsFound == datagrams.count)
            #expect(report.bytesSkipped + report.trailingBytes <= flipped.count)
        }
    }
}

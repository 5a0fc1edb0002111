/// Reads a PX4 ULog file (`.ulg`) and replays it as MAVLink 2 frames (docs/recording-format.md,
/// "ULog"). The format is PX4's "ULog File Format" (docs.px4.io): a 16-byte header (magic
/// `ULog` 01 12 35, version, boot time of the log start), then messages of a 3-byte header —
/// size (u16, the body's bytes), type (one ASCII letter) — and a body: `B` flag bits, `F`
/// formats, `I`/`M` info (multi-part), `P`/`Q` parameters, `A` subscriptions (multi id, message
/// id, topic), `R` unsubscriptions, `D` data (message id then the topic's fields, starting with
/// its `timestamp`, µs of boot), `L`/`C` logged strings, `S` sync markers and `O` dropouts.
///
/// The file is mapped (`MappedFile`) and walked once per read, front to back; what the walk keeps
/// is bounded (formats, subscriptions, counts per topic), so a file of any size replays in
/// constant memory. A first pass stops as soon as it knows the drone's system id and the first
/// UTC offset, so samples before the first GPS time are placed on the UTC scale too.
public final class ULogReader: LogContentsReading {
    public var path: String { file.path }
    public var kind: RecordingFormatKind { .ulog }
    public private(set) var contents = LogContents()
    let file: MappedFile
    let systemIDOverride: UInt8?
    /// What the first pass learnt, kept so later reads (replay reads the start, then the whole)
    /// make one pass each.
    var survey: ULogSurvey?

    static let magic: [UInt8] = [0x55, 0x4C, 0x6F, 0x67, 0x01, 0x12, 0x35]
    static let headerLength = 16
    static let messageHeaderLength = 3

    public convenience init(path: String, systemID: UInt8? = nil) throws(RecordingError) {
        self.init(file: try MappedFile(path: path), systemID: systemID)
    }

    init(file: MappedFile, systemID: UInt8?) {
        self.file = file
        self.systemIDOverride = systemID
    }

    static func looksLikeULog(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= magic.count && bytes.prefix(magic.count).elementsEqual(magic)
    }

    public func read(fromNanoseconds: UInt64?, untilNanoseconds: UInt64?, _ body: (RecordedDatagram) -> Bool) -> ReadReport {
        let survey = self.survey ?? Self.survey(file.bytes, pages: file.pageRelease)
        self.survey = survey
        return Self.replay(
            file.bytes, survey: survey, systemIDOverride: systemIDOverride, fromNanoseconds: fromNanoseconds,
            untilNanoseconds: untilNanoseconds, pages: file.pageRelease, contents: { self.contents = $0 }, body: body)
    }

    /// First pass: the system id, the vehicle type, the first UTC offset and whether fused
    /// positions are logged. It stops as soon as it knows them.
    static func survey(_ bytes: UnsafeRawBufferPointer, pages: PageRelease = .none) -> ULogSurvey {
        var survey = ULogParser()
        survey.pages = pages
        var scratchReport = ReadReport()
        var systemID: UInt8?
        var vehicleType: UInt8 = 2
        var firstOffset: Int64?
        var hasGlobalPosition = false
        var isGlobalPositionSubscribed = false
        survey.parse(bytes, report: &scratchReport) { event in
            switch event {
            case .parameter(let name, let value):
                if name == "MAV_SYS_ID", value >= 1, value <= 255 { systemID = UInt8(value) }
                if name == "MAV_TYPE", value >= 0, value <= 255 { vehicleType = UInt8(value) }
            case .fix(let fix):
                if firstOffset == nil, let utc = fix.utcMicroseconds {
                    firstOffset = Int64(truncatingIfNeeded: utc) &- Int64(truncatingIfNeeded: fix.bootMicroseconds)
                }
            case .position:
                hasGlobalPosition = true
            case .globalPositionSubscribed:
                isGlobalPositionSubscribed = true
            default:
                break
            }
            // Subscriptions come before data, so once a GPS time is known the only thing left to
            // learn is whether fused positions follow.
            return firstOffset == nil || (isGlobalPositionSubscribed && !hasGlobalPosition)
        }
        return ULogSurvey(systemID: systemID, vehicleType: vehicleType, firstOffsetMicroseconds: firstOffset, hasGlobalPosition: hasGlobalPosition)
    }

    /// The whole replay of `bytes` (the fuzz target calls it without a file).
    static func replay(
        _ bytes: UnsafeRawBufferPointer, survey: ULogSurvey? = nil, systemIDOverride: UInt8?, fromNanoseconds: UInt64?,
        untilNanoseconds: UInt64?, pages: PageRelease = .none, contents store: (LogContents) -> Void, body: (RecordedDatagram) -> Bool
    ) -> ReadReport {
        let survey = survey ?? Self.survey(bytes, pages: pages)
        let systemID = survey.systemID
        let firstOffset = survey.firstOffsetMicroseconds
        let hasGlobalPosition = survey.hasGlobalPosition
        let vehicleType = survey.vehicleType
        var contents = LogContents()
        contents.systemID = systemIDOverride ?? systemID ?? 1
        contents.systemIDSource = systemIDOverride != nil ? "override" : systemID != nil ? "MAV_SYS_ID" : "default"
        let synthesizer = LogDatagramSynthesizer(
            systemID: contents.systemID, autopilot: 12, vehicleType: vehicleType, positionsFromFixes: !hasGlobalPosition,
            firstOffsetMicroseconds: firstOffset, contents: contents)

        var parser = ULogParser()
        parser.pages = pages
        return synthesizer.replay(
            fromNanoseconds: fromNanoseconds, untilNanoseconds: untilNanoseconds, body: body,
            parse: { report, emit in
                parser.parse(bytes, report: &report) { event in
                    switch event {
                    case .fix(let fix): return synthesizer.add(fix: fix, emit: emit)
                    case .position(let position): return synthesizer.add(position: position, emit: emit)
                    case .battery(let battery): return synthesizer.add(battery: battery, emit: emit)
                    default: return true
                    }
                }
            },
            fill: { parser.fill(&$0) }, store: store)
    }
}

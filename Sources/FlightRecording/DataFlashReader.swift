/// Reads an ArduPilot DataFlash binary log (`.bin`) and replays it as MAVLink 2 frames
/// (docs/recording-format.md, "DataFlash"). The format is ArduPilot's "Onboard logs" and
/// `LogStructure.h` documentation: records of `A3 95`, a type byte, then the fields the type's
/// FMT record defines. FMT (type 128, 89 bytes) gives a type's length (with the 3-byte header),
/// name, one format character per field and the comma-separated column names; the first FMT
/// defines FMT itself. Newer logs add FMTU (per type: unit ids, one per field, `#` marking the
/// instance field, and multiplier ids), UNIT and MULT; older logs have none, so the instance of
/// GPS and BAT is then the column named `I` or `Instance` when there is one.
///
/// The file is mapped and walked front to back; what the walk keeps is 256 formats and counts.
public final class DataFlashReader: LogContentsReading {
    public var path: String { file.path }
    public var kind: RecordingFormatKind { .dataflash }
    public private(set) var contents = LogContents()
    let file: MappedFile
    let systemIDOverride: UInt8?
    /// What the first pass learnt, kept so later reads make one pass each.
    var survey: DataFlashSurvey?

    static let head0: UInt8 = 0xA3
    static let head1: UInt8 = 0x95
    static let formatType: UInt8 = 0x80
    static let formatLength = 89

    public convenience init(path: String, systemID: UInt8? = nil) throws(RecordingError) {
        self.init(file: try MappedFile(path: path), systemID: systemID)
    }

    init(file: MappedFile, systemID: UInt8?) {
        self.file = file
        self.systemIDOverride = systemID
    }

    /// Whether `bytes` starts with the FMT record that defines FMT.
    static func looksLikeDataFlash(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= formatLength && bytes[0] == head0 && bytes[1] == head1 && bytes[2] == formatType && bytes[3] == formatType
            && Int(bytes[4]) == formatLength && bytes[5] == UInt8(ascii: "F") && bytes[6] == UInt8(ascii: "M") && bytes[7] == UInt8(ascii: "T")
    }

    public func read(fromNanoseconds: UInt64?, untilNanoseconds: UInt64?, _ body: (RecordedDatagram) -> Bool) -> ReadReport {
        let survey = self.survey ?? Self.survey(file.bytes, pages: file.pageRelease)
        self.survey = survey
        return Self.replay(
            file.bytes, survey: survey, systemIDOverride: systemIDOverride, fromNanoseconds: fromNanoseconds,
            untilNanoseconds: untilNanoseconds, pages: file.pageRelease, contents: { self.contents = $0 }, body: body)
    }

    /// First pass: the system id, the vehicle type and the first UTC offset; it stops as soon as
    /// it knows the id and the offset.
    static func survey(_ bytes: UnsafeRawBufferPointer, pages: PageRelease = .none) -> DataFlashSurvey {
        var survey = DataFlashParser()
        survey.pages = pages
        var scratchReport = ReadReport()
        var systemID: UInt8?
        var vehicleType: UInt8?
        var firstOffset: Int64?
        survey.parse(bytes, report: &scratchReport) { event in
            switch event {
            case .parameter(let name, let value):
                if name == "SYSID_THISMAV", value >= 1, value <= 255 { systemID = UInt8(value) }
                if name == "FRAME_CLASS", vehicleType == nil { vehicleType = 2 }
            case .text(let text):
                if let type = DataFlashParser.vehicleType(firmware: text) { vehicleType = type }
            case .fix(let fix):
                if firstOffset == nil, let utc = fix.utcMicroseconds {
                    firstOffset = Int64(truncatingIfNeeded: utc) &- Int64(truncatingIfNeeded: fix.bootMicroseconds)
                }
            case .battery:
                break
            }
            return firstOffset == nil || systemID == nil
        }
        return DataFlashSurvey(systemID: systemID, vehicleType: vehicleType, firstOffsetMicroseconds: firstOffset)
    }

    static func replay(
        _ bytes: UnsafeRawBufferPointer, survey: DataFlashSurvey? = nil, systemIDOverride: UInt8?, fromNanoseconds: UInt64?,
        untilNanoseconds: UInt64?, pages: PageRelease = .none, contents store: (LogContents) -> Void, body: (RecordedDatagram) -> Bool
    ) -> ReadReport {
        let survey = survey ?? Self.survey(bytes, pages: pages)
        let systemID = survey.systemID
        let vehicleType = survey.vehicleType
        let firstOffset = survey.firstOffsetMicroseconds
        var contents = LogContents()
        contents.systemID = systemIDOverride ?? systemID ?? 1
        contents.systemIDSource = systemIDOverride != nil ? "override" : systemID != nil ? "SYSID_THISMAV" : "default"
        let synthesizer = LogDatagramSynthesizer(
            systemID: contents.systemID, autopilot: 3, vehicleType: vehicleType ?? 2, positionsFromFixes: true,
            firstOffsetMicroseconds: firstOffset, contents: contents)

        var parser = DataFlashParser()
        parser.pages = pages
        return synthesizer.replay(
            fromNanoseconds: fromNanoseconds, untilNanoseconds: untilNanoseconds, body: body,
            parse: { report, emit in
                parser.parse(bytes, report: &report) { event in
                    switch event {
                    case .fix(let fix): return synthesizer.add(fix: fix, emit: emit)
                    case .battery(let battery): return synthesizer.add(battery: battery, emit: emit)
                    default: return true
                    }
                }
            },
            fill: { parser.fill(&$0) }, store: store)
    }
}

/// Why a unit (a frame, or a datagram from which no frame could be framed) was rejected. Wire
/// reasons mirror the decoders' errors; the rest come from validation in the pipeline.
///
/// Raw values are stable indices into the counter table; add new reasons at the end.
public enum RejectionReason: Int, Sendable, CaseIterable, Hashable {
    // Skygate wire format (docs/protocol.md, "Decoding rules").
    case truncated = 0
    case badMagic
    case unknownVersion
    case badLength
    case badCRC
    case unknownType
    case unknownFlags
    case badSampleCount
    case reservedNotZero
    case unknownKey
    case badTag
    case replayed
    case unauthenticated
    // Validation of decoded samples.
    /// Latitude beyond ±90° or longitude beyond ±180°.
    case positionOutOfRange
    /// A sample time further in the future than the limit allows, or before 2000-01-01.
    case timestampOutOfRange
    /// A datagram longer than a ring slot holds.
    case oversized
    /// A new drone when the fleet table is full (`Limits.dronesMax`).
    case tooManyDrones
    /// MAVLink datagrams before the gateway decoded MAVLink (issue 5); no longer counted, kept so
    /// that the raw values after it stay stable.
    case mavlinkUnsupported
    // MAVLink (docs/protocol.md, "MAVLink"); framing, CRC and flag failures use the reasons above.
    /// A MAVLink message id the gateway does not map: without its CRC_EXTRA it is skipped unchecked.
    case mavlinkUnknownMessage
    /// An intact MAVLink frame from a component other than the autopilot (1): a gimbal, camera,
    /// companion computer or ground station. Positions and state come from the autopilot only.
    case mavlinkNotAutopilot
    /// A signed MAVLink 2 frame whose signature does not match its system's key.
    case mavlinkBadSignature
    /// A signed MAVLink 2 frame whose timestamp did not rise on its (system, component, link).
    case mavlinkReplayed
    /// An unsigned MAVLink frame from a system with a key while signing is required.
    case mavlinkUnsigned
    /// A signed MAVLink 2 frame opening a stream when the table of signed streams is full.
    case mavlinkSigningStreamsFull
    /// A sample older than `Limits.sampleAgeMax` against the gateway's clock, on live ingest only
    /// (replay and imports keep their history).
    case timestampTooOld
    /// A frame on a day beyond the days one PostgreSQL batch may create partitions for
    /// (`Limits.Postgres.partitionsPerBatchMax`): the store kept the batch's most populated days
    /// and isolated this frame rather than refuse the whole batch (a replay of a recording spread
    /// over months).
    case batchDaysExceeded

    /// The label used in counters, JSON and metrics.
    public var name: String {
        switch self {
        case .truncated: "truncated"
        case .badMagic: "bad_magic"
        case .unknownVersion: "unknown_version"
        case .badLength: "bad_length"
        case .badCRC: "bad_crc"
        case .unknownType: "unknown_type"
        case .unknownFlags: "unknown_flags"
        case .badSampleCount: "bad_sample_count"
        case .reservedNotZero: "reserved_not_zero"
        case .unknownKey: "unknown_key"
        case .badTag: "bad_tag"
        case .replayed: "replayed"
        case .unauthenticated: "unauthenticated"
        case .positionOutOfRange: "position_out_of_range"
        case .timestampOutOfRange: "timestamp_out_of_range"
        case .oversized: "oversized"
        case .tooManyDrones: "too_many_drones"
        case .mavlinkUnsupported: "mavlink_unsupported"
        case .mavlinkUnknownMessage: "mavlink_unknown_message"
        case .mavlinkNotAutopilot: "mavlink_not_autopilot"
        case .mavlinkBadSignature: "mavlink_bad_signature"
        case .mavlinkReplayed: "mavlink_replayed"
        case .mavlinkUnsigned: "mavlink_unsigned"
        case .mavlinkSigningStreamsFull: "mavlink_signing_streams_full"
        case .timestampTooOld: "timestamp_too_old"
        case .batchDaysExceeded: "batch_days_exceeded"
        }
    }
}

import MAVLinkWire
import Pipeline
import Telemetry
import TelemetryWire
import Testing

/// One reason vocabulary: every decoder error maps to exactly the counter named here. The
/// tables are written out, not derived, so a change to the mapping (or a new error without a
/// reason) fails this test rather than silently renaming a metric label.
@Suite struct RejectionReasonTests {
    static let wireReasons: [(WireError, String)] = [
        (.truncated, "truncated"), (.badMagic, "bad_magic"), (.unknownVersion, "unknown_version"), (.badLength, "bad_length"),
        (.badCRC, "bad_crc"), (.unknownType, "unknown_type"), (.unknownFlags, "unknown_flags"),
        (.badSampleCount, "bad_sample_count"), (.reservedNotZero, "reserved_not_zero"), (.unknownKey, "unknown_key"),
        (.badTag, "bad_tag"), (.replayed, "replayed"), (.unauthenticated, "unauthenticated"),
    ]

    static let mavlinkReasons: [(MAVLinkError, String)] = [
        (.truncated, "truncated"), (.badMagic, "bad_magic"), (.unknownFlags, "unknown_flags"),
        (.unknownMessage, "mavlink_unknown_message"), (.badCRC, "bad_crc"), (.badSignature, "mavlink_bad_signature"),
        (.replayed, "mavlink_replayed"), (.unsigned, "mavlink_unsigned"), (.tooManyStreams, "mavlink_signing_streams_full"),
    ]

    @Test(arguments: wireReasons)
    func wireError(error: WireError, reason: String) {
        #expect(RejectionReason(error).name == reason)
        // A Skygate error's own diagnostic name is the counter's name.
        #expect("\(error.name)" == reason)
    }

    @Test(arguments: mavlinkReasons)
    func mavlinkError(error: MAVLinkError, reason: String) {
        #expect(RejectionReason(error).name == reason)
    }

    @Test func tablesCoverEveryError() {
        #expect(Self.wireReasons.map(\.0) == WireError.allCases)
        #expect(Self.mavlinkReasons.map(\.0) == MAVLinkError.allCases)
    }

    /// Counter names are unique and the raw values (indices into the counter table) are stable:
    /// new reasons go at the end.
    @Test func namesAreUniqueAndIndicesStable() {
        let names = RejectionReason.allCases.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(RejectionReason.allCases.map(\.rawValue) == Array(0..<RejectionReason.allCases.count))
        #expect(RejectionReason.truncated.rawValue == 0 && RejectionReason.mavlinkSigningStreamsFull.rawValue == 23)
        #expect(RejectionReason.timestampTooOld.rawValue == 24 && RejectionReason.timestampTooOld.name == "timestamp_too_old")
        #expect(RejectionReason.batchDaysExceeded.rawValue == 25 && RejectionReason.batchDaysExceeded.name == "batch_days_exceeded")
        #expect(Set(DropReason.allCases.map(\.name)) == ["ring_full", "store_failed", "spill_full", "spill_failed", "store_unavailable"])
    }
}

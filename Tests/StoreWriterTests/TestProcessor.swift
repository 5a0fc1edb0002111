import MAVLinkWire
import Pipeline
import TelemetryWire

/// The processor these tests feed: no tags or signatures checked (the writer is under test).
typealias TestProcessor = BatchProcessor<NoAuthentication, MAVLinkNoSigning>

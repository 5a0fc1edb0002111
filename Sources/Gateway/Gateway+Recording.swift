import FlightRecording
import Logging
import Pipeline

extension Gateway {
    /// The flight recorder for `configuration.recordDirectory`, wired to the processor's tap, or
    /// nil when recording is off. A directory that cannot be used stops the gateway from starting
    /// (the operator asked for a recording); a disk that fills later stops only the recording.
    static func makeRecorder(configuration: GatewayConfiguration, processor: BatchProcessor, logger: Logger)
        throws(GatewayError) -> FlightRecorder?
    {
        guard let directory = configuration.recordDirectory else { return nil }
        let recorder: FlightRecorder
        do {
            recorder = try FlightRecorder(
                directory: directory, ringCapacity: configuration.recordingRingCapacity,
                datagramBytesMax: configuration.limits.datagramBytesMax, options: configuration.recordingOptions, logger: logger)
        } catch {
            throw GatewayError("--record \(directory): \(error)")
        }
        processor.slotTap = { slots, count in recorder.copy(slots, count: count) }
        return recorder
    }
}

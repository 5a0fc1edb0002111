// swift-tools-version:6.1
// Skygate: a drone telemetry gateway and drone-firmware simulator.
// The targets follow the data path (see docs/architecture.md); dependencies point down it only.
import PackageDescription

let package = Package(
    name: "Skygate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "skygate", targets: ["skygate"]),
        .library(name: "TelemetryWire", targets: ["TelemetryWire"]),
        .library(name: "Telemetry", targets: ["Telemetry"]),
        .library(name: "WireAuthentication", targets: ["WireAuthentication"]),
        .library(name: "DroneSimulator", targets: ["DroneSimulator"]),
        .library(name: "PacketRing", targets: ["PacketRing"]),
        .library(name: "TelemetryStore", targets: ["TelemetryStore"]),
        .library(name: "Pipeline", targets: ["Pipeline"]),
        .library(name: "FlightRecording", targets: ["FlightRecording"]),
        .library(name: "MAVLinkWire", targets: ["MAVLinkWire"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0", traits: []),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // The Skygate wire format. Standard library only, Embedded-Swift clean: firmware compiles these files.
        .target(name: "TelemetryWire"),
        // MAVLink v1/v2 framing, CRC_EXTRA, the mapped messages, the signing seam. Standard library
        // (and TelemetryWire's columns) only: signatures are hashed through a protocol.
        .target(name: "MAVLinkWire", dependencies: ["TelemetryWire"]),
        // MAVLink 2 signature checks with swift-crypto's SHA-256, and signing key files.
        .target(
            name: "MAVLinkSigning",
            dependencies: ["MAVLinkWire", "WireAuthentication", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The shared vocabulary of the stages: drone identity, protocols, outcomes and counters.
        .target(name: "Telemetry"),
        // HMAC-SHA256 frame tags and per-drone replay windows for the gateway and the simulator.
        .target(
            name: "WireAuthentication",
            dependencies: ["TelemetryWire", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Bounded lock-free SPSC ring of fixed datagram slots (receive thread to batch processor).
        // Standard library and Synchronization only.
        .target(name: "PacketRing"),
        // sendmmsg/recvmmsg wrappers: glibc declares them only under _GNU_SOURCE, which Swift's Glibc lacks.
        .target(name: "CSocketShims"),
        // Thread names (pthread_setname_np needs _GNU_SOURCE).
        .target(name: "CThreadShims"),
        // Firmware-like drones: flight model, battery, GPS noise, link faults, paced UDP sending.
        .target(
            name: "DroneSimulator",
            dependencies: ["TelemetryWire", "WireAuthentication", "CSocketShims", "MAVLinkWire", "UDPIngest"]
        ),
        // The system SQLite (libsqlite3-dev), for TelemetryStore.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // SQLite schema and migrations, the batched writer, queries and retention.
        .target(name: "TelemetryStore", dependencies: ["Telemetry", "TelemetryWire", "CSQLite"]),
        // Batch processors: decode, validate, de-duplicate, derive, live fleet state.
        .target(
            name: "Pipeline",
            dependencies: ["Telemetry", "TelemetryWire", "WireAuthentication", "PacketRing", "MAVLinkWire", "MAVLinkSigning"]
        ),
        // Sockets and the receive thread: the only code that makes socket calls.
        .target(name: "UDPIngest", dependencies: ["PacketRing", "Telemetry", "CSocketShims"]),
        // The HTTP side: status page, JSON API, /metrics, HTTP ingest and health endpoints.
        .target(
            name: "StatusServer",
            dependencies: [
                "Pipeline", "Telemetry", "TelemetryWire", "TelemetryStore", "TelemetryExport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // SHA-256 of the pages' inline script and style, for the Content-Security-Policy.
                .product(name: "Crypto", package: "swift-crypto"),
                "CThreadShims",
            ]
        ),
        // The system zlib (zlib1g-dev), for the compressed chunks of flight recordings.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Flight recordings (docs/recording-format.md) and players: Skygate recordings, MAVLink .tlog.
        .target(name: "FlightRecording", dependencies: ["TelemetryWire", "CZlib"]),
        // Stored tracks as CSV, GeoJSON, GPX and KML (export command, track API).
        .target(name: "TelemetryExport", dependencies: ["Telemetry", "TelemetryStore", "TelemetryWire"]),
        // Wires the stages, owns the limits, the threads, lifecycle and shutdown.
        .target(
            name: "Gateway",
            dependencies: [
                "Pipeline", "UDPIngest", "TelemetryStore", "PacketRing", "Telemetry", "WireAuthentication",
                "MAVLinkSigning",
                "StatusServer", "FlightRecording", "CThreadShims",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .executableTarget(
            name: "skygate",
            dependencies: [
                "TelemetryWire",
                "WireAuthentication",
                "DroneSimulator",
                "Gateway",
                "TelemetryExport",
                "TelemetryStore",
                "Telemetry",
                "FlightRecording",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "TelemetryWireTests", dependencies: ["TelemetryWire", "WireAuthentication"]),
        .testTarget(name: "WireAuthenticationTests", dependencies: ["WireAuthentication", "TelemetryWire"]),
        .testTarget(
            name: "DroneSimulatorTests",
            dependencies: ["DroneSimulator", "TelemetryWire", "WireAuthentication", "CSocketShims", "MAVLinkWire"]
        ),
        .testTarget(name: "PacketRingTests", dependencies: ["PacketRing"]),
        .testTarget(name: "MAVLinkWireTests", dependencies: ["MAVLinkWire", "MAVLinkSigning", "TelemetryWire"]),
        .testTarget(
            name: "PipelineTests",
            dependencies: ["Pipeline", "PacketRing", "Telemetry", "TelemetryWire", "MAVLinkWire", "MAVLinkSigning"]
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: ["Gateway", "DroneSimulator", "TelemetryStore", "Telemetry", "TelemetryWire", "FlightRecording", "StatusServer", "skygate"]
        ),
        .testTarget(name: "FlightRecordingTests", dependencies: ["FlightRecording", "TelemetryWire"]),
        .testTarget(
            name: "StatusServerTests",
            dependencies: [
                "StatusServer", "Pipeline", "Telemetry", "TelemetryWire", "TelemetryStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(name: "TelemetryStoreTests", dependencies: ["TelemetryStore", "Telemetry", "TelemetryWire", "CSQLite"]),
    ],
    swiftLanguageModes: [.v6]
)

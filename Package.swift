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
        .library(name: "MAVLinkSigning", targets: ["MAVLinkSigning"]),
        .library(name: "UDPTransport", targets: ["UDPTransport"]),
        .library(name: "Playback", targets: ["Playback"]),
        .library(name: "PostgresStore", targets: ["PostgresStore"]),
        .library(name: "Alerts", targets: ["Alerts"]),
        .library(name: "StoreWriter", targets: ["StoreWriter"]),
        .library(name: "IngestFraming", targets: ["IngestFraming"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0", traits: []),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // Already in the graph through hummingbird: the HTTP parts the connection guard watches
        // (NIOHTTPTypes).
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.34.1"),
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
            dependencies: ["MAVLinkWire", "WireAuthentication", "Telemetry", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The shared vocabulary of the stages: drone identity, protocols, outcomes and counters, every
        // limit, the clocks, civil time, and the one thread helper (thread names need CThreadShims).
        .target(name: "Telemetry", dependencies: ["CThreadShims"]),
        // HMAC-SHA256 frame tags and per-drone replay windows for the gateway and the simulator.
        .target(
            name: "WireAuthentication",
            dependencies: ["TelemetryWire", "Telemetry", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Bounded lock-free SPSC ring of fixed datagram slots (receive thread to batch processor).
        // Standard library and Synchronization only.
        .target(name: "PacketRing"),
        // sendmmsg/recvmmsg wrappers: glibc declares them only under _GNU_SOURCE, which Swift's Glibc lacks.
        .target(name: "CSocketShims"),
        // Thread names (pthread_setname_np needs _GNU_SOURCE).
        .target(name: "CThreadShims"),
        // Firmware-like drones: flight model, battery, GPS noise, link faults, paced generation into
        // datagram batches. No sockets: UDPTransport sends what it generates.
        .target(
            name: "DroneSimulator",
            dependencies: ["Telemetry", "TelemetryWire", "WireAuthentication", "MAVLinkWire"]
        ),
        // The system SQLite (libsqlite3-dev), for TelemetryStore.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // SQLite schema and migrations, the batched writer, queries and retention.
        .target(name: "TelemetryStore", dependencies: ["Telemetry", "TelemetryWire", "CSQLite", "CZlib", "CZstd"]),
        // Batch processors: decode, validate, de-duplicate, derive, live fleet state. Generic over the
        // wire targets' authentication seams, so no cryptography here.
        .target(name: "Pipeline", dependencies: ["Telemetry", "TelemetryWire", "PacketRing", "MAVLinkWire"]),
        // Every socket call: addresses, the receive thread (recvmmsg into the ring), the sender
        // (sendmmsg), kernel drop counters, the demo's port probe.
        .target(name: "UDPTransport", dependencies: ["PacketRing", "Telemetry", "CSocketShims"]),
        // POST /api/telemetry bodies (octet-stream frames of either protocol, JSON samples) framed into
        // ring-slot datagrams, beside the wire codecs: the HTTP side hands bodies over and frames nothing.
        .target(name: "IngestFraming", dependencies: ["Telemetry", "TelemetryWire", "MAVLinkWire"]),
        // The HTTP side: status page, JSON API, /metrics, HTTP ingest and health endpoints.
        .target(
            name: "StatusServer",
            dependencies: [
                "Telemetry", "TelemetryStore", "TelemetryExport",
                .product(name: "Hummingbird", package: "hummingbird"),
                // The server builder with the connection guard (idle timeout, connection cap) in
                // each connection's pipeline.
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // SHA-256 of the pages' inline script and style, for the Content-Security-Policy.
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            // The pages' HTML, CSS and script (Web/), embedded at build time by EmbedWebFiles.
            exclude: ["Web"],
            plugins: ["EmbedWebFiles"]
        ),
        // Writes the Swift source that embeds a target's front-end files (the EmbedWebFiles
        // plugin's tool; Foundation only).
        .executableTarget(name: "WebEmbed"),
        .plugin(name: "EmbedWebFiles", capability: .buildTool(), dependencies: ["WebEmbed"]),
        // The system zlib (zlib1g-dev), for the compressed chunks of flight recordings.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // The system Zstandard (libzstd-dev), for the store's compressed sample blocks (format
        // version 3; zlib stays for reading version 2 blocks and for recordings).
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // Flight recordings (docs/recording-format.md) and players: Skygate recordings, MAVLink .tlog,
        // PX4 ULog and ArduPilot DataFlash logs (replayed as MAVLink 2 frames made with MAVLinkWire's
        // encoder), pcap and pcapng captures. The flight recorder (the processor's tap and its drain
        // thread) is recording, so it lives here.
        .target(name: "FlightRecording", dependencies: ["Telemetry", "TelemetryWire", "MAVLinkWire", "PacketRing", "CZlib"]),
        // The shared store past one machine: PostgreSQL through postgres-nio (COPY per batch, daily
        // partitions, the fleet's latest state), and the one place a `--db` value is opened.
        .target(
            name: "PostgresStore",
            dependencies: [
                "Telemetry", "TelemetryWire", "TelemetryStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Geofence zones (GeoJSON file, compiled for a grid prefilter), rules and the event
        // engine that evaluates them per batch, and the hub that numbers events and fans them out
        // (store queue, webhook sinks, SSE streams).
        .target(name: "Alerts", dependencies: ["Telemetry", "TelemetryWire", "Pipeline"]),
        // Stored tracks as CSV, GeoJSON, GPX and KML (export command, track API).
        .target(name: "TelemetryExport", dependencies: ["Telemetry", "TelemetryStore", "TelemetryWire"]),
        // The store writer: commit batches handed over whole by the process loop, the writer thread
        // (one transaction per batch), the spill file, outages and reconnects, event storage.
        .target(name: "StoreWriter", dependencies: ["Pipeline", "TelemetryStore", "Telemetry", "TelemetryWire"]),
        // Replay into a socket or through the process loop into a store, record sessions, simulated
        // fleets flown over UDP.
        .target(
            name: "Playback",
            dependencies: [
                "Pipeline", "StoreWriter", "Alerts", "TelemetryStore", "FlightRecording", "UDPTransport", "DroneSimulator",
                "PacketRing", "Telemetry", "TelemetryWire", "MAVLinkWire", "WireAuthentication", "MAVLinkSigning",
            ]
        ),
        // Webhook delivery of alert events (docs/events.md): a bounded queue per endpoint that the
        // processor's thread fills without blocking, signed POSTs through async-http-client,
        // retries with backoff, dead letters counted.
        .target(
            name: "Webhooks",
            dependencies: [
                "Telemetry",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                // TimeAmount, the client's unit of time-outs.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Wires the stages for `serve`: the threads, the authentication, lifecycle and shutdown.
        .target(
            name: "Gateway",
            dependencies: [
                "Pipeline", "StoreWriter", "UDPTransport", "TelemetryStore", "PacketRing", "Telemetry", "TelemetryWire", "WireAuthentication",
                "MAVLinkSigning", "StatusServer", "IngestFraming", "FlightRecording", "PostgresStore", "Alerts", "Webhooks",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .executableTarget(
            name: "skygate",
            dependencies: [
                "TelemetryWire",
                "WireAuthentication",
                "MAVLinkSigning",
                "DroneSimulator",
                "Gateway",
                "Playback",
                "StoreWriter",
                "UDPTransport",
                "TelemetryExport",
                "TelemetryStore",
                "PostgresStore",
                "Telemetry",
                "FlightRecording",
                "Alerts",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Tests mirror the targets one to one (Tests/<Target>Tests); SkygateTestSupport holds the
        // fixtures the end-to-end suites share (a gateway on ephemeral ports, a flown fleet).
        .testTarget(name: "TelemetryWireTests", dependencies: ["TelemetryWire", "WireAuthentication"]),
        .testTarget(name: "MAVLinkWireTests", dependencies: ["MAVLinkWire", "MAVLinkSigning", "TelemetryWire"]),
        .testTarget(name: "MAVLinkSigningTests", dependencies: ["MAVLinkSigning", "MAVLinkWire"]),
        .testTarget(name: "TelemetryTests", dependencies: ["Telemetry"]),
        .testTarget(name: "WireAuthenticationTests", dependencies: ["WireAuthentication", "TelemetryWire"]),
        .testTarget(name: "PacketRingTests", dependencies: ["PacketRing"]),
        .testTarget(name: "UDPTransportTests", dependencies: ["UDPTransport", "PacketRing", "Telemetry", "CSocketShims"]),
        .testTarget(
            name: "DroneSimulatorTests",
            dependencies: ["DroneSimulator", "Telemetry", "TelemetryWire", "WireAuthentication", "CSocketShims", "MAVLinkWire", "UDPTransport"]
        ),
        .testTarget(
            name: "PipelineTests",
            dependencies: ["Pipeline", "PacketRing", "Telemetry", "TelemetryWire", "MAVLinkWire", "MAVLinkSigning", "WireAuthentication"]
        ),
        .testTarget(name: "TelemetryStoreTests", dependencies: ["TelemetryStore", "Telemetry", "TelemetryWire", "CSQLite"]),
        .testTarget(
            name: "PostgresStoreTests",
            dependencies: [
                "PostgresStore", "TelemetryStore", "Telemetry", "TelemetryWire",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(name: "AlertsTests", dependencies: ["Alerts", "Pipeline", "Telemetry", "TelemetryWire"]),
        .testTarget(
            name: "StoreWriterTests",
            dependencies: ["StoreWriter", "SkygateTestSupport", "Pipeline", "PacketRing", "TelemetryStore", "Telemetry", "TelemetryWire", "MAVLinkWire"]
        ),
        .testTarget(name: "IngestFramingTests", dependencies: ["IngestFraming", "Telemetry", "TelemetryWire", "MAVLinkWire"]),
        .testTarget(name: "TelemetryExportTests", dependencies: ["TelemetryExport", "TelemetryStore", "Telemetry", "TelemetryWire"]),
        .testTarget(name: "FlightRecordingTests", dependencies: ["FlightRecording", "TelemetryWire", "Telemetry", "PacketRing", "MAVLinkWire"]),
        .testTarget(
            name: "StatusServerTests",
            dependencies: [
                "StatusServer", "IngestFraming", "Pipeline", "Telemetry", "TelemetryWire", "MAVLinkWire", "TelemetryStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "SkygateTestSupport",
            dependencies: [
                "Gateway", "Playback", "DroneSimulator", "UDPTransport", "TelemetryStore", "Telemetry",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/SkygateTestSupport"
        ),
        .testTarget(
            name: "PlaybackTests",
            dependencies: [
                "Playback", "SkygateTestSupport", "Gateway", "FlightRecording", "DroneSimulator", "Pipeline", "PacketRing",
                "TelemetryStore", "Telemetry", "TelemetryWire", "UDPTransport", "skygate",
            ]
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "SkygateTestSupport", "Playback", "DroneSimulator", "TelemetryStore", "Telemetry", "TelemetryWire",
                "FlightRecording", "StatusServer", "IngestFraming", "MAVLinkWire", "StoreWriter", "Alerts", "Pipeline",
                "MAVLinkSigning", "WireAuthentication",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "skygateTests",
            dependencies: [
                "skygate", "SkygateTestSupport", "DroneSimulator", "Telemetry", "TelemetryStore",
                // ReplayDaysSpreadTests writes its recording with the real writer.
                "FlightRecording", "TelemetryWire",
            ]
        ),
        .testTarget(
            name: "WebhooksTests",
            dependencies: [
                "Webhooks", "Telemetry", "SkygateTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "WebEmbedTests", dependencies: ["WebEmbed"]),
        // Reads Package.swift and the sources' imports, and fails on an arrow docs/architecture.md
        // does not allow.
        .testTarget(name: "ArchitectureTests"),
    ],
    swiftLanguageModes: [.v6]
)

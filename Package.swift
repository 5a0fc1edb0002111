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
        .library(name: "WireAuthentication", targets: ["WireAuthentication"]),
        .library(name: "PacketRing", targets: ["PacketRing"]),
        .library(name: "DroneSimulator", targets: ["DroneSimulator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // The Skygate wire format. Standard library only, Embedded-Swift clean: firmware compiles these files.
        .target(name: "TelemetryWire"),
        // HMAC-SHA256 frame tags and per-drone replay windows for the gateway and the simulator.
        .target(
            name: "WireAuthentication",
            dependencies: ["TelemetryWire", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // sendmmsg/recvmmsg wrappers: glibc declares them only under _GNU_SOURCE, which Swift's Glibc lacks.
        .target(name: "CSocketShims"),
        // Firmware-like drones: flight model, battery, GPS noise, link faults, paced UDP sending.
        .target(
            name: "DroneSimulator",
            dependencies: ["TelemetryWire", "WireAuthentication", "CSocketShims"]
        ),
        // Bounded lock-free SPSC ring of fixed datagram slots (receive thread to batch processor).
        // Standard library and Synchronization only.
        .target(name: "PacketRing"),
        .executableTarget(
            name: "skygate",
            dependencies: [
                "TelemetryWire",
                "WireAuthentication",
                "DroneSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "TelemetryWireTests", dependencies: ["TelemetryWire", "WireAuthentication"]),
        .testTarget(name: "WireAuthenticationTests", dependencies: ["WireAuthentication", "TelemetryWire"]),
        .testTarget(name: "PacketRingTests", dependencies: ["PacketRing"]),
        .testTarget(
            name: "DroneSimulatorTests",
            dependencies: ["DroneSimulator", "TelemetryWire", "WireAuthentication", "CSocketShims"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// swift-tools-version:6.1
// Microbenchmarks for Skygate (ordo-one/benchmark), kept in their own package so the benchmark
// framework and its malloc interposer never become dependencies of the product.
// Run from this folder:  swift package benchmark            (all)
//                        swift package benchmark --target WireDecoding
import PackageDescription

let package = Package(
    name: "SkygateBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Skygate", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "WireDecoding",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TelemetryWire", package: "Skygate"),
            ],
            path: "Benchmarks/WireDecoding",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "SimulatorGeneration",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "DroneSimulator", package: "Skygate"),
                .product(name: "Telemetry", package: "Skygate"),
            ],
            path: "Benchmarks/SimulatorGeneration",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "PacketRingBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "PacketRing", package: "Skygate"),
            ],
            path: "PacketRingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "StoreWriting",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TelemetryStore", package: "Skygate"),
                .product(name: "TelemetryWire", package: "Skygate"),
                .product(name: "Telemetry", package: "Skygate"),
            ],
            path: "Benchmarks/StoreWriting",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "ZoneEvaluation",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Alerts", package: "Skygate"),
                .product(name: "Pipeline", package: "Skygate"),
                .product(name: "Telemetry", package: "Skygate"),
                .product(name: "TelemetryWire", package: "Skygate"),
            ],
            path: "Benchmarks/ZoneEvaluation",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Derivation",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Pipeline", package: "Skygate"),
            ],
            path: "Benchmarks/Derivation",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "BatchProcessing",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Pipeline", package: "Skygate"),
                .product(name: "Telemetry", package: "Skygate"),
                .product(name: "TelemetryWire", package: "Skygate"),
                .product(name: "WireAuthentication", package: "Skygate"),
                .product(name: "MAVLinkSigning", package: "Skygate"),
                .product(name: "MAVLinkWire", package: "Skygate"),
            ],
            path: "Benchmarks/BatchProcessing",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "MAVLinkParsing",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "MAVLinkWire", package: "Skygate"),
                .product(name: "TelemetryWire", package: "Skygate"),
            ],
            path: "Benchmarks/MAVLinkParsing",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)

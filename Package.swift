// swift-tools-version:6.0
import PackageDescription

/// Strict settings for every Swift target: Swift 6 language mode plus explicit `any`.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "mailgate",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mailgate", targets: ["mailgate"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // C libraries and Linux calls, each behind a prefixed target.
        .target(name: "CMailgateLinux"),
        .systemLibrary(name: "CMailgateCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CMailgateOpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CMailgateSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CMailgatePQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),

        // One module per concern.
        .target(name: "JSON", swiftSettings: strict, linkerSettings: [.linkedLibrary("m")]),
        .target(name: "HTTPServer", dependencies: ["CMailgateLinux", "JSON"], swiftSettings: strict),
        .target(name: "DNSClient", dependencies: ["CMailgateLinux"], swiftSettings: strict),
        .target(name: "SMTPClient", dependencies: ["CMailgateLinux", "CMailgateOpenSSL"], swiftSettings: strict),
        .target(name: "MailComposer", swiftSettings: strict),
        .target(
            name: "MailQueue",
            dependencies: [
                "CMailgateSQLite", "CMailgatePQ", "JSON",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Delivery",
            dependencies: [
                "MailQueue", "SMTPClient", "DNSClient", "MailComposer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Webhooks",
            dependencies: [
                "MailQueue", "JSON", "CMailgateCurl", "CMailgateOpenSSL",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "MailgateCore",
            dependencies: [
                "HTTPServer", "JSON", "MailComposer", "MailQueue", "Delivery", "Webhooks", "CMailgateOpenSSL", "CMailgateCurl",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.embedInCode("Resources/openapi.yaml")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "mailgate",
            dependencies: [
                "MailgateCore", "MailQueue", "JSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),

        // A benchmark server on the HTTP module alone (Benchmarks/http.sh drives it).
        .executableTarget(
            name: "http-bench",
            dependencies: ["HTTPServer"],
            path: "Benchmarks/HTTPBench",
            swiftSettings: strict
        ),
        // The webhook service against a local receiver (Benchmarks/webhooks.sh drives it).
        .executableTarget(
            name: "webhook-bench",
            dependencies: [
                "Webhooks", "MailQueue",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            path: "Benchmarks/WebhookBench",
            swiftSettings: strict
        ),

        // The SQLite queue store alone: accepts and outcomes per second (Benchmarks/run-queue.sh).
        .executableTarget(name: "queue-bench", dependencies: ["MailQueue"], path: "Benchmarks/QueueBench", swiftSettings: strict),

        // Shared fakes and fixtures for the test targets.
        .target(
            name: "MailgateTesting",
            path: "Tests/MailgateTesting",
            exclude: ["dns_server.py", "smtp_peer.py", "webhook_receiver.py"],
            swiftSettings: strict
        ),
        .testTarget(name: "JSONTests", dependencies: ["JSON"], swiftSettings: strict),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "MailgateTesting"], swiftSettings: strict),
        .testTarget(name: "DNSClientTests", dependencies: ["DNSClient", "MailgateTesting"], swiftSettings: strict),
        .testTarget(name: "SMTPClientTests", dependencies: ["SMTPClient", "MailgateTesting"], swiftSettings: strict),
        .testTarget(name: "MailComposerTests", dependencies: ["MailComposer", "MailgateTesting"], swiftSettings: strict),
        .testTarget(name: "MailQueueTests", dependencies: ["MailQueue", "MailgateTesting"], swiftSettings: strict),
        .testTarget(name: "DeliveryTests", dependencies: ["Delivery", "MailgateTesting"], swiftSettings: strict),
        .testTarget(
            name: "WebhooksTests",
            dependencies: [
                "Webhooks", "MailQueue", "MailgateTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "MailgateCoreTests", dependencies: ["MailgateCore", "MailgateTesting"], swiftSettings: strict),
    ]
)

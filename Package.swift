// swift-tools-version: 6.2
//
// ClickOS in Swift: Click configurations as tiny VMs, stitched into service chains.
// Layout and dependency direction: ../shared/DESIGN.md §1. Targets arrive with the issues
// that need them.

import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

/// The packet path: exclusivity is enforced statically; the dynamic checks on class
/// properties cost about a third of the IP router's time (measured with perf) and the
/// elements never overlap accesses (a router is single-threaded and elements touch only
/// their own state).
let hotPath: [SwiftSetting] = strict + [.unsafeFlags(["-enforce-exclusivity=unchecked"])]

let package = Package(
    name: "ClickOS",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ClickLanguage", targets: ["ClickLanguage"]),
        .library(name: "ClickRuntime", targets: ["ClickRuntime"]),
        .library(name: "ClickElements", targets: ["ClickElements"]),
        .library(name: "VMInterface", targets: ["VMInterface"]),
        .executable(name: "clickos-agent", targets: ["clickos-agent"]),
        .executable(name: "clickos-vm", targets: ["clickos-vm"]),
        .executable(name: "clickos", targets: ["clickos"]),
    ],
    // The Xen world is opt-in (`swift build --traits Xen`): the default build needs nothing
    // of Xen's libraries.
    traits: [
        .trait(name: "Xen", description: "The xen VM backend (libxl) and ClickOS's xenstore control protocol, host and guest (libxenstore)."),
        .default(enabledTraits: []),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        // Pinned: the generated code in Sources/Messaging/Generated needs a runtime at least
        // as new as the generator, and scripts/gen-proto.sh builds the generator from this.
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        // The agent's logs, configuration file, metrics and their HTTP endpoint. FlyingFox
        // is the smallest HTTP server here (BSD sockets, no SwiftNIO): CI builds it on
        // every run.
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/swhitty/FlyingFox", exact: "0.27.1"),
        // The planner's state: SQLite through GRDB (migrations, transactions, WAL).
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
    ],
    targets: [
        // Click configuration text -> flat element graph. Pure: no I/O beyond `require(library)`
        // reads done through a caller-supplied file loader.
        .target(name: "ClickLanguage", swiftSettings: strict),

        // Packets, batches, pools, the Element base, router construction, scheduling,
        // handlers. Knows nothing of memif, ZeroMQ or VMs.
        .target(name: "ClickRuntime", dependencies: ["ClickLanguage", "CShims"], swiftSettings: hotPath),

        // C declarations Swift's Glibc module lacks (AF_PACKET rings, sendmmsg).
        .target(name: "CShims", path: "Sources/CShims"),

        // A VM's system call allow-list (seccomp-bpf through Debian's libseccomp, linked
        // statically into clickos-vm) and the SIGSYS report of a forbidden call.
        .target(name: "CSeccomp", path: "Sources/CSeccomp", linkerSettings: [.linkedLibrary("seccomp")]),

        // What a VM and its host agree on, without the router engine: a VM port's memif
        // configuration and its `N=memif:...` command-line form, the shared-memory stats
        // page and its per-port counters. The host side (VMHost, Agent, the CLI) needs only
        // this.
        .target(name: "VMInterface", dependencies: ["CShims", .target(name: "CXenstore", condition: .when(traits: ["Xen"]))],
                swiftSettings: strict),

        // libxenstore and libxenlight (Debian's libxen-dev), for the Xen trait only.
        .systemLibrary(name: "CXenstore", path: "Sources/CXenstore", providers: [.apt(["libxen-dev"])]),
        .systemLibrary(name: "CXenLight", path: "Sources/CXenLight", providers: [.apt(["libxen-dev"])]),

        // Packet I/O outside the router: the VM port a router's FromDevice(N)/ToDevice(N)
        // use, implemented with memif shared-memory links (both roles), and how its
        // receivers and senders pace themselves.
        .target(name: "PacketIO", dependencies: ["ClickRuntime", "CShims", "VMInterface"], swiftSettings: hotPath),

        // The standard elements, one element (or a family sharing a base class) per file,
        // in folders by area; Support/ holds what several elements share.
        .target(name: "ClickElements", dependencies: ["ClickLanguage", "ClickRuntime", "CShims", "PacketIO"], swiftSettings: hotPath),

        // VM backends behind one protocol: `process` (default) and `xen` (trait Xen). Boot,
        // stop, control, counters, supervision, adoption; ClickOS's xenstore control.
        .target(name: "VMHost", dependencies: ["VMInterface", "CShims", "CSeccomp",
                                               .target(name: "CXenstore", condition: .when(traits: ["Xen"])),
                                               .target(name: "CXenLight", condition: .when(traits: ["Xen"]))],
                swiftSettings: strict),

        // libzmq as a system library (no pkgConfig: Debian's .pc adds a prohibited -isystem).
        .systemLibrary(name: "CZeroMQ", path: "Sources/CZeroMQ", providers: [.apt(["libzmq3-dev"])]),

        // The wire contract: protobuf messages generated from proto/clickos.proto, the
        // envelope's encoding and validation, and the thin ZeroMQ binding.
        .target(
            name: "Messaging",
            dependencies: ["CZeroMQ", "CShims", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["Generated/README.md"],
            swiftSettings: strict),

        // The per-host agent: registration and liveness, desired-state reconciliation, VM
        // supervision and adoption, the host switch and its VXLAN tunnels, telemetry,
        // capacity, metrics.
        .target(
            name: "Agent",
            dependencies: [
                "VMHost", "Messaging", "VMInterface", "CShims",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "FlyingFox", package: "FlyingFox"),
            ],
            swiftSettings: strict),

        // The planner: chain files and their checks, placement, the store, desired states
        // and the daemon.
        .target(
            name: "Planner",
            dependencies: ["ClickLanguage", "ClickRuntime", "ClickElements", "Messaging", "CShims", .product(name: "Yams", package: "Yams"),
                           .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),

        // The agent daemon.
        .executableTarget(
            name: "clickos-agent",
            dependencies: ["Agent", "Messaging", "VMHost", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),

        // One VM; also a `click`-compatible standalone driver.
        .executableTarget(
            name: "clickos-vm",
            dependencies: ["ClickLanguage", "ClickRuntime", "ClickElements", "CShims", "CSeccomp", "PacketIO", "VMInterface",
                           .target(name: "CXenstore", condition: .when(traits: ["Xen"]))],
            swiftSettings: strict,
            // A static executable: a VM starts in 1.7 ms instead of 6.6 (no dynamic loader,
            // no relocation of libswiftCore and friends), and its code pages are shared
            // file pages rather than private relocated ones. lld, because gold warns about
            // the runtime's (unused here) dlopen in a static link.
            linkerSettings: [.unsafeFlags(["-static-executable", "-use-ld=lld"])]),

        // The operator CLI: chains and hosts through the planner, the planner daemon, offline
        // checks and plans, local VMs (`clickos vm ...`) and the demo.
        .executableTarget(
            name: "clickos",
            dependencies: ["VMHost", "VMInterface", "Messaging", "Planner", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log"), .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: strict),

        // libFuzzer harness for the parser and the elements' configurations, built and run
        // (`make fuzz-parser`); without -DFUZZING it replays
        // the files named on its command line, so a crash found once stays a regression test.
        .executableTarget(
            name: "fuzz-click-parser",
            dependencies: ["ClickLanguage", "ClickRuntime", "ClickElements"],
            path: "Tests/Fuzz/ClickParserFuzzer",
            swiftSettings: strict),

        // libFuzzer harness feeding arbitrary frames through packet-parsing elements.
        .executableTarget(
            name: "fuzz-click-elements",
            dependencies: ["ClickLanguage", "ClickRuntime", "ClickElements"],
            path: "Tests/Fuzz/ElementFuzzer",
            swiftSettings: strict),

        // libFuzzer harness for envelope decoding and validation.
        .executableTarget(
            name: "fuzz-envelope",
            dependencies: ["Messaging", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "Tests/Fuzz/EnvelopeFuzzer",
            swiftSettings: strict),

        // libFuzzer harness playing a hostile memif client against a server port.
        .executableTarget(
            name: "fuzz-memif",
            dependencies: ["PacketIO", "VMInterface", "ClickRuntime", "CShims"],
            path: "Tests/Fuzz/MemifFuzzer",
            swiftSettings: strict),

        // The jail tests' attacker: started by the process backend exactly as a VM is, it
        // tries what a subverted VM would. Static, like clickos-vm (its jail holds nothing
        // else).
        .target(name: "CJailProbe", path: "Tests/JailProbe/C"),
        .executableTarget(
            name: "jail-probe",
            dependencies: ["CJailProbe", "CSeccomp"],
            path: "Tests/JailProbe/Probe",
            swiftSettings: strict,
            linkerSettings: [.unsafeFlags(["-static-executable", "-use-ld=lld"])]),

        // The performance suite (release builds only; see Benchmarks/README.md).
        .executableTarget(
            name: "clickos-bench",
            dependencies: ["ClickLanguage", "ClickRuntime", "ClickElements", "PacketIO", "VMInterface", "VMHost", "CShims", "Messaging", "Planner",
                           "XenstoreTestDaemon"],
            path: "Benchmarks/ClickBenchmarks",
            swiftSettings: strict),

        .testTarget(
            name: "VMInterfaceTests",
            dependencies: ["VMInterface"],
            swiftSettings: strict),
        .testTarget(
            name: "PacketIOTests",
            dependencies: ["PacketIO", "VMInterface", "ClickRuntime", "CShims"],
            swiftSettings: strict),
        .testTarget(
            name: "MessagingTests",
            dependencies: ["Messaging", "CZeroMQ", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: strict),
        .testTarget(
            name: "VMHostTests",
            dependencies: ["VMHost", "VMInterface", "PacketIO", "ClickRuntime", "CShims"],
            swiftSettings: strict),
        // ClickOS's xenstore protocol against a xenstore daemon written in the tests, through
        // the real libxenstore (trait Xen; without it the suite says why it has nothing).
        .testTarget(
            name: "XenTests",
            dependencies: ["VMHost", "VMInterface", "XenstoreTestDaemon", .target(name: "CXenstore", condition: .when(traits: ["Xen"]))],
            swiftSettings: strict),
        // A xenstore daemon speaking xenstored's wire protocol on Unix sockets, for the Xen
        // tests and the xenstore benchmark (no hypervisor on these machines).
        .target(name: "XenstoreTestDaemon", path: "Tests/XenstoreTestDaemon", swiftSettings: strict),
        .testTarget(
            name: "AgentTests",
            dependencies: ["Agent", "Messaging", "VMHost", "VMInterface", "XenstoreTestDaemon", .product(name: "Logging", package: "swift-log"),
                           .target(name: "CXenstore", condition: .when(traits: ["Xen"]))],
            swiftSettings: strict),
        .testTarget(
            name: "PlannerTests",
            dependencies: ["Planner", "Messaging"],
            swiftSettings: strict),
        // The service end to end in the lab (deploy/lab/lab): namespaces, real agents, a
        // real planner, real TCP and UDP. Root only.
        .testTarget(
            name: "MultiHostTests",
            swiftSettings: strict),
        .testTarget(
            name: "ClickLanguageTests",
            dependencies: ["ClickLanguage"],
            swiftSettings: strict),
        // The embedded router harness shared by the runtime and element tests.
        .target(
            name: "ClickTestSupport",
            dependencies: ["ClickLanguage", "ClickRuntime", "ClickElements"],
            path: "Tests/ClickTestSupport",
            swiftSettings: strict),
        .testTarget(
            name: "ClickRuntimeTests",
            dependencies: ["ClickLanguage", "ClickRuntime", "ClickElements", "ClickTestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "ClickElementsTests",
            dependencies: ["ClickLanguage", "ClickRuntime", "ClickElements", "ClickTestSupport"],
            swiftSettings: strict),
    ]
)

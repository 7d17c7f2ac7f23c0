import ClickElements
import ClickLanguage
import ClickRuntime

/// One fuzz input: the bytes as configuration text, parsed, expanded, flattened and
/// re-flattened; every argument parsed with the value parsers; then, if it flattened
/// cleanly, built into a router of real elements (configure and initialize: extreme
/// numbers, deep nesting, bad arguments) and run for a few scheduler rounds in simulated
/// time (timers armed with those numbers fire). Any crash, trap, hang or leaked packet is
/// a bug. Kept out of `main.swift` (C callbacks there trip the main-actor check).
enum ParserHarness {
    /// The standard elements minus those that reach outside the process (files, devices,
    /// sockets): a fuzzer must not write files named by its input.
    static let outside: Set<String> = ["FromDump", "ToDump", "FromIPSummaryDump", "ToIPSummaryDump", "ControlSocket",
                                       "FromDevice", "ToDevice", "IPPrint", "ARPPrint"]
    nonisolated(unsafe) static let registry: ElementRegistry = {
        var sandboxed = StandardElements.registry
        for name in outside { sandboxed.remove(name) }
        return sandboxed
    }()

    /// Builds and runs `flat` with the sandboxed elements; every packet must be back in
    /// the pool afterwards.
    static func build(_ flat: FlatConfiguration, text: String) {
        guard flat.elements.allSatisfy({ registry.classNames.contains($0.className) }) else { return }
        let log = DiagnosticLog()
        guard let router = Router.build(flat, configurationText: text, registry: registry, simulatedTime: true, poolCapacity: 32,
                                        log: log, chatter: { _ in })
        else { return }
        router.chatter = { _ in }
        router.standardOutput = { _ in }
        router.scheduler.maximumRounds = 64
        router.run()
        var last = router
        if let next = router.replacement {
            router.cleanup()
            next.scheduler.maximumRounds = 16
            next.run()
            last = next
        }
        last.cleanup()
        if let extra = last.replacement { extra.cleanup() }
        let pool = last.pool
        guard pool.outstanding == 0 else { fatalError("\(pool.outstanding) packets leaked by:\n\(text)") }
    }

    static func run(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        let log = DiagnosticLog()
        let flat = ClickConfiguration.flatten(text, file: "fuzz", definitions: [("X", "1")], maximumElements: 20_000, maximumExpansionBytes: 1 << 20, log: log)
        _ = log.text
        if !log.hasErrors {
            let again = DiagnosticLog()
            _ = ClickConfiguration.flatten(flat.unparse(), file: "fuzz", maximumElements: 20_000, maximumExpansionBytes: 1 << 20, log: again)
            if flat.elements.count <= 200 { build(flat, text: text) }
        }
        for element in flat.elements.prefix(64) {
            var args = Arguments(configuration: element.configuration)
            _ = args.positional("A", .integer)
            _ = args.keyword("B", .ipv4Prefix)
            _ = args.keyword("C", .etherAddress)
            _ = args.keyword("D", .ipv6Address)
            _ = args.keyword("E", .bandwidth)
            _ = args.keyword("F", .timestamp)
            _ = args.keyword("H", .wholeSeconds)
            _ = args.keyword("I", .unsignedInteger)
            _ = args.keyword("J", .real)
            _ = args.keyword("K", .fixedPoint(fractionBits: 16))
            _ = args.keyword("L", .signedTimestamp)
            _ = args.allKeywords("G", .bytes)
            _ = args.finish()
            var names = AddressNames()
            names.define(configuration: element.configuration, elementName: element.name)
            _ = ConfigText.quote(ConfigText.unquote(element.configuration))
        }
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    ParserHarness.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32
) -> Int32

/// SwiftPM renames an executable's entry point to `<target>_main`; libFuzzer owns `main`.
@_cdecl("fuzz_click_parser_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector) { data, size in fuzzOneInput(data, size) }
}
#endif

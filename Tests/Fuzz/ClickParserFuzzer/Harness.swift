import ClickLanguage

/// One fuzz input: the bytes as configuration text, parsed, expanded, flattened and
/// re-flattened; then every argument parsed with the value parsers. Any crash, trap or
/// hang is a bug. Kept out of `main.swift` (C callbacks there trip the main-actor check).
enum ParserHarness {
    static func run(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        let log = DiagnosticLog()
        let flat = ClickConfiguration.flatten(text, file: "fuzz", definitions: [("X", "1")], maximumElements: 20_000, log: log)
        _ = log.text
        if !log.hasErrors {
            let again = DiagnosticLog()
            _ = ClickConfiguration.flatten(flat.unparse(), file: "fuzz", maximumElements: 20_000, log: again)
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

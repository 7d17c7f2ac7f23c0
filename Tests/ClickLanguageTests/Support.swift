@testable import ClickLanguage

/// Flattens `text` and returns the configuration and its log.
func flatten(_ text: String, file: String = "config", definitions: [(name: String, value: String)] = [],
             knownClasses: Set<String>? = nil, libraries: (any LibraryResolver)? = nil,
             maximumElements: Int = 100_000) -> (FlatConfiguration, DiagnosticLog) {
    let log = DiagnosticLog()
    let flat = ClickConfiguration.flatten(text, file: file, definitions: definitions, knownClasses: knownClasses, libraries: libraries,
                                          maximumElements: maximumElements, log: log)
    return (flat, log)
}

/// The flat text with continuation lines joined and lines sorted: the form Click's own
/// language tests compare (`perl -e 's/\n    / /g' | sort`).
func sortedFlat(_ text: String, definitions: [(name: String, value: String)] = []) -> [String] {
    let (flat, log) = flatten(text, definitions: definitions)
    precondition(!log.hasErrors, "unexpected errors: \(log.text)")
    return normalized(flat.unparse())
}

func normalized(_ unparsed: String) -> [String] {
    unparsed.replacingAll("\n    ", with: " ").split(separator: "\n").map(String.init).sorted()
}

/// Error messages (without landmarks) produced by `text`.
func errors(_ text: String, knownClasses: Set<String>? = nil) -> [String] {
    flatten(text, knownClasses: knownClasses).1.errorMessages
}

/// An in-memory `require(library ...)` resolver.
struct MemoryLibraries: LibraryResolver {
    var files: [String: String]
    func resolve(_ name: String, from requestingFile: String) -> (path: String, text: String)? {
        files[name].map { (name, $0) }
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

/// The element classes the tests treat as implemented by a runtime.
let standardClasses: Set<String> = ["InfiniteSource", "Counter", "Discard", "Idle", "Queue", "Paint", "Tee", "Print", "Message", "Strip", "Unqueue"]

/// The front door of the Click language module: configuration text in, flat element graph
/// out, every problem reported in Click's format.
///
/// ```swift
/// let log = DiagnosticLog()
/// let flat = ClickConfiguration.flatten("InfiniteSource -> Counter -> Discard", log: log)
/// print(flat.unparse())
/// ```
public enum ClickConfiguration {
    /// Parses and expands `text`.
    ///
    /// - Parameters:
    ///   - file: the name used in landmarks (`config` for `-e` text, as Click does).
    ///   - definitions: command-line `NAME=value` definitions; they override the file's
    ///     top-level `define`s and are visible everywhere.
    ///   - knownClasses: the primitive classes the runtime implements; with it, unknown
    ///     classes are reported ("unknown element class") and undeclared names are errors.
    ///     Without it, any class name is accepted, as `click-flatten` does.
    ///   - libraries: where `require(library FILE)` finds files; nil refuses libraries.
    ///   - maximumElements: refuse expansions larger than this (compounds can nest
    ///     exponentially).
    ///   - maximumExpansionBytes: refuse variable expansions that scan and write more than
    ///     this in all (nested `define`s can stand for gigabytes); nil is
    ///     `ConfigText.defaultExpansionBudget`.
    ///   - log: receives every diagnostic. The result is meaningful only without errors.
    public static func flatten(
        _ text: String,
        file: String = "config",
        definitions: [(name: String, value: String)] = [],
        knownClasses: Set<String>? = nil,
        libraries: (any LibraryResolver)? = nil,
        maximumElements: Int = 1_000_000,
        maximumExpansionBytes: Int? = nil,
        log: DiagnosticLog
    ) -> FlatConfiguration {
        let source = ClickArchive.configuration(in: text) ?? text
        let parser = Parser(text: source, file: file, knownClasses: knownClasses, libraries: libraries, log: log)
        parser.parseFile()
        for (name, value) in definitions {
            parser.top.scope.define(name, value, override: true)
        }
        var expander = Expander(top: parser.top, types: parser.types, file: file, maximumElements: maximumElements, maximumExpansionBytes: maximumExpansionBytes ?? ConfigText.defaultExpansionBudget, log: log)
        let (elements, connections) = expander.run(top: parser.top)
        let requirements = parser.requirements.map { FlatConfiguration.Requirement(type: $0.0, value: $0.1) }
        return FlatConfiguration(requirements: requirements, elements: elements, connections: connections)
    }

    /// Like `flatten(_:...)`, but throws every diagnostic when there was an error.
    public static func flattenOrThrow(
        _ text: String,
        file: String = "config",
        definitions: [(name: String, value: String)] = [],
        knownClasses: Set<String>? = nil,
        libraries: (any LibraryResolver)? = nil
    ) throws(ConfigurationError) -> FlatConfiguration {
        let log = DiagnosticLog()
        let flat = flatten(text, file: file, definitions: definitions, knownClasses: knownClasses, libraries: libraries, log: log)
        if log.hasErrors { throw ConfigurationError(log.diagnostics) }
        return flat
    }
}

/// Click configurations may come as an `ar` archive whose member `config` holds the text
/// (`doc/click.5`).
public enum ClickArchive {
    /// The `config` member of an `ar` archive, or nil if `text` is not an archive.
    public static func configuration(in text: String) -> String? {
        let bytes = Array(text.utf8)
        let magic = Array("!<arch>\n".utf8)
        guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else { return nil }
        var i = magic.count
        while i + 60 <= bytes.count {
            let header = bytes[i..<(i + 60)]
            let name = String(decoding: header.prefix(16), as: UTF8.self).trimmingSpaces()
            let sizeText = String(decoding: header.dropFirst(48).prefix(10), as: UTF8.self).trimmingSpaces()
            guard let size = Int(sizeText), size >= 0, i + 60 + size <= bytes.count else { return nil }
            let body = bytes[(i + 60)..<(i + 60 + size)]
            if name == "config" || name == "config/" {
                return String(decoding: body, as: UTF8.self)
            }
            i += 60 + size + (size & 1)
        }
        return nil
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}

/// A place in a configuration, printed the way Click prints it: `file:line`.
///
/// Click's landmarks carry no column; we keep one for tools, but `description` stays in
/// Click's format so that scripts matching Click's messages keep working.
public struct Landmark: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    /// 1-based line; 0 means the landmark names only a file (or a context such as `config`).
    public var line: Int
    /// 1-based column of the token that produced the landmark, 0 when unknown.
    public var column: Int

    public init(file: String, line: Int, column: Int = 0) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String {
        if line == 0 { return file }
        if let last = file.last, last == ":" || last == " " { return "\(file)\(line)" }
        return "\(file):\(line)"
    }

    /// `file:line:column`, for editors and tools that want the column too.
    public var detailedDescription: String {
        column > 0 && line > 0 ? "\(description):\(column)" : description
    }
}

/// One error, warning or informational message produced while reading a configuration.
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible {
    public enum Severity: Sendable, Hashable {
        case error, warning, message
    }

    public var severity: Severity
    public var landmark: Landmark?
    public var message: String

    public init(_ severity: Severity, _ message: String, at landmark: Landmark?) {
        self.severity = severity
        self.message = message
        self.landmark = landmark
    }

    /// Click's format: every line of the message prefixed by the landmark, warnings marked.
    public var description: String {
        let prefix = landmark.map { "\($0): " } ?? ""
        let marker = severity == .warning ? "warning: " : ""
        var lines: [String] = []
        for (index, line) in message.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            lines.append(prefix + (index == 0 ? marker : "") + line)
        }
        return lines.joined(separator: "\n")
    }
}

/// Collects diagnostics in order. Every error in a configuration is reported, not only the
/// first; callers check `hasErrors` to decide whether the result may be used.
///
/// Not thread-safe: one log belongs to one parse (or one router build).
public final class DiagnosticLog {
    public private(set) var diagnostics: [Diagnostic] = []
    /// Upper bound on stored diagnostics so that hostile input cannot grow memory without
    /// limit; the count keeps going and one final note says how many were dropped.
    public let capacity: Int
    public private(set) var errorCount = 0
    public private(set) var warningCount = 0
    private var dropped = 0

    public init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    public var hasErrors: Bool { errorCount > 0 }

    public func error(_ message: String, at landmark: Landmark?) {
        errorCount += 1
        append(Diagnostic(.error, message, at: landmark))
    }

    public func warning(_ message: String, at landmark: Landmark?) {
        warningCount += 1
        append(Diagnostic(.warning, message, at: landmark))
    }

    public func message(_ message: String, at landmark: Landmark?) {
        append(Diagnostic(.message, message, at: landmark))
    }

    public func append(_ diagnostic: Diagnostic) {
        if diagnostics.count < capacity {
            diagnostics.append(diagnostic)
        } else {
            dropped += 1
        }
    }

    /// All diagnostics, one per line, in Click's format.
    public var text: String {
        var lines = diagnostics.map(\.description)
        if dropped > 0 { lines.append("(\(dropped) more messages not shown)") }
        return lines.map { $0 + "\n" }.joined()
    }

    /// Only the errors' messages, without landmarks: handy in tests.
    public var errorMessages: [String] {
        diagnostics.filter { $0.severity == .error }.map(\.message)
    }

    public var warningMessages: [String] {
        diagnostics.filter { $0.severity == .warning }.map(\.message)
    }
}

/// Thrown when a configuration cannot be used; carries every diagnostic that was reported.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }

    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }

    public var errorMessages: [String] {
        diagnostics.filter { $0.severity == .error }.map(\.message)
    }
}

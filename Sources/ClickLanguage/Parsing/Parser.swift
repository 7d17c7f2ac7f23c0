/// Finds the text of `require(library FILE)` files. Given the name as written and the file
/// that asked, returns the resolved path (used to include each file once) and its text.
public protocol LibraryResolver {
    func resolve(_ name: String, from requestingFile: String) -> (path: String, text: String)?
}

/// Click's parser (`lib/lexer.cc`): reads statements into compound classes with lexical
/// scoping of element classes, exactly as Click resolves them, reporting every error it
/// finds with a landmark. Expansion into a flat graph is `Expander`'s job.
final class Parser {
    /// Deepest nesting of groups and compounds accepted (Click has a limit too).
    static let maximumDepth = 100

    var lexer: Lexer
    let log: DiagnosticLog
    /// Classes the runtime implements, or nil to accept any class name (as click-flatten does).
    let knownClasses: Set<String>?
    let libraries: (any LibraryResolver)?
    var includedLibraries: Set<String> = []

    /// Element classes visible at this point (saved and restored around each compound).
    var types: [String: ElementType] = [:]
    /// The compound being filled (the file's own compound at the top).
    var current: CompoundClass
    let top: CompoundClass
    var requirements: [(String, String)] = []

    /// The state of one parse level: the file, a compound body, or a group.
    final class Level {
        enum Kind { case file, compound, group }
        let kind: Kind
        let depth: Int
        var lastConnectionEndsOutput = true
        init(kind: Kind, depth: Int) {
            self.kind = kind
            self.depth = depth
        }
    }

    init(text: String, file: String, knownClasses: Set<String>?, libraries: (any LibraryResolver)?, log: DiagnosticLog) {
        self.lexer = Lexer(text: text, file: file, log: log)
        self.log = log
        self.knownClasses = knownClasses
        self.libraries = libraries
        self.top = CompoundClass(name: "", landmark: Landmark(file: file, line: 0), parentScope: nil)
        self.current = top
    }

    // MARK: Driving

    func parseFile() {
        parseStatements(Level(kind: .file, depth: 0))
    }

    /// Parses statements until the level's end. Returns the token that ended a compound body
    /// (`}`, `||` or end of input).
    @discardableResult
    func parseStatements(_ level: Level) -> Token {
        while true {
            let token = lexer.next()
            switch token.kind {
            case .identifier, .leftBracket, .leftBrace, .leftParen, .arrow, .doubleArrow:
                lexer.unread(token)
                parseConnection(level)
            case .elementclass:
                parseElementClass(level)
            case .require:
                parseRequire(level)
            case .define:
                parseDefine()
            case .semicolon:
                continue
            case .rightBrace, .doubleBar:
                if level.kind == .compound { return token }
                syntaxError(token)
                if level.kind == .group {
                    lexer.unread(token)
                    return token
                }
            case .rightParen:
                if level.kind == .group { return token }
                syntaxError(token)
            case .end:
                switch level.kind {
                case .group: lexer.error("expected ')'")
                case .compound: lexer.error("expected '}'")
                case .file: break
                }
                return token
            default:
                syntaxError(token)
            }
        }
    }

    func syntaxError(_ token: Token) {
        log.error("syntax error near '\(token.text)'", at: token.landmark)
    }

    // MARK: Element classes

    func lookupClass(_ name: String) -> ElementType? {
        if let type = types[name] { return type }
        if let knownClasses, knownClasses.contains(name) { return .primitive(name) }
        return nil
    }

    /// The class called `name`; an unknown one is reported (when the runtime's classes are
    /// known) and remembered so that it is reported once.
    func forceClass(_ name: String, report: Bool = true, at landmark: Landmark? = nil) -> ElementType {
        if let type = lookupClass(name) { return type }
        let type: ElementType
        if knownClasses != nil {
            if report { log.error("unknown element class '\(name)'", at: landmark ?? lexer.landmark) }
            type = .error(name)
        } else {
            type = .primitive(name)
        }
        types[name] = type
        return type
    }

    /// True for a name that can be read as a class where Click would otherwise report an
    /// undeclared element: only when the runtime's class list is unknown.
    func impliedPrimitive(_ name: String) -> Bool {
        knownClasses == nil && name != "input" && name != "output"
    }

    // MARK: Elements

    func addElement(_ name: String, _ type: ElementType, _ configuration: String, _ landmark: Landmark) -> Int {
        if let existing = current.elementMap[name] { return existing }
        let index = current.names.count
        current.elementMap[name] = index
        if Self.hasAllDigitComponent(name) {
            log.error("element name '\(name)' has all-digit component", at: landmark)
        }
        current.names.append(name)
        current.types.append(type)
        current.configurations.append(configuration)
        current.landmarks.append(landmark)
        current.inputsUsed.append(0)
        current.outputsUsed.append(0)
        return index
    }

    static func hasAllDigitComponent(_ name: String) -> Bool {
        for component in name.split(separator: "/", omittingEmptySubsequences: false) {
            if component.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) { return true }
        }
        return false
    }

    func anonymousName(_ className: String) -> String {
        ";\(className)@\(current.names.count - current.anonymousOffset + 1)"
    }

    /// Adds the three tunnel pseudo-elements of a compound or group called `name`: `name`
    /// itself and `name/input`, `name/output`.
    func addTunnels(_ name: String, at landmark: Landmark) -> (outer: Int, input: Int, output: Int) {
        var indexes: [Int] = []
        for n in [name, name + "/input", name + "/output"] {
            let index = addElement(n, .tunnel, "", landmark)
            if !current.types[index].isTunnel {
                log.error("redeclaration of element '\(n)'", at: landmark)
                log.error("'\(n)' previously declared here", at: current.landmarks[index])
            }
            indexes.append(index)
        }
        return (indexes[0], indexes[1], indexes[2])
    }
}

extension CompoundClass {
    /// Ports a group exposes on each side: the ports of its `input`/`output` pseudo-elements.
    func inputsUsedOfGroup(_ outer: Int) -> Int { outputsUsed[outer + 1] }
    func outputsUsedOfGroup(_ outer: Int) -> Int { inputsUsed[outer + 2] }
}

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

    private var lexer: Lexer
    let log: DiagnosticLog
    /// Classes the runtime implements, or nil to accept any class name (as click-flatten does).
    private let knownClasses: Set<String>?
    private let libraries: (any LibraryResolver)?
    private var includedLibraries: Set<String> = []

    /// Element classes visible at this point (saved and restored around each compound).
    private(set) var types: [String: ElementType] = [:]
    /// The compound being filled (the file's own compound at the top).
    private(set) var current: CompoundClass
    let top: CompoundClass
    private(set) var requirements: [(String, String)] = []

    /// The state of one parse level: the file, a compound body, or a group.
    private final class Level {
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
    private func parseStatements(_ level: Level) -> Token {
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

    private func syntaxError(_ token: Token) {
        log.error("syntax error near '\(token.text)'", at: token.landmark)
    }

    // MARK: Element classes

    private func lookupClass(_ name: String) -> ElementType? {
        if let type = types[name] { return type }
        if let knownClasses, knownClasses.contains(name) { return .primitive(name) }
        return nil
    }

    /// The class called `name`; an unknown one is reported (when the runtime's classes are
    /// known) and remembered so that it is reported once.
    private func forceClass(_ name: String, report: Bool = true, at landmark: Landmark? = nil) -> ElementType {
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
    private func impliedPrimitive(_ name: String) -> Bool {
        knownClasses == nil && name != "input" && name != "output"
    }

    // MARK: Elements

    private func addElement(_ name: String, _ type: ElementType, _ configuration: String, _ landmark: Landmark) -> Int {
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

    private func anonymousName(_ className: String) -> String {
        ";\(className)@\(current.names.count - current.anonymousOffset + 1)"
    }

    /// Adds the three tunnel pseudo-elements of a compound or group called `name`: `name`
    /// itself and `name/input`, `name/output`.
    private func addTunnels(_ name: String, at landmark: Landmark) -> (outer: Int, input: Int, output: Int) {
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

    // MARK: Connections

    /// An element reference in a comma-separated set, with its port lists. A port list
    /// ending in -1 is expandable (`[0,]` or `[]`).
    private struct PendingElement {
        var name: String
        var type: ElementType?
        var declaredType: ElementType?
        var bare: Bool
        var configuration = ""
        var landmark: Landmark
        var inputs: [Int]
        var outputs: [Int] = []
        var index = -1
    }

    private struct ElementSet {
        var elements: [PendingElement] = []
        var anyImplicit = false
        var anyPorts = false
    }

    private func parseConnection(_ level: Level) {
        let nested = current.depth > 0 || level.kind != .file
        var last: [PendingElement] = []
        var connector: TokenKind = .arrow
        chain: while true {
            var set = ElementSet()
            // One comma-separated element set.
            while true {
                let parsed = parseElement(&set, first: last.isEmpty, nested: nested, level: level)
                if !parsed && set.elements.isEmpty { break chain }
                let token = lexer.next()
                if token.kind == .comma { continue }
                lexer.unread(token)
                finishSet(&set, first: last.isEmpty, following: token)
                break
            }
            if last.isEmpty {
                checkUselessPorts(set.elements, outputs: false)
            } else {
                connectAll(last, set.elements, connector: connector)
            }
            last = set.elements

            while true {
                let token = lexer.next()
                switch token.kind {
                case .comma, .doubleColon:
                    syntaxError(token)
                    continue
                case .arrow, .doubleArrow:
                    connector = token.kind
                    continue chain
                case .identifier, .leftBrace, .rightBrace, .leftBracket, .rightParen, .doubleBar,
                    .elementclass, .require, .provide, .define:
                    lexer.unread(token)
                case .semicolon, .end:
                    break
                default:
                    syntaxError(token)
                    if case .character = token.kind {} else { lexer.unread(token) }
                }
                break chain
            }
        }
        checkUselessPorts(last, outputs: true)
        level.lastConnectionEndsOutput = last.count == 1 && current.elementMap["output"] == last[0].index && last[0].index >= 0
    }

    /// Parses `[ports] name-or-class [:: Class] [(config)] [ports]` into `set` (Click's
    /// `yelement_name`, `yelement_type`, `yelement_config`). Returns false when no element
    /// was there (having reported or put back what was found instead).
    private func parseElement(_ set: inout ElementSet, first: Bool, nested: Bool, level: Level) -> Bool {
        var inputs = parsePortList()
        let token = lexer.next()
        var name: String
        var type: ElementType? = nil
        var implicit = false
        var bare = false
        switch token.kind {
        case .identifier:
            name = token.text
            type = lookupClass(name)
            bare = true
        case .leftBrace:
            // An inline class: the element is anonymous, named `@N` (the class has no name).
            type = parseCompoundBody(name: "", level: level)
            name = ""
        case .leftParen:
            name = anonymousName("")
            guard let groupIndex = parseGroup(name: name, landmark: token.landmark, inputs: &inputs, level: level) else {
                return false
            }
            var element = PendingElement(name: name, type: nil, declaredType: nil, bare: false, landmark: token.landmark, inputs: inputs)
            element.outputs = Array(0..<current.outputsUsedOfGroup(groupIndex))
            if inputs.isEmpty { element.inputs = Array(0..<current.inputsUsedOfGroup(groupIndex)) }
            parseDeclarationAndConfig(&element, implicit: false, set: &set, level: level)
            return true
        default:
            if nested && token.kind.isArrow {
                implicit = first && (!inputs.isEmpty || set.elements.isEmpty)
                if implicit && inputs.isEmpty && !level.lastConnectionEndsOutput {
                    log.warning("suggest 'input \(token.text)' or '[0] \(token.text)' to start connection", at: token.landmark)
                }
            } else if nested && token.kind == .comma {
                implicit = !inputs.isEmpty
            } else if nested && token.kind != .doubleColon {
                implicit = !first && (!inputs.isEmpty || set.elements.isEmpty)
            }
            if !implicit {
                if !inputs.isEmpty { log.error("stranded port ignored", at: token.landmark) }
                if set.elements.isEmpty {
                    if nested && first {
                        lexer.unread(token)
                    } else {
                        syntaxError(token)
                    }
                } else {
                    lexer.unread(token)
                }
                return false
            }
            lexer.unread(token)
            name = first ? "input" : "output"
            set.anyImplicit = true
            var element = PendingElement(name: name, type: nil, declaredType: nil, bare: false, landmark: token.landmark, inputs: [])
            // `[1] -> x` at the start of a body names an output of `input`.
            if first { element.outputs = inputs } else { element.inputs = inputs }
            if !element.inputs.isEmpty || !element.outputs.isEmpty { set.anyPorts = true }
            set.elements.append(element)
            return true
        }
        var element = PendingElement(name: name, type: type, declaredType: nil, bare: bare, landmark: token.landmark, inputs: inputs)
        parseDeclarationAndConfig(&element, implicit: implicit, set: &set, level: level)
        return true
    }

    /// `:: Class`, `(config)` and output ports after an element name.
    private func parseDeclarationAndConfig(_ element: inout PendingElement, implicit: Bool, set: inout ElementSet, level: Level) {
        var token = lexer.next()
        if token.kind == .doubleColon && !implicit {
            element.bare = false
            token = lexer.next()
            if token.kind == .identifier {
                element.declaredType = forceClass(token.text, at: token.landmark)
                token = lexer.next()
            } else if token.kind == .leftBrace {
                element.declaredType = parseCompoundBody(name: "", level: level)
                token = lexer.next()
            } else {
                log.error("missing element type in declaration", at: token.landmark)
                element.declaredType = forceClass(element.name, report: false)
            }
        }
        if token.kind == .leftParen && !implicit {
            if current.elementMap[element.name] != nil {
                log.error("configuration string ignored on element reference", at: token.landmark)
            }
            element.configuration = lexer.configString(after: token)
            lexer.expect(.rightParen)
            element.bare = false
            token = lexer.next()
        }
        lexer.unread(token)
        if token.kind == .leftBracket && !implicit {
            element.outputs = parsePortList()
        }
        if !element.inputs.isEmpty || !element.outputs.isEmpty { set.anyPorts = true }
        set.elements.append(element)
    }

    /// `[p, q-r, ...]`; an empty list or a trailing comma makes the list expandable (-1).
    private func parsePortList() -> [Int] {
        var ports: [Int] = []
        guard lexer.expect(.leftBracket, quiet: true) else { return ports }
        while true {
            var token = lexer.next()
            if token.kind == .identifier {
                let low = portNumber(token)
                token = lexer.next()
                if token.kind == .minus {
                    let high = lexer.next()
                    if high.kind == .identifier {
                        let top = portNumber(high)
                        if top < low || top - low > 65_535 {
                            log.error("syntax error: bad port range", at: high.landmark)
                            ports.append(low)
                        } else {
                            ports.append(contentsOf: low...top)
                        }
                    } else {
                        log.error("syntax error: expected port number", at: high.landmark)
                        lexer.unread(high)
                        ports.append(low)
                    }
                    token = lexer.next()
                } else {
                    ports.append(low)
                }
                if token.kind == .rightBracket { break }
                if token.kind != .comma {
                    log.error("syntax error: expected ','", at: token.landmark)
                    lexer.unread(token)
                }
            } else if token.kind == .rightBracket {
                if ports.isEmpty { ports.append(0) }
                ports.append(-1)
                break
            } else {
                log.error("syntax error: expected port number", at: token.landmark)
                lexer.unread(token)
                break
            }
        }
        return ports
    }

    /// The largest port number accepted: beyond it a configuration would ask every later
    /// stage for arrays of that many ports (the fuzzer found `[222222222]` taking seconds).
    static let maximumPort = 65_535

    private func portNumber(_ token: Token) -> Int {
        if let value = IntegerValue.parse(token.text, signed: false) {
            if value <= Int64(Self.maximumPort) { return Int(value) }
            log.error("syntax error: port number too large (at most \(Self.maximumPort))", at: token.landmark)
            return 0
        }
        log.error("syntax error: port number should be integer", at: token.landmark)
        return 0
    }

    /// Resolves the pending elements of a set into element indexes (Click's `yelement_next`):
    /// declarations, anonymous elements, references, and the spread of one class and
    /// configuration over a standalone `a, b, c :: Class(config)` declaration.
    private func finishSet(_ set: inout ElementSet, first: Bool, following: Token) {
        if set.anyImplicit && !first && following.kind.isArrow {
            log.error("implicit ports used in the middle of a chain", at: following.landmark)
        }
        if set.elements.count > 1 && first && !following.kind.isArrow && !set.anyPorts && !set.anyImplicit {
            var lastIndex = 0
            while lastIndex + 1 < set.elements.count && set.elements[lastIndex].bare { lastIndex += 1 }
            if lastIndex == set.elements.count - 1 {
                let spread = set.elements[lastIndex]
                for i in 0..<lastIndex {
                    set.elements[i].declaredType = spread.declaredType
                    set.elements[i].configuration = spread.configuration
                }
            }
        }
        for i in set.elements.indices {
            var e = set.elements[i]
            let existing = current.elementMap[e.name]
            if e.type != nil || existing == nil {
                if e.declaredType != nil && e.type != nil {
                    log.error("class '\(e.name)' used as element name", at: e.landmark)
                } else if e.declaredType == nil && e.type == nil {
                    if impliedPrimitive(e.name) {
                        e.type = forceClass(e.name, report: false)
                    } else {
                        log.error("undeclared element '\(e.name)'", at: e.landmark)
                        e.type = forceClass(e.name, report: false)
                    }
                }
                // Anonymous elements are named after the class as written (`A@1` even when
                // `A` is a synonym).
                let name = e.type != nil ? anonymousName(e.name) : e.name
                let type = e.type ?? e.declaredType ?? .error(e.name)
                e.index = addElement(name, type, e.configuration, e.landmark)
            } else if let existing {
                e.index = existing
                if e.declaredType != nil {
                    log.error("redeclaration of element '\(e.name)'", at: e.landmark)
                    if !current.types[existing].isTunnel {
                        log.error("element '\(e.name)' previously declared here", at: current.landmarks[existing])
                    }
                }
            }
            set.elements[i] = e
        }
    }

    private func checkUselessPorts(_ elements: [PendingElement], outputs: Bool) {
        for e in elements where !(outputs ? e.outputs : e.inputs).isEmpty {
            lexer.error(outputs ? "output ports ignored at end of chain" : "input ports ignored at start of chain")
            return
        }
    }

    private func portCount(_ ports: [Int]) -> (minimum: Int, expandable: Bool) {
        if ports.count <= 1 { return (1, false) }
        if ports.last == -1 { return (ports.count - 1, true) }
        return (ports.count, false)
    }

    /// Connects the outputs of `from` to the inputs of `to` (`yconnection_connect_all`):
    /// one-to-many and many-to-one with `->`; many-to-many, pairwise, with `=>`.
    private func connectAll(_ from: [PendingElement], _ to: [PendingElement], connector: TokenKind) {
        // Index 0 is the input side (`to`), 1 the output side (`from`), as in Click.
        var minimum = [0, 0]
        var expandable = [0, 0]
        for e in to {
            let (m, x) = portCount(e.inputs)
            minimum[0] += m
            if x { expandable[0] += 1 }
        }
        for e in from {
            let (m, x) = portCount(e.outputs)
            minimum[1] += m
            if x { expandable[1] += 1 }
        }
        if expandable[0] + expandable[1] > 1 {
            lexer.error("at most one expandable port allowed per connection")
            expandable[minimum[0] < minimum[1] ? 1 : 0] = 0
        }
        if connector == .doubleArrow {
            if minimum[0] == 1, minimum[1] > 1, to.count == 1, to[0].inputs.isEmpty { expandable[0] = 1 }
            if minimum[1] == 1, minimum[0] > 1, from.count == 1, from[0].outputs.isEmpty { expandable[1] = 1 }
        }
        var step = [false, false]
        var extra = [0, 0]
        for k in 0..<2 {
            step[k] = minimum[k] > 1 || expandable[k] > 0
            extra[k] = expandable[k] > 0 ? minimum[1 - k] - minimum[k] : 0
        }
        if step[0] && step[1] {
            if connector != .doubleArrow {
                lexer.error("syntax error: many-to-many connections require '=>'")
            }
            if expandable[0] == 0 && expandable[1] == 0 && minimum[0] != minimum[1] {
                lexer.error("connection mismatch: \(minimum[1]) outputs connected to \(minimum[0]) inputs")
            } else if expandable[0] == 0 && minimum[0] < minimum[1] {
                lexer.error("connection mismatch: \(minimum[1]) or more outputs connected to \(minimum[0]) inputs")
            } else if expandable[1] == 0 && minimum[1] < minimum[0] {
                lexer.error("connection mismatch: \(minimum[1]) outputs connected to \(minimum[0]) or more inputs")
            }
        } else if !step[0] && !step[1] {
            step[0] = true
        }

        let sides = [to, from]
        var element = [0, 0]
        var position = [0, 0]
        var port = [-1, -1]
        func ports(_ k: Int) -> [Int] { k == 0 ? sides[0][element[0]].inputs : sides[1][element[1]].outputs }
        var guardCount = 0
        while element[0] < to.count && element[1] < from.count {
            guardCount += 1
            if guardCount > 1_000_000 { break }
            for k in 0..<2 where port[k] < 0 {
                let p = ports(k)
                port[k] = p.isEmpty ? 0 : p[0]
            }
            current.connect(from[element[1]].index, port[1], to[element[0]].index, port[0])
            for k in 0..<2 where step[k] {
                let p = ports(k)
                position[k] += 1
                if position[k] < p.count && p[position[k]] >= 0 {
                    port[k] = p[position[k]]
                } else if !p.isEmpty && p[p.count - 1] == -1 && extra[k] > 0 {
                    port[k] = p[p.count - 2] + position[k] - (p.count - 2)
                    extra[k] -= 1
                } else if p.isEmpty && minimum[k] == 1 && extra[k] > 0 {
                    port[k] = position[k]
                    extra[k] -= 1
                } else {
                    port[k] = -1
                    position[k] = 0
                    element[k] += 1
                }
            }
        }
    }

    // MARK: Groups and compounds

    /// Parses `( ... )` after its `(`: the group's tunnels, its statements, and the check
    /// that its pseudo-ports are used in order. Returns the group's element index.
    private func parseGroup(name: String, landmark: Landmark, inputs: inout [Int], level: Level) -> Int? {
        let tunnels = addTunnels(name, at: landmark)
        let savedInput = current.elementMap["input"]
        let savedOutput = current.elementMap["output"]
        current.elementMap["input"] = tunnels.input
        current.elementMap["output"] = tunnels.output
        let inner = Level(kind: .group, depth: level.depth + 1)
        if inner.depth >= Self.maximumDepth {
            lexer.error("maximum element group nesting depth exceeded")
            skipToEnd()
        } else {
            parseStatements(inner)
        }
        let printable = "<anonymous group>"
        let at = lexer.landmark
        _ = checkPseudoElement(tunnels.input, isOutput: false, name: printable, at: at)
        _ = checkPseudoElement(tunnels.output, isOutput: true, name: printable, at: at)
        current.elementMap["input"] = savedInput
        current.elementMap["output"] = savedOutput
        return tunnels.outer
    }

    /// Stops parsing after a nesting-depth error: the rest of the input is skipped.
    private func skipToEnd() {
        while lexer.next().kind != .end {}
    }

    /// Checks the `input` (or `output`) pseudo-element of a compound or group: it may only be
    /// used on one side, and its ports must be used without gaps. Returns its port count.
    @discardableResult
    private func checkPseudoElement(_ index: Int, isOutput: Bool, name: String, at landmark: Landmark) -> Int {
        let side = isOutput ? "output" : "input"
        let other = isOutput ? "input" : "output"
        let count = isOutput ? current.inputsUsed[index] : current.outputsUsed[index]
        var used = [Bool](repeating: false, count: count)
        for c in current.connections {
            if isOutput, c.to == index { used[c.toPort] = true }
            if !isOutput, c.from == index { used[c.fromPort] = true }
        }
        if (isOutput ? current.outputsUsed[index] : current.inputsUsed[index]) > 0 {
            log.error("'\(name)' pseudoelement '\(side)' may only be used as \(other)", at: landmark)
        }
        for (port, isUsed) in used.enumerated() where !isUsed {
            log.error("'\(name)' \(side) \(port) missing", at: landmark)
        }
        return count
    }

    /// Parses a compound class body after its `{`, with overloads `||` and the extension
    /// marker `...`; returns the class (registered under `name`, visible after the body).
    private func parseCompoundBody(name: String, level: Level) -> ElementType {
        let savedTypes = types
        let saved = current
        var first: CompoundClass? = nil
        var last: CompoundClass? = nil
        var extended: ElementType? = nil
        while true {
            var token = lexer.next()
            if token.kind == .ellipsis {
                if lookupClass(name) == nil && knownClasses == nil && !name.isEmpty {
                    // Without the runtime's class list, extending a name means extending that primitive.
                    _ = forceClass(name, report: false)
                } else if lookupClass(name) == nil {
                    log.error("cannot extend unknown element class '\(name)'", at: token.landmark)
                    types[name] = .error(name)
                }
                extended = lookupClass(name)
                token = lexer.next()
                if first == nil || token.kind != .rightBrace {
                    log.error("'...' should occur last, after one or more compounds", at: token.landmark)
                    if token.kind != .rightBrace { lexer.unread(token) }
                }
                break
            }
            lexer.unread(token)
            let compound = CompoundClass(name: name, landmark: lexer.landmark, parentScope: saved.scope)
            current = compound
            _ = addElement("input", .tunnel, "", compound.landmark)
            _ = addElement("output", .tunnel, "", compound.landmark)
            compound.anonymousOffset = 2
            let inner = Level(kind: .compound, depth: level.depth + 1)
            var end: Token
            if inner.depth >= Self.maximumDepth {
                lexer.error("maximum compound element nesting depth exceeded")
                skipToEnd()
                end = lexer.next()
            } else {
                parseFormals(compound)
                end = parseStatements(inner)
            }
            types = savedTypes
            current = saved
            finish(compound)
            if let previous = last {
                previous.overload = .compound(compound)
            } else {
                first = compound
            }
            last = compound
            if end.kind != .doubleBar { break }
        }
        last?.overload = extended
        guard let first else { return .error(name) }
        let type = ElementType.compound(first)
        if !name.isEmpty { types[name] = type }
        return type
    }

    /// `$a, $b, KEYWORD $k, __REST__ $r |` at the start of a compound body.
    private func parseFormals(_ compound: CompoundClass) {
        while true {
            let t1 = lexer.next()
            var keyword = ""
            var variable: String
            if t1.kind == .identifier {
                let t2 = lexer.next()
                if t2.kind == .variable {
                    keyword = t1.text
                    variable = t2.text
                } else {
                    if !compound.scope.names.isEmpty { lexer.error("expected variable") }
                    lexer.unread(t2)
                    lexer.unread(t1)
                    return
                }
            } else if t1.kind == .variable {
                variable = t1.text
            } else if t1.kind == .bar {
                return
            } else {
                if compound.formalCount > 0 { lexer.error("expected variable") }
                lexer.unread(t1)
                return
            }
            defineFormal(compound, variable, keyword)
            let separator = lexer.next()
            if separator.kind == .bar { return }
            if separator.kind != .comma {
                lexer.error("expected ',' or '|'")
                lexer.unread(separator)
                return
            }
        }
    }

    private func defineFormal(_ compound: CompoundClass, _ name: String, _ keyword: String) {
        guard compound.scope.define(name, keyword, override: false) else {
            lexer.error("parameter '$\(name)' multiply defined")
            return
        }
        compound.formalCount = compound.scope.names.count
        let values = compound.scope.values
        if !keyword.isEmpty, values.dropLast().contains(keyword) {
            lexer.error("repeated keyword parameter '\(keyword)' in compound element")
        }
        let n = compound.formalCount
        if !compound.formalOrderError, n > 1, (keyword.isEmpty && !values[n - 2].isEmpty) || values[n - 2] == "__REST__" {
            lexer.error("compound element parameters out of order\n(The correct order is '[positional], [keywords], [__REST__]'.)")
            compound.formalOrderError = true
        }
    }

    /// Completes a compound body: counts its ports, checks its pseudo-elements and names its
    /// anonymous elements.
    private func finish(_ compound: CompoundClass) {
        let saved = current
        current = compound
        compound.inputCount = checkPseudoElement(0, isOutput: false, name: compound.printableName, at: compound.landmark)
        compound.outputCount = checkPseudoElement(1, isOutput: true, name: compound.printableName, at: compound.landmark)
        for i in compound.names.indices where compound.names[i].hasPrefix(";") {
            compound.names[i] = Self.deanonymize(compound.names[i], index: i, map: &compound.elementMap)
        }
        current = saved
    }

    /// Turns `;Class@N` into `Class@N`, bumping N past names already taken.
    static func deanonymize(_ spelled: String, index: Int, map: inout [String: Int]) -> String {
        var name = String(spelled.dropFirst())
        if map[name] != nil, let at = name.lastIndex(of: "@") {
            let prefix = name[...at]
            var number = Int(name[name.index(after: at)...].prefix(while: { $0.isNumber })) ?? 0
            repeat {
                number += 1
                name = prefix + String(number)
            } while map[name] != nil
        }
        map[name] = index
        return name
    }

    // MARK: elementclass, require, define

    private func parseElementClass(_ level: Level) {
        let nameToken = lexer.next()
        var name = ""
        if nameToken.kind == .identifier {
            name = nameToken.text
        } else {
            lexer.unread(nameToken)
            lexer.error("expected element type name")
        }
        let next = lexer.next()
        if next.kind == .leftBrace {
            _ = parseCompoundBody(name: name, level: level)
        } else if next.kind == .identifier {
            let type = forceClass(next.text, at: next.landmark)
            if !name.isEmpty { types[name] = type }
        } else {
            syntaxError(next)
            if !name.isEmpty { types[name] = .error(name) }
        }
    }

    private func parseRequire(_ level: Level) {
        guard let open = expectOpenParen() else { return }
        let text = lexer.configString(after: open)
        lexer.expect(.rightParen)
        lexer.expect(.semicolon, quiet: true)
        for argument in ConfigText.arguments(text) {
            var words = ConfigText.words(argument)
            if words.isEmpty { continue }
            var type = ConfigText.unquote(words[0])
            if type != "compact_config" && type != "package" && type != "library" && words.count == 1 {
                words.append(words[0])
                type = "package"
            }
            if type == "compact_config" && words.count == 1 {
                requirements.append((type, ""))
            } else if type == "package" && words.count == 2 {
                requirements.append((type, ConfigText.unquote(words[1])))
            } else if type == "library" && words.count == 2 {
                includeLibrary(ConfigText.unquote(words[1]), level: level)
            } else {
                lexer.error("syntax error at requirement")
            }
        }
    }

    private func expectOpenParen() -> Token? {
        let token = lexer.next()
        if token.kind == .leftParen { return token }
        lexer.unread(token)
        lexer.error("expected '('")
        return nil
    }

    private func includeLibrary(_ name: String, level: Level) {
        if current.depth > 0 || level.kind != .file {
            lexer.error("'require library' must be used at file scope")
            return
        }
        guard let libraries else {
            lexer.error("'require library' may not be used in this driver")
            return
        }
        guard let (path, text) = libraries.resolve(name, from: lexer.file) else {
            lexer.error("library '\(name)' not found in CLICKPATH/conf")
            return
        }
        if !includedLibraries.insert(path).inserted { return }
        let saved = lexer
        lexer = Lexer(text: text, file: path, log: log)
        parseStatements(Level(kind: .file, depth: 0))
        lexer = saved
    }

    private func parseDefine() {
        guard let open = expectOpenParen() else { return }
        let text = lexer.configString(after: open)
        lexer.expect(.rightParen)
        for argument in ConfigText.arguments(text) where !argument.isEmpty {
            let (variable, value) = ConfigText.firstWord(argument)
            let bytes = Array(variable.utf8)
            let valid = bytes.count >= 2 && bytes[0] == 36
                && bytes.dropFirst().allSatisfy { ConfigText.isAlnum($0) || $0 == 95 }
            if !valid {
                lexer.error("bad 'define' declaration: not a variable")
                continue
            }
            let name = String(variable.dropFirst())
            if !current.scope.define(name, value, override: false) {
                lexer.error("parameter '$\(name)' multiply defined")
            }
        }
    }
}

extension CompoundClass {
    /// Ports a group exposes on each side: the ports of its `input`/`output` pseudo-elements.
    func inputsUsedOfGroup(_ outer: Int) -> Int { outputsUsed[outer + 1] }
    func outputsUsedOfGroup(_ outer: Int) -> Int { inputsUsed[outer + 2] }
}

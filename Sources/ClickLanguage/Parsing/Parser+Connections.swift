/// Connections: element sets on each side of `->` and `=>`, their port lists, and the
/// connections between them, with Click's checks.
extension Parser {
    // MARK: Connections

    /// An element reference in a comma-separated set, with its port lists. A port list
    /// ending in -1 is expandable (`[0,]` or `[]`).
    struct PendingElement {
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

    struct ElementSet {
        var elements: [PendingElement] = []
        var anyImplicit = false
        var anyPorts = false
    }

    func parseConnection(_ level: Level) {
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
    func parseElement(_ set: inout ElementSet, first: Bool, nested: Bool, level: Level) -> Bool {
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
    func parseDeclarationAndConfig(_ element: inout PendingElement, implicit: Bool, set: inout ElementSet, level: Level) {
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
    func parsePortList() -> [Int] {
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

    func portNumber(_ token: Token) -> Int {
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
    func finishSet(_ set: inout ElementSet, first: Bool, following: Token) {
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

    func checkUselessPorts(_ elements: [PendingElement], outputs: Bool) {
        for e in elements where !(outputs ? e.outputs : e.inputs).isEmpty {
            lexer.error(outputs ? "output ports ignored at end of chain" : "input ports ignored at start of chain")
            return
        }
    }

    func portCount(_ ports: [Int]) -> (minimum: Int, expandable: Bool) {
        if ports.count <= 1 { return (1, false) }
        if ports.last == -1 { return (ports.count - 1, true) }
        return (ports.count, false)
    }

    /// Connects the outputs of `from` to the inputs of `to` (`yconnection_connect_all`):
    /// one-to-many and many-to-one with `->`; many-to-many, pairwise, with `=>`.
    func connectAll(_ from: [PendingElement], _ to: [PendingElement], connector: TokenKind) {
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
}

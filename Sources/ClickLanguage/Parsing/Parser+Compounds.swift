/// Groups `( ... )` and compound element classes `{ ... }`: their formals, pseudo-ports
/// and the checks Click makes on them.
extension Parser {
    // MARK: Groups and compounds

    /// Parses `( ... )` after its `(`: the group's tunnels, its statements, and the check
    /// that its pseudo-ports are used in order. Returns the group's element index.
    func parseGroup(name: String, landmark: Landmark, inputs: inout [Int], level: Level) -> Int? {
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
    func skipToEnd() {
        while lexer.next().kind != .end {}
    }

    /// Checks the `input` (or `output`) pseudo-element of a compound or group: it may only be
    /// used on one side, and its ports must be used without gaps. Returns its port count.
    @discardableResult
    func checkPseudoElement(_ index: Int, isOutput: Bool, name: String, at landmark: Landmark) -> Int {
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
    func parseCompoundBody(name: String, level: Level) -> ElementType {
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
    func parseFormals(_ compound: CompoundClass) {
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

    func defineFormal(_ compound: CompoundClass, _ name: String, _ keyword: String) {
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
    func finish(_ compound: CompoundClass) {
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
}

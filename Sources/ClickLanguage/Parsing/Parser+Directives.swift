/// The statements that are not connections: `elementclass`, `require` and `define`.
extension Parser {
    // MARK: elementclass, require, define

    func parseElementClass(_ level: Level) {
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

    func parseRequire(_ level: Level) {
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

    func expectOpenParen() -> Token? {
        let token = lexer.next()
        if token.kind == .leftParen { return token }
        lexer.unread(token)
        lexer.error("expected '('")
        return nil
    }

    func includeLibrary(_ name: String, level: Level) {
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

    func parseDefine() {
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

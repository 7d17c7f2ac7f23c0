import Testing
@testable import ClickLanguage

@Suite struct LexerTests {
    private func tokens(_ text: String) -> [Token] {
        let lexer = Lexer(text: text, file: "t", log: DiagnosticLog())
        var result: [Token] = []
        while true {
            let t = lexer.next()
            if t.kind == .end { return result }
            result.append(t)
        }
    }

    @Test func everyTokenKind() {
        let kinds = tokens("a/b::C -> => || ... $var ; , ( ) [ ] { } | elementclass require provide define @x %").map(\.kind)
        #expect(kinds == [.identifier, .doubleColon, .identifier, .arrow, .doubleArrow, .doubleBar, .ellipsis, .variable,
                          .semicolon, .comma, .leftParen, .rightParen, .leftBracket, .rightBracket, .leftBrace, .rightBrace,
                          .bar, .elementclass, .require, .provide, .define, .identifier, .character(UInt8(ascii: "%"))])
    }

    @Test func identifiersTakeSingleSlashesOnly() {
        #expect(tokens("a/b/c").map(\.text) == ["a/b/c"])
        // `//` starts a comment, a trailing `/` is a separate character.
        #expect(tokens("a/b//c\nd").map(\.text) == ["a/b", "d"])
        #expect(tokens("a/ b").map(\.text) == ["a", "/", "b"])
        #expect(tokens("/a").map(\.text) == ["/", "a"])
    }

    @Test func commentsOfBothForms() {
        #expect(tokens("a /* x -> y\n z */ b // c -> d\n e").map(\.text) == ["a", "b", "e"])
    }

    @Test func variablesKeepTheirNameOnly() {
        let t = tokens("$abc_1 $")
        #expect(t[0].kind == .variable && t[0].text == "abc_1")
        #expect(t[1].kind == .character(UInt8(ascii: "$")))
    }

    @Test func lineDirectivesSetLineAndFile() {
        let t = tokens("a\n# 40 \"other.click\"\nb\n#line 7\nc")
        #expect(t.map(\.landmark.description) == ["t:1", "other.click:40", "other.click:7"])
    }

    @Test func lineDirectiveWithEmptyNameReturnsToTheFile() {
        let t = tokens("# 10 \"x\"\na\n# 20 \"\"\nb")
        #expect(t.map(\.landmark.description) == ["x:10", "t:20"])
    }

    @Test func unknownDirectiveIsAnError() {
        let log = DiagnosticLog()
        let lexer = Lexer(text: "a\n#pragma once\nb", file: "t", log: log)
        #expect(lexer.next().text == "a")
        #expect(lexer.next().text == "b")
        #expect(log.errorMessages == ["unknown preprocessor directive"])
        #expect(log.diagnostics[0].landmark?.line == 2)
    }

    @Test func hashInsideALineIsACharacter() {
        #expect(tokens("a # b").map(\.text) == ["a", "#", "b"])
    }

    @Test func crlfAndCrCountLines() {
        let t = tokens("a\r\nb\rc")
        #expect(t.map(\.landmark.line) == [1, 2, 3])
    }

    @Test func configStringsBalanceParenthesesOutsideQuotesAndComments() {
        let log = DiagnosticLog()
        let lexer = Lexer(text: "X(a (b) \")\" ')' \\<29> /* ) */ // )\n c) rest", file: "t", log: log)
        _ = lexer.next()
        let open = lexer.next()
        let config = lexer.configString(after: open)
        #expect(config == "a (b) \")\" ')' \\<29> /* ) */ // )\n c")
        #expect(lexer.next().kind == .rightParen)
        #expect(lexer.next().text == "rest")
        #expect(lexer.next().landmark.line == 2)
    }

    @Test func lineDirectiveInsideConfigStringIsRemoved() {
        let (flat, log) = flatten("m :: Message(\n# 100 \"foobar.click\"\n\"test\");\nm2 :: Message(\"test2\");", file: "A.click")
        #expect(!log.hasErrors)
        #expect(flat.elements[0].configuration == "\n\n\"test\"")
        #expect(flat.elements[0].landmark.description == "A.click:1")
        #expect(flat.elements[1].landmark.description == "foobar.click:101")
    }

    @Test func unterminatedConstructsDoNotHang() {
        for text in ["a(\"", "a(/*", "a(\\<", "/*", "a('", "\"", "a(#1 \"x"] {
            let (_, log) = flatten(text)
            _ = log.text
        }
    }
}

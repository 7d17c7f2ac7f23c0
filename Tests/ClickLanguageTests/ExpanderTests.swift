import Testing
@testable import ClickLanguage

@Suite struct CompoundTests {
    @Test func compoundsAreFlattenedWithPrefixedNamesAndNoTunnels() {
        let text = "elementclass P { input -> q :: Queue -> output }\nsrc :: InfiniteSource -> p :: P -> Discard;"
        #expect(sortedFlat(text) == ["Discard@3 :: Discard;", "p/q :: Queue;", "src -> p/q -> Discard@3;", "src :: InfiniteSource;"])
    }

    @Test func inlineCompoundsAndImplicitPorts() {
        #expect(sortedFlat("a, b :: Idle; a -> { -> Paint(2) -> } -> b") == [
            "@3/Paint@1 :: Paint(2);", "a -> @3/Paint@1 -> b;", "a :: Idle;", "b :: Idle;",
        ].sorted())
    }

    @Test func nestedCompounds() {
        let text = """
            elementclass Inner { input -> i :: Counter -> output }
            elementclass Outer { input -> b :: Inner -> output }
            Idle -> a :: Outer -> Discard;
            """
        let (flat, log) = flatten(text)
        #expect(!log.hasErrors)
        #expect(flat.elements.map(\.name) == ["Idle@1", "Discard@3", "a/b/i"])
        #expect(flat.connections.count == 2)
    }

    @Test func lexicalScopingRefersToThePreviousDefinition() {
        // Inside the new Queue, `Queue` is still the primitive.
        let text = "elementclass Queue { input -> Queue(5) -> Counter -> output }\nIdle -> q :: Queue -> Discard;"
        let (flat, log) = flatten(text)
        #expect(!log.hasErrors)
        #expect(flat.elements.map(\.className).sorted() == ["Counter", "Discard", "Idle", "Queue"])
        #expect(flat.elements.first { $0.className == "Queue" }?.configuration == "5")
    }

    @Test func classesDefinedInsideACompoundStayThere() {
        let text = "elementclass A { elementclass B { input -> Counter -> output } input -> B -> output }\nIdle -> B -> Discard;"
        let (flat, _) = flatten(text)
        // Outside A, `B` is not a compound: it stays a class called B.
        #expect(flat.elements.contains { $0.className == "B" })
    }

    @Test func synonyms() {
        let (flat, _) = flatten("elementclass MyQueue Queue; MyQueue(7) -> Discard;")
        #expect(flat.elements[0].name == "MyQueue@1")
        #expect(flat.elements[0].className == "Queue")
    }

    @Test func formalsPositionalKeywordAndRest() {
        let text = """
            elementclass E { $a, KEY $k, __REST__ $r | input -> Paint($a) -> Message("$k / $r") -> output }
            Idle -> E(1, KEY two, x, y) -> Discard;
            """
        let (flat, log) = flatten(text)
        #expect(!log.hasErrors, "\(log.text)")
        #expect(flat.elements.map(\.configuration).contains("1"))
        #expect(flat.elements.map(\.configuration).contains("\"two / x, y\""))
    }

    @Test func wrongArgumentCountHasNoMatch() {
        let text = "elementclass E { $a | input -> Paint($a) -> output }\nIdle -> E(1, 2) -> Discard;"
        let (_, log) = flatten(text)
        #expect(log.errorMessages == ["no match for 'E[2 arguments, 1 input, 1 output]'"])
        #expect(log.diagnostics.map(\.description) == [
            "config:2: no match for 'E[2 arguments, 1 input, 1 output]'",
            "config:2: candidates are:",
            "config:1:   E(<arg>)[1 input, 1 output]",
        ])
    }

    @Test func overloadsPickByPortsAndArguments() {
        let text = """
            elementclass X { input -> Paint(1) -> output || $a | input -> Paint($a) -> output || input [0] -> Paint(3) -> output; input [1] -> output }
            a, b, c, d :: Idle;
            a -> X -> b;
            a [1] -> X(9) -> b;
            c -> [0] x3 :: X; d -> [1] x3; x3 -> Discard;
            """
        let (flat, log) = flatten(text)
        #expect(!log.hasErrors, "\(log.text)")
        let paints = flat.elements.filter { $0.className == "Paint" }.map(\.configuration).sorted()
        #expect(paints == ["1", "3", "9"])
    }

    @Test func extensionFallsBackToThePrimitive() {
        let text = "elementclass Queue { $a, $b | input -> Paint($a) -> Paint($b) -> output || ... }\nIdle -> Queue(1, 2) -> Queue(3) -> Discard;"
        let (flat, log) = flatten(text)
        #expect(!log.hasErrors, "\(log.text)")
        #expect(flat.elements.map(\.className).sorted() == ["Discard", "Idle", "Paint", "Paint", "Queue"])
    }

    @Test func overloadsWithRestAndLaterExtension() {
        let text = """
            elementclass Foo {
               $a, $b | input -> Print(1) -> output
            || $a, __REST__ $b | input -> Print(2) -> output
            || $a, TWO $b, __REST__ $c | input -> Print(3) -> output
            }
            InfiniteSource(DATA "", LIMIT 1, STOP true) -> Foo(A) -> f::Foo(A, TWO B)
            elementclass Foo { $a, $b | input -> Print(4) -> output || ... }
            f -> Foo(A, B) -> Foo(A, B, C) -> Discard
            """
        let (flat, log) = flatten(text)
        #expect(!log.hasErrors, "\(log.text)")
        #expect(flat.elements.map { "\($0.name) \($0.configuration)" } == [
            "InfiniteSource@1 DATA \"\", LIMIT 1, STOP true", "Discard@6 ", "Foo@2/Print@1 2", "f/Print@1 1", "Foo@4/Print@1 4", "Foo@5/Print@1 2",
        ])
    }

    @Test func extendingAnUnknownClass() {
        #expect(errors("elementclass Nope { || ... }", knownClasses: standardClasses).contains("cannot extend unknown element class 'Nope'"))
    }

    @Test func parametersOutOfOrder() {
        let e = errors("elementclass E { K $k, $a | input -> output }")
        #expect(e.contains("compound element parameters out of order\n(The correct order is '[positional], [keywords], [__REST__]'.)"))
    }

    @Test func pseudoElementMisuse() {
        #expect(errors("elementclass E { input -> input; }").contains("'E' pseudoelement 'input' may only be used as output"))
        #expect(errors("elementclass E { input [1] -> output }").contains("'E' input 0 missing"))
    }

    @Test func unusedAndMissingCompoundPorts() {
        let text = "elementclass E { input -> Counter -> output; input [1] -> Counter -> [1] output }\na, b :: Idle; a -> E -> b;"
        let e = errors(text)
        #expect(e.contains("'E@3' input 1 unused"))
        #expect(e.contains("'E@3' output 1 unused"))
        #expect(errors("elementclass E { input -> output }\na, b :: Idle; a [1] -> [1] E -> b;").contains("'E@3' has no input 1"))
    }

    @Test func passThroughCompoundsConnectTheirNeighbours() {
        #expect(sortedFlat("elementclass W { input -> output }\na, b :: Idle; a -> W -> W -> b") == ["a -> b;", "a :: Idle;", "b :: Idle;"])
    }

    @Test func unclosedCompound() {
        #expect(errors("elementclass E { input -> output").contains("expected '}'"))
    }

    @Test func deepNestingIsRefusedNotCrashed() {
        let deep = String(repeating: "(", count: 5000) + String(repeating: ")", count: 5000)
        #expect(errors(deep).contains("maximum element group nesting depth exceeded"))
        let braces = String(repeating: "{", count: 5000)
        #expect(!errors("x :: " + braces).isEmpty)
    }

    @Test func exponentialExpansionIsCapped() {
        var text = "elementclass C0 { input -> Counter -> output }\n"
        for i in 1...24 { text += "elementclass C\(i) { input -> C\(i - 1) -> C\(i - 1) -> output }\n" }
        text += "Idle -> C24 -> Discard;"
        #expect(flatten(text, maximumElements: 5_000).1.errorMessages.contains { $0.hasPrefix("configuration too large") })
    }

    /// Each compound passes its argument on twice: 40 levels would be 2^41 bytes (the parser
    /// fuzzer's timeout in CI). Ten levels are 2 kB and expand; forty are refused, quickly.
    @Test func exponentialVariablesAreCapped() {
        func doubling(_ levels: Int) -> String {
            var text = "elementclass C0 { $a | input -> Message($a) -> output }\n"
            for i in 1..<levels { text += "elementclass C\(i) { $a | input -> C\(i - 1)($a$a) -> output }\n" }
            return text + "Idle -> C\(levels - 1)(xy) -> Discard;"
        }
        let log = DiagnosticLog()
        let small = ClickConfiguration.flatten(doubling(10), maximumExpansionBytes: 1 << 20, log: log)
        #expect(!log.hasErrors, "\(log.text)")
        #expect(small.elements.first { $0.className == "Message" }?.configuration.utf8.count == 2 << 9)
        let huge = DiagnosticLog()
        let flat = ClickConfiguration.flatten(doubling(40), maximumExpansionBytes: 1 << 20, log: huge)
        #expect(huge.errorMessages.contains("configuration too large: variable expansion exceeds 1048576 bytes"), "\(huge.text)")
        #expect(flat.elements.allSatisfy { $0.configuration.utf8.count <= 1 << 20 })
    }

    /// Variables that expand to nothing still cost their scanning: `$b` used 200 times,
    /// each `$c` 200 times, ... ten deep is 200^10 lookups of an empty value.
    @Test func emptyVariableFanOutIsCapped() {
        var defines: [String] = ["$v0 "]
        for i in 1...10 { defines.append("$v\(i) " + String(repeating: "$v\(i - 1)", count: 200)) }
        let text = "define(" + defines.joined(separator: ", ") + ");\nm :: Message($v10 x);"
        let log = DiagnosticLog()
        _ = ClickConfiguration.flatten(text, maximumExpansionBytes: 1 << 20, log: log)
        #expect(log.errorMessages.contains("configuration too large: variable expansion exceeds 1048576 bytes"), "\(log.text)")
    }
}

@Suite struct VariableTests {
    @Test func defineAndSubstitution() {
        let text = "define($N 10, $S \"a b\");\nq :: Queue($N); m :: Message($S, ${N}x, \"$S\", '$N');"
        let (flat, log) = flatten(text)
        #expect(!log.hasErrors)
        #expect(flat.elements[0].configuration == "10")
        #expect(flat.elements[1].configuration == "\"a b\", 10x, \"\\\"a b\\\"\", '$N'")
    }

    @Test func defaultsAndWordSelection() {
        let text = "define($L a b c);\nm :: Message(${L[1]} ${L[7]}| ${Z-dflt} ${L-x} $undefined)"
        let (flat, _) = flatten(text)
        #expect(flat.elements[0].configuration == "b | dflt a b c $undefined")
    }

    @Test func indexedWordsWithVariableIndexes() {
        let text = """
            elementclass Bar { $a, $n | input -> Print("${a[$n]}") -> output }
            elementclass Baz { $a | input -> Bar(${a[1]} ${a[0]}, ${a[2]}) -> output }
            Idle -> Bar(D E F, 2) -> Baz(G H 1) -> Baz(I J 0) -> Discard
            """
        let (flat, log) = flatten(text)
        #expect(!log.hasErrors)
        #expect(flat.elements.filter { $0.className == "Print" }.map(\.configuration) == ["\"F\"", "\"G\"", "\"J\""])
    }

    @Test func commandLineDefinitionsOverrideFileDefinitions() {
        let (flat, _) = flatten("define($N 10); q :: Queue($N); r :: Queue($M)", definitions: [("N", "99"), ("M", "5")])
        #expect(flat.elements.map(\.configuration) == ["99", "5"])
    }

    @Test func definitionsTakeEffectTogetherAndRepeatsAreErrors() {
        #expect(errors("q :: Queue($N); define($N 1); define($N 2);") == ["parameter '$N' multiply defined"])
        let (flat, _) = flatten("q :: Queue($N); define($N 1);")
        #expect(flat.elements[0].configuration == "1")
        #expect(errors("define(N 1)") == ["bad 'define' declaration: not a variable"])
    }

    @Test func compoundScopesSeeTheirEnclosingDefinitions() {
        let text = """
            define($X outer);
            elementclass E { $a | define($Y inner-$a); input -> Message($X $Y $a) -> output }
            Idle -> E(one) -> Discard;
            """
        let (flat, log) = flatten(text)
        #expect(!log.hasErrors, "\(log.text)")
        #expect(flat.elements.first { $0.className == "Message" }?.configuration == "outer inner-one one")
    }

    /// A definition's value is expanded where it is used, as in Click: `$a` defined as `$b`
    /// takes `$b`'s value, through ten levels; a cycle stops there, unexpanded.
    @Test func definitionsReferToOtherDefinitions() {
        let (flat, log) = flatten("define($a $b, $b $c, $c 7); q :: Queue($a); m :: Message(${a}x $b)")
        #expect(!log.hasErrors, "\(log.text)")
        #expect(flat.elements.map(\.configuration) == ["7", "7x 7"])
        let (cyclic, _) = flatten("define($a $b, $b $a); q :: Queue($a)")
        #expect(cyclic.elements[0].configuration.hasPrefix("$"))
    }

    @Test func formalsShadowOuterVariables() {
        let text = "define($a top);\nelementclass E { $a | input -> Paint($a) -> output }\nIdle -> E(3) -> Paint($a) -> Discard;"
        let (flat, _) = flatten(text)
        #expect(flat.elements.filter { $0.className == "Paint" }.map(\.configuration).sorted() == ["3", "top"])
    }
}

@Suite struct RequireTests {
    @Test func requirementsArePrintedFirst() {
        let (flat, log) = flatten("require(package \"foo\", bar, compact_config); Idle -> Discard")
        #expect(!log.hasErrors)
        #expect(flat.unparse().hasPrefix("require(package foo, package bar, compact_config);\n\n"))
    }

    @Test func badRequirement() {
        #expect(errors("require(library a b c)") == ["syntax error at requirement"])
    }

    @Test func libraryIsIncludedOnceAtFileScope() {
        let libs = MemoryLibraries(files: ["lib.click": "elementclass Twice { input -> Counter -> Counter -> output }"])
        let (flat, log) = flatten("require(library lib.click); require(library lib.click); Idle -> Twice -> Discard", libraries: libs)
        #expect(!log.hasErrors, "\(log.text)")
        #expect(flat.elements.filter { $0.className == "Counter" }.count == 2)
        #expect(flatten("elementclass E { require(library lib.click) input -> output }", libraries: libs).1.errorMessages
            .contains("'require library' must be used at file scope"))
        #expect(flatten("require(library missing.click)", libraries: libs).1.errorMessages == ["library 'missing.click' not found in CLICKPATH/conf"])
    }
}

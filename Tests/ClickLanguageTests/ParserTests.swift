import Testing
@testable import ClickLanguage

@Suite struct DeclarationTests {
    @Test func anonymousElementsAreNumberedByIndexInScope() {
        #expect(sortedFlat("InfiniteSource -> f::Foo -> Discard") == [
            "Discard@3 :: Discard;", "InfiniteSource@1 -> f -> Discard@3;", "InfiniteSource@1 :: InfiniteSource;", "f :: Foo;",
        ])
    }

    @Test func anonymousNameCollisionIsBumped() {
        let (flat, log) = flatten("Idle@2 :: Idle; Idle -> Idle@2")
        #expect(!log.hasErrors)
        #expect(flat.elements.map(\.name) == ["Idle@2", "Idle@3"])
    }

    @Test func standaloneMultiDeclarationSpreadsClassAndConfig() {
        let (flat, _) = flatten("a, b, c :: Queue(10);")
        #expect(flat.elements.map { "\($0.name) \($0.className) \($0.configuration)" } == ["a Queue 10", "b Queue 10", "c Queue 10"])
    }

    @Test func declarationInsideConnectionDeclaresOnlyTheLast() {
        #expect(errors("n1, n2 :: Idle -> x :: Idle;", knownClasses: standardClasses) == ["undeclared element 'n1'"])
    }

    @Test func redeclarationIsReportedWithThePreviousPlace() {
        let (_, log) = flatten("x :: Idle;\nx :: Idle;")
        #expect(log.errorMessages == ["redeclaration of element 'x'", "element 'x' previously declared here"])
        #expect(log.diagnostics.map { $0.landmark?.line } == [2, 1])
    }

    @Test func classUsedAsElementName() {
        #expect(errors("Idle :: Counter;", knownClasses: standardClasses) == ["class 'Idle' used as element name"])
    }

    @Test func undeclaredElementWhenClassesAreKnown() {
        #expect(errors("Idle -> q -> Discard;", knownClasses: standardClasses) == ["undeclared element 'q'"])
    }

    @Test func unknownClassWhenClassesAreKnown() {
        #expect(errors("x :: Frobnicate; Idle -> x -> Discard", knownClasses: standardClasses) == ["unknown element class 'Frobnicate'"])
    }

    @Test func allDigitComponent() {
        #expect(errors("a/12 :: Idle;") == ["element name 'a/12' has all-digit component"])
    }

    @Test func configurationOnReferenceIsReported() {
        #expect(errors("x :: Idle; x(1) -> Discard") == ["configuration string ignored on element reference"])
    }

    @Test func missingTypeInDeclaration() {
        #expect(errors("x :: ;").contains("missing element type in declaration"))
    }
}

@Suite struct ConnectionTests {
    @Test func portsAndChains() {
        #expect(sortedFlat("a, b, c :: Idle; a [1] -> [2] b -> c") == [
            "a :: Idle;", "a [1] -> [2] b;", "b -> c;", "b :: Idle;", "c :: Idle;",
        ])
    }

    @Test func duplicateConnectionsAreDropped() {
        let (flat, _) = flatten("a, b :: Idle; a -> b; a -> b; a [0] -> [0] b")
        #expect(flat.connections.count == 1)
    }

    @Test func fanOutAndFanInWithArrow() {
        let (flat, _) = flatten("a, b, c :: Idle; a -> b, c; b, c -> a")
        let pairs = flat.connections.map { "\(flat.elements[$0.from].name)->\(flat.elements[$0.to].name)" }
        #expect(Set(pairs) == ["a->b", "a->c", "b->a", "c->a"])
        #expect(pairs.count == 4)
        // Cycles are printed as chains too.
        #expect(normalized(flat.unparse()).contains("a -> c -> a -> b -> a;"))
    }

    @Test func manyToManyNeedsDoubleArrow() {
        #expect(errors("a, b, c, d :: Idle; a [0, 1] -> c, d") == ["syntax error: many-to-many connections require '=>'"])
    }

    @Test func doubleArrowPairsPortsAndExpands() {
        let expected = ["a -> c;", "a :: Idle;", "a [1] -> b;", "a [2] -> d;", "b :: Idle;", "c :: Idle;", "d :: Idle;"]
        #expect(sortedFlat("a, b, c, d :: Idle;\na [0,1,2] => c, b, d;") == expected)
        #expect(sortedFlat("a, b, c, d :: Idle;\na [0-2] => c, b, d;") == expected)
        #expect(sortedFlat("a, b, c, d :: Idle;\na => c, b, d;") == expected)
        #expect(sortedFlat("a, b, c, d :: Idle;\na [0,] => c, b, d;") == expected)
        #expect(sortedFlat("a, b, c, d :: Idle;\na [] => c, b, d;") == expected)
        #expect(sortedFlat("a, b, c, d :: Idle;\na [0,1,2] => ( -> c ), ( -> b ), d;") == expected)
        #expect(sortedFlat("a, d :: Idle;\na => (-> c :: Idle), (-> b :: Idle), d;") == expected)
    }

    @Test func expandableInputSide() {
        #expect(sortedFlat("a, b, c :: Idle; a, b => [1,] c") == ["a -> [1] c;", "a :: Idle;", "b -> [2] c;", "b :: Idle;", "c :: Idle;"])
    }

    @Test func connectionMismatch() {
        #expect(errors("a, b, c, d, e :: Idle; a [0, 1] => c, d, e") == ["connection mismatch: 2 outputs connected to 3 inputs"])
    }

    @Test func onlyOneExpandableSide() {
        #expect(errors("a, b, c, d :: Idle; a [0,] => [0,] b").contains("at most one expandable port allowed per connection"))
    }

    @Test func uselessPortsAtChainEnds() {
        #expect(errors("a, b :: Idle; [0] a -> b") == ["input ports ignored at start of chain"])
        #expect(errors("a, b :: Idle; a -> b [0]") == ["output ports ignored at end of chain"])
    }

    @Test func bareArrowAtTopLevel() {
        #expect(errors("-> a :: Idle;") == ["syntax error near '->'"])
    }

    @Test func portMustBeInteger() {
        #expect(errors("a, b :: Idle; a [x] -> b").contains("syntax error: port number should be integer"))
    }

    /// Found by the fuzzer: a group with `[222222222]` made the parser build and check
    /// that many ports.
    @Test func hugePortNumbersAreRefused() {
        #expect(errors("a, b :: Idle; a [222222222] -> b").contains("syntax error: port number too large (at most 65535)"))
        #expect(errors("(-> Idle 1[,] => [222222222] x :: Idle;").contains("syntax error: port number too large (at most 65535)"))
        #expect(!errors("a, b :: Idle; a [65535] -> b").contains { $0.contains("too large") })
    }

    @Test func everyErrorIsReportedNotJustTheFirst() {
        let (_, log) = flatten("a :: Idle;\na :: Idle;\nb -> [x] c;\n% ;\nd :: ;", knownClasses: standardClasses)
        #expect(log.errorCount >= 4)
        let lines = Set(log.diagnostics.compactMap { $0.landmark?.line })
        #expect(lines.isSuperset(of: [2, 3, 4, 5]))
    }
}

@Suite struct GroupTests {
    @Test func groupsFormNoScopeAndTheirPortsAreImplied() {
        let text = """
            analyzer, x1, x2 :: Idle;
            x1 -> analyzer -> x2;
            c :: Idle =>
                     [1] analyzer [1],
                     (-> c2 :: Idle => (->), Paint(1) ->)
            -> post_classification :: Idle;
            """
        let lines = sortedFlat(text)
        let paint = lines.first { $0.hasPrefix("Paint@") }.map { String($0.prefix { $0 != " " }) } ?? "?"
        #expect(lines == [
            "\(paint) :: Paint(1);", "analyzer :: Idle;", "analyzer [1] -> post_classification;", "c -> [1] analyzer;",
            "c :: Idle;", "c [1] -> c2 -> post_classification;", "c2 :: Idle;", "c2 [1] -> \(paint) -> post_classification;",
            "post_classification :: Idle;", "x1 -> analyzer -> x2;", "x1 :: Idle;", "x2 :: Idle;",
        ].sorted())
    }

    @Test func groupPortsMustBeUsedInOrder() {
        #expect(errors("a, b :: Idle; a -> ([1] -> b) ").contains("'<anonymous group>' input 0 missing"))
    }

    @Test func unclosedGroup() {
        #expect(errors("a :: Idle; a -> ( -> b :: Idle").contains("expected ')'"))
    }

    @Test func groupInsideCompound() {
        #expect(sortedFlat("elementclass Foo {\n a, d :: Idle;\n a => (-> c :: Idle), (-> b :: Idle), d;\n}\nfoo::Foo;") == [
            "foo/a -> foo/c;", "foo/a :: Idle;", "foo/a [1] -> foo/b;", "foo/a [2] -> foo/d;", "foo/b :: Idle;", "foo/c :: Idle;", "foo/d :: Idle;",
        ])
    }
}

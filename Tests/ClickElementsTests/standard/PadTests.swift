import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct PadTests {
    /// Pad(LENGTH) extends short packets with zeros; Pad alone gives back what Truncate took
    /// (the EXTRA_LENGTH annotation), which it then clears, as Click's.
    @Test func padExtendsToLengthOrByExtraLength() throws {
        let short: [UInt8] = [1, 2, 3, 4, 5, 6]
        #expect(try passThrough("Pad(10)", [short]).out == [short + [0, 0, 0, 0]])
        #expect(try passThrough("Pad(4)", [short]).out == [short])
        #expect(try passThrough("Truncate(2) -> Pad", [short]).out == [[1, 2, 0, 0, 0, 0]])
        #expect(try passThrough("Truncate(2) -> Pad -> Pad", [short]).out == [[1, 2, 0, 0, 0, 0]])
        #expect(try passThrough("Pad", [short]).out == [short])
        #expect(build("Idle -> Pad(-1) -> Discard").log.hasErrors)
    }
}

@Suite struct NeighborhoodTestTests {
    /// Click's neighborhood-01: elements near NeighborhoodTest, breadth first by port.
    @Test func neighboursByDistanceAndPort() throws {
        let b = build("""
            d :: Idle -> c :: Null -> bb :: Null -> a :: Null -> n :: NeighborhoodTest;
            n -> x :: Null -> y :: Null -> z :: Idle;
            a2 :: Idle -> [1] n;
            n[1] -> x2 :: Idle;
            """)
        let r = try #require(b.router, "\(b.log.text)")
        #expect(try r.read("n.upstream") == "a\na2\n")
        #expect(try r.read("n.downstream") == "x\nx2\n")
        #expect(try r.read("n.upstream", parameter: "2") == "a\na2\nbb\n")
        #expect(try r.read("n.upstream0", parameter: "2") == "a\nbb\n")
        #expect(try r.read("n.upstream1", parameter: "2") == "a2\n")
        #expect(try r.read("n.downstream1") == "x2\n")
        #expect(try r.read("n.downstream", parameter: "9") == "x\nx2\ny\nz\n")
        #expect(throws: (any Error).self) { try r.read("n.upstream", parameter: "far") }
    }
}

@Suite struct AlignmentInfoTests {
    /// Click's AlignmentInfo-01 and its checks: reported under the element, and the router
    /// still runs (as Click's, whose configure does not fail).
    @Test func alignmentInfoIsCheckedAndRuns() throws {
        let ok = build("AlignmentInfo(src 8 2) AlignmentInfo(dst 8 2) src :: Idle -> dst :: Discard")
        #expect(ok.router != nil && !ok.log.hasErrors && ok.chatter.isEmpty, "\(ok.log.text)")
        let conflict = build("AlignmentInfo(src 8 2) AlignmentInfo(src 4 2) src :: Idle -> dst :: Discard")
        #expect(conflict.router != nil)
        #expect(conflict.chatter.joined().contains("While configuring 'AlignmentInfo@2 :: AlignmentInfo':\n  conflicting AlignmentInfo for 'src'"), "\(conflict.chatter)")
        let bad = build("AlignmentInfo(src x y, nosuch 1 1) src :: Idle -> dst :: Discard")
        #expect(bad.router != nil)
        #expect(bad.chatter.joined().hasSuffix("\n  expected CHUNK\n  expected OFFSET"), "\(bad.chatter)")
    }
}

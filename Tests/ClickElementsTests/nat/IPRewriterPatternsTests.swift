import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// Expected texts are Click 2.1's for the same configurations.
@Suite struct IPRewriterPatternsTests {
    @Test func namedPatternsServeRewritersOfBothKinds() throws {
        let b = build("""
            IPRewriterPatterns(to_world 1.0.0.1 1024-65535# - -, alias 2.0.0.0/24 -);
            i :: Idle -> rw :: IPRewriter(pattern to_world 0 1, drop) -> Discard; i[1] -> [1] rw [1] -> Discard;
            Idle -> ar :: IPAddrRewriter(pattern alias 0 0) -> Discard
            """)
        let r = try #require(b.router, "\(b.log.text)")
        #expect(try r.read("rw.patterns") == "1.0.0.1 1024-65535 - -\n<drop>\n")
        #expect(try r.read("ar.patterns") == "2.0.0.1-2.0.0.254 -\n")
    }

    @Test func namesAreUniqueAndPatternsChecked() {
        let b = build("IPRewriterPatterns(a 1.0.0.1 1 - -, a 1.0.0.2 1 - -, b 1.0.0.1 x - -)")
        #expect(b.router == nil)
        #expect(b.log.text.contains("While configuring 'IPRewriterPatterns@1 :: IPRewriterPatterns':\n  pattern 'a' already defined\n  bad source port"), "\(b.log.text)")
        let missing = build("Idle -> rw :: IPRewriter(pattern nope 0 0) -> Discard")
        #expect(missing.log.text.contains("input spec 0: no such pattern 'nope'"), "\(missing.log.text)")
    }
}

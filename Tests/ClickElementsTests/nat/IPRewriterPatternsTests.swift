import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct IPRewriterPatternsTests {
    @Test func patternsHandler() throws {
        let b = build("Idle -> rw :: IPRewriter(pattern 1.0.0.1 1024-65535# - - 0 1) -> Discard; rw [1] -> Discard")
        #expect(try b.router?.read("rw.patterns") == "1.0.0.1 1024-65535# - - 0 1\n")
    }
}

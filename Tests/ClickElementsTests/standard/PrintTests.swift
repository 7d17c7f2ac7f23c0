import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct PrintTests {
    @Test func printFormatsLikeClick() throws {
        let (_, lines) = buildAndRun("""
            InfiniteSource(DATA "I love myself\\n", LIMIT 1, STOP true) -> Print -> Discard;
            InfiniteSource(DATA "", LIMIT 1, STOP true) -> Print(1) -> Discard;
            InfiniteSource(DATA "abc", LIMIT 1, STOP true) -> Print(x, CONTENTS ASCII) -> Discard;
            """)
        #expect(lines.contains("  14 | 49206c6f 7665206d 7973656c 660a"))
        #expect(lines.contains("1:    0"))
        #expect(lines.contains("x:    3 | abc"))
    }
}

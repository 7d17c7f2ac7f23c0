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
        #expect(lines.contains("x:    3 |  abc"))
    }

    /// Click 2.1's line for the same packet: annotations in hex without spaces, ASCII with a
    /// space before every eighth character, a negative MAXLENGTH printing everything.
    @Test func printAnnotationsAndLongASCIIAsClick() throws {
        let (_, lines) = buildAndRun("""
            InfiniteSource(DATA "abcdefghijklmnopq", LIMIT 1, STOP true) -> Paint(7)
              -> Print(y, CONTENTS ASCII, MAXLENGTH -1, PRINTANNO true) -> Discard;
            """)
        let annos = "00000000000000000000000000000000" + "07" + String(repeating: "0", count: 62)
        #expect(lines.contains("y:   17 | \(annos) |  abcdefgh ijklmnop q"))
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct SetTimestampTests {
    @Test func setTimestamp() throws {
        let (b, lines) = buildAndRun("InfiniteSource(DATA \"\", LIMIT 1, STOP true) -> SetTimestamp(5.25) -> Print(t, TIMESTAMP true) -> Discard")
        #expect(b.router != nil)
        #expect(lines == ["t: 5.250000:    0"])
    }
}

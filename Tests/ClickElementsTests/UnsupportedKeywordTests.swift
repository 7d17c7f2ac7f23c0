import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

/// Keywords Click accepts that this implementation does not act on: each warns and the
/// configuration still loads.
@Suite struct UnsupportedKeywordTests {
    @Test func unsupportedKeywordsWarn() throws {
        let b = build("Idle -> AggregateIPFlows(REAP 10) -> Discard")
        let r = try #require(b.router, "\(b.log.text)")
        _ = r
        #expect(b.chatter.contains { $0.contains("warning: REAP is not supported and has no effect") })
    }
}

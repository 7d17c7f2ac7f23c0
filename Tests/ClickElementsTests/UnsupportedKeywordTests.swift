import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

/// Keywords Click accepts that this implementation does not act on: each warns and the
/// configuration still loads.
@Suite struct UnsupportedKeywordTests {
    @Test func theyWarnAndTheConfigurationLoads() throws {
        let b = build("Idle -> rw :: IPRewriter(pattern 1.0.0.1 1024-2000 - - 0 0, TCP_GUARANTEE 5) -> Discard")
        let r = try #require(b.router, "\(b.log.text)")
        _ = r
        #expect(b.chatter.contains { $0.contains("While configuring 'rw :: IPRewriter':\n  warning: TCP_GUARANTEE is not supported and has no effect") }, "\(b.chatter)")
    }

    @Test func unsupportedKeywordsWarn() throws {
        let b = build("Idle -> AggregateIPFlows(REAP 10) -> Discard")
        let r = try #require(b.router, "\(b.log.text)")
        _ = r
        #expect(b.chatter.contains { $0.contains("warning: REAP is not supported and has no effect") })
    }
}

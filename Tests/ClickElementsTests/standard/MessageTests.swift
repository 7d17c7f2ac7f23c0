import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct MessageTests {
    @Test func messageReportsAtConfiguration() throws {
        let b = build("m :: Message(\"hello there\")")
        #expect(b.router != nil)
        #expect(build("Message(bad, ERROR)").log.errorMessages.contains("  bad"))
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct AddressInfoTests {
    @Test func addressInfoNamesReachOtherElements() throws {
        let b = build("AddressInfo(n 10.0.0.1 1.2.3.4.5); Idle -> Discard")
        #expect(b.log.errorMessages.contains("  \"1.2.3.4.5\" is not a recognizable address"))
        // A mandatory positional argument takes keyword-looking text, as in Click.
        #expect(build("Idle -> Paint(ANNO 4) -> Discard").log.errorMessages.contains("  COLOR: invalid number"))
        let ok = build("AddressInfo(n 10.0.0.1); Idle -> Discard")
        #expect(ok.router?.addressNames.ipv4("n", context: "x")?.description == "10.0.0.1")
    }
}

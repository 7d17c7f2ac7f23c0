import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct StaticSwitchTests {
    @Test func everyPacketGoesToTheConfiguredOutput() throws {
        let (out, _) = try sort([[1], [2], [3]], through: "StaticSwitch(1)", outputs: 3)
        #expect(out[0] == [] && out[1] == [[1], [2], [3]] && out[2] == [])
    }

    @Test func minusOneDropsEverything() throws {
        let (out, b) = try sort([[1], [2]], through: "StaticSwitch(-1)", outputs: 2)
        #expect(out[0] == [] && out[1] == [])
        #expect(b.router?.pool.outstanding == 0)
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct RandomSwitchTests {
    @Test func spreadsPacketsOverEveryOutput() throws {
        let (out, b) = try sort((0..<3000).map { [UInt8($0 & 0xFF)] }, through: "RandomSwitch", outputs: 3)
        #expect(out.map(\.count).reduce(0, +) == 3000)
        #expect(out.allSatisfy { $0.count > 800 && $0.count < 1200 })
        #expect(b.router?.pool.outstanding == 0)
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct HashSwitchTests {
    /// The outputs Click 2.1 chooses for these packets (checked with its userlevel driver).
    @Test func choosesTheOutputFromTheHashedBytesAsClickDoes() throws {
        let (out, _) = try sort([[0, 1, 2, 3, 4, 5], [0, 7, 9, 3]], through: "HashSwitch(1, 2)", outputs: 3)
        #expect(out[0] == [[0, 1, 2, 3, 4, 5]])
        #expect(out[1] == [[0, 7, 9, 3]])
        #expect(out[2] == [])
    }

    /// As in Click: a packet too short for the field goes to output 0.
    @Test func aPacketShorterThanTheFieldGoesToOutputZero() throws {
        let (out, _) = try sort([[0], [0, 7]], through: "HashSwitch(1, 2)", outputs: 2)
        #expect(out[0] == [[0], [0, 7]] && out[1] == [])
        #expect(build("Idle -> HashSwitch(0, 0) -> Discard").log.errorMessages.contains { $0.contains("length must be > 0") })
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct SetIPECNTests {
    @Test func setIPECNMarksAndKeepsTheChecksum() throws {
        let packet = Frames.ipv4(src: [1, 0, 0, 1], dst: [1, 0, 0, 2])
        let (b, _) = buildAndRun("InfiniteSource(DATA \\<\(hex(packet))>, LIMIT 1, STOP true) -> CheckIPHeader -> e :: SetIPECN(ECT(0)) -> SetIPECN(ce) -> CheckIPHeader -> c :: Collector")
        let got = try #require(b.element("c", as: Collector.self)?.packets.first, "\(b.log.text)")
        #expect(got[1] & 3 == 3)
        #expect(Frames.isValidIPChecksum(got[...]))
        #expect(try b.router?.read("e.ecn") == "2")
        #expect(build("Idle -> SetIPECN(purple) -> Discard").log.text.contains("ECN: bad ECN value 'purple'"))
        #expect(build("Idle -> SetECN(ce) -> Discard").router != nil)
    }
}

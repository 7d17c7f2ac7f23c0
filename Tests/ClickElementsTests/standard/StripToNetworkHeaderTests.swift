import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct StripToNetworkHeaderTests {
    @Test func stripsUpToTheNetworkHeaderAnnotation() throws {
        let frame = Frames.ether(dst: [2, 0, 0, 0, 0, 2], src: [2, 0, 0, 0, 0, 1], type: 0x0800,
                                 Frames.ipv4(src: [1, 0, 0, 1], dst: [2, 0, 0, 2]))
        let b = build("inj :: Injector -> MarkIPHeader(14) -> StripToNetworkHeader -> c :: Collector")
        try #require(b.element("inj", as: Injector.self), "\(b.log.text)").inject([frame])
        #expect(b.element("c", as: Collector.self)?.packets == [Array(frame[14...])])
    }
}

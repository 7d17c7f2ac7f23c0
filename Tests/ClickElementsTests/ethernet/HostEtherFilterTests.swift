import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct HostEtherFilterTests {
    @Test func hostEtherFilter() throws {
        let b = build("inj :: Injector -> f :: HostEtherFilter(00:00:00:00:00:01); f [0] -> mine :: Collector; f [1] -> other :: Collector")
        let inj = try #require(b.element("inj", as: Injector.self), "\(b.log.text)")
        let src: [UInt8] = [0, 0, 0, 0, 0, 9]
        inj.inject([Frames.ether(dst: [0, 0, 0, 0, 0, 1], src: src, type: 0x0800, [1]),
                    Frames.ether(dst: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], src: src, type: 0x0800, [2]),
                    Frames.ether(dst: [0, 0, 0, 0, 0, 2], src: src, type: 0x0800, [3])])
        #expect(b.element("mine", as: Collector.self)?.packets.count == 2)
        #expect(b.element("other", as: Collector.self)?.packets.count == 1)
    }

    @Test func hostEtherFilterDropOtherFalseKeepsOtherHosts() throws {
        let other = [0x02, 0, 0, 0, 0, 9] + [UInt8](repeating: 0xBB, count: 6) + [0x08, 0x00] + [UInt8](repeating: 0, count: 20)
        for (dropOther, kept) in [("true", 0), ("false", 1)] {
            let b = build("inj :: Injector -> HostEtherFilter(02:00:00:00:00:01, DROP_OTHER \(dropOther)) -> col :: Collector")
            _ = try #require(b.router, "\(b.log.text)")
            try #require(b.element("inj", as: Injector.self)).inject([other])
            #expect(b.element("col", as: Collector.self)?.packets.count == kept)
        }
    }
}

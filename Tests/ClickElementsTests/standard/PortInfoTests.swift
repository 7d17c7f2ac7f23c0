import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct PortInfoTests {
    /// PortInfo names become port numbers for elements configured after it (as Click's
    /// IPClassifier reads them).
    @Test func namedPortsReachTheClassifiers() throws {
        let frame = Frames.ipv4(src: [1, 0, 0, 1], dst: [2, 0, 0, 2], proto: 6, sport: 1000, dport: 2222)
        let b = build("PortInfo(myssh 2222/tcp); inj :: Injector -> MarkIPHeader -> c :: IPClassifier(dst tcp port myssh, -); c[0] -> yes :: Collector; c[1] -> no :: Collector")
        try #require(b.element("inj", as: Injector.self), "\(b.log.text)").inject([frame])
        #expect(b.element("yes", as: Collector.self)?.packets == [frame])
    }

    @Test func badEntriesAreReported() {
        #expect(build("PortInfo(web)").log.hasErrors)
        #expect(build("PortInfo(web 99999999)").log.hasErrors)
    }
}

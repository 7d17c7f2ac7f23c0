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
        #expect(build("PortInfo(web 80x)").log.errorMessages.contains("  expected 'NAME PORT/PROTO'"))
    }

    /// Click's forms: more names after the port, `#` comments inside and as whole
    /// arguments, empty arguments, and a protocol other than tcp/udp skipped silently.
    /// UDPIPEncap takes the names (inner compounds' first), then the services list.
    @Test func aliasesCommentsAndScopes() throws {
        let b = build("""
            PortInfo(foo 79/udp bar # ssh 25/udp comment, # ssh 26/udp comment, , odd 5/sctp);
            i :: Injector -> UDPIPEncap(1.0.0.1, foo, 1.0.0.1, bar) -> a :: Collector;
            j :: Injector -> { input -> UDPIPEncap(1.0.0.3, foo, 1.0.0.3, ssh) -> output; PortInfo(foo 80/udp ssh) } -> c :: Collector;
            k :: Injector -> UDPIPEncap(1.0.0.1, ssh, 1.0.0.1, 7) -> d :: Collector;
            """)
        #expect(!b.log.hasErrors, "\(b.log.text)")
        for name in ["i", "j", "k"] { try #require(b.element(name, as: Injector.self)).inject([[1, 2, 3]]) }
        func ports(_ c: String) -> [UInt8] { Array((b.element(c, as: Collector.self)?.packets.first ?? [])[20..<24]) }
        #expect(ports("a") == [0, 79, 0, 79])
        #expect(ports("c") == [0, 80, 0, 80])
        #expect(ports("d") == [0, 22, 0, 7])
        #expect(build("Idle -> IPFilter(allow dst port odd) -> Discard; PortInfo(odd 5/sctp)").log.hasErrors)
    }
}

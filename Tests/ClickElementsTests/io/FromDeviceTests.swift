import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

/// FromDevice's own checks; its packets through real interfaces are in PacketSocketTests
/// (AF_PACKET) and in VMHostTests (VM ports over memif).
@Suite struct FromDeviceTests {
    @Test func aVMPortWithoutPortsSaysHowToGiveOne() {
        let b = build("FromDevice(0) -> Discard")
        #expect(b.router == nil)
        #expect(b.log.text.contains("VM port 0: this router has no VM ports (give them with --port 0=memif:ROLE:PATH)"), "\(b.log.text)")
    }

    @Test func methodsAreClicks() {
        #expect(build("FromDevice(nosuchdev0, METHOD BOGUS) -> Discard").log.errorMessages.contains { $0.contains("bad METHOD") })
        let netmap = build("FromDevice(0, METHOD NETMAP) -> Discard")
        #expect(netmap.chatter.contains { $0.contains("warning: METHOD NETMAP is not supported; packets go through AF_PACKET") }, "\(netmap.chatter)")
    }

    /// As root, a packet socket on the loopback interface receives the frames sent on it
    /// (the ring hands a block over within its 1 ms retire timeout).
    @Test(.enabled(if: getuid() == 0, "needs root to open AF_PACKET sockets"))
    func receivesWhatTheInterfaceCarries() throws {
        // Only this test's frames count: other tests use the loopback interface at the same
        // time (McastSocket's datagrams, for one).
        let b = build("f :: FromDevice(lo) -> Classifier(12/88b5 14/0909090909090909) -> c :: Counter -> Discard; inj :: Injector -> ToDevice(lo)", simulatedTime: false)
        let r = try #require(b.router, "\(b.log.text)")
        let frame: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x88, 0xB5] + Array(repeating: 9, count: 46)
        try #require(b.element("inj", as: Injector.self)).inject([frame, frame, frame])
        let f = try #require(r.element(named: "f"))
        for _ in 0..<200 where try r.read("c.count") != "3" {
            usleep(1_000)
            f.selected(fd: 0)
        }
        #expect(try r.read("c.count") == "3")
        r.cleanup()
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct ToDeviceTests {
    @Test func aMissingInterfaceIsReportedAtInitialization() {
        let b = build("Idle -> ToDevice(nosuchdev0)")
        #expect(b.router == nil)
        #expect(b.log.text.contains("nosuchdev0"), "\(b.log.text)")
    }

    /// A VM port number in a router without VM ports is refused, saying how to give one.
    @Test func aVMPortWithoutPortsSaysHowToGiveOne() {
        let b = build("Idle -> ToDevice(3)")
        #expect(b.log.text.contains("VM port 3: this router has no VM ports"), "\(b.log.text)")
    }

    /// As root, frames pushed into ToDevice(lo) are sent and counted.
    @Test(.enabled(if: getuid() == 0, "needs root to open AF_PACKET sockets"))
    func pushedFramesAreSentAndCounted() throws {
        let b = build("inj :: Injector -> t :: ToDevice(lo)", simulatedTime: false)
        let r = try #require(b.router, "\(b.log.text)")
        let frame: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x88, 0xB5] + Array(repeating: 7, count: 46)
        try #require(b.element("inj", as: Injector.self)).inject([frame, frame])
        #expect(try r.read("t.count") == "2")
        #expect(try r.read("t.drops") == "0")
        #expect(r.pool.outstanding == 0)
    }
}

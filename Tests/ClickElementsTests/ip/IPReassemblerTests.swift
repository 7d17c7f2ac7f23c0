import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct IPReassemblerTests {
    static let datagram = Frames.ipv4(src: [10, 0, 0, 1], dst: [10, 0, 0, 2], payload: 1372)

    /// The fragments IPFragmenter makes of `datagram` for a 576-byte MTU.
    func fragments() throws -> [[UInt8]] {
        let hex = Self.datagram.map { String(format: "%02x", $0) }.joined()
        let (b, _) = buildAndRun("InfiniteSource(DATA \\<\(hex)>, LIMIT 1, STOP true) -> CheckIPHeader -> IPFragmenter(576) -> c :: Collector")
        let f = try #require(b.element("c", as: Collector.self)?.packets, "\(b.log.text)")
        #expect(f.count == 3)
        return f
    }

    func reassembler(_ config: String = "", also: String = "") throws -> (Built, Injector, Router) {
        let b = build("i :: Injector -> CheckIPHeader -> r :: IPReassembler(\(config)) -> c :: Collector; r [1] -> dropped :: Collector; \(also)")
        let r = try #require(b.router, "\(b.log.text)")
        return (b, try #require(b.element("i", as: Injector.self)), r)
    }

    @Test func rebuildsDatagramsInAnyOrder() throws {
        let f = try fragments()
        for order in [f, f.reversed(), [f[1], f[0], f[2]]] {
            let (b, i, r) = try reassembler()
            for frag in order { i.inject([frag]) }
            #expect(b.element("c", as: Collector.self)?.packets == [Self.datagram])
            #expect(try r.read("r.mem_size") == "0" && r.read("r.datagrams") == "0")
            #expect(r.pool.outstanding == 0)
        }
    }

    @Test func passesWholePacketsAndDropsStaleFragments() throws {
        let f = try fragments()
        // Simulated time: the script ends the run 40 s in, after the 30 s timeout.
        let (b, i, r) = try reassembler("TIMEOUT 30", also: "Script(wait 40, stop)")
        let whole = Frames.ipv4(src: [1, 1, 1, 1], dst: [2, 2, 2, 2])
        i.inject([whole, f[0], f[2]])
        #expect(b.element("c", as: Collector.self)?.packets == [whole])
        #expect(try r.read("r.datagrams") == "1")
        r.run()
        #expect(try r.read("r.datagrams") == "0" && r.read("r.drops") == "2" && r.read("r.mem_size") == "0")
        #expect(b.element("dropped", as: Collector.self)?.packets == [f[0], f[2]])
        #expect(r.pool.outstanding == 0)
    }
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// Configurations nested or chained far beyond any real one: each is either handled
/// without recursion or refused with an error that says where. All of these overflowed the
/// stack (SIGSEGV) before.
@Suite struct DeepNestingTests {
    @Test func filterExpressionsNestToALimit() throws {
        let deep = String(repeating: "(", count: 50_000) + "tcp" + String(repeating: ")", count: 50_000)
        let b = build("Idle -> IPFilter(allow \(deep)) -> Discard")
        #expect(b.router == nil)
        #expect(b.log.errorMessages.contains { $0.contains("expression nested too deeply (more than 200 levels of parentheses or '?:')") }, "\(b.log.text)")
        let fine = String(repeating: "(", count: 150) + "tcp" + String(repeating: ")", count: 150)
        #expect(build("Idle -> IPFilter(allow \(fine)) -> Discard").router != nil)
        // Chained ?: nest too.
        let choices = String(repeating: "tcp ? udp : ", count: 300) + "icmp"
        #expect(build("Idle -> c :: IPClassifier(\(choices), -) -> Discard; c[1] -> Discard").log.errorMessages.contains {
            $0.contains("expression nested too deeply")
        })
    }

    @Test func longChainsOfNotAndOrNeedNoStack() throws {
        // 200,000 `not`s: counted, not recursed into (an even number cancels out).
        let nots = String(repeating: "not ", count: 200_000)
        let b = build("i :: Injector -> CheckIPHeader -> c :: IPClassifier(\(nots)tcp, -); c[0] -> k0 :: Collector; c[1] -> k1 :: Collector")
        let r = try #require(b.router, "\(b.log.text)")
        let tcp = Frames.ipv4(src: [1, 1, 1, 1], dst: [2, 2, 2, 2], proto: 6, sport: 1, dport: 2)
        try #require(r.element(named: "i") as? Injector).inject([tcp])
        #expect(try #require(r.element(named: "k0") as? Collector).packets.count == 1)
        // 100,000 alternatives in one rule: a flat list, compiled to one table.
        let hosts = (0..<100_000).map { "src host 10.\($0 >> 16).\(($0 >> 8) & 255).\($0 & 255)" }.joined(separator: " or ")
        let o = build("i :: Injector -> CheckIPHeader -> f :: IPFilter(allow \(hosts)) -> k :: Collector")
        let or = try #require(o.router, "\(o.log.text)")
        let inside = Frames.ipv4(src: [10, 1, 134, 159], dst: [2, 2, 2, 2], proto: 17, sport: 1, dport: 2)   // host 99,999
        let outside = Frames.ipv4(src: [10, 2, 0, 0], dst: [2, 2, 2, 2], proto: 17, sport: 1, dport: 2)
        try #require(or.element(named: "i") as? Injector).inject([inside, outside])
        #expect(try #require(or.element(named: "k") as? Collector).packets == [inside])
    }

    @Test func compoundChainsExpandWithoutRecursionUpToALimit() throws {
        func chain(_ n: Int) -> String {
            var lines = ["elementclass A0 { input -> output }"]
            for i in 1..<n { lines.append("elementclass A\(i) { input -> A\(i - 1) -> output }") }
            lines.append("i :: Injector -> A\(n - 1) -> k :: Collector;")
            return lines.joined(separator: "\n")
        }
        let b = build(chain(1_000))
        let r = try #require(b.router, "\(b.log.text)")
        try #require(r.element(named: "i") as? Injector).inject([[1, 2, 3]])
        #expect(try #require(r.element(named: "k") as? Collector).packets == [[1, 2, 3]])
        let deep = build(chain(10_000))
        #expect(deep.router == nil)
        #expect(deep.log.text.contains("config:9001: compound elements nested more than 1000 deep"), "\(deep.log.text.prefix(300))")
    }
}

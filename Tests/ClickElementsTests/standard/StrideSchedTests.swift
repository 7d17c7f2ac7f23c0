import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct StrideSchedTests {
    @Test func strideSchedSharesByTickets() throws {
        let b = build("""
            a :: Injector -> qa :: Queue -> [0] s :: StrideSched(1, 3); bb :: Injector -> qb :: Queue -> [1] s
            s -> u :: Unqueue(ACTIVE false, LIMIT 40) -> col :: Collector
            """)
        let r = try #require(b.router, "\(b.log.text)")
        try #require(b.element("a", as: Injector.self)).inject(Array(repeating: [0xA], count: 40))
        try #require(b.element("bb", as: Injector.self)).inject(Array(repeating: [0xB], count: 40))
        try drain(r, "u")
        let got = try #require(b.element("col", as: Collector.self)).packets
        #expect(got.count == 40)
        let fromB = got.filter { $0 == [0xB] }.count
        #expect(fromB >= 29 && fromB <= 31, "input 1 gave \(fromB) of 40")
        #expect(try r.read("s.tickets1") == "3")

        // An empty input does not hold the other back; 0 tickets switch an input off.
        try r.write("s.tickets1", "0")
        try r.write("u.reset", "")
        try drain(r, "u")
        #expect(try r.read("qb.length") == "10")
        #expect(try r.read("qa.length") == "0")
    }

    @Test func strideSchedConfigurationErrors() {
        let neg = build("Idle -> [0] s :: StrideSched(-1); Idle -> [1] s; s -> Unqueue -> Discard")
        #expect(neg.router == nil)
        #expect(neg.log.text.contains("tickets must be >= 0"), "\(neg.log.text)")
        let count = build("Idle -> [0] s :: StrideSched(1); Idle -> [1] s; s -> Unqueue -> Discard")
        #expect(count.router == nil)
        #expect(count.log.text.contains("one per input port"), "\(count.log.text)")
    }
}

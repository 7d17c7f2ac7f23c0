import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct RandomSeedTests {
    @Test func randomSeedMakesRandomChoicesRepeat() throws {
        func choices() throws -> [Int] {
            let b = build("RandomSeed(42); inj :: Injector -> s :: RandomSwitch; s[0] -> c0 :: Counter -> Discard; s[1] -> c1 :: Counter -> Discard")
            let r = try #require(b.router, "\(b.log.text)")
            let inj = try #require(b.element("inj", as: Injector.self))
            var seen: [Int] = []
            for _ in 0..<32 {
                let before = Int(try r.read("c1.count")) ?? 0
                inj.inject([[1]])
                seen.append((Int(try r.read("c1.count")) ?? 0) - before)
            }
            return seen
        }
        let first = try choices()
        #expect(first == (try choices()))
        #expect(first.contains(0) && first.contains(1))
    }
}

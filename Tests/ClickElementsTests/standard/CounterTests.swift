import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

@Suite struct CounterTests {
    @Test func countsPacketsAndBytes() throws {
        let (b, _) = buildAndRun("InfiniteSource(DATA \"12345\", LIMIT 10, STOP true) -> c :: Counter -> Discard")
        let r = try #require(b.router)
        #expect(try r.read("c.count") == "10")
        #expect(try r.read("c.byte_count") == "50")
        try r.write("c.reset", "")
        #expect(try r.read("c.count") == "0")
    }

    @Test func countCallFiresAtTheCount() throws {
        let (b, _) = buildAndRun("InfiniteSource(LIMIT 100) -> c :: Counter(COUNT_CALL 5 stop) -> Discard")
        let n = Int(try #require(b.router).read("c.count")) ?? 0
        #expect(n >= 5 && n < 100)
    }

    @Test func badCountCall() {
        let b = build("Idle -> Counter(COUNT_CALL x) -> Discard")
        #expect(b.log.errorMessages.contains("  COUNT_CALL: expected 'N HANDLER [VALUE]'"))
    }

    @Test func aMisspeltCallFailsAtInitializationInClicksWords() {
        let missingElement = build("InfiniteSource(LIMIT 5, END_CALL nosuch.x) -> Discard")
        #expect(missingElement.router == nil)
        #expect(missingElement.log.errorMessages.contains("  no element named 'nosuch'"))
        let missingHandler = build("i :: InfiniteSource(LIMIT 5, END_CALL i.bogus) -> Discard")
        #expect(missingHandler.log.errorMessages.contains("  no 'i.bogus' write handler"))
        let readOnly = build("Idle -> c :: Counter(COUNT_CALL 3 c.count) -> Discard")
        #expect(readOnly.log.errorMessages.contains("  no 'c.count' write handler"))
    }

    @Test func namesAreFoundInTheCallersCompoundFirst() throws {
        let (b, _) = buildAndRun("""
            elementclass Pair { input -> c :: Counter(COUNT_CALL 2 d.reset) -> d :: Counter -> output }
            InfiniteSource(LIMIT 3, STOP true) -> p :: Pair -> Discard
            """)
        let r = try #require(b.router, "\(b.log.text)")
        // `d` (found in p's compound) is reset as the second packet reaches c, before it
        // goes on: d counts the second and the third.
        #expect(try r.read("p/d.count") == "2")
    }

    @Test func resetRearmsCountCall() throws {
        let (b, _) = buildAndRun("InfiniteSource(LIMIT 5, STOP true) -> c :: Counter(COUNT_CALL 3 c.reset) -> Discard")
        let r = try #require(b.router, "\(b.log.text)")
        // Click: the reset at 3 re-arms, and 2 more packets follow.
        #expect(try r.read("c.count") == "2")
        #expect(try r.read("c.count_call") == "3")
    }

    @Test func countCallWrittenAtRunTimeIsChecked() throws {
        let b = build("Idle -> c :: Counter -> Discard")
        let r = try #require(b.router)
        #expect(throws: HandlerError.self) { try r.write("c.count_call", "5 nosuch.reset") }
        try r.write("c.count_call", "5 c.reset")
        #expect(try r.read("c.count_call") == "5")
    }
}

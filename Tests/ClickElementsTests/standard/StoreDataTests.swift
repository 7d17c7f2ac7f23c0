import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// StoreData and CheckLength against Click 2.1: the same configuration printed these lines.
@Suite struct StoreDataTests {
    @Test func clickAgreesStoreDataAndCheckLength() {
        let (b, lines) = buildAndRun("""
            InfiniteSource(DATA \\<00010203 04050607 08>, LIMIT 1, STOP true) -> t :: Tee(3) -> StoreData(2, \\<aabbcc>) -> Print(a) -> Discard;
            t[1] -> StoreData(7, \\<aabbcc>) -> Print(b) -> Discard;
            t[2] -> StoreData(9, \\<aa>) -> c :: CheckLength(8) -> Print(c) -> Discard; c[1] -> Print(long) -> Discard;
            InfiniteSource(DATA \\<0001>, LIMIT 1, STOP true) -> CheckLength(2) -> Print(short) -> Discard
            """)
        #expect(b.router != nil, "\(b.log.text)")
        #expect(lines.sorted() == ["a:    9 | 0001aabb cc050607 08", "b:    9 | 00010203 040506aa bb", "long:    9 | 00010203 04050607 08",
                                   "short:    2 | 0001"])
    }

    @Test func missingArgumentsAreRefused() {
        #expect(build("Idle -> StoreData(2) -> Discard").log.errorMessages.contains("  DATA: required argument missing"))
        #expect(build("Idle -> CheckLength -> Discard").log.errorMessages.contains("  LENGTH: required argument missing"))
    }
}

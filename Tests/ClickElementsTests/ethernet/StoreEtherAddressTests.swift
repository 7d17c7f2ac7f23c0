import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// StoreEtherAddress against Click 2.1: the same configurations printed these lines and
/// these errors.
@Suite struct StoreEtherAddressTests {
    @Test func clickAgreesStoreEtherAddress() {
        let (b, lines) = buildAndRun("""
            InfiniteSource(LIMIT 1, STOP true, LENGTH 14) -> t :: Tee(4) -> StoreEtherAddress(1:2:3:4:5:6, src) -> Print(src, 14) -> Discard;
            t[1] -> StoreEtherAddress(a:b:c:d:e:f, 2) -> Print(two, 14) -> Discard;
            t[2] -> StoreEtherAddress(1:2:3:4:5:6, 9) -> Print(short, 14) -> Discard;
            t[3] -> Paint(5, 20) -> StoreEtherAddress(OFFSET dst, ANNO 18) -> Print(anno, 14) -> Discard
            """)
        #expect(b.router != nil, "\(b.log.text)")
        #expect(lines == ["src:   14 | 52616e64 6f6d0102 03040506 6869", "two:   14 | 52610a0b 0c0d0e0f 756c6c73 6869",
                          "anno:   14 | 00000500 00002062 756c6c73 6869"])
    }

    @Test(arguments: [
        ("StoreEtherAddress(OFFSET src)", "  must specify exactly one of ADDR/ANNO"),
        ("StoreEtherAddress(1:2:3:4:5:6, src, ANNO 18)", "  must specify exactly one of ADDR/ANNO"),
        ("StoreEtherAddress(1:2:3:4:5:6, foo)", "  type mismatch: bad OFFSET"),
    ])
    func refusedInClicksWords(_ config: String, _ message: String) {
        #expect(build("Idle -> \(config) -> Discard").log.errorMessages.contains(message))
    }
}

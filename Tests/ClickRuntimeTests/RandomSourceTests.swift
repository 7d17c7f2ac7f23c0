import Testing
@testable import ClickRuntime

/// The router's generator is the C library's `random()`, as Click's userlevel driver
/// draws: the expected values are glibc's `srandom(SEED); random()` outputs.
@Suite struct RandomSourceTests {
    @Test func seededDrawsAreTheCLibrarys() {
        let expected: [UInt64: [UInt32]] = [
            1: [1_804_289_383, 846_930_886, 1_681_692_777, 1_714_636_915, 1_957_747_793],
            0: [1_804_289_383, 846_930_886, 1_681_692_777, 1_714_636_915, 1_957_747_793],
            12345: [383_100_999, 858_300_821, 357_768_173, 455_528_251, 133_005_921],
            3_000_000_000: [2_058_147_116, 854_483_408, 922_419_988, 286_396_165, 2_068_523_933],
        ]
        for (seed, values) in expected {
            var r = RandomSource(seed: seed)
            #expect((0..<5).map { _ in r.clickRandom() } == values, "seed \(seed)")
        }
    }

    @Test func rangesStayInBoundsAndFollowClicksDraws() {
        var r = RandomSource(seed: 1)
        // click_random(0, 9): count = 2^31 / 10; the first draw 1804289383 gives 8.
        #expect(r.clickRandom(0, 9) == 8)
        #expect(r.clickRandom(5, 5) == 5)
        #expect(r.clickRandom(7, 3) == 7)
        for _ in 0..<1000 {
            let v = r.clickRandom(1024, 65534)
            #expect(v >= 1024 && v <= 65534)
        }
    }
}

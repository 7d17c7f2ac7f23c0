import ClickLanguage
import ClickRuntime

/// TokenBucketTest()
///
/// Click's self-test of its token bucket, run here against this project's TokenBucket (the
/// one the rated elements use): rates and capacities, refills by the jiffy, removal, the
/// time until tokens arrive, idle and unlimited rates. On initialization it reports
/// "All tests pass!", or fails naming the first check that did not hold.
///
/// Ports: none.
public final class TokenBucketTest: Element {
    public override var portCount: String { "0/0" }

    public override func initialize() throws(ElementError) {
        var failed: [String] = []
        func check(_ ok: Bool, _ what: String, line: Int = #line) {
            if !ok && failed.isEmpty { failed.append("TokenBucketTest.swift:\(line): test `\(what)' failed") }
        }
        let hz = TokenBucket.frequency
        var tb = TokenBucket()
        tb.assign(rate: 1024, capacity: 2048)
        check(tb.rate >= 1022 && tb.rate <= 1026, "tb.rate() >= 1022 && tb.rate() <= 1026")
        check(tb.capacity >= 2046 && tb.capacity <= 2050, "tb.capacity() >= 2046 && tb.capacity() <= 2050")
        tb.setFull()
        tb.refill(at: 0)
        check(tb.removeIf(1024), "tb.remove_if(1024)")
        check(tb.removeIf(1024), "tb.remove_if(1024)")
        check(!tb.removeIf(1024), "!tb.remove_if(1024)")
        tb.refill(at: hz * 99 / 100)
        check(!tb.removeIf(1024), "!tb.remove_if(1024)")
        tb.refill(at: hz)
        check(tb.removeIf(1024), "tb.remove_if(1024)")
        check(!tb.removeIf(1024), "!tb.remove_if(1024)")

        var tb2 = TokenBucket(rate: 1024 * 1024 * 1024, capacity: 1)
        check(tb2.isFull, "tb2.full()")
        check(tb2.removeIf(1000), "tb2.remove_if(1000)")

        var tb3 = TokenBucket(rate: 1, capacity: 1024 * 1024 * 1024)
        check(tb3.removeIf(2 * (UInt32.max / hz)), "tb3.remove_if(2*(UINT_MAX/CLICK_HZ))")

        var tb4 = TokenBucket(rate: 2, capacity: 1)
        tb4.refill(at: 0)
        tb4.clear()
        tb4.refill(at: tb4.timeUntilContains(1))
        check(tb4.contains(1), "tb4.contains(1)")

        tb4.refill(at: 0)
        tb4.clear()
        let doneAt = tb4.timeUntilContains(1)
        var now: UInt32 = 0
        while now < doneAt && failed.isEmpty {
            check(now == doneAt - 1 || !tb4.contains(1), "cur_time == done_at - 1 || !tb4.contains(1)")
            check(tb4.timeUntilContains(1) <= doneAt - now, "tb4.time_until_contains(1) <= done_at - cur_time")
            now += 1
            tb4.refill(at: now)
        }
        check(tb4.contains(1), "tb4.contains(1)")

        tb4.assign(unlimited: true)
        check(tb4.rate == TokenBucket.maxTokens, "tb4.rate() == TokenBucket::max_tokens")
        check(tb4.capacity == TokenBucket.maxTokens, "tb4.capacity() == TokenBucket::max_tokens")

        for _ in 0..<2 {
            tb4.assign(unlimited: false)
            tb4.clear()
            tb4.refill(at: TokenBucket.jiffies(routerNow()))
            check(tb4.rate == 0, "tb4.rate() == 0")
            check(tb4.capacity == TokenBucket.maxTokens, "tb4.capacity() == TokenBucket::max_tokens")
            check(tb4.isEmpty, "tb4.empty()")
            tb4.assign(rate: 0, capacity: 1024)
            check(tb4.rate == 0, "tb4.rate() == 0")
            check(tb4.capacity == 1024, "tb4.capacity() == 1024")
        }
        if let first = failed.first { throw ElementError(first) }
        router.chatter("\(landmark): While initializing '\(declaration)':\n  All tests pass!")
    }
}

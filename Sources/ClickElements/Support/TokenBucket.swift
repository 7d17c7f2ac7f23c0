import ClickLanguage
import ClickRuntime

/// A token bucket over router time: `rate` tokens per second, at most `capacity` banked.
struct TokenBucket {
    var rate: Double
    var capacity: Double
    var tokens: Double
    var last: Int64

    init(rate: Double, capacity: Double, now: Int64) {
        self.rate = rate
        self.capacity = max(capacity, 1)
        // As Click's token buckets: full at the start.
        self.tokens = self.capacity
        self.last = now
    }

    mutating func refill(_ now: Int64) {
        if now > last {
            tokens = min(capacity, tokens + Double(now - last) * rate / 1e9)
            last = now
        }
    }

    /// Nanoseconds until `n` tokens are available (Int64.max at a rate of 0: never).
    func wait(for n: Double) -> Int64 {
        if tokens >= n { return 0 }
        if rate <= 0 { return Int64.max }
        return ClickRanges.nanoseconds(seconds: ((n - tokens) / rate).nextUp)
    }
}

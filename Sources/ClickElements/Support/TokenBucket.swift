import ClickLanguage
import ClickRuntime

/// Click's token bucket (`TokenBucketX<TokenBucketJiffyParameters<unsigned>>`), with its
/// exact integer arithmetic so that rated elements let through the packets Click's do:
/// time in jiffies (milliseconds), tokens kept as 32-bit fractions scaled so that the
/// capacity fills the word, a refill of `tokensPerTick` per elapsed jiffy.
///
/// A bucket made with `init()` is idle and empty; `init(rate:capacity:)` is full.
struct TokenBucket {
    /// The most fractional tokens a bucket holds (and an unlimited rate's rate).
    static let maxTokens = UInt32.max
    /// Jiffies per second.
    static let frequency: UInt32 = 1000

    /// Fractional tokens added per jiffy; 0 when idle.
    private(set) var tokensPerTick: UInt32 = 0
    /// Fractional tokens per token.
    private(set) var tokenScale: UInt32 = 1
    /// Jiffies from empty to full; 0 when unlimited.
    private(set) var timeUntilFull: UInt32 = .max
    /// The fractional tokens held.
    private(set) var fraction: UInt32 = 0
    /// The jiffy of the last refill.
    private var timePoint: UInt32 = 0

    /// An idle, empty bucket.
    init() {}

    /// A full bucket of `rate` tokens per second holding up to `capacity`.
    init(rate: UInt32, capacity: UInt32) {
        assign(rate: rate, capacity: capacity)
        fraction = rate != 0 && capacity != 0 ? Self.maxTokens : 0
    }

    /// The jiffy (millisecond, wrapping) of `nanoseconds` of router time.
    static func jiffies(_ nanoseconds: Int64) -> UInt32 {
        UInt32(truncatingIfNeeded: nanoseconds / 1_000_000)
    }

    /// An unlimited rate (always refilled to full) or, with false, an idle one.
    mutating func assign(unlimited: Bool) {
        tokenScale = 1
        tokensPerTick = unlimited ? Self.maxTokens : 0
        timeUntilFull = unlimited ? 0 : .max
    }

    /// `rate` tokens per second, at most `capacity` held (0: idle with no limit).
    mutating func assign(rate: UInt32, capacity: UInt32) {
        var rate = rate, capacity = capacity
        if capacity == 0 {
            rate = 0
            capacity = Self.maxTokens
        }
        if rate != 0 {
            // At least one jiffy's tokens, so that a tick's refill fits the word.
            capacity = max(capacity, (rate - 1) / Self.frequency + 1)
        }
        tokenScale = Self.maxTokens / capacity
        let perTick = UInt64(rate) * UInt64(tokenScale) / UInt64(Self.frequency)
        if rate != 0 {
            // rate ≤ capacity·frequency, so perTick fits 32 bits.
            tokensPerTick = perTick != 0 ? UInt32(truncatingIfNeeded: perTick) : 1
            timeUntilFull = (Self.maxTokens - 1) / tokensPerTick + 1
        } else {
            tokensPerTick = 0
            timeUntilFull = .max
        }
    }

    /// `assign(rate:capacity:)` keeping the same share of the bucket full.
    mutating func assignAdjusting(rate: UInt32, capacity: UInt32) {
        let oldScale = tokenScale
        assign(rate: rate, capacity: capacity)
        if oldScale != tokenScale {
            let adjusted = UInt64(fraction) * UInt64(tokenScale) / UInt64(oldScale)
            fraction = adjusted > UInt64(Self.maxTokens) ? Self.maxTokens : UInt32(adjusted)
        }
    }

    var isUnlimited: Bool { timeUntilFull == 0 }
    var isIdle: Bool { tokensPerTick == 0 }

    /// Tokens per second, rounded.
    var rate: UInt32 {
        let r = (UInt64(tokensPerTick) * UInt64(Self.frequency) + UInt64(tokensPerTick / 2)) / UInt64(tokenScale)
        return r > UInt64(Self.maxTokens) ? Self.maxTokens : UInt32(r)
    }

    var capacity: UInt32 { Self.maxTokens / tokenScale }
    /// Whole tokens held.
    var size: UInt32 { fraction / tokenScale }
    var isEmpty: Bool { fraction == 0 }
    var isFull: Bool { fraction == Self.maxTokens }

    /// `tokens` as fractional tokens; nil when more than the word holds.
    private func scaled(_ tokens: UInt32) -> UInt32? {
        let (product, overflow) = tokens.multipliedReportingOverflow(by: tokenScale)
        return overflow ? nil : product
    }

    func contains(_ tokens: UInt32) -> Bool {
        guard let f = scaled(tokens) else { return false }
        return f <= fraction
    }

    mutating func clear() { fraction = 0 }
    mutating func setFull() { fraction = Self.maxTokens }
    mutating func set(_ tokens: UInt32) { fraction = scaled(tokens) ?? Self.maxTokens }

    /// Adds the tokens for the jiffies since the last refill (none when time went back).
    mutating func refill(at jiffy: UInt32) {
        let diff = timePoint <= jiffy ? jiffy - timePoint : 0
        if diff >= timeUntilFull {
            fraction = Self.maxTokens
        } else if diff > 0 {
            let (sum, overflow) = fraction.addingReportingOverflow(diff &* tokensPerTick)
            fraction = overflow ? Self.maxTokens : sum
        }
        timePoint = jiffy
    }

    /// Removes `tokens` (down to empty).
    mutating func remove(_ tokens: UInt32) {
        let f = scaled(tokens) ?? Self.maxTokens
        fraction = f <= fraction ? fraction - f : 0
    }

    /// Removes `tokens` if the bucket holds them.
    mutating func removeIf(_ tokens: UInt32) -> Bool {
        guard let f = scaled(tokens), f <= fraction else { return false }
        fraction -= f
        return true
    }

    /// Jiffies until the bucket holds `tokens` (UInt32.max: never).
    func timeUntilContains(_ tokens: UInt32) -> UInt32 {
        guard let f = scaled(tokens) else { return .max }
        if f <= fraction || timeUntilFull == 0 { return 0 }
        if tokensPerTick == 0 { return .max }
        return (f - fraction - 1) / tokensPerTick + 1
    }
}

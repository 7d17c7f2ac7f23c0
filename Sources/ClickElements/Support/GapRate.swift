/// Click's `GapRate` (`include/click/gaprate.hh`): allows RATE events per second by
/// counting them against the fraction of the current second gone by, so that they are
/// spread evenly; an event is allowed when the count is behind. Shaper and
/// BandwidthShaper use it (each second, unused allowance is not carried over beyond what
/// the count is behind).
struct GapRate {
    static let shift = 12
    static let maximumRate: UInt32 = 1_000_000 << 12

    private(set) var rate: UInt32 = 0
    private var gap: UInt32 = GapRate.maximumRate + 1
    private var secondCount = 0
    private var second: Int64 = -1

    init(rate: UInt32 = 0) {
        initialize(min(rate, Self.maximumRate))
    }

    private mutating func initialize(_ r: UInt32) {
        rate = r
        gap = r == 0 ? Self.maximumRate + 1 : Self.maximumRate / r
    }

    /// A new rate (at most `maximumRate`); `now` keeps the count in step mid-second.
    mutating func setRate(_ r: UInt32, now: Int64?) {
        let r = min(r, Self.maximumRate)
        guard r != rate else { return }
        initialize(r)
        if second >= 0, r != 0, let now {
            secondCount = Int((UInt64(now % 1_000_000_000 / 1000) << UInt64(Self.shift)) / UInt64(gap))
        }
    }

    /// Starts counting afresh.
    mutating func reset() { second = -1 }

    /// Whether an event may happen at `now` (router time, ns).
    mutating func needUpdate(_ now: Int64) -> Bool {
        let usec = UInt64(now % 1_000_000_000 / 1000)
        let need = Int((usec << UInt64(Self.shift)) / UInt64(gap))
        let sec = now / 1_000_000_000
        if second < 0 {
            second = sec
            let remainder = (usec << UInt64(Self.shift)) &- UInt64(need) &* UInt64(gap)
            secondCount = need + (remainder > UInt64(gap / 2) ? 1 : 0)
        } else if sec > second {
            second = sec
            if secondCount > 0 { secondCount -= Int(rate) }
        }
        return need >= secondCount
    }

    /// Counts `delta` events.
    mutating func update(_ delta: Int = 1) { secondCount += delta }
}

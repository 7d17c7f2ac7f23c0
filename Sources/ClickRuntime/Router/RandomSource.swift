/// The router's random numbers (Click's `click_random`): every element that draws at
/// random (RandomSample, RandomSwitch, RED, rewriter port choice, Script's `random`) draws
/// from this one generator, so that `RandomSeed(SEED)` makes a run repeatable.
///
/// Click's userlevel driver draws from the C library's `random()`; this is the same
/// generator (glibc's additive feedback generator, TYPE_3: 31 words of state, taps 3 and
/// 31, the first 310 outputs discarded), so that a configuration seeded with
/// `RandomSeed(SEED)` makes the same choices here as in Click: the same NAT ports, the same
/// sampled packets. Unseeded, it starts from the system's random source.
public struct RandomSource: RandomNumberGenerator, Sendable {
    /// Click's CLICK_RAND_MAX: `clickRandom()` returns 0...randMax.
    public static let randMax: UInt32 = 0x7FFF_FFFF

    private var state: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
                        UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
                        UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)
    private var front = 3
    private var rear = 0

    /// Seeded from the system's random source.
    public init() {
        var system = SystemRandomNumberGenerator()
        self.init(seed: UInt64(UInt32(truncatingIfNeeded: system.next())))
    }

    /// Seeded as `srandom(seed)` seeds the C library's generator (the low 32 bits count).
    public init(seed: UInt64) {
        state = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var word = Int32(bitPattern: UInt32(truncatingIfNeeded: seed))
        if word == 0 { word = 1 }
        withUnsafeMutableBytes(of: &state) { raw in
            let r = raw.bindMemory(to: UInt32.self)
            r[0] = UInt32(bitPattern: word)
            // Park and Miller's minimal standard generator, computed without overflow
            // (Schrage's method), fills the table.
            for i in 1..<31 {
                let hi = word / 127_773, lo = word % 127_773
                word = 16_807 &* lo &- 2_836 &* hi
                if word < 0 { word &+= 2_147_483_647 }
                r[i] = UInt32(bitPattern: word)
            }
        }
        for _ in 0..<310 { _ = clickRandom() }
    }

    /// One draw of Click's `click_random()`: 0...0x7FFFFFFF.
    @inlinable public mutating func clickRandom() -> UInt32 { nextWord() }

    @usableFromInline mutating func nextWord() -> UInt32 {
        let f = front, b = rear
        let value = withUnsafeMutableBytes(of: &state) { raw -> UInt32 in
            let r = raw.bindMemory(to: UInt32.self)
            r[f] = r[f] &+ r[b]
            return r[f] >> 1
        }
        front = f == 30 ? 0 : f + 1
        rear = b == 30 ? 0 : b + 1
        return value
    }

    /// Click's `click_random(low, high)`: uniform in low...high (low when low >= high),
    /// drawing as Click does, so that seeded runs agree with Click's.
    public mutating func clickRandom(_ low: UInt32, _ high: UInt32) -> UInt32 {
        guard low < high else { return low }
        let span = high - low
        if span > Self.randMax {
            while true {
                let r = (clickRandom() << 17) ^ (clickRandom() >> 14)
                if r <= span { return r + low }
            }
        } else if span == 1 {
            return low + ((clickRandom() >> 14) & 1)
        } else {
            let count = (Self.randMax + 1) / (span + 1)
            let limit = count * (span + 1)
            while true {
                let r = clickRandom()
                if r < limit { return r / count + low }
            }
        }
    }

    /// 64 random bits (three draws of 31).
    @inlinable public mutating func next() -> UInt64 {
        UInt64(clickRandom()) << 33 ^ UInt64(clickRandom()) << 2 ^ UInt64(clickRandom() & 3)
    }

    /// A uniform double in [0, 1).
    public mutating func unitInterval() -> Double {
        Double(next() >> 11) * 0x1p-53
    }
}

import ClickLanguage
import ClickRuntime

/// SourceIPHashMapper(NNODES SEED, PATTERN_1 ID_1, ..., PATTERN_N ID_N)
///
/// Chooses the pattern for each new flow by consistent hashing of its source address:
/// every server ID gets NNODES points on a hash ring (seeded by SEED), and a source maps to
/// the first point after its hash. Adding or removing a server moves only its share of
/// sources. Each pattern is `SADDR SPORT DADDR DPORT FOUT ROUT ID`.
///
/// Ports: none.
public final class SourceIPHashMapper: Element, IPMapper {
    public override var portCount: String { "0/0" }
    var patterns: [(RewritePattern, Int, Int)] = []
    var ring: [(point: UInt32, pattern: Int)] = []

    static func mix(_ x: UInt64) -> UInt32 {
        var h = x &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 31
        h = h &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 29
        return UInt32(truncatingIfNeeded: h >> 16)
    }

    public override func configure(_ args: inout Arguments) {
        var list = args.remaining()
        guard !list.isEmpty else {
            args.error("expected 'NNODES SEED, PATTERN ID...'")
            return
        }
        let head = ConfigText.words(list.removeFirst())
        guard head.count == 2, let nodes = Int(head[0]), nodes > 0, let seed = UInt64(head[1]) else {
            args.error("first argument should be 'NNODES SEED'")
            return
        }
        for (i, text) in list.enumerated() {
            let words = ConfigText.words(text).map(ConfigText.unquote)
            guard words.count == 7, let p = parseMapperPattern(words, context: args.context), let id = UInt64(words[6]) else {
                args.error("argument \(i + 2): expected 'SADDR SPORT DADDR DPORT FOUT ROUT ID'")
                continue
            }
            patterns.append(p)
            for k in 0..<nodes {
                ring.append((Self.mix(seed &* 1_000_003 &+ id &* 7919 &+ UInt64(k)), patterns.count - 1))
            }
        }
        ring.sort { $0.point < $1.point }
        if patterns.isEmpty { args.error("no patterns given") }
    }

    public func choose(for flow: FlowID) -> (pattern: RewritePattern, forwardOutput: Int, replyOutput: Int)? {
        guard !ring.isEmpty else { return nil }
        let h = Self.mix(UInt64(flow.saddr))
        var lo = 0, hi = ring.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ring[mid].point < h { lo = mid + 1 } else { hi = mid }
        }
        let p = patterns[ring[lo == ring.count ? 0 : lo].pattern]
        return (p.0, p.1, p.2)
    }
}

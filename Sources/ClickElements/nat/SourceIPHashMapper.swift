import ClickLanguage
import ClickRuntime

/// SourceIPHashMapper(NNODES SEED, PATTERN_1, ..., PATTERN_N)
///
/// An IPMapper that chooses the pattern for each new flow by consistent hashing of its
/// source address: every server ID gets NNODES points on a hash ring (placed by SEED), and
/// a source maps to the first point after its hash, so adding or removing a server moves
/// only its share of sources. Each PATTERN is `SADDR SPORT DADDR DPORT FOUT ROUT ID`.
/// The ring is this implementation's; Click's places its points with a different hash, so
/// the same configuration spreads sources differently.
///
/// Ports: none.
public final class SourceIPHashMapper: Element, IPMapper {
    public override var portCount: String { "0/0" }
    public override var configurePhase: Int { ConfigurePhase.normal - 1 }
    var patterns: [MapperPattern] = []
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
        guard !list.isEmpty else { return args.error("no hash seed given") }
        guard list.count > 1 else { return args.error("no patterns given") }
        if list.count == 2 { configurationWarning("only one pattern given") }
        let head = ConfigText.words(list.removeFirst())
        guard head.count == 2 else { return args.error("requires 2 config params: numnodes seed") }
        guard let nodes = Int(head[0]), nodes > 0 else { return args.error("number of nodes must be an integer") }
        guard let seed = Int32(head[1]) else { return args.error("hash seed must be an integer") }
        for text in list {
            var words = ConfigText.words(text).map(ConfigText.unquote)
            guard words.count > 1, let id = UInt16(words.removeLast()) else {
                args.error("bad server ID")
                continue
            }
            switch MapperPattern.parse(words, in: self, context: args.context) {
            case .failure(let e): args.error(e.description)
            case .success(let p):
                patterns.append(p)
                for k in 0..<nodes {
                    ring.append((Self.mix(UInt64(UInt32(bitPattern: seed)) &* 1_000_003 &+ UInt64(id) &* 7919 &+ UInt64(k)), patterns.count - 1))
                }
            }
        }
        ring.sort { $0.point < $1.point }
    }

    public func check(for rewriter: IPRewriter) -> String? { MapperPattern.check(patterns, of: self, for: rewriter) }

    public func rewrite(_ flow: FlowID, replies: FlowTable, random: inout RandomSource) -> (flow: FlowID, forwardOutput: Int, replyOutput: Int)? {
        guard !ring.isEmpty else { return nil }
        let h = Self.mix(UInt64(flow.saddr))
        var lo = 0, hi = ring.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ring[mid].point < h { lo = mid + 1 } else { hi = mid }
        }
        let p = patterns[ring[lo == ring.count ? 0 : lo].pattern]
        guard let r = p.pattern.rewrite(flow, replies: replies, random: &random) else { return nil }
        return (r, p.forwardOutput, p.replyOutput)
    }
}

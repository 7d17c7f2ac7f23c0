import ClickLanguage
import ClickRuntime

/// A rewrite pattern with its forward and reply outputs, as mappers hold them.
struct MapperPattern {
    var pattern: RewritePattern
    var forwardOutput: Int
    var replyOutput: Int

    /// `PATTERN FOUT ROUT` (Click's `parse_with_ports`); the error in Click's words.
    static func parse(_ words: [String], in element: Element, context: ValueContext) -> Result<MapperPattern, RewritePattern.PatternError> {
        guard words.count > 2 else { return .failure(.syntax) }
        let named = { (name: String) in element.router.elements.lazy.compactMap { ($0 as? IPRewriterPatterns)?.patterns[name] }.first }
        switch RewritePattern.parse(Array(words.dropLast(2)), context: context, named: named) {
        case .failure(let e): return .failure(e)
        case .success(let p):
            guard let f = Int(words[words.count - 2]), let r = Int(words[words.count - 1]) else { return .failure(.syntax) }
            return .success(MapperPattern(pattern: p, forwardOutput: f, replyOutput: r))
        }
    }

    /// Click's check of a mapper's patterns against the rewriter that uses it.
    static func check(_ patterns: [MapperPattern], of mapper: Element, for rewriter: IPRewriter) -> String? {
        for (i, p) in patterns.enumerated() where p.forwardOutput >= rewriter.noutputs || p.replyOutput >= rewriter.noutputs {
            return "output port out of range in \(mapper.declaration) pattern \(i)"
        }
        return nil
    }
}

/// RoundRobinIPMapper(PATTERN_1, ..., PATTERN_N)
///
/// An IPMapper that spreads new flows over its patterns in turn, as Click's: each
/// PATTERN is `SADDR SPORT DADDR DPORT FOUT ROUT` (an IPRewriter pattern and its
/// outputs). A new flow takes the next pattern in round-robin order; when that pattern has
/// no free port, the following ones are tried. Used by naming it as a rewriter's input
/// spec, for load balancing over servers.
///
/// Ports: none.
public final class RoundRobinIPMapper: Element, IPMapper {
    public override var portCount: String { "0/0" }
    public override var configurePhase: Int { ConfigurePhase.normal - 1 }
    var patterns: [MapperPattern] = []
    var next = 0

    public override func configure(_ args: inout Arguments) {
        let texts = args.remaining()
        if texts.isEmpty { args.error("no patterns given") }
        if texts.count == 1 { configurationWarning("only one pattern given") }
        for text in texts {
            switch MapperPattern.parse(ConfigText.words(text).map(ConfigText.unquote), in: self, context: args.context) {
            case .success(let p): patterns.append(p)
            case .failure(let e): args.error(e.description)
            }
        }
    }

    public func check(for rewriter: IPRewriter) -> String? { MapperPattern.check(patterns, of: self, for: rewriter) }

    public func rewrite(_ flow: FlowID, replies: FlowTable, random: inout RandomSource) -> (flow: FlowID, forwardOutput: Int, replyOutput: Int)? {
        for _ in patterns.indices {
            let p = patterns[next]
            next = next + 1 == patterns.count ? 0 : next + 1
            if let r = p.pattern.rewrite(flow, replies: replies, random: &random) { return (r, p.forwardOutput, p.replyOutput) }
        }
        return nil
    }
}

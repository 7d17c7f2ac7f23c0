import ClickLanguage
import ClickRuntime

/// RoundRobinIPMapper(PATTERN_1, ..., PATTERN_N)
///
/// For each new flow of the rewriter that names it, tries the patterns
/// `SADDR SPORT DADDR DPORT FOUT ROUT` in round-robin order and uses the first that
/// succeeds: spreads flows over servers or outputs.
///
/// Ports: none.
public final class RoundRobinIPMapper: Element, IPMapper {
    public override var portCount: String { "0/0" }
    var patterns: [(RewritePattern, Int, Int)] = []
    var next = 0

    public override func configure(_ args: inout Arguments) {
        for (i, text) in args.remaining().enumerated() {
            guard let p = parseMapperPattern(ConfigText.words(text).map(ConfigText.unquote), context: args.context) else {
                args.error("argument \(i + 1): expected 'SADDR SPORT DADDR DPORT FOUT ROUT'")
                continue
            }
            patterns.append(p)
        }
        if patterns.isEmpty { args.error("no patterns given") }
    }

    public func choose(for flow: FlowID) -> (pattern: RewritePattern, forwardOutput: Int, replyOutput: Int)? {
        guard !patterns.isEmpty else { return nil }
        let p = patterns[next % patterns.count]
        next = (next + 1) % patterns.count
        return (p.0, p.1, p.2)
    }
}

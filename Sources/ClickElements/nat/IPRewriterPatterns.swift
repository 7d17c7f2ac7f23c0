import ClickLanguage
import ClickRuntime

/// IPRewriterPatterns(NAME PATTERN, ...)
///
/// Names rewrite patterns that rewriters and mappers use as `pattern NAME FOUT ROUT`, as
/// Click's. Each PATTERN is an IPRewriter pattern (`SADDR SPORT DADDR DPORT`, or
/// `SADDR DADDR` for addresses only). A named pattern is one object, shared by every
/// rewriter that uses it (sequential allocation continues across them). Names must be
/// unique in the router.
///
/// Ports: none.
public final class IPRewriterPatterns: Element {
    public override var portCount: String { "0/0" }
    public override var configurePhase: Int { ConfigurePhase.info }
    public private(set) var patterns: [String: RewritePattern] = [:]

    public override func configure(_ args: inout Arguments) {
        for text in args.remaining() {
            var words = ConfigText.words(text).map(ConfigText.unquote)
            guard !words.isEmpty else { continue }
            let name = words.removeFirst()
            if patterns[name] != nil || router.elements.contains(where: { ($0 as? IPRewriterPatterns)?.patterns[name] != nil && $0 !== self }) {
                args.error("pattern '\(name)' already defined")
                continue
            }
            // A pattern does not name another pattern.
            switch RewritePattern.parse(words.count == 1 ? [] : words, context: args.context, named: { _ in nil }) {
            case .success(let p): patterns[name] = p
            case .failure(let e): args.error(e.description)
            }
        }
    }
}

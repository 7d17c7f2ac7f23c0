import ClickLanguage
import ClickRuntime

/// IPRewriterPatterns(NAME SADDR SPORT DADDR DPORT, ...)
///
/// Names rewrite patterns that rewriters use as `pattern NAME FOUT ROUT`. A named pattern
/// is one object, shared by every rewriter that uses it (sequential allocation continues
/// across them). Names must be unique in the router.
///
/// Ports: none.
public final class IPRewriterPatterns: Element {
    public override var portCount: String { "0/0" }
    public override var configurePhase: Int { ConfigurePhase.info }
    public private(set) var patterns: [String: RewritePattern] = [:]

    public override func configure(_ args: inout Arguments) {
        for (i, text) in args.remaining().enumerated() {
            var words = ConfigText.words(text).map(ConfigText.unquote)
            guard words.count == 5 else {
                args.error("argument \(i + 1): expected 'NAME SADDR SPORT DADDR DPORT'")
                continue
            }
            let name = words.removeFirst()
            switch RewritePattern.parse(words, context: args.context) {
            case .success(let p):
                if patterns[name] != nil || router.elements.contains(where: { ($0 as? IPRewriterPatterns)?.patterns[name] != nil && $0 !== self }) {
                    args.error("pattern name '\(name)' already defined")
                }
                patterns[name] = p
            case .failure(let e):
                args.error("pattern '\(name)': \(e)")
            }
        }
    }
}

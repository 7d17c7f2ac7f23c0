import ClickLanguage
import ClickRuntime

/// AlignmentInfo(ELEMENT [MODULUS OFFSET ...], ...)
///
/// Says how the packets arriving at ELEMENT's inputs are aligned: at input N, packet data
/// starts OFFSET bytes past a MODULUS-byte boundary (click-align inserts it). This
/// project's packets always start at a fixed, 64-byte-aligned headroom, so the information
/// is checked as Click checks it (pairs of integers; one element described alike by every
/// AlignmentInfo, else "conflicting AlignmentInfo"; reported, and, as in Click, the router
/// runs anyway) and has no other effect. Names of
/// elements that do not exist are ignored, as in Click.
///
/// Ports: none.
public final class AlignmentInfo: Element {
    public override var portCount: String { "0/0" }
    public override var configurePhase: Int { ConfigurePhase.first }
    /// Per element name, its (modulus, offset) pairs.
    var alignments: [String: [(modulus: Int, offset: Int)]] = [:]

    public override func configure(_ args: inout Arguments) {
        // As Click's, what is wrong is reported and the router runs anyway (the
        // information changes nothing here).
        var problems: [String] = []
        defer {
            if !problems.isEmpty {
                router.chatter("\(landmark): While configuring '\(declaration)':\n" + problems.map { "  " + $0 }.joined(separator: "\n"))
            }
        }
        let earlier = router.elements.prefix { $0 !== self }.compactMap { $0 as? AlignmentInfo }
        for (i, argument) in args.remaining().enumerated() {
            let parts = ConfigText.words(argument)
            guard let target = parts.first else {
                problems.append("warning: empty configuration argument \(i)")
                continue
            }
            guard router.element(named: target) != nil else { continue }
            if parts.count % 2 != 1 { problems.append("expected 'ELEMENTNAME CHUNK OFFSET [CHUNK OFFSET...]'") }
            var pairs: [(modulus: Int, offset: Int)] = []
            var j = 1
            while j + 1 < parts.count {
                let modulus = Int(parts[j]), offset = Int(parts[j + 1])
                if modulus == nil { problems.append("expected CHUNK") }
                if offset == nil { problems.append("expected OFFSET") }
                pairs.append((modulus ?? -1, offset ?? -1))
                j += 2
            }
            let before = alignments[target] ?? earlier.lazy.compactMap { $0.alignments[target] }.first
            if let before, !before.elementsEqual(pairs, by: { $0.modulus == $1.modulus && $0.offset == $1.offset }) {
                problems.append("conflicting AlignmentInfo for '\(target)'")
            }
            alignments[target] = pairs
        }
    }
}

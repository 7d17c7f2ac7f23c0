import ClickLanguage
import ClickRuntime

/// PortInfo(NAME PORT[/PROTOCOL], ...)
///
/// Defines mnemonic names for TCP and UDP ports (`PortInfo(foo 80/udp)`). The names are
/// visible to the elements configured after it in the same compound or below (IPFilter
/// and IPClassifier's `port` primitives). `#` starts a comment inside an argument.
///
/// Ports: none.
public final class PortInfo: Element {
    public override var portCount: String { "0/0" }
    public override var configurePhase: Int { ConfigurePhase.first }
    public private(set) var ports: [String: (port: Int, proto: String?)] = [:]

    public override func configure(_ args: inout Arguments) {
        for argument in args.remaining() {
            let text = argument.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let words = ConfigText.words(text)
            if words.isEmpty { continue }
            guard words.count == 2 else {
                args.error("expected 'NAME PORT[/PROTOCOL]'")
                continue
            }
            let spec = words[1].split(separator: "/")
            guard let port = Int(spec[0]), (0...65535).contains(port), spec.count <= 2 else {
                args.error("bad port '\(words[1])'")
                continue
            }
            ports[words[0]] = (port, spec.count == 2 ? String(spec[1]) : nil)
            router.addressNames.definePort(words[0], port: port, protocol: spec.count == 2 ? String(spec[1]) : nil, elementName: name)
        }
    }
}

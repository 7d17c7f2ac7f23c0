import ClickLanguage
import ClickRuntime

/// PortInfo(NAME PORT[/PROTOCOL] [NAME...], ...)
///
/// Defines mnemonic names for TCP and UDP ports (`PortInfo(foo 80/udp)`), used by
/// IPFilter and IPClassifier's `port` primitives, UDPIPEncap and the other elements that
/// take a port. Names are visible to the elements configured after it in the same
/// compound or below. Further words after the port are more names for it, up to a word
/// starting with `#`, which begins a comment; an argument starting with `#` is a comment,
/// and an empty argument is allowed. A PROTOCOL other than `tcp` or `udp` is skipped, as in
/// Click.
///
/// Ports: none.
public final class PortInfo: Element {
    public override var portCount: String { "0/0" }
    public override var configurePhase: Int { ConfigurePhase.first }
    public private(set) var ports: [String: (port: Int, proto: String?)] = [:]

    public override func configure(_ args: inout Arguments) {
        for argument in args.remaining() {
            var words = ConfigText.words(argument)[...]
            guard let first = words.popFirst(), !first.hasPrefix("#") else { continue }
            let portText = words.popFirst() ?? ""
            let digits = portText.prefix { $0.isASCII && $0.isNumber }
            let rest = portText.dropFirst(digits.count)
            guard let port = Int(digits), rest.isEmpty || rest.hasPrefix("/") else {
                args.error("expected 'NAME PORT/PROTO'")
                continue
            }
            // Click takes any 32-bit number; a port beyond 65535 could never match, so it is refused.
            guard port <= 65535 else {
                args.error("bad port '\(portText)'")
                continue
            }
            let proto = rest.isEmpty ? nil : String(rest.dropFirst()).lowercased()
            if let proto, proto != "tcp", proto != "udp" { continue }
            var name: Substring? = Substring(first)
            while let n = name, !n.hasPrefix("#") {
                ports[String(n)] = (port, proto)
                router.addressNames.definePort(String(n), port: port, protocol: proto, elementName: self.name)
                name = words.popFirst().map { Substring($0) }
            }
        }
    }
}

import ClickLanguage
import ClickRuntime

/// AddressInfo(NAME ADDRESS [ADDRESS...], ...)
///
/// Defines mnemonic names for IPv4 and IPv6 addresses and prefixes and Ethernet
/// addresses, usable in every other element's configuration (`NAME`, or `NAME:ip`,
/// `NAME:ipnet`, `NAME:bcast`, `NAME:gw`, `NAME:eth`, `NAME:ip6`, `NAME:ip6net`). Names are
/// local to the compound element that defines them. Configured before other elements.
///
/// Ports: none.
public final class AddressInfo: Element {
    public override var portCount: String { "0/0" }
    public override var configurePhase: Int { ConfigurePhase.first }

    public override func configure(_ args: inout Arguments) {
        let arguments = args.remaining()
        var names = router.addressNames
        for message in names.define(configuration: arguments.joined(separator: ", "), elementName: name) {
            args.error(message)
        }
        router.addressNames = names
    }
}

/// PortInfo(NAME PORT[/PROTOCOL], ...)
///
/// Defines mnemonic names for TCP and UDP ports (`PortInfo(foo 80/udp)`). The names are
/// recorded for the port-reading elements; `#` starts a comment inside an argument.
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
        }
    }
}

extension Element {
    /// Reads keyword arguments that Click accepts but this implementation does not act
    /// on. Each one given is reported as a configuration warning (`While configuring
    /// 'x :: C': warning: KEY is not supported and has no effect`), so that nobody relies
    /// on it silently; the configuration still loads.
    func unsupportedKeywords(_ args: inout Arguments, _ keywords: [String], because reason: String? = nil) {
        for k in keywords where args.keyword(k, .raw) != nil {
            configurationWarning("\(k) is not supported and has no effect" + (reason.map { " (\($0))" } ?? ""))
        }
    }

    /// Reports a warning about the configuration, as Click words one.
    func configurationWarning(_ message: String) {
        router.chatter("\(landmark): While configuring '\(declaration)':\n  warning: \(message)")
    }
}

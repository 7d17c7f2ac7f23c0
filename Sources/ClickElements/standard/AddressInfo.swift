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

import ClickLanguage
import ClickRuntime

/// Message(TEXT [, TYPE])
///
/// Reports TEXT while the router is being configured, as a message (TYPE MESSAGE, the
/// default), a warning (WARNING) or an error (ERROR, which stops the router from
/// initializing). Click prints it as `LANDMARK: While configuring 'm :: Message':` then the
/// text, indented.
///
/// Ports: none.
public final class Message: Element {
    public override var portCount: String { "0/0" }

    public override func configure(_ args: inout Arguments) {
        let text = args.mandatory("TEXT", .string) ?? ""
        let type = (args.positional("TYPE", .word) ?? "MESSAGE").uppercased()
        switch type {
        case "MESSAGE", "WARNING": router.chatter("\(landmark): While configuring '\(declaration)':\n  \(type == "WARNING" ? "warning: " : "")\(text)")
        case "ERROR": args.error(text)
        default: args.error("bad message type", keyword: "TYPE")
        }
    }
}

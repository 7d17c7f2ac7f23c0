import ClickLanguage
import ClickRuntime

/// IPInputCombo(COLOR [, BADSRC, *keywords* INTERFACES, GOODDST])
///
/// The input half of an IP router in one element, as `Paint(COLOR) -> Strip(14) ->
/// CheckIPHeader(BADSRC ...) -> GetIPAddress(16)`: paints the packet, strips its Ethernet
/// header, checks the IP header (version, lengths, checksum, bad source addresses; the
/// same checks and keywords as CheckIPHeader) and sets the destination annotation.
/// Packets that fail go to output 1, or are dropped.
///
/// Ports: 1 input, 1 or 2 outputs, push. Handlers: `drops` (read).
public final class IPInputCombo: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "h/h" }
    var color: UInt8 = 0
    /// The IP header checks, configured from this element's arguments.
    let check = CheckIPHeader()

    public override func configure(_ args: inout Arguments) {
        if let c = args.mandatory("COLOR", .uint8) {
            color = UInt8(c)
        }
        check.configureAddressChecks(&args, badSources: args.positional("BADSRC", .string))
    }

    public override func initialize() throws(ElementError) {
        check.router = router
        try check.initialize()
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        p.paint = color
        guard p.pull(14) else { return noutputs > 1 ? 1 : -1 }
        if check.action(p) != 0 { return noutputs > 1 ? 1 : -1 }
        return 0
    }


    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("drops", get: { [unowned self] in self.check.drops })
    }
}

import ClickLanguage
import ClickRuntime

/// ARPResponder(IP/MASK [IP/MASK...] ETH, ...)
///
/// Answers ARP requests (Ethernet header included) for the addresses it is configured
/// with: a request for a known target gets a reply on output 0 (the request is consumed);
/// other packets go to output 1 if it exists, otherwise they are dropped. Arguments may use
/// AddressInfo names (`ARPResponder(NAME)`).
///
/// Ports: 1 input, 1 or 2 outputs, agnostic (output 1 push).
///
/// Handlers: `table` (read), `lookup` (read with an address), `add`, `remove` (write).
public final class ARPResponder: Element {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "a/ah" }

    struct Entry: Equatable {
        var prefix: IPv4Prefix
        var ether: EtherAddress
    }
    var entries: [Entry] = []

    static func parseEntry(_ text: String, context: ValueContext) -> [Entry]? {
        var prefixes: [IPv4Prefix] = []
        var ether: EtherAddress? = nil
        for word in ConfigText.words(text) {
            if let e = EtherAddress.parse(word) {
                ether = e
            } else if let p = IPv4Prefix.parse(word, allowBare: true) {
                prefixes.append(p)
            } else if let entry = context.addressNames.entry(word, context: context.elementName) {
                if let p = entry.ipv4Prefix { prefixes.append(p) } else if let a = entry.ipv4 { prefixes.append(IPv4Prefix(address: a, length: 32)) }
                if let e = entry.ether { ether = e }
            } else {
                return nil
            }
        }
        guard let ether, !prefixes.isEmpty else { return nil }
        return prefixes.map { Entry(prefix: $0, ether: ether) }
    }

    public override func configure(_ args: inout Arguments) {
        entries = []
        for (i, text) in args.remaining().enumerated() {
            guard let new = Self.parseEntry(text, context: args.context) else {
                args.error("argument \(i + 1) should be 'IP/MASK ETHADDR'")
                continue
            }
            for e in new where entries.contains(where: { $0.prefix == e.prefix }) {
                router.chatter("\(landmark): warning: multiple entries for \(e.prefix)")
            }
            entries.append(contentsOf: new)
        }
    }

    func lookup(_ address: UInt32) -> EtherAddress? {
        var best: Entry? = nil
        for e in entries where e.prefix.contains(IPv4Address(address)) {
            if let b = best, b.prefix.mask.nonzeroBitCount >= e.prefix.mask.nonzeroBitCount { continue }
            best = e
        }
        return best?.ether
    }

    /// Turns a request for one of our addresses into the reply, in place.
    func respond(_ p: Packet) -> Bool {
        guard p.length >= 42 else { return false }
        let d = p.data
        guard d.be16(12) == 0x0806, d.be16(14) == 1, d.be16(16) == 0x0800, d.byte(18) == 6, d.byte(19) == 4, d.be16(20) == 1 else { return false }
        let target = d.be32(38)
        guard let mine = lookup(target) else { return false }
        let senderEther = (0..<6).map { d.byte(22 + $0) }
        let senderIP = d.be32(28)
        let me = mine.bytes
        for i in 0..<6 {
            d.setByte(i, senderEther[i])            // Ethernet destination
            d.setByte(6 + i, me[i])                 // Ethernet source
            d.setByte(22 + i, me[i])                // sender hardware address
            d.setByte(32 + i, senderEther[i])       // target hardware address
        }
        d.setBE16(20, 2)                            // reply
        d.setBE32(28, target)
        d.setBE32(38, senderIP)
        return true
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        dispatch(&batch) { respond($0) ? 0 : 1 }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.read("table") { [unowned self] in self.entries.map { "\($0.prefix) \($0.ether)\n" }.joined() }
        h.readWithParameter("lookup") { [unowned self] (text: String) throws(ElementError) in
            guard let (a, _) = IPv4Address.parse(text.trimmingCharacters()) else { throw ElementError("expected IP address") }
            return self.lookup(a.value)?.description ?? ""
        }
        h.write("add") { [unowned self] (text: String) throws(ElementError) in
            guard let new = Self.parseEntry(text, context: ValueContext(elementName: self.name, addressNames: self.router.addressNames)) else {
                throw ElementError("expected 'IP/MASK ETHADDR'")
            }
            self.entries.append(contentsOf: new)
        }
        h.write("remove") { [unowned self] (text: String) throws(ElementError) in
            guard let p = IPv4Prefix.parse(text.trimmingCharacters(), allowBare: true) else { throw ElementError("expected 'IP/MASK'") }
            self.entries.removeAll { $0.prefix == p }
        }
    }
}

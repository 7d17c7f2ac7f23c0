import ClickLanguage
import ClickRuntime

/// ARPResponder(IP/MASK [IP/MASK...] ETH, ...)
///
/// Answers ARP requests (Ethernet header included) for the addresses it is configured
/// with, as Click's: a request whose target is in one of the prefixes gets a new reply
/// packet on output 0 from that entry's ETH (the request is consumed); other packets go to
/// output 1 if it exists, otherwise they are dropped. Each argument is one or more
/// IP/MASK (an address alone is /32) and one Ethernet address; AddressInfo names may
/// stand for either (`a`, `a:ipnet`, `a:eth`). A more specific prefix wins over one that
/// contains it; for the same prefix given twice the later wins, with a warning. Accepts
/// a new configuration while running (`config`).
///
/// Ports: 1 input, 1 or 2 outputs, agnostic (output 1 push).
///
/// Handlers: `table` (read: `IP/MASK ETH` per entry, in lookup order), `lookup` (read
/// with an address: its ETH, or nothing), `add` (write `IP/MASK... ETH`), `remove` (write
/// `IP/MASK`).
public final class ARPResponder: Element {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "a/ah" }
    public override var canLiveReconfigure: Bool { true }

    struct Entry: Equatable {
        var network: UInt32
        var mask: UInt32
        var ether: EtherAddress

        var prefix: IPv4Prefix { IPv4Prefix(address: IPv4Address(network), mask: mask) }
    }
    /// In lookup order (Click's normalized order).
    var entries: [Entry] = []

    /// Click's `ARPResponder::add`: the entries one argument gives, or its error.
    static func parseEntries(_ text: String, context: ValueContext) -> Result<[Entry], ElementError> {
        var prefixes: [IPv4Prefix] = []
        var ether: EtherAddress? = nil
        let words = ConfigText.words(text)
        for word in words {
            if let p = ValueType<IPv4Prefix>.ipv4PrefixOrAddress.parse(word, context) {
                prefixes.append(p)
            } else if let e = ValueType<EtherAddress>.etherAddress.parse(word, context) {
                if ether != nil { return .failure(ElementError("more than one ETH")) }
                ether = e
            } else {
                return .failure(ElementError("expected IP/MASK ETH"))
            }
        }
        // A word that is both an address and an Ethernet address (a name) gives the ETH.
        if ether == nil { ether = words.lazy.compactMap { ValueType<EtherAddress>.etherAddress.parse($0, context) }.first }
        guard !prefixes.isEmpty else { return .failure(ElementError("missing IP/MASK")) }
        guard let ether else { return .failure(ElementError("missing ETH")) }
        return .success(prefixes.map { Entry(network: $0.address.value & $0.mask, mask: $0.mask, ether: ether) })
    }

    /// Click's `normalize`: nested prefixes most specific first, the same prefix kept once
    /// (the later one), otherwise in the order given. Returns the duplicates.
    static func normalize(_ v: [Entry]) -> (entries: [Entry], duplicates: [Entry]) {
        func before(_ a: Int, _ b: Int) -> Bool {
            let ea = v[a], eb = v[b]
            if ea.network == eb.network && ea.mask == eb.mask { return a > b }
            if ea.network & eb.mask == eb.network { return true }
            if eb.network & ea.mask == ea.network { return false }
            return a < b
        }
        var order: [Int] = []
        for i in v.indices {
            var j = order.count
            while j > 0 && before(i, order[j - 1]) { j -= 1 }
            order.insert(i, at: j)
        }
        var out: [Entry] = [], duplicates: [Entry] = []
        for i in order {
            if let last = out.last, last.network == v[i].network, last.mask == v[i].mask {
                duplicates.append(v[i])
            } else {
                out.append(v[i])
            }
        }
        return (out, duplicates)
    }

    public override func configure(_ args: inout Arguments) {
        var v: [Entry] = []
        var failed = false
        for (i, text) in args.remaining().enumerated() {
            switch Self.parseEntries(text, context: args.context) {
            case .success(let new): v += new
            case .failure(let e):
                args.error("argument \(i): \(e.message)")
                failed = true
            }
        }
        guard !failed else { return }
        let (normalized, duplicates) = Self.normalize(v)
        for d in duplicates { configurationWarning("multiple entries for \(d.prefix)") }
        entries = normalized
    }

    func lookup(_ address: UInt32) -> EtherAddress? {
        entries.first { address & $0.mask == $0.network }?.ether
    }

    /// Click's `make_response` for a request for one of our addresses: a new 42-byte
    /// reply with the request's VLAN annotation, or nil.
    func response(to p: Packet) -> Packet? {
        guard p.length >= 42 else { return nil }
        let d = p.data
        guard d.be16(12) == 0x0806, d.be16(14) == 1, d.be16(16) == 0x0800, d.be16(20) == 1 else { return nil }
        let target = d.be32(38)
        guard let mine = lookup(target) else { return nil }
        let them = (0..<6).map { d.byte(22 + $0) }
        var frame = them + mine.bytes + [0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 2] + mine.bytes
        frame += IPv4Address(target).bytes + them + IPv4Address(d.be32(28)).bytes
        guard let q = pool.make(frame) else { return nil }
        q.setMACHeader(at: 0)
        q.setAnnotation16(Annotation.vlanTCI, p.annotation16(Annotation.vlanTCI))
        return q
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        withScratchBatch { replies in
            dispatch(&batch) { p in
                guard let q = response(to: p) else { return 1 }
                replies.append(q)
                return -1
            }
            output(0, &replies)
        }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.read("table") { [unowned self] in self.entries.map { "\($0.prefix) \($0.ether)\n" }.joined() }
        h.readWithParameter("lookup") { [unowned self] (text: String) throws(ElementError) in
            guard let a = ValueType<IPv4Address>.ipv4Address.parse(text.trimmingCharacters(), self.context) else { throw ElementError("expected IP address") }
            return self.lookup(a.value)?.description ?? ""
        }
        h.write("add") { [unowned self] (text: String) throws(ElementError) in
            let new = try Self.parseEntries(text, context: self.context).get()
            self.entries = Self.normalize(self.entries + new).entries
        }
        h.write("remove") { [unowned self] (text: String) throws(ElementError) in
            guard let p = ValueType<IPv4Prefix>.ipv4PrefixOrAddress.parse(text.trimmingCharacters(), self.context) else { throw ElementError("expected IP/MASK") }
            let network = p.address.value & p.mask
            guard let i = self.entries.firstIndex(where: { $0.network == network && $0.mask == p.mask }) else {
                throw ElementError("\(IPv4Prefix(address: IPv4Address(network), mask: p.mask)) not found")
            }
            self.entries.remove(at: i)
        }
    }

    var context: ValueContext { ValueContext(elementName: name, addressNames: router.addressNames) }
}

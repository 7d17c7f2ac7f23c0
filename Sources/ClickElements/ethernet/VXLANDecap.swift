import ClickLanguage
import ClickRuntime

/// VXLANDecap(VNI_1, ..., VNI_N)
///
/// Takes packets that start with a VXLAN header (the outer Ethernet, IP and UDP headers
/// already stripped), checks it (the I flag set, a VNI), removes it, and sends the inner
/// Ethernet frame to output *i* when its VNI is VNI_*i*. A packet with another VNI goes to
/// output N if there is one; a packet too short for a header and an inner Ethernet header,
/// or without the I flag, goes to output N+1 if there is one. Otherwise they are dropped,
/// and counted either way.
///
/// Ports: 1 input; N, N+1 or N+2 outputs; push.
///
/// Handlers: `count` (read: packets decapsulated), `unknown_vni`, `bad` (read).
///
/// See also: VXLANEncap.
public final class VXLANDecap: Element {
    public override var portCount: String { "1/1-" }
    public override var processing: String { "h/h" }
    /// VNIs and their outputs, sorted by VNI for a binary search.
    var vnis: [UInt32] = []
    var outputsByVNI: [Int32] = []
    public private(set) var count = 0
    public private(set) var unknown = 0
    public private(set) var bad = 0

    public override func configure(_ args: inout Arguments) {
        var list: [(UInt32, Int32)] = []
        for (i, text) in args.remaining().enumerated() {
            switch ValueType.bounded(0, 0xFF_FFFF).read(text, args.context) {
            case .value(let v):
                if list.contains(where: { $0.0 == UInt32(v) }) { args.error("VNI \(v) given twice") }
                list.append((UInt32(v), Int32(i)))
            case .error(let message):
                args.error("VNI \(i + 1): \(message)")
            }
        }
        if list.isEmpty { args.error("expected at least one VNI") }
        if noutputs < list.count || noutputs > list.count + 2 {
            args.error("\(list.count) VNIs need \(list.count) to \(list.count + 2) outputs, not \(noutputs)")
        }
        list.sort { $0.0 < $1.0 }
        vnis = list.map(\.0)
        outputsByVNI = list.map(\.1)
    }

    @inline(__always) func output(for vni: UInt32) -> Int {
        var lo = 0, hi = vnis.count - 1
        while lo <= hi {
            let mid = (lo + hi) >> 1
            let v = vnis[mid]
            if v == vni { return Int(outputsByVNI[mid]) }
            if v < vni { lo = mid + 1 } else { hi = mid - 1 }
        }
        return -1
    }

    @inline(__always) func classify(_ p: Packet) -> Int {
        guard p.length >= 8 + 14 else {
            bad &+= 1
            return noutputs == vnis.count + 2 ? vnis.count + 1 : -1
        }
        let h = p.data
        guard h.byte(0) & 0x08 != 0 else {
            bad &+= 1
            return noutputs == vnis.count + 2 ? vnis.count + 1 : -1
        }
        let vni = h.be32(4) >> 8
        let out = output(for: vni)
        guard out >= 0 else {
            unknown &+= 1
            return noutputs > vnis.count ? vnis.count : -1
        }
        p.pull(8)
        p.setMACHeader(at: 0)
        count &+= 1
        return out
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        dispatch(&batch) { classify($0) }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("count", get: { [unowned self] in self.count })
        h.integer("unknown_vni", get: { [unowned self] in self.unknown })
        h.integer("bad", get: { [unowned self] in self.bad })
    }
}

import ClickLanguage
import ClickRuntime

/// SetTimestamp([TIMESTAMP, *keywords* FIRST])
///
/// Sets each packet's timestamp annotation to TIMESTAMP (`sec.usec`) or, without an
/// argument, to the current router time. With FIRST true, sets the first-timestamp
/// annotation instead (which `SetTimestampDelta(TYPE FIRST)` measures from).
///
/// Ports: 1 input, 1 output, agnostic.
public final class SetTimestamp: Element, PacketAction {
    var fixed: Int64? = nil
    var first = false

    public override func configure(_ args: inout Arguments) {
        if let t = args.positional("TIMESTAMP", .timestamp) { fixed = t }
        first = args.keyword("FIRST", .bool) ?? false
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        let t = fixed ?? router.clock.now()
        if first { p.firstTimestamp = t } else { p.timestamp = t }
        return 0
    }

}

/// StoreIPAddress([ADDR,] OFFSET | src | dst)
///
/// Writes ADDR (or the destination address annotation) into the packet at byte OFFSET;
/// `src` and `dst` name the IP header's fields and fix the IP checksum (and the TCP/UDP
/// checksum of first fragments) incrementally.
///
/// Ports: 1 input, 1 output, agnostic.
public final class StoreIPAddress: Element, PacketAction {
    var address: UInt32? = nil
    var offset = 16
    var field: Int? = nil   // 12 src, 16 dst: relative to the network header

    public override func configure(_ args: inout Arguments) {
        let all = args.remaining()
        guard !all.isEmpty, all.count <= 2 else {
            args.error("expected '[ADDR,] OFFSET|src|dst'")
            return
        }
        if all.count == 2 {
            guard let a = ValueType<IPv4Address>.ipv4Address.parse(all[0], args.context) else {
                args.error("ADDR: expected IP address")
                return
            }
            address = a.value
        }
        switch all[all.count - 1] {
        case "src": field = 12
        case "dst": field = 16
        case let t:
            guard let n = Int(t), n >= 0 else {
                args.error("OFFSET: expected offset, 'src' or 'dst'")
                return
            }
            offset = n
        }
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        let value = address ?? p.destinationIPAnnotation
        if let field {
            guard let ip = p.networkHeader, p.networkLength >= 20 else { return -1 }
            let old = ip.be32(field)
            ip.setBE32(field, value)
            var c = ip.be16(IPv4Header.checksum)
            c = updatedChecksum(c, old: UInt16(old >> 16), new: UInt16(value >> 16))
            c = updatedChecksum(c, old: UInt16(old & 0xFFFF), new: UInt16(value & 0xFFFF))
            ip.setBE16(IPv4Header.checksum, c)
            let proto = ip.byte(9)
            if (proto == 6 || proto == 17), ip.be16(IPv4Header.fragment) & 0x1FFF == 0, let t = p.transportHeader,
                let o = p.transportHeaderOffset, p.length - o >= (proto == 6 ? 18 : 8)
            {
                let at = proto == 6 ? 16 : 6
                var tc = t.be16(at)
                if !(proto == 17 && tc == 0) {
                    tc = updatedChecksum(tc, old: UInt16(old >> 16), new: UInt16(value >> 16))
                    tc = updatedChecksum(tc, old: UInt16(old & 0xFFFF), new: UInt16(value & 0xFFFF))
                    t.setBE16(at, tc)
                }
            }
        } else {
            guard p.length >= offset + 4 else { return -1 }
            p.store32(offset, value)
        }
        return 0
    }

}

/// Hub
///
/// Every packet arriving on any input goes out of every output except the one with the
/// input's number (copies).
///
/// Ports: any number of inputs, as many outputs, push.
public final class Hub: Element {
    public override var portCount: String { "-/=" }
    public override var processing: String { "h/h" }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        for o in 0..<noutputs where o != port {
            withScratchBatch { copies in
                for i in 0..<batch.count { if let c = batch[i].clone() { copies.append(c) } }
                output(o, &copies)
            }
        }
        batch.killAll()
    }
}

/// Bypass([ACTIVE])
///
/// Packets go to output 1 while ACTIVE (default false), to output 0 otherwise.
///
/// Ports: 1 input, 1 or 2 outputs, push. Handlers: `active` (read/write).
public final class Bypass: Element {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "h/h" }
    var active = false

    public override func configure(_ args: inout Arguments) {
        active = args.positional("ACTIVE", .bool) ?? false
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        output(active && noutputs > 1 ? 1 : 0, &batch)
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.boolean("active", get: { [unowned self] in self.active }, set: { [unowned self] v in self.active = v })
    }
}

/// InputSwitch([INPUT])
///
/// Only packets from input INPUT pass (to output 0); others are dropped (-1: none pass).
///
/// Ports: any number of inputs, 1 output, push. Handlers: `switch` (read/write).
public final class InputSwitch: Element {
    public override var portCount: String { "-/1" }
    public override var processing: String { "h/h" }
    var chosen = 0

    public override func configure(_ args: inout Arguments) {
        chosen = args.positional("INPUT", .integer) ?? 0
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        if port == chosen { output(0, &batch) } else { batch.killAll() }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("switch", get: { [unowned self] in self.chosen }, set: { [unowned self] v in self.chosen = v })
    }
}

/// PullSwitch([INPUT]) — and SimplePullSwitch([INPUT])
///
/// Pulls only from input INPUT (-1: none).
///
/// Ports: any number of pull inputs, 1 pull output. Handlers: `switch` (read/write).
public class PullSwitch: Element {
    public override var portCount: String { "-/1" }
    public override var processing: String { "l/l" }
    var chosen = 0

    public override func configure(_ args: inout Arguments) {
        chosen = args.positional("INPUT", .integer) ?? 0
    }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        if chosen >= 0 && chosen < ninputs { input(chosen, into: &batch, max: max) }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("switch", get: { [unowned self] in self.chosen }, set: { [unowned self] v in self.chosen = v })
    }
}

public final class SimplePullSwitch: PullSwitch {
}

/// MarkMACHeader([OFFSET, LENGTH])
///
/// Sets the MAC header annotation OFFSET bytes into the packet (default 0).
///
/// Ports: 1 input, 1 output, agnostic.
public final class MarkMACHeader: Element, PacketAction {
    var offset = 0

    public override func configure(_ args: inout Arguments) {
        offset = args.positional("OFFSET", .unsignedInteger) ?? 0
        if (args.positional("LENGTH", .unsignedInteger) ?? 0) != 0 {
            configurationWarning("LENGTH is not supported and has no effect (the MAC header is known by where it starts)")
        }
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        p.setMACHeader(at: min(offset, p.length))
        return 0
    }

}

/// HostEtherFilter(ETHER [, DROP_OWN, DROP_OTHER, *keywords* OFFSET])
///
/// Acts like Ethernet input hardware for address ETHER: sets the packet type annotation
/// (HOST, BROADCAST, MULTICAST, OTHERHOST) and keeps frames on output 0. Frames for other
/// hosts go to output 1, or are dropped (unless DROP_OTHER is false, default true); with
/// DROP_OWN (default false), so do frames sent by ETHER. The Ethernet header starts OFFSET
/// bytes in (default 0).
///
/// Ports: 1 input, 1 or 2 outputs, agnostic (output 1 push).
public final class HostEtherFilter: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "a/ah" }
    var ether: UInt64 = 0
    var dropOwn = false
    var dropOther = true
    var offset = 0

    public override func configure(_ args: inout Arguments) {
        ether = args.mandatory("ETHER", .etherAddress)?.value ?? 0
        dropOwn = args.positional("DROP_OWN", .bool) ?? false
        dropOther = args.positional("DROP_OTHER", .bool) ?? true
        offset = args.keyword("OFFSET", .unsignedInteger) ?? 0
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard p.length >= offset + 14 else { return -1 }
        let d = p.data + offset
        let dst = UInt64(d.be32(0)) << 16 | UInt64(d.be16(4))
        let src = UInt64(d.be32(6)) << 16 | UInt64(d.be16(10))
        if dropOwn && src == ether { return 1 }
        if dst == ether { p.meta.pointee.packetType = PacketType.host; return 0 }
        if dst == 0xFFFF_FFFF_FFFF { p.meta.pointee.packetType = PacketType.broadcast; return 0 }
        if dst & 0x0100_0000_0000 != 0 { p.meta.pointee.packetType = PacketType.multicast; return 0 }
        p.meta.pointee.packetType = PacketType.otherHost
        return dropOther ? 1 : 0
    }

}

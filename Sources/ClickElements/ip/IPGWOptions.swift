import ClickLanguage
import ClickRuntime

/// IPGWOptions(MYADDR [, OTHERADDRS])
///
/// Processes the IP options of packets a router forwards: Record Route gets MYADDR added
/// when there is room; Timestamp options get a timestamp (and MYADDR when they ask for
/// addresses); the checksum is updated. Packets without options pass untouched (the common
/// case costs one comparison). A malformed option sends the packet to output 1 with the
/// ICMP_PARAMPROB annotation pointing at the bad byte, for ICMPError(…, parameterproblem).
///
/// Ports: 1 input, 1 or 2 outputs, agnostic (output 1 push). Handlers: `drops` (read).
public final class IPGWOptions: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "a/ah" }
    var myAddress: UInt32 = 0
    /// MYADDR and OTHERADDRS: a prespecified timestamp entry is filled in for these.
    var myAddresses: [UInt32] = []
    public private(set) var drops = 0

    public override func configure(_ args: inout Arguments) {
        myAddress = args.mandatory("MYADDR", .ipv4Address)?.value ?? 0
        myAddresses = [myAddress] + (args.positional("OTHERADDRS", .ipv4AddressList) ?? []).map(\.value)
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard let ip = p.networkHeader else { return 0 }
        let hl = Int(ip.byte(0) & 0x0F) << 2
        if hl <= 20 { return 0 }
        return processOptions(p, ip, hl)
    }

    func problem(_ p: Packet, at offset: Int) -> Int {
        drops &+= 1
        p.setAnnotation8(Annotation.icmpParameterProblem, UInt8(clamping: offset))
        return 1
    }

    func processOptions(_ p: Packet, _ ip: UnsafeMutableRawPointer, _ hl: Int) -> Int {
        guard hl <= p.networkLength else { return problem(p, at: 0) }
        var changed = false
        var o = 20
        while o < hl {
            let kind = ip.byte(o)
            if kind == 0 { break }
            if kind == 1 {
                o += 1
                continue
            }
            guard o + 1 < hl else { return problem(p, at: o) }
            let length = Int(ip.byte(o + 1))
            guard length >= 2, o + length <= hl else { return problem(p, at: o + 1) }
            switch kind {
            case 7:  // Record Route
                guard length >= 3 else { return problem(p, at: o + 1) }
                let pointer = Int(ip.byte(o + 2))
                guard pointer >= 4 else { return problem(p, at: o + 2) }
                if pointer + 3 <= length {
                    ip.setBE32(o + pointer - 1, myAddress)
                    ip.setByte(o + 2, UInt8(pointer + 4))
                    changed = true
                }
            case 68:  // Timestamp
                guard length >= 4 else { return problem(p, at: o + 1) }
                let pointer = Int(ip.byte(o + 2))
                let flag = ip.byte(o + 3) & 0x0F
                guard pointer >= 5 else { return problem(p, at: o + 2) }
                let entry = flag == 0 ? 4 : 8
                if flag == 2 || flag > 3 { return problem(p, at: o + 3) }
                if flag == 3 {
                    // Prespecified addresses: only our own entry gets the time.
                    if pointer + 7 <= length, myAddresses.contains(ip.be32(o + pointer - 1)) {
                        let ms = UInt32(truncatingIfNeeded: (routerNow() / 1_000_000) % 86_400_000)
                        ip.setBE32(o + pointer + 3, ms)
                        ip.setByte(o + 2, UInt8(pointer + 8))
                        changed = true
                    }
                } else if pointer + entry - 1 <= length {
                    let now = routerNow()
                    let ms = UInt32(truncatingIfNeeded: (now / 1_000_000) % 86_400_000)
                    if flag == 0 {
                        ip.setBE32(o + pointer - 1, ms)
                    } else {
                        ip.setBE32(o + pointer - 1, myAddress)
                        ip.setBE32(o + pointer + 3, ms)
                    }
                    ip.setByte(o + 2, UInt8(pointer + entry))
                    changed = true
                } else {
                    // No room: count the overflow in the high nibble.
                    let overflow = ip.byte(o + 3) >> 4
                    if overflow == 15 { return problem(p, at: o + 3) }
                    ip.setByte(o + 3, (overflow + 1) << 4 | flag)
                    changed = true
                }
            default:
                break
            }
            o += length
        }
        if changed { setIPChecksum(ip) }
        return 0
    }

    public override func addHandlers(_ h: inout HandlerSet) { h.integer("drops", get: { [unowned self] in self.drops }) }
}

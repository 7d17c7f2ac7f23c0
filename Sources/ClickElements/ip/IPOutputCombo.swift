import ClickLanguage
import ClickRuntime

/// IPOutputCombo(COLOR, IPADDR, MTU)
///
/// The output half of an IP router in one element, as `DropBroadcasts -> PaintTee(COLOR)
/// -> IPGWOptions(IPADDR) -> FixIPSrc(IPADDR) -> DecIPTTL -> IPFragmenter(MTU)`: link-level
/// broadcasts are dropped; a packet painted COLOR (it leaves by the interface it came in
/// on) is copied to output 1, for an ICMP redirect; a packet with bad IP options goes to
/// output 2 (parameter problem); FIX_IP_SRC packets get source IPADDR; a packet whose TTL
/// expires goes to output 3; a packet longer than MTU is fragmented, or goes to output 4
/// when it must not be (DF). Everything else leaves on output 0.
///
/// Ports: 1 input, 5 outputs, push.
public final class IPOutputCombo: Element {
    public override var portCount: String { "1/5" }
    public override var processing: String { "h/h" }
    var color: UInt8 = 0
    var mtu = 1500
    let options = IPGWOptions()
    let fixSource = FixIPSrc()
    let decrement = DecIPTTL()
    let fragmenter = IPFragmenter()

    public override func configure(_ args: inout Arguments) {
        if let c = args.mandatory("COLOR", .uint8) {
            color = UInt8(c)
        }
        let address = args.mandatory("IPADDR", .ipv4Address)?.value ?? 0
        mtu = args.mandatory("MTU", .unsignedInteger) ?? 1500
        if mtu < 68 { args.error("must be at least 68", keyword: "MTU") }
        options.myAddress = address
        fixSource.address = address
        fragmenter.mtu = mtu
    }

    public override func initialize() throws(ElementError) {
        for helper in [options, fixSource, decrement, fragmenter] as [Element] { helper.router = router }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        withScratchBatch { out in
            for i in 0..<batch.count {
                let p = batch[i]
                let type = p.meta.pointee.packetType
                if type == PacketType.broadcast || type == PacketType.multicast {
                    p.kill()
                    continue
                }
                if p.paint == color, let copy = p.clone() { output(1, single: copy) }
                if options.action(p) != 0 {
                    output(2, single: p)
                    continue
                }
                _ = fixSource.action(p)
                if decrement.action(p) != 0 {
                    output(3, single: p)
                    continue
                }
                guard let ip = p.networkHeader, let offset = p.networkHeaderOffset else {
                    p.kill()
                    continue
                }
                if Int(ip.be16(IPv4Header.totalLength)) > mtu {
                    if ip.be16(IPv4Header.fragment) & 0x4000 != 0 {
                        output(4, single: p)
                    } else {
                        fragmenter.split(p, ip, offset: offset) { f in
                            if out.isFull { output(0, &out) }
                            out.append(f)
                        }
                    }
                    continue
                }
                if out.isFull { output(0, &out) }
                out.append(p)
            }
            batch.count = 0
            output(0, &out)
        }
    }
}

import ClickLanguage
import ClickRuntime

/// SetTCPChecksum([FIXOFF])
///
/// Sets the TCP checksum of IP packets (network and transport headers set, as
/// CheckIPHeader leaves them), as Click does: whatever the IP protocol says, over the IP
/// length less the IP header, with the pseudo-header of the final destination when the
/// header carries a source route. A packet whose TCP length is below 20 bytes or beyond
/// its data is dropped, each with the message "SetTCPChecksum: bad lengths". With FIXOFF
/// (default false) a TCP data offset below 5 words is set to 5, and one beyond the TCP
/// length (in a packet that is not a fragment) to that length.
///
/// Ports: 1 input, 1 output, agnostic.
public final class SetTCPChecksum: Element, PacketAction {
    var fixOffset = false

    public override func configure(_ args: inout Arguments) {
        fixOffset = args.positional("FIXOFF", .bool) ?? false
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard let ip = p.networkHeader, let nh = p.networkHeaderOffset, p.length - nh >= 20 else { return bad() }
        let hl = Int(ip.byte(0) & 0x0F) << 2
        let length = Int(ip.be16(2)) - hl
        let transportLength = p.length - nh - hl
        guard length >= 20, length <= transportLength else { return bad() }
        let t = ip + hl
        if fixOffset {
            let offset = Int(t.byte(12) >> 4) << 2
            if offset < 20 {
                t.storeBytes(of: t.byte(12) & 0x0F | 0x50, toByteOffset: 12, as: UInt8.self)
            } else if offset > length, ip.be16(IPv4Header.fragment) & 0x3FFF == 0 {
                t.storeBytes(of: t.byte(12) & 0x0F | UInt8(truncatingIfNeeded: (length >> 2) << 4), toByteOffset: 12, as: UInt8.self)
            }
        }
        t.setBE16(16, 0)
        t.setBE16(16, internetChecksum(t, length, initial: pseudoHeaderSum(ip, proto: ip.byte(9), length: length)))
        return 0
    }

    func bad() -> Int {
        router.chatter("SetTCPChecksum: bad lengths")
        return -1
    }
}

/// SetUDPChecksum
///
/// Sets the UDP checksum of IP packets (network and transport headers set), as Click
/// does: over the UDP length field's bytes, whatever the IP protocol says, with the
/// pseudo-header of the final destination when the header carries a source route. A
/// fragment, or a packet shorter than its UDP header or UDP length, goes to output 1;
/// without output 1 it is dropped and the first one is reported ("SetUDPChecksum@2 ::
/// SetUDPChecksum: fragment or short packet").
///
/// Ports: 1 input, 1 or 2 outputs, agnostic (output 1 push).
public final class SetUDPChecksum: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "a/ah" }
    var reported = false

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard let ip = p.networkHeader, let nh = p.networkHeaderOffset, p.length - nh >= 20 else { return short() }
        let hl = Int(ip.byte(0) & 0x0F) << 2
        let transportLength = p.length - nh - hl
        guard ip.be16(IPv4Header.fragment) & 0x3FFF == 0, transportLength >= 8 else { return short() }
        let t = ip + hl
        let length = Int(t.be16(4))
        guard transportLength >= length else { return short() }
        t.setBE16(6, 0)
        t.setBE16(6, internetChecksum(t, length, initial: pseudoHeaderSum(ip, proto: ip.byte(9), length: length)))
        return 0
    }

    func short() -> Int {
        if noutputs == 1, !reported {
            reported = true
            router.chatter("\(declaration): fragment or short packet")
        }
        return 1
    }
}

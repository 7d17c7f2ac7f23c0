import ClickLanguage
import ClickRuntime

/// FlowHashSwitch([OFFSET])
///
/// A ClickOS element (not in Click): sends each IPv4 packet to an output chosen by a
/// symmetric hash of its flow (addresses, protocol and, for unfragmented TCP and UDP, ports),
/// so that both directions of a flow take the same output. The planner puts one on each side
/// of a function that runs as several instances, so that stateful functions (NAT, load
/// balancers) see every packet of a flow. OFFSET (default 14, after an Ethernet header) is
/// where the IP header starts; packets without an IPv4 header there (ARP) go to output 0.
///
/// Ports: 1 input, 1 or more outputs, push.
public final class FlowHashSwitch: Element, PacketAction {
    public override var portCount: String { "1/1-" }
    public override var processing: String { "h/h" }
    var offset = 14

    public override func configure(_ args: inout Arguments) {
        offset = args.positional("OFFSET", .unsignedInteger) ?? 14
    }

    @inline(__always) func word(_ p: Packet, _ at: Int) -> UInt64 {
        UInt64(p[at]) << 24 | UInt64(p[at + 1]) << 16 | UInt64(p[at + 2]) << 8 | UInt64(p[at + 3])
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ packet: Packet) -> Int {
        let n = noutputs
        let o = offset
        guard n > 1, packet.length >= o + 20, packet[o] >> 4 == 4 else { return 0 }
        if o >= 14 && (packet[o - 2] != 0x08 || packet[o - 1] != 0x00) { return 0 }
        let s = word(packet, o + 12), d = word(packet, o + 16)
        let proto = UInt64(packet[o + 9])
        var ports: UInt64 = 0
        let headerLength = Int(packet[o] & 0x0F) * 4
        let fragment = (UInt16(packet[o + 6]) << 8 | UInt16(packet[o + 7])) & 0x3FFF
        if (proto == 6 || proto == 17), fragment == 0, headerLength >= 20, packet.length >= o + headerLength + 4 {
            let a = UInt64(packet[o + headerLength]) << 8 | UInt64(packet[o + headerLength + 1])
            let b = UInt64(packet[o + headerLength + 2]) << 8 | UInt64(packet[o + headerLength + 3])
            ports = min(a, b) << 16 | max(a, b)
        }
        // SplitMix64's finalizer over the ordered pair of addresses and of ports.
        var h = (min(s, d) << 32 | max(s, d)) ^ (proto << 32 | ports) &* 0x9E37_79B9_7F4A_7C15
        h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 31
        return Int(h % UInt64(n))
    }

}

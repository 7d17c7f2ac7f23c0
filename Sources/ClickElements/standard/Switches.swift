import ClickLanguage
import ClickRuntime

/// Switch([OUTPUT])
///
/// Sends every packet to output OUTPUT (default 0); -1 drops them. The `switch` handler
/// changes the output while running.
///
/// Ports: 1 input, any number of outputs, push. Handlers: `switch` (read/write).
public final class Switch: Element {
    public override var portCount: String { "1/-" }
    public override var processing: String { "h/h" }
    var chosen = 0

    public override func configure(_ args: inout Arguments) {
        chosen = args.positional("OUTPUT", .integer) ?? 0
        if chosen >= noutputs { chosen = -1 }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        if chosen >= 0 && chosen < noutputs { output(chosen, &batch) } else { batch.killAll() }
    }

    public override var canLiveReconfigure: Bool { true }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("switch", get: { [unowned self] in self.chosen }, set: { [unowned self] v in
            self.chosen = v < self.noutputs ? v : -1
        })
    }
}

/// StaticSwitch(OUTPUT)
///
/// Sends every packet to output OUTPUT, fixed at configuration time; -1 drops them.
///
/// Ports: 1 input, any number of outputs, push.
public final class StaticSwitch: Element {
    public override var portCount: String { "1/-" }
    public override var processing: String { "h/h" }
    var chosen = 0

    public override func configure(_ args: inout Arguments) {
        chosen = args.mandatory("OUTPUT", .integer) ?? 0
        if chosen >= noutputs { chosen = -1 }
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        if chosen >= 0 { output(chosen, &batch) } else { batch.killAll() }
    }
}

/// RoundRobinSwitch
///
/// Sends packets to its outputs in turn.
///
/// Ports: 1 input, 1 or more outputs, push.
public final class RoundRobinSwitch: Element, PacketAction {
    public override var portCount: String { "1/1-" }
    public override var processing: String { "h/h" }
    var next = 0

    @inline(__always) public func action(_ packet: Packet) -> Int {
        let o = next
        next += 1
        if next >= noutputs { next = 0 }
        return o
    }

}

/// HashSwitch(OFFSET, LENGTH)
///
/// Sends each packet to an output chosen by hashing LENGTH bytes at OFFSET: the sum of the
/// bytes, folded as `(d ^ (d >> 4)) & (n - 1)` for 2, 4 or 8 outputs, `d % n` otherwise.
/// Packets too short for the bytes go to output 0.
///
/// Ports: 1 input, 1 or more outputs, push.
public final class HashSwitch: Element, PacketAction {
    public override var portCount: String { "1/1-" }
    public override var processing: String { "h/h" }
    var offset = 0
    var length = 0

    public override func configure(_ args: inout Arguments) {
        offset = args.mandatory("OFFSET", .unsignedInteger) ?? 0
        length = args.mandatory("LENGTH", .unsignedInteger) ?? 0
        if length == 0 { args.error("must be positive", keyword: "LENGTH") }
    }

    @inline(__always) public func action(_ packet: Packet) -> Int {
        guard packet.length >= offset + length else { return 0 }
        var d = 0
        for i in offset..<(offset + length) { d &+= Int(packet[i]) }
        let n = noutputs
        if n == 2 || n == 4 || n == 8 { return (d ^ (d >> 4)) & (n - 1) }
        return d % n
    }

}

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

/// RandomSwitch
///
/// Sends each packet to an output chosen uniformly at random.
///
/// Ports: 1 input, 1 or more outputs, push.
public final class RandomSwitch: Element, PacketAction {
    public override var portCount: String { "1/1-" }
    public override var processing: String { "h/h" }

    @inline(__always) public func action(_ packet: Packet) -> Int {
        Int(router.random.next(upperBound: UInt32(noutputs)))
    }

}

import ClickLanguage
import ClickRuntime

/// RatedSplitter(RATE) — and BandwidthRatedSplitter(RATE)
///
/// Sends at most RATE packets per second (BandwidthRatedSplitter: bytes per second) to
/// output 0 and the rest to output 1.
///
/// Ports: 1 input, 2 outputs, push. Handlers: `rate` (read/write).
public class RatedSplitter: Element, PacketAction {
    public override var portCount: String { "1/2" }
    public override var processing: String { "h/h" }
    var rate = 0.0
    var bucket = TokenBucket(rate: 1, capacity: 1, now: 0)
    var now: Int64 = 0
    func cost(_ p: Packet) -> Double { 1 }
    var isBandwidth: Bool { false }

    public override func configure(_ args: inout Arguments) {
        rate = readRate(&args, bandwidth: isBandwidth)
    }

    public override func initialize() throws(ElementError) {
        bucket = TokenBucket(rate: rate, capacity: max(1, rate / 50), now: router.clock.now())
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        let c = cost(p)
        if bucket.tokens >= c || (bucket.tokens >= 1 && c > bucket.capacity) {
            bucket.tokens -= c
            return 0
        }
        return 1
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        bucket.refill(router.clock.now())
        pushThrough(&batch)
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.rate("rate", bandwidth: isBandwidth, get: { [unowned self] in self.rate }, set: { [unowned self] r in
            self.rate = r
            self.bucket.rate = r
        })
    }
}

public final class BandwidthRatedSplitter: RatedSplitter {
    override func cost(_ p: Packet) -> Double { Double(p.length) }
    override var isBandwidth: Bool { true }

    public override func initialize() throws(ElementError) {
        bucket = TokenBucket(rate: rate, capacity: max(2048, rate / 50), now: router.clock.now())
    }
}

/// RandomSeed([SEED])
///
/// Seeds the router's random numbers with SEED, so that the elements that draw at random
/// (RandomSample, RandomSwitch, RED, rewriter port choice, Script's `random`) repeat
/// their choices from run to run. Without SEED, seeds from the system's random source.
///
/// Ports: none. Handlers: `seed` (write: reseed with a number, or at random if empty).
public final class RandomSeed: Element {
    public override var portCount: String { "0/0" }
    public override var configurePhase: Int { ConfigurePhase.first }

    public override func configure(_ args: inout Arguments) {
        if let seed = args.positional("SEED", .unsignedInteger) {
            router.random = RandomSource(seed: UInt64(seed))
        } else {
            router.random = RandomSource()
        }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.write("seed") { [unowned self] text throws(ElementError) in
            let t = ConfigText.words(text).joined(separator: " ")
            if t.isEmpty {
                self.router.random = RandomSource()
            } else if let seed = IntegerValue.parse(t, signed: false) {
                self.router.random = RandomSource(seed: UInt64(seed))
            } else {
                throw ElementError("expected unsigned integer")
            }
        }
    }
}

/// MarkIPCE([FORCE])
///
/// Marks ECN-capable IP packets Congestion Experienced (ECN field 3) and fixes the
/// checksum; packets that are not ECN-capable are dropped (with FORCE, marked anyway).
///
/// Ports: 1 input, 1 output, agnostic. Handlers: `drops` (read).
public final class MarkIPCE: Element, PacketAction {
    var force = false
    public private(set) var drops = 0

    public override func configure(_ args: inout Arguments) {
        force = args.positional("FORCE", .bool) ?? false
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        guard let ip = p.networkHeader, p.networkLength >= 20 else { return -1 }
        let tos = ip.byte(1)
        if tos & 3 == 0 && !force {
            drops &+= 1
            return -1
        }
        setIPTOS(ip, tos | 3)
        return 0
    }

    public override func addHandlers(_ h: inout HandlerSet) { h.integer("drops", get: { [unowned self] in self.drops }) }
}

/// AdjustTimestamp(TIME)
///
/// Adds TIME (seconds, may be negative) to each packet's timestamp.
///
/// Ports: 1 input, 1 output, agnostic.
public final class AdjustTimestamp: Element, PacketAction {
    var delta: Int64 = 0

    public override func configure(_ args: inout Arguments) {
        delta = args.mandatory("TIME", .signedTimestamp) ?? 0
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        p.timestamp = p.timestamp.saturatingAdd(delta)
        return 0
    }

}

/// Resize(HEAD, TAIL)
///
/// Adds (positive) or removes (negative) HEAD bytes at the front and TAIL bytes at the end
/// of each packet; added bytes are zero. Packets that cannot be resized are dropped.
///
/// Ports: 1 input, 1 output, agnostic.
public final class Resize: Element, PacketAction {
    var head = 0
    var tail = 0

    public override func configure(_ args: inout Arguments) {
        head = args.mandatory("HEAD", .integer) ?? 0
        tail = args.mandatory("TAIL", .integer) ?? 0
    }

    @inline(__always) public func action(_ p: Packet) -> Int {
        if head > 0 {
            guard p.push(head) else { return -1 }
            p.data.initializeMemory(as: UInt8.self, repeating: 0, count: head)
        } else if head < 0 {
            guard p.pull(-head) else { return -1 }
        }
        if tail > 0 {
            let old = p.length
            guard p.put(tail) else { return -1 }
            (p.data + old).initializeMemory(as: UInt8.self, repeating: 0, count: tail)
        } else if tail < 0 {
            guard p.length >= -tail else { return -1 }
            p.take(-tail)
        }
        return 0
    }

}

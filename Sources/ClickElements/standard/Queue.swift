import ClickLanguage
import ClickRuntime

/// Queue([CAPACITY]) — also SimpleQueue, NotifierQueue, FullNoteQueue
///
/// Stores packets pushed into it (FIFO) until they are pulled. Holds at most CAPACITY
/// packets (default 1000); a packet arriving when full is dropped, or pushed out of
/// output 1 if it exists. Announces when it becomes non-empty (pullers wake) and, Queue
/// and FullNoteQueue only, when it is full and has room again (sources pause and resume);
/// SimpleQueue and NotifierQueue let sources push on into a full queue, as Click's. The ring grows with the queue (from 1,024 slots,
/// doubling, up to CAPACITY): a large CAPACITY costs memory only when it is used.
///
/// Ports: 1 input (push), 1 or 2 outputs (0 pull, 1 push).
///
/// Handlers: `length`, `highwater_length`, `drops` (read); `capacity` (read/write);
/// `reset_counts`, `reset` (write: `reset` empties the queue).
public class QueueBase: Element, EmptyNotifier, FullNotifier {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "h/lh" }

    public var capacity = 1000
    var ring: UnsafeMutablePointer<Packet>
    var ringSize = 0
    var head = 0
    var tail = 0
    public private(set) var length = 0
    public internal(set) var highwater = 0
    public internal(set) var drops = 0
    public let emptySignal = NotifierSignal(active: false)
    public let fullSignal = NotifierSignal(active: true)
    /// Whether sources upstream pause while it is full: Queue and FullNoteQueue announce
    /// it; as in Click, SimpleQueue, NotifierQueue, FrontDropQueue and MixedQueue do not
    /// (their sources keep pushing, and the overflow is dropped).
    public var announcesFull: Bool { true }

    public required init() {
        ring = UnsafeMutablePointer<Packet>.allocate(capacity: 1)
        super.init()
    }

    deinit {
        while length > 0, let p = dequeue() { p.kill() }
        ring.deallocate()
    }

    public override func configure(_ args: inout Arguments) {
        if let c = args.positional("CAPACITY", .unsignedInteger) { capacity = c }
        if capacity > 100_000_000 { args.error("too large", keyword: "CAPACITY") }
    }

    public override func initialize() throws(ElementError) {
        resizeRing(capacity)
    }

    /// Slots a ring starts with; it doubles as the queue fills, up to the capacity.
    static let initialRingSize = 1024

    func resizeRing(_ newCapacity: Int) {
        let size = max(min(newCapacity, max(length, Self.initialRingSize)), 1)
        let newRing = UnsafeMutablePointer<Packet>.allocate(capacity: size)
        var n = 0
        while n < newCapacity, let p = dequeue() {
            newRing[n] = p
            n += 1
        }
        while let p = dequeue() {
            p.kill()
            drops &+= 1
        }
        ring.deallocate()
        ring = newRing
        ringSize = size
        head = 0
        tail = n % ringSize
        length = n
        capacity = newCapacity
        emptySignal.set(length > 0)
        fullSignal.set(length < capacity)
    }

    /// Doubles the ring (up to the capacity), keeping the packets in order.
    @inline(never) func growRing() {
        let size = min(capacity, ringSize * 2)
        let newRing = UnsafeMutablePointer<Packet>.allocate(capacity: size)
        for k in 0..<length { newRing[k] = ring[(head + k) % ringSize] }
        ring.deallocate()
        ring = newRing
        ringSize = size
        head = 0
        tail = length % size
    }

    @inline(__always) func enqueue(_ p: Packet) -> Bool {
        // The ring never exceeds the capacity, so one comparison serves the common case.
        if length >= ringSize {
            guard length < capacity else { return false }
            growRing()
        }
        ring[tail] = p
        tail += 1
        if tail == ringSize { tail = 0 }
        length += 1
        return true
    }

    /// Puts `p` at the head (it is pulled next); the caller has made room.
    func enqueueAtHead(_ p: Packet) {
        if length == ringSize { growRing() }
        head = head == 0 ? ringSize - 1 : head - 1
        ring[head] = p
        length += 1
    }

    /// Removes the newest packet (at the tail).
    func removeTail() -> Packet? {
        guard length > 0 else { return nil }
        tail = tail == 0 ? ringSize - 1 : tail - 1
        length -= 1
        return ring[tail]
    }

    @inline(__always) func dequeue() -> Packet? {
        guard length > 0 else { return nil }
        let p = ring[head]
        head += 1
        if head == ringSize { head = 0 }
        length -= 1
        return p
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        var dropped = 0
        for i in 0..<batch.count {
            let p = batch[i]
            if !enqueue(p) {
                // Reuse the batch's front for the drops.
                batch[dropped] = p
                dropped += 1
            }
        }
        if length > highwater { highwater = length }
        if length > 0 { emptySignal.set(true) }
        if length >= capacity { fullSignal.set(false) }
        batch.count = dropped
        if dropped > 0 {
            noteDrops(dropped)
            if noutputs > 1 { output(1, &batch) } else { batch.killAll() }
        }
    }

    /// Counts drops; the first one is reported as Click does (`q :: Queue: overflow`).
    func noteDrops(_ n: Int) {
        if drops == 0 && capacity > 0 { router.chatter("\(declaration): overflow") }
        drops &+= n
    }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        var n = 0
        while n < max, batch.count < batch.capacity, let p = dequeue() {
            batch.append(p)
            n += 1
        }
        if length == 0 { emptySignal.set(false) }
        if length < capacity { fullSignal.set(true) }
    }

    public override func takeState(from old: Element) {
        guard let old = old as? QueueBase else { return }
        while let p = old.dequeue() {
            if !enqueue(p) {
                p.kill()
                drops &+= 1
            }
        }
        drops &+= old.drops
        highwater = max(old.highwater, length)
        emptySignal.set(length > 0)
        fullSignal.set(length < capacity)
    }

    public override func cleanup() {
        while let p = dequeue() { p.kill() }
    }

    /// The configuration once `capacity` was written (Click's keyword handler rewrites it).
    var writtenConfiguration: String?

    public override var normalizedConfiguration: String? { writtenConfiguration }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("length", get: { [unowned self] in self.length })
        h.integer("highwater_length", get: { [unowned self] in self.highwater })
        h.integer("drops", get: { [unowned self] in self.drops })
        h.integer("capacity", get: { [unowned self] in self.capacity }, set: { [unowned self] n throws(ElementError) in
            guard n >= 0 else { throw ElementError("capacity must be non-negative") }
            self.resizeRing(n)
            self.writtenConfiguration = ConfigText.replacingKeyword(
                "CAPACITY", with: String(n), position: 0, in: self.writtenConfiguration ?? self.configuration)
        })
        h.write("reset_counts") { [unowned self] _ in
            self.drops = 0
            self.highwater = self.length
        }
        h.write("reset") { [unowned self] _ in
            while let p = self.dequeue() { p.kill() }
            self.emptySignal.set(false)
            self.fullSignal.set(true)
        }
    }
}

public final class Queue: QueueBase {
}

public final class SimpleQueue: QueueBase {
    public override var announcesFull: Bool { false }
}

public final class NotifierQueue: QueueBase {
    public override var announcesFull: Bool { false }
}

public final class FullNoteQueue: QueueBase {
}

/// FrontDropQueue([CAPACITY])
///
/// Like Queue, but when full it drops from the front (the oldest packet) to make room.
///
/// Ports: 1 push input, 1 pull output. Handlers: as Queue's: `length`,
/// `highwater_length`, `drops` (read); `capacity` (read/write); `reset_counts`, `reset`
/// (write).
public final class FrontDropQueue: QueueBase {
    public override var announcesFull: Bool { false }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        var dropped = 0
        for i in 0..<batch.count {
            let p = batch[i]
            if length >= capacity, capacity > 0, let old = dequeue() {
                batch[dropped] = old
                dropped += 1
            }
            if !enqueue(p) { p.kill() }
        }
        if length > highwater { highwater = length }
        if length > 0 { emptySignal.set(true) }
        batch.count = dropped
        if dropped > 0 {
            noteDrops(dropped)
            if noutputs > 1 { output(1, &batch) } else { batch.killAll() }
        }
    }
}

/// MixedQueue([CAPACITY])
///
/// A queue whose input 0 is FIFO (packets join the tail) and whose input 1 is LIFO
/// (packets join the head, and are pulled next). When full it drops arriving FIFO
/// packets, but makes room for an arriving LIFO packet by dropping the packet at the
/// tail. Notifies like NotifierQueue.
///
/// Ports: 2 push inputs, 1 pull output. Handlers: as Queue's: `length`,
/// `highwater_length`, `drops` (read); `capacity` (read/write); `reset_counts`, `reset`
/// (write).
public final class MixedQueue: QueueBase {
    public override var announcesFull: Bool { false }
    public override var portCount: String { "2/1" }
    public override var processing: String { "h/l" }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        guard port == 1 else { return super.push(port: port, &batch) }
        var dropped = 0
        for i in 0..<batch.count {
            let p = batch[i]
            guard capacity > 0 else {
                p.kill()
                dropped += 1
                continue
            }
            if length >= capacity, let old = removeTail() {
                old.kill()
                dropped += 1
            }
            enqueueAtHead(p)
        }
        batch.count = 0
        if length > highwater { highwater = length }
        if length > 0 { emptySignal.set(true) }
        if length >= capacity { fullSignal.set(false) }
        if dropped > 0 { noteDrops(dropped) }
    }
}

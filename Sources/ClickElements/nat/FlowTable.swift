import CShims
import ClickRuntime

/// A flow identifier: addresses, ports and protocol, packed for hashing.
public struct FlowID: Hashable, Sendable, CustomStringConvertible {
    public var saddr: UInt32
    public var sport: UInt16
    public var daddr: UInt32
    public var dport: UInt16
    public var proto: UInt8

    public init(saddr: UInt32, sport: UInt16, daddr: UInt32, dport: UInt16, proto: UInt8) {
        self.saddr = saddr
        self.sport = sport
        self.daddr = daddr
        self.dport = dport
        self.proto = proto
    }

    /// The flow of replies: source and destination swapped.
    @inline(__always) public var reversed: FlowID {
        FlowID(saddr: daddr, sport: dport, daddr: saddr, dport: sport, proto: proto)
    }

    @inline(__always) var hashValue64: UInt64 {
        var h = UInt64(saddr) &* 0x9E37_79B9_7F4A_7C15
        h ^= (UInt64(daddr) << 32 | UInt64(sport) << 16 | UInt64(dport)) &* 0xC2B2_AE3D_27D4_EB4F
        h ^= UInt64(proto) &* 0x1656_67B1_9E37_79F9
        h ^= h >> 29
        h = h &* 0xBF58_476D_1CE4_E5B9
        return h ^ (h >> 32)
    }

    /// Click's table text: `(SADDR, SPORT, DADDR, DPORT)`.
    public var description: String {
        "(\(IPv4Address(saddr)), \(sport), \(IPv4Address(daddr)), \(dport))"
    }
}

import ClickLanguage

/// One direction of a rewritten flow: packets matching `key` are rewritten to `rewritten`
/// and leave on `output`. Forward and reply mappings come in pairs (`partner`).
public struct FlowMapping {
    public var key: FlowID
    public var rewritten: FlowID
    public var output: Int32
    public var partner: Int32
    /// Router time (ns) after which the flow may be reaped.
    public var expiry: Int64
    /// The flow was created by the forward mapping at this index's pair owner.
    public var isReply: Bool
    /// TCP progress: 1 FIN or RST seen; 2 data seen forward; 4 data seen in reply.
    /// (The rewriters keep Click's flow flags here, on the forward mapping.)
    public var tcpState: UInt8
    public var inUse: Bool
    /// Changes whenever this slot is taken or freed, so that a record naming the slot
    /// (a rewriter's expiry heap entry) can tell whether it still means the same flow.
    public var generation: UInt32 = 0
    /// Rewriters: the input port whose spec made the flow.
    public var input: Int16 = 0
    /// Rewriters: the flow is in the guarantee heap (Click's `_guaranteed`).
    public var guaranteed = false
    /// Rewriters: the reply annotation byte taken from the flow's first packet.
    public var replyAnnotation: UInt8 = 0
    /// Rewriters: the expiry recorded in the flow's heap entry, never later than `expiry`.
    public var heapKey: Int64 = 0
}

/// An open-addressing hash table from flow IDs to mapping indexes, with the mappings, in
/// plain memory: the per-packet lookup allocates nothing and touches no Swift collection.
public final class FlowTable {
    struct Slot {
        var key: FlowID
        var mapping: Int32   // -1 empty, -2 deleted
    }

    private(set) var slots: UnsafeMutablePointer<Slot>
    private(set) var slotCount: Int
    private var used = 0
    private var tombstones = 0
    public private(set) var mappings: UnsafeMutablePointer<FlowMapping>
    public private(set) var mappingCapacity: Int
    private var freeMappings: [Int32] = []
    private var nextFresh: Int32 = 0
    /// Live mappings (each flow counts twice: forward and reply).
    public private(set) var count = 0
    /// Flows removed so far: a search that found no free flow ID can only succeed again
    /// after this changes.
    public private(set) var removals = 0

    public init(capacity: Int) {
        mappingCapacity = max(capacity, 2)
        mappings = .allocate(capacity: mappingCapacity)
        var n = 16
        while n < mappingCapacity * 2 { n <<= 1 }
        slotCount = n
        slots = .allocate(capacity: n)
        slots.initialize(repeating: Slot(key: FlowID(saddr: 0, sport: 0, daddr: 0, dport: 0, proto: 0), mapping: -1), count: n)
    }

    deinit {
        slots.deallocate()
        mappings.deallocate()
    }

    /// The mapping index for `key`, or -1.
    @inline(__always) public func find(_ key: FlowID) -> Int32 {
        let mask = slotCount - 1
        var i = Int(truncatingIfNeeded: key.hashValue64) & mask
        while true {
            let s = slots[i]
            if s.mapping == -1 { return -1 }
            if s.mapping >= 0 && s.key == key { return s.mapping }
            i = (i + 1) & mask
        }
    }

    /// True if mapping `m` is live and is `key`'s.
    @inline(__always) public func holds(_ m: Int32, _ key: FlowID) -> Bool {
        m >= 0 && Int(m) < mappingCapacity && mappings[Int(m)].inUse && mappings[Int(m)].key == key
    }

    /// Asks the CPU to start fetching the slot where a search for `key` begins.
    @inline(__always) func prefetchSlot(_ key: FlowID) {
        let s = slots + (Int(truncatingIfNeeded: key.hashValue64) & (slotCount - 1))
        clickos_prefetch(s)
        clickos_prefetch(UnsafeRawPointer(s) + (MemoryLayout<Slot>.size - 1))
    }

    /// Asks the CPU to start fetching mapping `m`.
    @inline(__always) func prefetchMapping(_ m: Int32) {
        let p = mappings + Int(m)
        clickos_prefetch(p)
        clickos_prefetch(UnsafeRawPointer(p) + (MemoryLayout<FlowMapping>.size - 1))
    }

    private func insertSlot(_ key: FlowID, _ mapping: Int32) {
        let mask = slotCount - 1
        var i = Int(truncatingIfNeeded: key.hashValue64) & mask
        while slots[i].mapping >= 0 { i = (i + 1) & mask }
        if slots[i].mapping == -2 { tombstones -= 1 }
        slots[i] = Slot(key: key, mapping: mapping)
        used += 1
    }

    private func removeSlot(_ key: FlowID, mapping: Int32) {
        let mask = slotCount - 1
        var i = Int(truncatingIfNeeded: key.hashValue64) & mask
        while slots[i].mapping != -1 {
            if slots[i].mapping == mapping && slots[i].key == key {
                slots[i].mapping = -2
                used -= 1
                tombstones += 1
                return
            }
            i = (i + 1) & mask
        }
    }

    /// A free mapping slot and the generation it takes.
    private func allocateMapping() -> (Int32, UInt32)? {
        if let m = freeMappings.popLast() { return (m, mappings[Int(m)].generation &+ 1) }
        guard Int(nextFresh) < mappingCapacity else { return nil }
        nextFresh += 1
        return (nextFresh - 1, 0)
    }

    /// Room for `capacity` mappings; indexes of live mappings stay as they are.
    public func grow(toCapacity capacity: Int) {
        guard capacity > mappingCapacity else { return }
        let bigger = UnsafeMutablePointer<FlowMapping>.allocate(capacity: capacity)
        bigger.moveInitialize(from: mappings, count: Int(nextFresh))
        mappings.deallocate()
        mappings = bigger
        mappingCapacity = capacity
        var n = slotCount
        while n < mappingCapacity * 2 { n <<= 1 }
        if n != slotCount {
            slots.deallocate()
            slotCount = n
            slots = .allocate(capacity: n)
        }
        rehash()
    }

    public var isFull: Bool { freeMappings.isEmpty && Int(nextFresh) >= mappingCapacity - 1 }

    /// Adds a forward mapping and its reply; returns the forward index, or nil when full.
    public func add(forward: FlowID, rewritten: FlowID, output: Int, replyOutput: Int, expiry: Int64) -> Int32? {
        guard let (f, fg) = allocateMapping() else { return nil }
        guard let (r, rg) = allocateMapping() else {
            freeMappings.append(f)
            return nil
        }
        mappings[Int(f)] = FlowMapping(key: forward, rewritten: rewritten, output: Int32(output), partner: r, expiry: expiry,
                                       isReply: false, tcpState: 0, inUse: true, generation: fg)
        let replyKey = rewritten.reversed
        mappings[Int(r)] = FlowMapping(key: replyKey, rewritten: forward.reversed, output: Int32(replyOutput), partner: f, expiry: expiry,
                                       isReply: true, tcpState: 0, inUse: true, generation: rg)
        insertSlot(forward, f)
        insertSlot(replyKey, r)
        count += 2
        if tombstones > slotCount / 4 { rehash() }
        return f
    }

    /// Takes mapping `m` out of the hash (it stays allocated until its flow is removed): a
    /// flow that maps onto its own reverse has one key for both directions, and, as in
    /// Click, the reply mapping is the one found.
    public func hide(_ m: Int32) {
        removeSlot(mappings[Int(m)].key, mapping: m)
    }

    /// Removes the flow that mapping `m` belongs to (both directions).
    public func remove(_ m: Int32) {
        guard m >= 0, mappings[Int(m)].inUse else { return }
        removals &+= 1
        let p = mappings[Int(m)].partner
        for i in [m, p] where mappings[Int(i)].inUse {
            removeSlot(mappings[Int(i)].key, mapping: i)
            mappings[Int(i)].inUse = false
            mappings[Int(i)].generation &+= 1
            freeMappings.append(i)
            count -= 1
        }
    }

    private func rehash() {
        slots.initialize(repeating: Slot(key: FlowID(saddr: 0, sport: 0, daddr: 0, dport: 0, proto: 0), mapping: -1), count: slotCount)
        used = 0
        tombstones = 0
        for i in 0..<Int(nextFresh) where mappings[i].inUse {
            // A hidden forward mapping (see `hide`) stays hidden.
            if !mappings[i].isReply && mappings[Int(mappings[i].partner)].key == mappings[i].key { continue }
            insertSlot(mappings[i].key, Int32(i))
        }
    }

    /// Every live forward mapping's index.
    public var forwardMappings: [Int32] {
        (0..<Int(nextFresh)).filter { mappings[$0].inUse && !mappings[$0].isReply }.map(Int32.init)
    }
}

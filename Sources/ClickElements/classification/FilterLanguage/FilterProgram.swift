import ClickLanguage
import ClickRuntime

/// One test of the compiled filter program: `(FIELD & mask) OP value`, where FIELD is up to
/// four bytes at `offset` from the network header, the transport header or the MAC header.
/// `proto` restricts the test to a protocol (-1: any, 256: TCP or UDP); transport tests
/// apply to first fragments only. `yes`/`no` name the next node (>= 0) or a verdict
/// (-1 drop, -2 - k output k). A trivial struct, so the per-packet walk touches no Swift
/// object.
public struct FilterNode: Sendable, Equatable {
    public enum Base: UInt8, Sendable { case network, transport, mac, always }
    /// `oneOf`: the compiled form of a chain of `eq` tests on the same field, each failing
    /// into the next (`src host A or src host B or ...`, or rule after rule): `value`
    /// indexes a sorted table of (value, target); no entry means `no`.
    public enum Op: UInt8, Sendable { case eq, ne, lt, gt, le, ge, oneOf }
    public var base: Base
    public var offset: Int32
    public var length: UInt8
    public var op: Op
    public var mask: UInt32
    public var value: UInt32
    public var proto: Int16
    public var yes: Int32
    public var no: Int32
}

/// A filter program compiled from expressions: a decision graph of `FilterNode`s in plain
/// memory, walked once per packet.
final class FilterProgram {
    private(set) var nodes: UnsafeMutablePointer<FilterNode>
    private(set) var count = 0
    private var capacity = 0
    /// Where evaluation starts: a node index, or a verdict (see `FilterNode`).
    private(set) var entry: Int32 = -1

    /// The `oneOf` tables: per table its first entry and entry count in `tableValues` and
    /// `tableTargets` (values sorted ascending).
    private(set) var tables: UnsafeMutablePointer<(start: Int32, count: Int32)>
    private(set) var tableValues: UnsafeMutablePointer<UInt32>
    private(set) var tableTargets: UnsafeMutablePointer<Int32>
    /// Chains of at least this many equality tests become a `oneOf` table.
    static let tableThreshold = 4

    init() {
        nodes = .allocate(capacity: 1)
        capacity = 1
        tables = .allocate(capacity: 1)
        tableValues = .allocate(capacity: 1)
        tableTargets = .allocate(capacity: 1)
    }

    deinit {
        nodes.deallocate()
        tables.deallocate()
        tableValues.deallocate()
        tableTargets.deallocate()
    }

    /// Turns every chain of `tableThreshold` or more `eq` tests on the same field, each
    /// failing into the next, into one `oneOf` node: a binary search instead of a test per
    /// value. The chain's other nodes stay for any other paths into them.
    static func buildTables(_ list: inout [FilterNode]) -> (tables: [(Int32, Int32)], values: [UInt32], targets: [Int32]) {
        func sameField(_ a: FilterNode, _ b: FilterNode) -> Bool {
            a.base == b.base && a.offset == b.offset && a.length == b.length && a.mask == b.mask && a.proto == b.proto
        }
        var tables: [(Int32, Int32)] = []
        var values: [UInt32] = []
        var targets: [Int32] = []
        func chain(from i: Int) -> (members: [Int], exit: Int32) {
            var members = [i]
            var j = list[i].no
            while j >= 0, Int(j) < list.count, members.count <= list.count, list[Int(j)].op == .eq, sameField(list[Int(j)], list[i]) {
                members.append(Int(j))
                j = list[Int(j)].no
            }
            return (members, j)
        }
        // Longest chains first, so that each is converted at its head.
        let candidates = list.indices.filter { list[$0].op == .eq && list[$0].base != .always }
        // Chain lengths, each from its successor's (the chain relation never loops: the
        // program's edges go to earlier-emitted nodes or outcomes).
        var lengths: [Int: Int] = [:]
        func length(_ i: Int) -> Int {
            if let l = lengths[i] { return l }
            var l = 1
            let j = Int(list[i].no)
            if j >= 0, j < list.count, j != i, list[j].op == .eq, sameField(list[j], list[i]) { l += length(j) }
            lengths[i] = l
            return l
        }
        for i in candidates { _ = length(i) }   // ascending: successors first, shallow recursion
        var inChain = [Bool](repeating: false, count: list.count)
        for i in candidates.sorted(by: { lengths[$0, default: 0] > lengths[$1, default: 0] }) where !inChain[i] && list[i].op == .eq {
            let (chain, j) = chain(from: i)
            guard chain.count >= tableThreshold else { continue }
            for k in chain { inChain[k] = true }
            // The first test of a value wins, as in the chain.
            var entries: [UInt32: Int32] = [:]
            for k in chain where entries[list[k].value] == nil { entries[list[k].value] = list[k].yes }
            let sorted = entries.sorted { $0.key < $1.key }
            tables.append((Int32(values.count), Int32(sorted.count)))
            values.append(contentsOf: sorted.map(\.key))
            targets.append(contentsOf: sorted.map(\.value))
            list[i].op = .oneOf
            list[i].value = UInt32(tables.count - 1)
            list[i].yes = -1
            list[i].no = j
        }
        return (tables, values, targets)
    }

    /// Compiles rules in order: the first whose expression holds gives the verdict
    /// (-1 drop, k >= 0 output k); no match drops.
    func compile(_ rules: [(FilterExpression, Int)]) {
        var list: [FilterNode] = []
        var next: Int32 = -1
        for (expression, verdict) in rules.reversed() {
            let target: Int32 = verdict < 0 ? -1 : -2 - Int32(verdict)
            next = emit(expression, yes: target, no: next, into: &list)
        }
        reachableOutputs = Self.reachableVerdicts(list, entry: next).map { Set($0.filter { $0 <= -2 }.map { Int(-2 - $0) }) }
        let (t, v, g) = Self.buildTables(&list)
        nodes.deallocate()
        capacity = max(list.count, 1)
        nodes = .allocate(capacity: capacity)
        for (i, n) in list.enumerated() { (nodes + i).initialize(to: n) }
        count = list.count
        entry = next
        tables.deallocate()
        tableValues.deallocate()
        tableTargets.deallocate()
        tables = .allocate(capacity: max(t.count, 1))
        for (i, e) in t.enumerated() { (tables + i).initialize(to: (start: e.0, count: e.1)) }
        tableValues = .allocate(capacity: max(v.count, 1))
        for (i, x) in v.enumerated() { (tableValues + i).initialize(to: x) }
        tableTargets = .allocate(capacity: max(g.count, 1))
        for (i, x) in g.enumerated() { (tableTargets + i).initialize(to: x) }
    }

    /// The outputs some packet can reach, as Click's optimiser finds them (its "output N
    /// matches no packets" warning); nil when the program is too large to explore.
    private(set) var reachableOutputs: Set<Int>?

    /// The offset of a `Fact` saying that protocol `value`'s transport header is absent.
    private static let absentTransport: Int32 = -1

    /// What a path through the program has learned about one field.
    private struct Fact {
        var base: FilterNode.Base
        var offset: Int32
        var length: UInt8
        var mask: UInt32
        var value: UInt32
        /// True: the field is present and equals `value` under `mask`; false: it does not
        /// (or is absent).
        var equal: Bool
        /// Learned from a `!=` test that failed: used only for the same word (in
        /// differential runs, Click's optimiser mostly does not carry it further).
        var fromNotEqual = false
    }

    /// Every verdict reachable from `entry`, following on each path only the branches its
    /// earlier outcomes allow (a test of a field a previous test fixed, a transport test of
    /// a protocol already ruled out). nil after `limit` steps.
    private static func reachableVerdicts(_ list: [FilterNode], entry: Int32, limit: Int = 100_000) -> Set<Int32>? {
        var found: Set<Int32> = []
        var steps = 0
        func allowed(_ n: FilterNode) -> Set<UInt32> { n.proto == 256 ? [6, 17] : [UInt32(n.proto)] }
        /// The bits of the `length`-byte word at `offset` that tests holding on the path
        /// fixed, byte by byte; `covers`: those tests read up to the word's end (so it is
        /// there).
        func known(base: FilterNode.Base, offset: Int32, length: UInt8, _ facts: [Fact]) -> (mask: UInt32, value: UInt32, covers: Bool) {
            var mask: UInt32 = 0, value: UInt32 = 0
            var covers = false
            let n = Int(length)
            for f in facts where f.equal && f.base == base && (!f.fromNotEqual || (f.offset == offset && f.length == length)) {
                let fl = Int(f.length)
                if Int(f.offset) + fl >= Int(offset) + n && Int(f.offset) < Int(offset) + n { covers = true }
                for b in 0..<fl {
                    let j = Int(f.offset) + b - Int(offset)
                    guard j >= 0, j < n else { continue }
                    let from = UInt32(8 * (fl - 1 - b)), to = UInt32(8 * (n - 1 - j))
                    let bm = (f.mask >> from) & 0xFF, bv = (f.value >> from) & bm
                    mask |= bm << to
                    value = (value & ~(bm << to)) | (bv << to)
                }
            }
            return (mask, value, covers)
        }
        func decided(_ n: FilterNode, _ facts: [Fact], _ protocols: Set<UInt32>?) -> Bool? {
            if n.base == .always { return true }
            if n.mask == 0, n.op == .ne { return false }
            if n.base == .transport, n.proto >= 0, let protocols, protocols.isDisjoint(with: allowed(n)) { return false }
            // Fields of the fixed IP header are always there (CheckIPHeader passed).
            let present = n.base == .network && Int(n.offset) + Int(n.length) <= 20
            if n.mask == 0, n.op == .eq, present { return true }
            if let protocols, n.base == .network, n.offset == 9, n.length == 1, n.mask == 0xFF, n.op == .eq || n.op == .ne {
                if !protocols.contains(n.value) { return n.op == .ne }
                if protocols == [n.value] { return n.op == .eq }
            }
            if n.base == .transport, n.proto >= 0 {
                for f in facts where f.base == .network && f.offset == 9 && f.length == 1 && f.mask == 0xFF {
                    let allowed: (UInt32) -> Bool = { n.proto == 256 ? ($0 == 6 || $0 == 17) : $0 == UInt32(n.proto) }
                    if f.equal, !allowed(f.value) { return false }
                    if !f.equal, n.proto != 256, f.value == UInt32(n.proto) { return false }
                }
            }
            // The protocol byte, when the path fixed it, decides transport tests; so does a
            // failed test of a protocol's transport header alone.
            if n.base == .transport, n.proto >= 0 {
                let p = known(base: .network, offset: 9, length: 1, facts)
                if p.mask == 0xFF, !allowed(n).contains(p.value) { return false }
                let absent = Set(facts.filter { $0.base == .transport && $0.offset == Self.absentTransport }.map(\.value))
                if allowed(n).isSubset(of: absent) { return false }
            }
            guard n.op != .oneOf else { return nil }
            // What the path fixed of the bytes this test reads, from every test that held
            // on them (words of other offsets and lengths included).
            // Like Click's optimiser, only a test of bits all fixed is decided.
            let k = known(base: n.base, offset: n.offset, length: n.length, facts)
            if n.mask & ~k.mask == 0, present || k.covers {
                let w = k.value & n.mask
                switch n.op {
                case .eq: return w == n.value
                case .ne: return w != n.value
                case .lt: return w < n.value
                case .gt: return w > n.value
                case .le: return w <= n.value
                case .ge: return w >= n.value
                case .oneOf: return nil
                }
            }
            for f in facts where f.base == n.base && f.offset == n.offset && f.length == n.length {
                if !f.equal, f.mask == n.mask, f.value == n.value, n.op == .eq { return false }
                if !f.equal, f.mask == n.mask, f.value == n.value, n.op == .ne, present { return true }
            }
            return nil
        }
        // A work list, not recursion: a program of thousands of rules is as deep.
        // `protocols`: the IP protocols the transport tests that held on a path allow.
        var pending: [(at: Int32, facts: [Fact], protocols: Set<UInt32>?)] = [(entry, [], nil)]
        while let (at, facts, protocols) = pending.popLast() {
            steps += 1
            if steps > limit { return nil }
            guard at >= 0 else { found.insert(at); continue }
            let n = list[Int(at)]
            if let outcome = decided(n, facts, protocols) {
                pending.append((outcome ? n.yes : n.no, facts, protocols))
                continue
            }
            let narrowed = n.base == .transport && n.proto >= 0 ? (protocols ?? allowed(n)).intersection(allowed(n)) : protocols
            var yes = facts, no = facts
            if n.op == .eq || n.op == .ne {
                let fact = Fact(base: n.base, offset: n.offset, length: n.length, mask: n.mask, value: n.value, equal: true)
                var negated = fact
                negated.equal = false
                if n.op == .eq {
                    yes.append(fact)
                    no.append(negated)
                } else {
                    yes.append(negated)
                    var learned = fact
                    learned.fromNotEqual = true
                    if n.base == .network, Int(n.offset) + Int(n.length) <= 20 { no.append(learned) }
                }
            }
            // A transport test of nothing but the header's presence failed: that protocol's
            // transport header is not there (not that protocol, or a later fragment).
            if n.base == .transport, n.proto >= 0, n.mask == 0, n.op == .eq {
                for p in allowed(n) {
                    no.append(Fact(base: .transport, offset: Self.absentTransport, length: 0, mask: 0, value: p, equal: false))
                }
            }
            // The most recent outcomes are enough (and keep a long path cheap).
            if yes.count > 32 { yes.removeFirst() }
            if no.count > 32 { no.removeFirst() }
            pending.append((n.no, no, protocols))
            pending.append((n.yes, yes, narrowed))
        }
        return found
    }

    private func emit(_ e: FilterExpression, yes: Int32, no: Int32, into list: inout [FilterNode]) -> Int32 {
        switch e {
        case .constant(let b): return b ? yes : no
        case .test(var n):
            n.yes = yes
            n.no = no
            list.append(n)
            return Int32(list.count - 1)
        case .not(let a): return emit(a, yes: no, no: yes, into: &list)
        case .all(let terms):
            var next = yes
            for t in terms.reversed() { next = emit(t, yes: next, no: no, into: &list) }
            return next
        case .any(let terms):
            var next = no
            for t in terms.reversed() { next = emit(t, yes: yes, no: next, into: &list) }
            return next
        case .choice(let c, let a, let b):
            let ya = emit(a, yes: yes, no: no, into: &list)
            let yb = emit(b, yes: yes, no: no, into: &list)
            return emit(c, yes: ya, no: yb, into: &list)
        }
    }

    /// The verdict for `p`: -1 drop, k >= 0 output k.
    @inline(__always) func evaluate(_ p: Packet) -> Int {
        var at = entry
        // The three bases and how many bytes each has; -1 when absent.
        var ip = UnsafeMutableRawPointer(bitPattern: 1).unsafelyUnwrapped
        var ipLength = -1
        var transport = ip
        var transportLength = -1
        var proto: Int16 = -2
        if let header = p.networkHeader, p.networkLength >= 20 {
            ip = header
            ipLength = p.networkLength
            proto = Int16(header.load(fromByteOffset: 9, as: UInt8.self))
            let firstFragment = UInt16(bigEndian: header.loadUnaligned(fromByteOffset: 6, as: UInt16.self)) & 0x1FFF == 0
            if firstFragment, let t = p.transportHeader, let offset = p.transportHeaderOffset {
                transport = t
                transportLength = p.length - offset
            }
        }
        var mac = ip
        var macLength = -1
        if let m = p.macHeader, let o = p.macHeaderOffset {
            mac = m
            macLength = p.length - o
        }
        let nodes = self.nodes
        while at >= 0 {
            let n = nodes[Int(at)]
            let base: UnsafeMutableRawPointer
            var available: Int
            switch n.base {
            case .network:
                base = ip
                available = ipLength
            case .transport:
                base = transport
                available = transportLength
                if n.proto == 256 {
                    if proto != 6 && proto != 17 { available = -1 }
                } else if n.proto >= 0 && proto != n.proto {
                    available = -1
                }
            case .mac:
                base = mac
                available = macLength
            case .always:
                at = n.yes
                continue
            }
            let offset = Int(n.offset)
            var result = false
            if offset + Int(n.length) <= available {
                let v: UInt32
                switch n.length {
                case 1: v = UInt32(base.load(fromByteOffset: offset, as: UInt8.self))
                case 2: v = UInt32(UInt16(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
                case 4: v = UInt32(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
                default:
                    var w: UInt32 = 0
                    for k in 0..<Int(n.length) { w = w << 8 | UInt32(base.load(fromByteOffset: offset + k, as: UInt8.self)) }
                    v = w
                }
                let m = v & n.mask
                switch n.op {
                case .oneOf:
                    let table = tables[Int(n.value)]
                    var lo = Int(table.start), hi = Int(table.start + table.count) - 1
                    while lo <= hi {
                        let mid = (lo + hi) >> 1
                        let x = tableValues[mid]
                        if x == m {
                            at = tableTargets[mid]
                            break
                        }
                        if x < m { lo = mid + 1 } else { hi = mid - 1 }
                    }
                    if lo <= hi { continue }
                    result = false
                case .eq: result = m == n.value
                case .ne: result = m != n.value
                case .lt: result = m < n.value
                case .gt: result = m > n.value
                case .le: result = m <= n.value
                case .ge: result = m >= n.value
                }
            }
            at = result ? n.yes : n.no
        }
        return at == -1 ? -1 : Int(-2 - at)
    }
}

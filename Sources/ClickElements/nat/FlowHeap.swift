import ClickRuntime

/// The expiry heaps of one or more rewriters (Click's `IPRewriterHeap`): every flow is in
/// the guarantee heap (its guarantee has not run out) or the best-effort heap, ordered by
/// expiry. MAPPING_CAPACITY bounds the flows in both; when a new flow would exceed it,
/// the best-effort flow that expires first makes room, and with none, the new flow is
/// refused (admission control). Rewriters that name another in MAPPING_CAPACITY share its
/// heap, and so its capacity.
///
/// A packet only moves its flow's expiry later, so the heaps are lazy: an entry's key is
/// a lower bound of its flow's expiry, corrected when the entry reaches the top. A packet
/// therefore costs no heap work unless its flow changes heap or its expiry moves earlier
/// (a TCP FIN); stale entries (flows gone or moved) are skipped and swept out.
final class FlowHeap {
    struct Entry {
        var key: Int64
        /// Ties go to the flow that entered first.
        var order: UInt64
        var owner: UInt16
        var flow: Int32
        var generation: UInt32

        @inline(__always) func precedes(_ o: Entry) -> Bool { key < o.key || (key == o.key && order < o.order) }
    }

    /// A rewriter sharing this heap, held without a reference count: the router owns
    /// its elements for as long as the heap lives.
    struct Owner {
        unowned(unsafe) var rewriter: IPRewriter
    }

    var capacity = Int(Int32.max)
    private(set) var owners: [Owner] = []
    /// Live flows in the best-effort (0) and guarantee (1) heaps.
    private(set) var live = [0, 0]
    private var heaps: [[Entry]] = [[], []]
    private var order: UInt64 = 0

    var size: Int { live[0] + live[1] }

    func register(_ rewriter: IPRewriter) -> UInt16 {
        if let i = owners.firstIndex(where: { $0.rewriter === rewriter }) { return UInt16(i) }
        owners.append(Owner(rewriter: rewriter))
        return UInt16(owners.count - 1)
    }

    /// A hot swap hands the flows of `old` to `new`.
    func replaceOwner(_ old: IPRewriter, with new: IPRewriter) {
        for i in owners.indices where owners[i].rewriter === old { owners[i].rewriter = new }
    }

    // MARK: Flows entering, moving and leaving

    /// Files a new flow (`table.mappings[flow]`, its expiry and heap already set).
    func insert(owner: UInt16, table: FlowTable, flow: Int32) {
        let h = table.mappings[Int(flow)].guaranteed ? 1 : 0
        live[h] += 1
        push(h, owner: owner, table: table, flow: flow)
    }

    /// Click's `change_expiry`: the flow now expires at `expiry`, in the guarantee heap or not.
    @inline(__always) func change(owner: UInt16, table: FlowTable, flow: Int32, guaranteed: Bool, expiry: Int64) {
        let m = table.mappings + Int(flow)
        m.pointee.expiry = expiry
        if m.pointee.guaranteed != guaranteed {
            live[m.pointee.guaranteed ? 1 : 0] -= 1
            m.pointee.guaranteed = guaranteed
            live[guaranteed ? 1 : 0] += 1
            push(guaranteed ? 1 : 0, owner: owner, table: table, flow: flow)
        } else if expiry < m.pointee.heapKey {
            push(guaranteed ? 1 : 0, owner: owner, table: table, flow: flow)
        }
    }

    /// The flow is going (its owner removes it from its table next).
    func forget(table: FlowTable, flow: Int32) {
        live[table.mappings[Int(flow)].guaranteed ? 1 : 0] -= 1
    }

    /// A new entry for the flow at its current expiry; earlier entries become stale.
    private func push(_ h: Int, owner: UInt16, table: FlowTable, flow: Int32) {
        let m = table.mappings + Int(flow)
        m.pointee.generation &+= 1
        m.pointee.heapKey = m.pointee.expiry
        order &+= 1
        heaps[h].append(Entry(key: m.pointee.expiry, order: order, owner: owner, flow: flow, generation: m.pointee.generation))
        siftUp(h, heaps[h].count - 1)
        if heaps[h].count > 2 * live[h] + 64 { sweep(h) }
    }

    // MARK: The flow that expires first

    private func isCurrent(_ e: Entry, heap h: Int) -> Bool {
        let table = owners[Int(e.owner)].rewriter.table
        let m = table.mappings[Int(e.flow)]
        return m.inUse && !m.isReply && m.generation == e.generation && m.guaranteed == (h == 1)
    }

    /// The flow of heap `h` (0 best effort, 1 guarantee) that expires first, or nil.
    func first(_ h: Int) -> (owner: IPRewriter, flow: Int32, expiry: Int64)? {
        while let top = heaps[h].first {
            guard isCurrent(top, heap: h) else {
                removeTop(h)
                continue
            }
            let rewriter = owners[Int(top.owner)].rewriter
            let expiry = rewriter.table.mappings[Int(top.flow)].expiry
            if top.key < expiry {
                // The flow saw packets since: file it at its real expiry.
                heaps[h][0].key = expiry
                rewriter.table.mappings[Int(top.flow)].heapKey = expiry
                siftDown(h, 0)
                continue
            }
            return (rewriter, top.flow, expiry)
        }
        return nil
    }

    /// Removes the stale entries of heap `h` and rebuilds it.
    private func sweep(_ h: Int) {
        heaps[h] = heaps[h].filter { isCurrent($0, heap: h) }
        var i = heaps[h].count / 2
        while i > 0 {
            i -= 1
            siftDown(h, i)
        }
    }

    private func removeTop(_ h: Int) {
        let last = heaps[h].removeLast()
        if !heaps[h].isEmpty {
            heaps[h][0] = last
            siftDown(h, 0)
        }
    }

    private func siftUp(_ h: Int, _ start: Int) {
        var i = start
        let e = heaps[h][i]
        while i > 0 {
            let parent = (i - 1) / 2
            guard e.precedes(heaps[h][parent]) else { break }
            heaps[h][i] = heaps[h][parent]
            i = parent
        }
        heaps[h][i] = e
    }

    private func siftDown(_ h: Int, _ start: Int) {
        let n = heaps[h].count
        var i = start
        let e = heaps[h][i]
        while true {
            var child = 2 * i + 1
            guard child < n else { break }
            if child + 1 < n && heaps[h][child + 1].precedes(heaps[h][child]) { child += 1 }
            guard heaps[h][child].precedes(e) else { break }
            heaps[h][i] = heaps[h][child]
            i = child
        }
        heaps[h][i] = e
    }

    // MARK: Making room (Click's shift_heap_best_effort, shrink_heap and shrink_heap_for_new_flow)

    /// Flows whose guarantee ran out by `now` go to the best-effort heap, with the
    /// expiry their owner gives a best-effort flow.
    func shiftExpiredGuarantees(now: Int64) {
        while let (rw, flow, expiry) = first(1), expiry <= now {
            let ownerID = register(rw)
            change(owner: ownerID, table: rw.table, flow: flow, guaranteed: false, expiry: rw.bestEffortExpiry(flow))
        }
    }

    /// Room for the new `flow` of `rewriter` when the heaps hold more than the capacity:
    /// the first best-effort flow goes, or, with none, the new flow. True when the new
    /// flow went.
    func makeRoom(forNew flow: Int32, of rewriter: IPRewriter, now: Int64) -> Bool {
        shiftExpiredGuarantees(now: now)
        if let (rw, victim, _) = first(0) {
            rw.destroyFlow(victim)
            return rw === rewriter && victim == flow
        }
        rewriter.destroyFlow(flow)
        return true
    }

    /// Click's `shrink_heap`: expired flows go, then flows until at most `capacity` are
    /// left (all of them when `clearAll`).
    func shrink(now: Int64, clearAll: Bool) {
        shiftExpiredGuarantees(now: now)
        while let (rw, flow, expiry) = first(0), expiry <= now { rw.destroyFlow(flow) }
        let limit = clearAll ? 0 : capacity
        while size > limit {
            guard let (rw, flow, _) = first(live[0] > 0 ? 0 : 1) else { break }
            rw.destroyFlow(flow)
        }
    }
}

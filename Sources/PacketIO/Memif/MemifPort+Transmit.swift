#if canImport(Glibc)
import Glibc
#endif
import CShims
import VMInterface
import ClickRuntime

/// Transmitting: copying packets into the peer-visible buffers of the transmit rings and
/// publishing them, spread over several rings by flow.
extension MemifPort {
    // MARK: Sending

    /// Room in the fullest transmit ring: with several rings a packet's ring depends on
    /// its flow, and this many packets fit whichever rings they go to.
    public var transmitSpace: Int {
        guard state == .connected, !txRings.isEmpty else { return 0 }
        var room = Int.max
        for (r, ring) in txRings.enumerated() {
            let free = role == .client ? (1 << log2Size) - Int(txCursor[r] &- ring.tail) : Int(ring.head &- txCursor[r])
            room = min(room, free)
        }
        return room
    }

    public func countTransmitDrops(_ count: Int) {
        counters.add(.sendDrops, count)
    }

    public func transmit(_ batch: PacketBatch, from start: Int) -> Int {
        guard state == .connected, !txRings.isEmpty, start < batch.count else { return 0 }
        guard role == .client || regionsIntact() else { return 0 }
        var bytes = 0
        var sent = 0
        if txRings.count == 1 {
            sent = place(ring: 0, batch, from: start, to: batch.count, bytes: &bytes)
            // (A peer's bad descriptor can end the link inside `place`: nothing to publish.)
            if sent > 0 && state == .connected { publish(ring: 0) }
        } else {
            sent = spread(batch, from: start, bytes: &bytes)
        }
        guard sent > 0 else { return 0 }
        counters.add(.sentPackets, sent)
        counters.add(.sentBytes, bytes)
        return sent
    }

    /// Several transmit rings: each packet goes to the ring of its flow (a hash of its
    /// IPv4 addresses, protocol and ports, the same both ways; of its Ethernet addresses
    /// otherwise), so a peer that reads its rings on several cores gets every flow on
    /// one of them, in order. Packets go in order, in runs of the same ring; the first
    /// that does not fit stops the send, so what was sent is a prefix of the batch.
    func spread(_ batch: PacketBatch, from start: Int, bytes: inout Int) -> Int {
        let rings = txRings.count
        var touched: UInt64 = 0
        var sent = 0
        var i = start
        var r = Int(Self.flowHash(batch[i]) % UInt32(rings))
        while i < batch.count {
            // The run of packets for ring r, and the ring of the packet after it.
            var end = i + 1
            var next = r
            while end < batch.count {
                next = Int(Self.flowHash(batch[end]) % UInt32(rings))
                if next != r { break }
                end += 1
            }
            let placed = place(ring: r, batch, from: i, to: end, bytes: &bytes)
            if placed > 0 { touched |= 1 << UInt64(r & 63) }
            sent += placed
            if placed < end - i || state != .connected { break }
            i = end
            r = next
        }
        guard state == .connected else { return sent }
        for r in 0..<min(rings, 64) where touched & (1 << UInt64(r)) != 0 { publish(ring: r) }
        return sent
    }

    /// Where each transmit ring's cursor stands (how many slots were filled, modulo 2^16).
    var transmitCursors: [UInt16] { txCursor }


    /// Makes what `place` wrote to ring `r` visible to the peer, and wakes it if it asked.
    @inline(__always) func publish(ring r: Int) {
        let ring = txRings[r]
        if role == .client { ring.head = txCursor[r] } else { ring.tail = txCursor[r] }
        signal(ring, txEvents[r])
    }

    /// Copies packets `from..<to` into transmit ring `r` behind its cursor, without
    /// publishing them; returns how many fit.
    @inline(__always) func place(ring r: Int, _ batch: PacketBatch, from: Int, to: Int, bytes: inout Int) -> Int {
        role == .client ? placeClient(r, batch, from, to, &bytes) : placeServer(r, batch, from, to, &bytes)
    }

    func placeClient(_ r: Int, _ batch: PacketBatch, _ start: Int, _ end: Int, _ bytes: inout Int) -> Int {
        let ring = txRings[r]
        var head = txCursor[r]
        var free = (1 << log2Size) - Int(head &- ring.tail)
        let bufferSize = self.bufferSize
        guard regionCount > 0, let base = regionTable[0].base else { return 0 }
        let slotMask = (1 << log2Size) - 1
        let ringBase = clientBufferOffset(ring: r, slot: 0)
        var sent = 0
        var i = start
        // The packets' metadata and data are often cold (a deep queue let them go): ask
        // for them a few packets ahead.
        for k in start..<min(end, start + 4) { clickos_prefetch(batch[k].meta) }
        while i < end {
            if i + 4 < end { clickos_prefetch(batch[i + 4].meta) }
            if i + 2 < end { clickos_prefetch(batch[i + 2].data) }
            let p = batch[i]
            let length = p.length
            if length <= bufferSize {
                // The common case: one slot, no chain.
                if free == 0 { break }
                let d = ring.descriptor(head)
                let offset = ringBase &+ (Int(head) & slotMask) &* bufferSize
                (base + offset).copyMemory(from: p.data, byteCount: length)
                d.memifRegion = 0
                d.memifOffset = UInt32(truncatingIfNeeded: offset)
                d.memifLength = UInt32(truncatingIfNeeded: length)
                d.memifFlags = 0
                head &+= 1
                free -= 1
                bytes &+= length
                sent += 1
                i += 1
                continue
            }
            let segments = (length + bufferSize - 1) / bufferSize
            if segments > free { break }
            var copied = 0
            for s in 0..<segments {
                let d = ring.descriptor(head)
                let offset = clientBufferOffset(ring: r, slot: Int(head) & slotMask)
                let n = min(bufferSize, length - copied)
                (base + offset).copyMemory(from: p.data + copied, byteCount: n)
                d.memifRegion = 0
                d.memifOffset = UInt32(offset)
                d.memifLength = UInt32(n)
                d.memifFlags = s + 1 < segments ? MemifRing.next : 0
                copied += n
                head &+= 1
            }
            free -= segments
            bytes &+= length
            sent += 1
            i += 1
        }
        txCursor[r] = head
        return sent
    }

    func placeServer(_ r: Int, _ batch: PacketBatch, _ start: Int, _ end: Int, _ bytes: inout Int) -> Int {
        let ring = txRings[r]
        var tail = txCursor[r]
        let head = ring.head
        var sent = 0
        var i = start
        for k in start..<min(end, start + 4) { clickos_prefetch(batch[k].meta) }
        outer: while i < end {
            if i + 4 < end { clickos_prefetch(batch[i + 4].meta) }
            if i + 2 < end { clickos_prefetch(batch[i + 2].data) }
            let p = batch[i]
            let length = p.length
            var copied = 0
            var slot = tail
            repeat {
                guard slot != head else { break outer }  // out of buffers: the packet waits
                let d = ring.descriptor(slot)
                let region = Int(d.memifRegion)
                let offset = Int(d.memifOffset)
                let capacity = Int(d.memifLength)
                guard region < regionCount, capacity > 0, offset + capacity <= regionTable[region].size,
                    let base = regionTable[region].base
                else {
                    disconnect(reason: "Invalid descriptor", tellPeer: true)
                    return sent
                }
                let n = min(capacity, length - copied)
                (base + offset).copyMemory(from: p.data + copied, byteCount: n)
                d.memifLength = UInt32(n)
                copied += n
                d.memifFlags = copied < length ? MemifRing.next : 0
                slot &+= 1
            } while copied < length
            tail = slot
            bytes &+= length
            sent += 1
            i += 1
        }
        txCursor[r] = tail
        return sent
    }
}

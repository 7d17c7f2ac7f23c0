#if canImport(Glibc)
import Glibc
#endif
import CShims
import VMInterface
import ClickRuntime

/// Receiving: copying the peer's published packets out of the shared rings into pool
/// packets, in both roles.
extension MemifPort {
    // MARK: Receiving


    /// Server: after any region in the process was lost, drops the link if one of ours
    /// was (the peer shrank it). Returns true when the link is still usable.
    @inline(__always) func regionsIntact() -> Bool {
        let events = clickos_lost_region_events()
        guard events != lostRegionEventsSeen else { return true }
        lostRegionEventsSeen = events
        guard regions.contains(where: \.isLost) else { return true }
        if draining { finishDraining() }
        if state != .disconnected { disconnect(reason: "Region shrunk by the peer", tellPeer: true) }
        return false
    }

    public func receive(into batch: inout PacketBatch, pool: PacketPool) -> Int {
        guard state == .connected || draining else { return 0 }
        guard role == .client || regionsIntact() else { return 0 }
        let before = batch.count
        let rings = rxRings.count
        for k in 0..<rings where !batch.isFull {
            let i = (rxNext + k) % rings
            receiveRing(i, &batch, pool)
        }
        rxNext = (rxNext + 1) % max(rings, 1)
        if role == .server && !regionsIntact() {
            // The region went while we read it: what came out of it is zeros, not packets.
            let bogus = batch.count - before
            for i in before..<batch.count { batch[i].kill() }
            batch.count = before
            counters.add(.receivedPackets, -bogus)
            counters.add(.receiveDrops, bogus)
            return 0
        }
        if draining && !hasPendingReceive { finishDraining() }
        return batch.count - before
    }

    /// Copies the packet starting at slot `cursor` into a pool packet; returns the slot
    /// after it, or nil when the packet is not complete yet (its chain runs to `end`).
    @inline(__always)
    func copyOut(_ ring: MemifRing, from cursor: UInt16, end: UInt16, pool: PacketPool, into batch: inout PacketBatch,
                         bytes: inout Int, drops: inout Int) -> UInt16? {
        var slot = cursor
        let packet: Packet? = pool.make()
        var valid = true
        while true {
            if slot == end { packet?.kill(); return nil }
            let d = ring.descriptor(slot)
            let flags = d.memifFlags
            let region = Int(d.memifRegion)
            let length = Int(d.memifLength)
            let offset = Int(d.memifOffset)
            slot &+= 1
            if valid, let p = packet {
                if region < regionCount, offset + length <= regionTable[region].size, let base = regionTable[region].base, p.put(length) {
                    (p.data + (p.length - length)).copyMemory(from: base + offset, byteCount: length)
                } else {
                    valid = false
                }
            }
            if flags & MemifRing.next == 0 { break }
        }
        if let p = packet, valid {
            p.setMACHeader(at: 0)
            bytes &+= p.length
            batch.append(p)
        } else {
            packet?.kill()
            drops &+= 1
        }
        return slot
    }

    /// Takes the packets ring `i` has published (up to its head on a server, where the
    /// client produces; up to its tail on a client) into `batch`, then gives the slots
    /// back: a server moves the tail, a client refills the slots with its own buffers.
    func receiveRing(_ i: Int, _ batch: inout PacketBatch, _ pool: PacketPool) {
        let ring = rxRings[i]
        let end = role == .server ? ring.head : ring.tail
        var cursor = rxCursor[i]
        guard cursor != end else { return }
        var bytes = 0, drops = 0, count = 0
        while cursor != end && !batch.isFull {
            guard let next = copyOut(ring, from: cursor, end: end, pool: pool, into: &batch, bytes: &bytes, drops: &drops) else { break }
            cursor = next
            count += 1
        }
        rxCursor[i] = cursor
        if role == .server { ring.tail = cursor } else { refill(i) }
        counters.add(.receivedPackets, count - drops)
        counters.add(.receivedBytes, bytes)
        if drops > 0 { counters.add(.receiveDrops, drops) }
    }

    /// Client: hands every consumed S2C slot back to the server with a full buffer.
    func refill(_ i: Int) {
        let ring = rxRings[i]
        var head = refillHead[i]
        let free = (1 << log2Size) - Int(head &- rxCursor[i])
        guard free > 0 else { return }
        let ringNumber = c2sCount + i
        for _ in 0..<free {
            let d = ring.descriptor(head)
            // Rewritten every time: the server may only change length and flags, and
            // must not be able to point our receive path elsewhere.
            d.memifFlags = 0
            d.memifRegion = 0
            d.memifOffset = UInt32(clientBufferOffset(ring: ringNumber, slot: Int(head) & ((1 << log2Size) - 1)))
            d.memifLength = UInt32(bufferSize)
            head &+= 1
        }
        refillHead[i] = head
        ring.head = head
    }
}

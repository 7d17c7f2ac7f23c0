/// The free list of a packet pool, in plain memory so that packets can return themselves
/// without touching a Swift object (no ARC on the hot path).
public struct PacketPoolState {
    @usableFromInline var free: UnsafeMutablePointer<UnsafeMutablePointer<PacketMetadata>>
    @usableFromInline var freeCount: Int
    @usableFromInline let capacity: Int
    @usableFromInline let headroom: Int32
    /// Packets handed out and not yet returned (for leak checks and statistics).
    public var outstanding: Int { capacity - freeCount }
    /// Allocations refused because the pool was empty.
    public var exhausted: Int = 0

    /// A fresh packet with empty data at the standard headroom, or nil when exhausted.
    @inlinable @inline(__always) public mutating func allocate() -> UnsafeMutablePointer<PacketMetadata>? {
        guard freeCount > 0 else {
            exhausted &+= 1
            return nil
        }
        freeCount -= 1
        let m = free[freeCount]
        m.pointee.dataOffset = headroom
        m.pointee.length = 0
        m.pointee.macOffset = -1
        m.pointee.networkOffset = -1
        m.pointee.transportOffset = -1
        m.pointee.timestamp = 0
        m.pointee.annotations = (0, 0, 0, 0, 0, 0)
        m.pointee.packetType = PacketType.host
        m.pointee.device = -1
        return m
    }

    @usableFromInline @inline(__always) mutating func release(_ m: UnsafeMutablePointer<PacketMetadata>) {
        free[freeCount] = m
        freeCount += 1
    }
}

/// A preallocated set of packet buffers and their metadata: one per router thread. Buffers
/// have `headroom` bytes before the data so that encapsulation (Unstrip, EtherEncap,
/// IPEncap, VXLAN) never copies. Not thread-safe: a pool belongs to one thread.
public final class PacketPool {
    public static let defaultBufferSize = 2048 + 256
    public static let defaultHeadroom = 128

    public let bufferSize: Int
    public let capacity: Int
    let buffers: UnsafeMutableRawPointer
    let metadata: UnsafeMutablePointer<PacketMetadata>
    /// The pool's free list; packets point here.
    public let state: UnsafeMutablePointer<PacketPoolState>

    public init(capacity: Int = 16_384, bufferSize: Int = PacketPool.defaultBufferSize, headroom: Int = PacketPool.defaultHeadroom) {
        precondition(capacity > 0 && bufferSize > headroom, "a pool needs buffers larger than their headroom")
        precondition(MemoryLayout<PacketMetadata>.offset(of: \PacketMetadata.annotations) == Packet.annotationsOffset,
                     "PacketMetadata's layout changed: update Packet.annotationsOffset")
        self.capacity = capacity
        self.bufferSize = bufferSize
        buffers = UnsafeMutableRawPointer.allocate(byteCount: capacity * bufferSize, alignment: 64)
        metadata = UnsafeMutablePointer<PacketMetadata>.allocate(capacity: capacity)
        let free = UnsafeMutablePointer<UnsafeMutablePointer<PacketMetadata>>.allocate(capacity: capacity)
        state = UnsafeMutablePointer<PacketPoolState>.allocate(capacity: 1)
        state.initialize(to: PacketPoolState(free: free, freeCount: capacity, capacity: capacity, headroom: Int32(headroom)))
        for i in 0..<capacity {
            (metadata + i).initialize(to: PacketMetadata(
                buffer: buffers + i * bufferSize, pool: state, capacity: Int32(bufferSize), dataOffset: Int32(headroom),
                length: 0, macOffset: -1, networkOffset: -1, transportOffset: -1, timestamp: 0,
                annotations: (0, 0, 0, 0, 0, 0), packetType: 0, device: -1))
            // Hand out low addresses first: better locality for small working sets.
            free[capacity - 1 - i] = metadata + i
        }
    }

    deinit {
        state.pointee.free.deallocate()
        state.deallocate()
        metadata.deallocate()
        buffers.deallocate()
    }

    public var available: Int { state.pointee.freeCount }
    public var outstanding: Int { state.pointee.outstanding }

    /// A new packet holding `bytes` (one copy; sources call this per packet).
    @inlinable public func make(_ bytes: [UInt8]) -> Packet? {
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return make() }
            return make(copying: base, length: raw.count)
        }
    }

    /// A new packet holding `bytes`, or nil when the pool is exhausted or `bytes` does not fit.
    public func make<Bytes: Collection>(_ bytes: Bytes) -> Packet? where Bytes.Element == UInt8 {
        guard let m = state.pointee.allocate() else { return nil }
        let p = Packet(meta: m)
        guard p.put(bytes.count) else {
            p.kill()
            return nil
        }
        var i = 0
        for b in bytes {
            p.data.storeBytes(of: b, toByteOffset: i, as: UInt8.self)
            i += 1
        }
        return p
    }

    /// A new packet of `length` bytes copied from `source`.
    @inlinable @inline(__always) public func make(copying source: UnsafeRawPointer, length: Int) -> Packet? {
        guard let m = state.pointee.allocate() else { return nil }
        let p = Packet(meta: m)
        guard p.put(length) else {
            p.kill()
            return nil
        }
        p.data.copyMemory(from: source, byteCount: length)
        return p
    }

    /// A new empty packet at the standard headroom.
    @inlinable @inline(__always) public func make() -> Packet? {
        state.pointee.allocate().map(Packet.init(meta:))
    }
}

/// A batch of packets moving between elements together: the unit of the hot path. A batch
/// is a view of caller-owned storage (no allocation per batch). Whoever receives a batch in
/// `push` owns its packets and must forward, keep or kill each one.
public struct PacketBatch {
    public let storage: UnsafeMutablePointer<Packet>
    public let capacity: Int
    public var count: Int

    @inlinable @inline(__always) public init(storage: UnsafeMutablePointer<Packet>, capacity: Int, count: Int = 0) {
        self.storage = storage
        self.capacity = capacity
        self.count = count
    }

    @inlinable @inline(__always) public subscript(i: Int) -> Packet {
        get { storage[i] }
        nonmutating set { storage[i] = newValue }
    }

    @inlinable @inline(__always) public var isEmpty: Bool { count == 0 }
    @inlinable @inline(__always) public var isFull: Bool { count == capacity }

    @inlinable @inline(__always) public mutating func append(_ p: Packet) {
        storage[count] = p
        count += 1
    }

    /// Kills every packet and empties the batch.
    @inlinable @inline(__always) public mutating func killAll() {
        for i in 0..<count { storage[i].kill() }
        count = 0
    }
}

/// Storage for one batch, owned by an element (allocated once, at initialization).
public final class BatchStorage {
    public let pointer: UnsafeMutablePointer<Packet>
    public let capacity: Int

    public init(capacity: Int = BatchStorage.defaultCapacity) {
        self.capacity = capacity
        pointer = UnsafeMutablePointer<Packet>.allocate(capacity: capacity)
    }

    deinit { pointer.deallocate() }

    public static let defaultCapacity = 64

    /// An empty batch over this storage.
    @inlinable @inline(__always) public func batch() -> PacketBatch {
        PacketBatch(storage: pointer, capacity: capacity)
    }
}

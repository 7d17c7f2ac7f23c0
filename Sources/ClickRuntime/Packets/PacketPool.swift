/// The free list of a packet pool, in plain memory so that packets can return themselves
/// without touching a Swift object (no ARC on the hot path). Metadata is initialized the
/// first time a packet is handed out, so a pool touches memory only for as many packets
/// as were ever in flight at once: a large pool costs an idle VM nothing.
public struct PacketPoolState {
    @usableFromInline var free: UnsafeMutablePointer<UnsafeMutablePointer<PacketMetadata>>
    @usableFromInline var freeCount: Int
    @usableFromInline let capacity: Int
    @usableFromInline let headroom: Int32
    /// Metadata entries initialized so far (the rest have never been handed out).
    @usableFromInline var initialized = 0
    @usableFromInline let metadata: UnsafeMutablePointer<PacketMetadata>
    @usableFromInline let buffers: UnsafeMutableRawPointer
    @usableFromInline let bufferSize: Int
    /// Where this state lives (packets point back here to return themselves).
    @usableFromInline var home: UnsafeMutablePointer<PacketPoolState>?
    /// Packets handed out and not yet returned (for leak checks and statistics).
    public var outstanding: Int { initialized - freeCount }
    /// Packets that can still be handed out.
    public var available: Int { freeCount + capacity - initialized }
    /// Allocations refused because the pool was empty.
    public var exhausted: Int = 0

    @usableFromInline init(free: UnsafeMutablePointer<UnsafeMutablePointer<PacketMetadata>>, capacity: Int, headroom: Int32,
                           metadata: UnsafeMutablePointer<PacketMetadata>, buffers: UnsafeMutableRawPointer, bufferSize: Int) {
        self.free = free
        self.freeCount = 0
        self.capacity = capacity
        self.headroom = headroom
        self.metadata = metadata
        self.buffers = buffers
        self.bufferSize = bufferSize
    }

    /// A fresh packet with empty data at the standard headroom, or nil when exhausted.
    @inlinable @inline(__always) public mutating func allocate() -> UnsafeMutablePointer<PacketMetadata>? {
        let m: UnsafeMutablePointer<PacketMetadata>
        if freeCount > 0 {
            freeCount -= 1
            m = free[freeCount]
        } else if initialized < capacity {
            m = firstUse()
        } else {
            exhausted &+= 1
            return nil
        }
        m.pointee.dataOffset = headroom
        m.pointee.length = 0
        m.pointee.macOffset = -1
        m.pointee.networkOffset = -1
        m.pointee.transportOffset = -1
        m.pointee.timestamp = 0
        m.pointee.annotations = (0, 0, 0, 0, 0, 0)
        m.pointee.packetType = PacketType.host
        m.pointee.device = -1
        m.pointee.gsoType = 0
        return m
    }

    /// Initializes the next never-used entry (low addresses first, for locality).
    @usableFromInline mutating func firstUse() -> UnsafeMutablePointer<PacketMetadata> {
        let m = metadata + initialized
        // `home` is set by the pool right after it places this state in memory.
        m.initialize(to: PacketMetadata(
            buffer: buffers + initialized * bufferSize, pool: home.unsafelyUnwrapped, capacity: Int32(bufferSize),
            dataOffset: headroom, length: 0, macOffset: -1, networkOffset: -1, transportOffset: -1, timestamp: 0,
            annotations: (0, 0, 0, 0, 0, 0), packetType: 0, device: -1, gsoType: 0, gsoSize: 0))
        initialized += 1
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
    /// Bytes before the data of a fresh packet.
    public var headroom: Int { Int(state.pointee.headroom) }
    let buffers: UnsafeMutableRawPointer
    let metadata: UnsafeMutablePointer<PacketMetadata>
    /// The pool's free list; packets point here.
    public let state: UnsafeMutablePointer<PacketPoolState>
    /// Scratch batch storage for the elements of this pool's thread.
    public let scratch: UnsafeMutablePointer<ScratchStack>

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
        state.initialize(to: PacketPoolState(free: free, capacity: capacity, headroom: Int32(headroom), metadata: metadata,
                                             buffers: buffers, bufferSize: bufferSize))
        state.pointee.home = state
        scratch = .allocate(capacity: 1)
        scratch.initialize(to: ScratchStack(capacity: ScratchStack.defaultCapacity))
    }

    deinit {
        scratch.pointee.base.deallocate()
        scratch.deallocate()
        state.pointee.free.deallocate()
        state.deallocate()
        metadata.deallocate()
        buffers.deallocate()
    }

    public var available: Int { state.pointee.available }
    public var outstanding: Int { state.pointee.outstanding }

    /// The largest frame a large segment may be (a 64 kB GSO segment and its headers).
    public static let largestSegmentFrame = 65_536 + 512
    /// Buffers for large segments passed on whole (FromDevice with GSO true), made on first
    /// use and kept as long as this pool: packets from it return there when killed, like
    /// any other, so they may wait in queues across a reconfiguration.
    public private(set) var largeSegmentPool: PacketPool?

    /// The pool of large-segment buffers: 256 of them, each with this pool's headroom and
    /// room for one of this pool's buffers plus the largest segment frame (address space;
    /// pages are touched only as segments arrive).
    public func largeSegments() -> PacketPool {
        if let largeSegmentPool { return largeSegmentPool }
        let large = PacketPool(capacity: 256, bufferSize: bufferSize + PacketPool.largestSegmentFrame, headroom: headroom)
        largeSegmentPool = large
        return large
    }

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

    /// Adds a packet; the batch must not be full (checked in debug builds only: a
    /// caller that overfills a batch writes past its storage).
    @inlinable @inline(__always) public mutating func append(_ p: Packet) {
        assert(count < capacity, "PacketBatch.append on a full batch (capacity \(capacity))")
        storage[count] = p
        count += 1
    }

    /// Kills every packet and empties the batch.
    @inlinable @inline(__always) public mutating func killAll() {
        for i in 0..<count { storage[i].kill() }
        count = 0
    }
}

/// Storage for batches that live for one call (a side output, a run of packets for one
/// output), as a stack in plain memory shared by the elements of one thread: a call nested
/// in another (a packet re-entering an element) gets slots of its own, and none allocates
/// or costs reference counting. When the stack is full, callers allocate instead.
public struct ScratchStack {
    @usableFromInline let base: UnsafeMutablePointer<Packet>
    @usableFromInline let capacity: Int
    @usableFromInline var top = 0

    /// 16 batches of 1,024 (128 KB of address space, touched only as deep as calls nest).
    public static let defaultCapacity = 16 * 1024

    init(capacity: Int) {
        base = .allocate(capacity: capacity)
        self.capacity = capacity
    }

    /// `count` slots on top of the stack, or nil when they do not fit.
    @inlinable @inline(__always) mutating func take(_ count: Int) -> UnsafeMutablePointer<Packet>? {
        guard count <= capacity &- top else { return nil }
        let p = base + top
        top &+= count
        return p
    }

    /// Gives back the `count` slots taken last.
    @inlinable @inline(__always) mutating func giveBack(_ count: Int) {
        top &-= count
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

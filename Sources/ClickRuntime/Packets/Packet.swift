/// The metadata of one packet, stored in its pool's metadata array: where its data is,
/// its header offsets and Click's 48-byte annotation area. Elements never hold this by
/// value; they hold a `Packet`, a pointer to it.
public struct PacketMetadata {
    /// Start of this packet's buffer (headroom, data, tailroom).
    public var buffer: UnsafeMutableRawPointer
    /// The pool that owns the buffer; freeing returns it there.
    public var pool: UnsafeMutablePointer<PacketPoolState>
    public var capacity: Int32
    /// Offset of the first data byte from `buffer`.
    public var dataOffset: Int32
    public var length: Int32
    /// Header offsets from `buffer`; -1 when unset.
    public var macOffset: Int32
    public var networkOffset: Int32
    public var transportOffset: Int32
    /// Timestamp annotation in nanoseconds (wall clock, or simulated time).
    public var timestamp: Int64
    /// Click's annotation area (`include/click/packet_anno.hh`), 48 bytes.
    public var annotations: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
    /// Packet type annotation (host, broadcast, multicast, other host, outgoing...).
    public var packetType: UInt8
    /// Device (port) the packet arrived on, -1 when unknown.
    public var device: Int16
    /// A large segment passed on whole (FromDevice with GSO true): the virtio GSO type (1
    /// TCP over IPv4, 4 TCP over IPv6, 5 UDP), 0 for an ordinary packet.
    public var gsoType: UInt8 = 0
    /// A large segment's segment size: the payload bytes of each packet it stands for.
    public var gsoSize: UInt16 = 0
}

/// A packet: a trivial handle to metadata in a preallocated pool. Copying a `Packet` copies
/// the handle, not the data; exactly one place owns a packet at a time, and whoever drops
/// it calls `kill()`. No reference counting: per-packet ARC costs about 10x in Swift.
public struct Packet: Hashable {
    public let meta: UnsafeMutablePointer<PacketMetadata>

    @inlinable @inline(__always) public init(meta: UnsafeMutablePointer<PacketMetadata>) {
        self.meta = meta
    }

    // MARK: Data

    @inlinable @inline(__always) public var data: UnsafeMutableRawPointer {
        meta.pointee.buffer + Int(meta.pointee.dataOffset)
    }

    @inlinable @inline(__always) public var length: Int {
        Int(meta.pointee.length)
    }

    @inlinable @inline(__always) public var headroom: Int { Int(meta.pointee.dataOffset) }

    @inlinable @inline(__always) public var tailroom: Int {
        Int(meta.pointee.capacity - meta.pointee.dataOffset - meta.pointee.length)
    }

    /// The data as a buffer, for reading and writing in place.
    @inlinable @inline(__always) public var bytes: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: data, count: length)
    }

    /// A copy of the data, for tests and printing.
    public var contents: [UInt8] {
        Array(UnsafeRawBufferPointer(start: data, count: length))
    }

    @inlinable @inline(__always) public subscript(offset: Int) -> UInt8 {
        get { data.load(fromByteOffset: offset, as: UInt8.self) }
        nonmutating set { data.storeBytes(of: newValue, toByteOffset: offset, as: UInt8.self) }
    }

    /// Big-endian 16-bit field at `offset` of the data.
    @inlinable @inline(__always) public func load16(_ offset: Int) -> UInt16 {
        UInt16(bigEndian: data.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inlinable @inline(__always) public func store16(_ offset: Int, _ value: UInt16) {
        data.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
    }

    /// Big-endian 32-bit field at `offset` of the data.
    @inlinable @inline(__always) public func load32(_ offset: Int) -> UInt32 {
        UInt32(bigEndian: data.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inlinable @inline(__always) public func store32(_ offset: Int, _ value: UInt32) {
        data.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
    }

    /// Removes `count` bytes from the front (Click's `pull`, Strip). Returns false if the
    /// packet is shorter.
    @discardableResult
    @inlinable @inline(__always) public func pull(_ count: Int) -> Bool {
        guard count <= length else { return false }
        meta.pointee.dataOffset += Int32(count)
        meta.pointee.length -= Int32(count)
        return true
    }

    /// Puts `count` bytes back at the front (Click's `push`, Unstrip, encapsulation), using
    /// headroom; the pool's headroom covers every encapsulation we do, so this never copies.
    /// Returns false if the headroom is too small.
    @discardableResult
    @inlinable @inline(__always) public func push(_ count: Int) -> Bool {
        guard count <= headroom else { return false }
        meta.pointee.dataOffset -= Int32(count)
        meta.pointee.length += Int32(count)
        return true
    }

    /// Removes `count` bytes from the end (Click's `take`).
    @inlinable @inline(__always) public func take(_ count: Int) {
        meta.pointee.length -= Int32(min(count, length))
    }

    /// Adds `count` bytes at the end (Click's `put`); false if there is no tailroom.
    @discardableResult
    @inlinable @inline(__always) public func put(_ count: Int) -> Bool {
        guard count <= tailroom else { return false }
        meta.pointee.length += Int32(count)
        return true
    }

    /// Sets the length, growing into tailroom or shrinking.
    @discardableResult
    public func setLength(_ newLength: Int) -> Bool {
        guard newLength >= 0, newLength <= length + tailroom else { return false }
        meta.pointee.length = Int32(newLength)
        return true
    }

    /// Moves the data so that it starts at `alignment`-byte boundary plus `offset` (Align).
    public func align(_ alignment: Int, offset: Int) {
        let current = Int(bitPattern: data)
        let target = current - ((current - offset) % alignment + alignment) % alignment
        var delta = target - current
        if Int(meta.pointee.dataOffset) + delta < 0 { delta += alignment }
        if delta == 0 || Int(meta.pointee.dataOffset) + delta + length > Int(meta.pointee.capacity) { return }
        (data + delta).copyMemory(from: data, byteCount: length)
        meta.pointee.dataOffset += Int32(delta)
        for keyPath in [\PacketMetadata.macOffset, \PacketMetadata.networkOffset, \PacketMetadata.transportOffset]
        where meta.pointee[keyPath: keyPath] >= 0 {
            meta.pointee[keyPath: keyPath] += Int32(delta)
        }
    }

    // MARK: Headers

    /// Offset of the network (IP) header from the start of the data, or nil.
    @inlinable @inline(__always) public var networkHeaderOffset: Int? {
        let o = meta.pointee.networkOffset
        return o < 0 ? nil : Int(o - meta.pointee.dataOffset)
    }

    @inlinable @inline(__always) public var transportHeaderOffset: Int? {
        let o = meta.pointee.transportOffset
        return o < 0 ? nil : Int(o - meta.pointee.dataOffset)
    }

    @inlinable @inline(__always) public var macHeaderOffset: Int? {
        let o = meta.pointee.macOffset
        return o < 0 ? nil : Int(o - meta.pointee.dataOffset)
    }

    /// Marks the network header at `offset` from the data start, with header length
    /// `headerLength` (the transport header follows it).
    @inlinable @inline(__always) public func setNetworkHeader(at offset: Int, headerLength: Int) {
        meta.pointee.networkOffset = meta.pointee.dataOffset + Int32(offset)
        meta.pointee.transportOffset = meta.pointee.dataOffset + Int32(offset + headerLength)
    }

    @inlinable @inline(__always) public func setMACHeader(at offset: Int) {
        meta.pointee.macOffset = meta.pointee.dataOffset + Int32(offset)
    }

    /// Pointer to the network header, or nil.
    @inlinable @inline(__always) public var networkHeader: UnsafeMutableRawPointer? {
        let o = meta.pointee.networkOffset
        return o < 0 ? nil : meta.pointee.buffer + Int(o)
    }

    @inlinable @inline(__always) public var transportHeader: UnsafeMutableRawPointer? {
        let o = meta.pointee.transportOffset
        return o < 0 ? nil : meta.pointee.buffer + Int(o)
    }

    @inlinable @inline(__always) public var macHeader: UnsafeMutableRawPointer? {
        let o = meta.pointee.macOffset
        return o < 0 ? nil : meta.pointee.buffer + Int(o)
    }

    /// Bytes from the network header to the end of the data.
    @inlinable @inline(__always) public var networkLength: Int {
        guard let o = networkHeaderOffset else { return 0 }
        return length - o
    }

    // MARK: Annotations

    /// Offset of the annotation area inside `PacketMetadata`: two pointers, six Int32s and
    /// an Int64 precede it. A constant (not `MemoryLayout.offset(of:)`, which would cost a
    /// lazy-initialization check per access); `PacketPool.init` verifies it.
    @inlinable @inline(__always) public static var annotationsOffset: Int { 48 }

    /// Start of the 48-byte annotation area.
    @inlinable @inline(__always) public var annotationBytes: UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(meta) + Packet.annotationsOffset
    }

    /// Reads an annotation byte at `offset` (0..<48).
    @inlinable @inline(__always) public func annotation8(_ offset: Int) -> UInt8 {
        annotationBytes.load(fromByteOffset: offset, as: UInt8.self)
    }

    @inlinable @inline(__always) public func setAnnotation8(_ offset: Int, _ value: UInt8) {
        annotationBytes.storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
    }

    @inlinable @inline(__always) public func annotation32(_ offset: Int) -> UInt32 {
        annotationBytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
    }

    @inlinable @inline(__always) public func setAnnotation32(_ offset: Int, _ value: UInt32) {
        annotationBytes.storeBytes(of: value, toByteOffset: offset, as: UInt32.self)
    }

    @inlinable @inline(__always) public func annotation16(_ offset: Int) -> UInt16 {
        annotationBytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)
    }

    @inlinable @inline(__always) public func setAnnotation16(_ offset: Int, _ value: UInt16) {
        annotationBytes.storeBytes(of: value, toByteOffset: offset, as: UInt16.self)
    }

    /// The first-timestamp annotation (`FIRST_TIMESTAMP`, offset 32): nanoseconds.
    @inlinable @inline(__always) public var firstTimestamp: Int64 {
        get { annotationBytes.loadUnaligned(fromByteOffset: Annotation.firstTimestamp, as: Int64.self) }
        nonmutating set { annotationBytes.storeBytes(of: newValue, toByteOffset: Annotation.firstTimestamp, as: Int64.self) }
    }

    /// The destination IP annotation (offset 0), in host order.
    @inlinable @inline(__always) public var destinationIPAnnotation: UInt32 {
        get { UInt32(bigEndian: annotation32(Annotation.destinationIP)) }
        nonmutating set { setAnnotation32(Annotation.destinationIP, newValue.bigEndian) }
    }

    @inlinable @inline(__always) public var paint: UInt8 {
        get { annotation8(Annotation.paint) }
        nonmutating set { setAnnotation8(Annotation.paint, newValue) }
    }

    @inlinable @inline(__always) public var timestamp: Int64 {
        get { meta.pointee.timestamp }
        nonmutating set { meta.pointee.timestamp = newValue }
    }

    // MARK: Large segments

    /// Non-zero on a large segment (GSO) that stands for several packets of `gsoSize`
    /// payload bytes each, all with the same headers: the virtio GSO type (1 TCP over
    /// IPv4, 4 TCP over IPv6, 5 UDP). Its transport checksum is unfinished (it holds the
    /// pseudo-header sum), as Linux hands such segments over; a Linux interface's ToDevice
    /// sends it whole for the kernel to cut, anything else must cut it first.
    @inlinable @inline(__always) public var gsoType: UInt8 {
        get { meta.pointee.gsoType }
        nonmutating set { meta.pointee.gsoType = newValue }
    }

    /// A large segment's segment size (see `gsoType`); 0 for an ordinary packet.
    @inlinable @inline(__always) public var gsoSize: Int {
        get { Int(meta.pointee.gsoSize) }
        nonmutating set { meta.pointee.gsoSize = UInt16(clamping: newValue) }
    }

    /// True for a large segment (see `gsoType`).
    @inlinable @inline(__always) public var isLargeSegment: Bool { meta.pointee.gsoType != 0 }

    // MARK: Lifetime

    /// Returns the packet to its pool. The handle must not be used afterwards.
    @inlinable @inline(__always) public func kill() {
        meta.pointee.pool.pointee.release(meta)
    }

    /// A copy of this packet (data, headers and annotations) from the same pool, or nil
    /// when the pool is exhausted.
    public func clone() -> Packet? {
        guard let copy = meta.pointee.pool.pointee.allocate() else { return nil }
        let source = meta.pointee
        copy.pointee.dataOffset = source.dataOffset
        copy.pointee.length = source.length
        copy.pointee.macOffset = source.macOffset
        copy.pointee.networkOffset = source.networkOffset
        copy.pointee.transportOffset = source.transportOffset
        copy.pointee.timestamp = source.timestamp
        copy.pointee.annotations = source.annotations
        copy.pointee.packetType = source.packetType
        copy.pointee.device = source.device
        copy.pointee.gsoType = source.gsoType
        copy.pointee.gsoSize = source.gsoSize
        (copy.pointee.buffer + Int(source.dataOffset)).copyMemory(from: data, byteCount: length)
        return Packet(meta: copy)
    }
}

/// Offsets in the annotation area, as Click defines them (`include/click/packet_anno.hh`).
public enum Annotation {
    public static let destinationIP = 0
    public static let paint = 16
    public static let icmpParameterProblem = 17
    public static let fixIPSource = 19
    public static let vlanTCI = 20
    public static let aggregate = 20
    public static let extraPackets = 24
    public static let extraLength = 28
    public static let firstTimestamp = 32
    public static let size = 48

    /// Names accepted by `ANNO` arguments (`lib/nameinfo.cc`), with their offset and size.
    public static let names: [String: (offset: Int, size: Int)] = [
        "DST_IP": (0, 4), "PAINT": (16, 1), "ICMP_PARAMPROB": (17, 1), "FIX_IP_SRC": (19, 1),
        "VLAN_TCI": (20, 2), "AGGREGATE": (20, 4), "EXTRA_PACKETS": (24, 4), "EXTRA_LENGTH": (28, 4),
        "FIRST_TIMESTAMP": (32, 8),
    ]
}

/// Packet types (Click's `Packet::PacketType`).
public enum PacketType {
    public static let host: UInt8 = 0
    public static let broadcast: UInt8 = 1
    public static let multicast: UInt8 = 2
    public static let otherHost: UInt8 = 3
    public static let outgoing: UInt8 = 4
    public static let loopback: UInt8 = 5
}

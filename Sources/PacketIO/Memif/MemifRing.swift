#if canImport(Glibc)
import Glibc
#endif
import CShims

/// A view of one memif ring in shared memory (x86_64 layout, 64-byte cache lines): a
/// 128-byte header (`cookie`@0, `flags`@4, `head`@6, `tail`@64) followed by 2^log2
/// 16-byte descriptors (`flags`@0, `region`@2, `length`@4, `offset`@8, `metadata`@12).
/// Only the client writes `head`, only the server writes `tail`; `flags` belongs to the
/// ring's receiver.
struct MemifRing {
    let base: UnsafeMutableRawPointer
    let log2Size: Int

    static let headerSize = 128
    static let descriptorSize = 16
    /// Descriptor flag: the packet continues in the next slot.
    static let next: UInt16 = 1
    /// Ring flag: the receiver polls; do not signal its eventfd.
    static let maskInterrupt: UInt16 = 1

    static func byteCount(log2Size: Int) -> Int { headerSize + descriptorSize << log2Size }

    @inline(__always) var size: Int { 1 << log2Size }
    @inline(__always) var mask: Int { (1 << log2Size) - 1 }

    var cookie: UInt32 {
        get { base.load(as: UInt32.self) }
        nonmutating set { base.storeBytes(of: newValue, as: UInt32.self) }
    }

    var flags: UInt16 {
        get { clickos_load_acquire_u16(base + 4) }
        nonmutating set { clickos_store_release_u16(base + 4, newValue) }
    }

    @inline(__always) var head: UInt16 {
        get { clickos_load_acquire_u16(base + 6) }
        nonmutating set { clickos_store_release_u16(base + 6, newValue) }
    }

    @inline(__always) var tail: UInt16 {
        get { clickos_load_acquire_u16(base + 64) }
        nonmutating set { clickos_store_release_u16(base + 64, newValue) }
    }

    @inline(__always) func descriptor(_ index: UInt16) -> UnsafeMutableRawPointer {
        base + Self.headerSize + (Int(index) & mask) * Self.descriptorSize
    }

    /// A fresh ring: cookie, no flags, empty.
    func initialize() {
        cookie = MemifMessage.cookie
        flags = 0
        head = 0
        tail = 0
    }
}

/// Accessors of one descriptor.
extension UnsafeMutableRawPointer {
    @inline(__always) var memifFlags: UInt16 {
        get { load(as: UInt16.self) }
        nonmutating set { storeBytes(of: newValue, as: UInt16.self) }
    }
    @inline(__always) var memifRegion: UInt16 {
        get { load(fromByteOffset: 2, as: UInt16.self) }
        nonmutating set { storeBytes(of: newValue, toByteOffset: 2, as: UInt16.self) }
    }
    @inline(__always) var memifLength: UInt32 {
        get { load(fromByteOffset: 4, as: UInt32.self) }
        nonmutating set { storeBytes(of: newValue, toByteOffset: 4, as: UInt32.self) }
    }
    @inline(__always) var memifOffset: UInt32 {
        get { load(fromByteOffset: 8, as: UInt32.self) }
        nonmutating set { storeBytes(of: newValue, toByteOffset: 8, as: UInt32.self) }
    }
}

/// A shared-memory region: a memfd mapped read-write, created by a client or received by
/// a server in ADD_REGION.
final class MemifRegion {
    let fd: Int32
    let base: UnsafeMutableRawPointer
    let size: Int

    /// Server: the SIGBUS guard over a region the peer owns (-1: none).
    private var guardSlot: Int32 = -1

    init(fd: Int32, base: UnsafeMutableRawPointer, size: Int) {
        self.fd = fd
        self.base = base
        self.size = size
    }

    /// True once the peer shrank the file under the mapping: the pages read as zeros now.
    var isLost: Bool { guardSlot >= 0 && clickos_region_lost(guardSlot) != 0 }

    /// A new region of `size` bytes (client side).
    static func create(size: Int) -> MemifRegion? {
        let fd = clickos_memfd("memif region", UInt64(size))
        guard fd >= 0 else { return nil }
        guard let region = map(fd: fd, size: size) else {
            close(fd)
            return nil
        }
        return region
    }

    /// Maps a received memfd (server side); nil if the mapping fails (for instance a size
    /// larger than the file).
    ///
    /// The peer keeps the file and could shrink it under the mapping, which would make
    /// our next access fault: the file is sealed against shrinking where it can be (a
    /// memfd made with sealing allowed, as DPDK's, libmemif's and ours are), and the
    /// mapping is guarded either way — a shrink then costs the peer its link, not us the
    /// process.
    static func map(fd: Int32, size: Int) -> MemifRegion? {
        guard size > 0 else { return nil }
        _ = clickos_seal_against_shrinking(fd)
        var st = stat()
        guard fstat(fd, &st) == 0, Int(st.st_size) >= size else { return nil }
        let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let p, p != MAP_FAILED else { return nil }
        let region = MemifRegion(fd: fd, base: p, size: size)
        region.guardSlot = clickos_guard_region(p, UInt(size))
        return region
    }

    deinit {
        clickos_unguard_region(guardSlot)
        munmap(base, size)
        close(fd)
    }
}

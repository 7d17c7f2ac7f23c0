#if canImport(Glibc)
import Glibc
#endif
import CShims

/// A VM's shared-memory stats page: one 4 KiB file (on tmpfs, in the VM's run
/// directory) that the VM writes and the host maps read-only, so counters are read
/// without talking to the VM (ClickOS read them through xenstore round trips).
///
/// Layout (little-endian 64-bit words): header at 0 — `magic` ("CLKOSTAT"), `version`
/// (1), `ports` (count), `state` (0 booting, 1 ready, 2 stopped), `bootedAt` and
/// `readyAt` (CLOCK_REALTIME ns), `reconfigurations` (successful `hotconfig` writes),
/// `pid` (as the VM sees itself); then 64 bytes per port: `PortCounters`' eight words.
public final class StatsPage: @unchecked Sendable {
    public static let size = 4096
    public static let maxPorts = (size - 64) / 64
    /// The bytes "CLKOSTAT" read as a little-endian word.
    static let magic: UInt64 = 0x5441_5453_4F4B_4C43

    public enum Header: Int, Sendable {
        case magic = 0, version, ports, state, bootedAt, readyAt, reconfigurations, pid
    }

    public enum VMState: UInt64, Sendable {
        case booting = 0, ready = 1, stopped = 2
    }

    let base: UnsafeMutableRawPointer
    public let path: String
    public let isWritable: Bool

    private init(base: UnsafeMutableRawPointer, path: String, writable: Bool) {
        self.base = base
        self.path = path
        self.isWritable = writable
    }

    deinit {
        munmap(base, Self.size)
    }

    /// Creates (or replaces) the page at `path` for `ports` ports, state `booting`.
    public static func create(path: String, ports: Int) throws(MemifError) -> StatsPage {
        guard ports <= maxPorts else { throw MemifError("a stats page holds at most \(maxPorts) ports") }
        unlink(path)
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw MemifError("\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard ftruncate(fd, off_t(size)) == 0,
            let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), p != MAP_FAILED
        else { throw MemifError("\(path): \(String(cString: strerror(errno)))") }
        let page = StatsPage(base: p, path: path, writable: true)
        page[.version] = 1
        page[.ports] = UInt64(ports)
        page[.state] = VMState.booting.rawValue
        page[.bootedAt] = UInt64(Self.now())
        page[.pid] = UInt64(getpid())
        page[.magic] = magic
        return page
    }

    /// Maps an existing page read-only (the host side).
    public static func open(path: String) throws(MemifError) -> StatsPage {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw MemifError("\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, Int(st.st_size) >= size,
            let p = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), p != MAP_FAILED
        else { throw MemifError("\(path): not a stats page") }
        let page = StatsPage(base: p, path: path, writable: false)
        guard page[.magic] == magic, page[.version] == 1 else { throw MemifError("\(path): not a stats page") }
        return page
    }

    public subscript(_ field: Header) -> UInt64 {
        get { clickos_load_relaxed_u64(base + field.rawValue * 8) }
        set {
            precondition(isWritable, "a host's stats page mapping is read-only")
            clickos_store_relaxed_u64(base + field.rawValue * 8, newValue)
        }
    }

    public var portCount: Int { Int(min(self[.ports], UInt64(Self.maxPorts))) }

    public var state: VMState { VMState(rawValue: self[.state]) ?? .booting }

    /// Port `k`'s counters (the VM writes them; the host reads them).
    public func counters(port k: Int) -> PortCounters {
        precondition(k >= 0 && k < Self.maxPorts, "port index within the page")
        return PortCounters(words: (base + 64 + 64 * k).assumingMemoryBound(to: UInt64.self), owner: self)
    }

    public func markReady() {
        self[.readyAt] = UInt64(Self.now())
        self[.state] = VMState.ready.rawValue
    }

    static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

#if canImport(Glibc)
import Glibc
#endif
import ClickRuntime
import PacketIO
import VMInterface
import Testing

@testable import VMHost

/// The built `clickos-vm` next to the test bundle (`swift build` builds it first).
let vmExecutable: String = {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    let exe = n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
    let dir = exe[..<(exe.lastIndex(of: "/") ?? exe.endIndex)]
    return dir + "/clickos-vm"
}()

let repositoryRoot: String = {
    let file = #filePath
    var parts = file.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

func functionConfiguration(_ name: String) -> String {
    readText(repositoryRoot + "/chains/functions/" + name) ?? ""
}

/// A scratch directory every VM user can use (VMs run as `nobody` when we are root).
func scratchDirectory(_ name: String) -> String {
    let dir = "/tmp/clickos-vmhost-\(getpid())-\(name)"
    removeTree(dir)
    mkdir(dir, 0o777)
    chmod(dir, 0o777)
    return dir
}

func backend(_ dir: String) -> ProcessBackend {
    let b = ProcessBackend(root: dir + "/run", executable: vmExecutable)
    b.bootTimeout = 20
    return b
}

/// Frames the tests send: Ethernet + IPv4 + TCP/UDP with correct checksums.
enum TestFrames {
    static func checksum(_ bytes: ArraySlice<UInt8>, initial: UInt32 = 0) -> UInt16 {
        var sum = initial
        var i = bytes.startIndex
        while i + 1 < bytes.endIndex {
            sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.endIndex { sum += UInt32(bytes[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    static func ip(_ s: String) -> [UInt8] { s.split(separator: ".").map { UInt8($0)! } }

    /// An IPv4 packet in an Ethernet frame, `proto` 6 (TCP, SYN) or 17 (UDP), with a
    /// 4-byte sequence number as payload.
    static func frame(src: String, dst: String, sport: UInt16, dport: UInt16, proto: UInt8 = 6, sequence: UInt32 = 0) -> [UInt8] {
        let payload: [UInt8] = withUnsafeBytes(of: sequence.bigEndian, Array.init)
        var l4: [UInt8]
        if proto == 6 {
            l4 = [UInt8(sport >> 8), UInt8(sport & 0xFF), UInt8(dport >> 8), UInt8(dport & 0xFF), 0, 0, 0, 1, 0, 0, 0, 0,
                  0x50, 0x02, 0xFF, 0xFF, 0, 0, 0, 0] + payload
        } else {
            let length = UInt16(8 + payload.count)
            l4 = [UInt8(sport >> 8), UInt8(sport & 0xFF), UInt8(dport >> 8), UInt8(dport & 0xFF), UInt8(length >> 8), UInt8(length & 0xFF), 0, 0] + payload
        }
        let s = ip(src), d = ip(dst)
        var pseudo = UInt32(0)
        for k in stride(from: 0, to: 4, by: 2) {
            pseudo += UInt32(s[k]) << 8 | UInt32(s[k + 1])
            pseudo += UInt32(d[k]) << 8 | UInt32(d[k + 1])
        }
        pseudo += UInt32(proto) + UInt32(l4.count)
        let sum = checksum(l4[...], initial: pseudo)
        let at = proto == 6 ? 16 : 6
        l4[at] = UInt8(sum >> 8)
        l4[at + 1] = UInt8(sum & 0xFF)
        let total = UInt16(20 + l4.count)
        var iph: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xFF), 0, 1, 0, 0, 64, proto, 0, 0] + s + d
        let c = checksum(iph[...])
        iph[10] = UInt8(c >> 8)
        iph[11] = UInt8(c & 0xFF)
        return [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00] + iph + l4
    }

    static func source(_ f: [UInt8]) -> String { f[26..<30].map(String.init).joined(separator: ".") }
    static func destination(_ f: [UInt8]) -> String { f[30..<34].map(String.init).joined(separator: ".") }
    static func sourcePort(_ f: [UInt8]) -> UInt16 { UInt16(f[34]) << 8 | UInt16(f[35]) }
    static func destinationPort(_ f: [UInt8]) -> UInt16 { UInt16(f[36]) << 8 | UInt16(f[37]) }
    static func sequence(_ f: [UInt8]) -> UInt32 {
        f.suffix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }
}

/// The test's own ends of a chain: memif ports served by polling.
final class Edges {
    let set = MemifPortSet()
    let pool = PacketPool(capacity: 8192)
    let storage = BatchStorage()

    func add(_ number: Int, _ configuration: MemifConfiguration) throws -> MemifPort {
        try set.add(configuration, number: number)
    }

    func port(_ n: Int) -> MemifPort { set.memifPort(n)! }

    func waitConnected(_ ports: [Int], seconds: Double = 10) -> Bool {
        let deadline = ProcessBackend.monotonicMilliseconds() + Int64(seconds * 1000)
        while ProcessBackend.monotonicMilliseconds() < deadline {
            if ports.allSatisfy({ port($0).isConnected }) { return true }
            set.poll(timeout: 5)
        }
        return false
    }

    /// Sends every frame (waiting for room), serving control meanwhile.
    func send(_ n: Int, _ frames: [[UInt8]]) {
        var next = 0
        let deadline = ProcessBackend.monotonicMilliseconds() + 20_000
        while next < frames.count && ProcessBackend.monotonicMilliseconds() < deadline {
            var batch = storage.batch()
            for f in frames[next..<min(next + 32, frames.count)] { batch.append(pool.make(f)!) }
            let sent = port(n).transmit(batch, from: 0)
            batch.killAll()
            next += sent
            if sent == 0 {
                set.poll(timeout: 0)
                usleep(200)
            }
        }
    }

    /// Receives until `count` frames came or `seconds` passed without one.
    func receive(_ n: Int, count: Int, quiet seconds: Double = 3) -> [[UInt8]] {
        var got: [[UInt8]] = []
        var last = ProcessBackend.monotonicMilliseconds()
        while got.count < count && ProcessBackend.monotonicMilliseconds() - last < Int64(seconds * 1000) {
            var batch = storage.batch()
            _ = port(n).receive(into: &batch, pool: pool)
            for i in 0..<batch.count { got.append(batch[i].contents) }
            if batch.count > 0 { last = ProcessBackend.monotonicMilliseconds() }
            batch.killAll()
            set.poll(timeout: 0)
            if batch.count == 0 { usleep(100) }
        }
        return got
    }

    deinit { set.close() }
}

import Messaging
#if canImport(Glibc)
import Glibc
#endif

/// A dotted-quad IPv4 address.
public struct IPv4Address: Sendable, Hashable, CustomStringConvertible {
    public var bytes: (UInt8, UInt8, UInt8, UInt8)
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var b: [UInt8] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy(\.isASCII), let v = UInt8(p) else { return nil }
            b.append(v)
        }
        bytes = (b[0], b[1], b[2], b[3])
    }
    init(_ value: UInt32) { bytes = (UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)) }
    public var value: UInt32 { UInt32(bytes.0) << 24 | UInt32(bytes.1) << 16 | UInt32(bytes.2) << 8 | UInt32(bytes.3) }
    public var description: String { "\(bytes.0).\(bytes.1).\(bytes.2).\(bytes.3)" }
    public static func == (a: IPv4Address, b: IPv4Address) -> Bool { a.value == b.value }
    public func hash(into h: inout Hasher) { h.combine(value) }
}

/// An address with its prefix length, `10.1.0.1/24`.
public struct IPv4Prefix: Sendable, Hashable, CustomStringConvertible {
    public var address: IPv4Address
    public var length: Int
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let a = IPv4Address(String(parts[0])), let n = Int(parts[1]), (0...32).contains(n) else { return nil }
        address = a
        length = n
    }
    public var description: String { "\(address)/\(length)" }
    public var mask: UInt32 { length == 0 ? 0 : ~UInt32(0) << UInt32(32 - length) }
    public func contains(_ a: IPv4Address) -> Bool { a.value & mask == address.value & mask }
}

/// A 48-bit Ethernet address.
public struct EthernetAddress: Sendable, Hashable, CustomStringConvertible {
    public var bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = Array(bytes.prefix(6)) + Array(repeating: 0, count: max(0, 6 - bytes.count)) }
    public var description: String { bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":") }

    /// A locally administered unicast address derived from `seed` (FNV-1a): the same seed
    /// gives the same address on every run, so a hot-swapped switch keeps its addresses.
    public static func local(_ seed: String) -> EthernetAddress {
        let h = StableNames.fnv1a(seed)
        return EthernetAddress([0x02, 0xc1, UInt8(h >> 24 & 0xFF), UInt8(h >> 16 & 0xFF), UInt8(h >> 8 & 0xFF), UInt8(h & 0xFF)])
    }
}

/// What the host knows of one of its network interfaces.
public struct HostInterface: Sendable, Equatable {
    public var name: String
    public var mac: EthernetAddress?
    public var addresses: [IPv4Prefix] = []
    public var up = false
    public var speedMbps: UInt64 = 0
    public var mtu = 1500

    /// The host's interfaces now (addresses from getifaddrs, the rest from /sys/class/net).
    public static func all() -> [HostInterface] {
        var first: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&first) == 0 else { return [] }
        defer { freeifaddrs(first) }
        var byName: [String: HostInterface] = [:]
        var order: [String] = []
        var p = first
        while let entry = p {
            defer { p = entry.pointee.ifa_next }
            let name = String(cString: entry.pointee.ifa_name)
            if byName[name] == nil {
                byName[name] = HostInterface(name: name)
                order.append(name)
            }
            byName[name]?.up = entry.pointee.ifa_flags & UInt32(IFF_UP) != 0 && entry.pointee.ifa_flags & UInt32(IFF_RUNNING) != 0
            guard let sa = entry.pointee.ifa_addr else { continue }
            switch Int32(sa.pointee.sa_family) {
            case AF_INET:
                let a = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
                var length = 32
                if let m = entry.pointee.ifa_netmask {
                    length = m.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr).nonzeroBitCount }
                }
                if let prefix = IPv4Prefix("\(IPv4Address(a))/\(length)") { byName[name]?.addresses.append(prefix) }
            default:
                break
            }
        }
        for name in order {
            if let s = readSmallFile("/sys/class/net/\(name)/speed"), let v = Int64(s), v > 0 { byName[name]?.speedMbps = UInt64(v) }
            if let s = readSmallFile("/sys/class/net/\(name)/mtu"), let v = Int(s) { byName[name]?.mtu = v }
            if let s = readSmallFile("/sys/class/net/\(name)/address") {
                let bytes = s.split(separator: ":").compactMap { UInt8($0, radix: 16) }
                if bytes.count == 6 { byName[name]?.mac = EthernetAddress(bytes) }
            }
        }
        return order.compactMap { byName[$0] }
    }

    /// The interface holding `address`, if any.
    public static func holding(_ address: IPv4Address, in interfaces: [HostInterface]) -> HostInterface? {
        interfaces.first { $0.addresses.contains { $0.address == address } }
    }
}

/// A short file's text without its trailing newline (sysfs, procfs).
func readSmallFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    let chunk = 4096
    while bytes.count < 1 << 20 {
        let start = bytes.count
        bytes += repeatElement(0, count: chunk)
        let n = bytes[start...].withUnsafeMutableBytes { read(fd, $0.baseAddress, chunk) }
        if n < 0 && errno == EINTR {
            bytes.removeLast(chunk)
            continue
        }
        bytes.removeLast(chunk - max(0, n))
        if n <= 0 { break }
    }
    var text = String(decoding: bytes, as: UTF8.self)
    while text.hasSuffix("\n") { text.removeLast() }
    return text
}

#if canImport(Glibc)
import Glibc
#endif

/// The network interfaces a guest was given, as VM ports: every interface but loopback,
/// in the order the kernel created them (ifindex), so that vif N, or QEMU's Nth NIC, is
/// VM port N.
enum GuestInterfaces {
    static func list() -> [String] {
        guard let dir = opendir("/sys/class/net") else { return [] }
        defer { closedir(dir) }
        var found: [(index: Int, name: String)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasPrefix(".") || name == "lo" { continue }
            let index = Int(if_nametoindex(name))
            if index > 0 { found.append((index, name)) }
        }
        return found.sorted { $0.index < $1.index }.map(\.name)
    }
}

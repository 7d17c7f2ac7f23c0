import Glibc

/// The addresses of the host's network devices, for address arguments that name a device
/// (`eth0`, `eth0:gw`) as Click's userlevel AddressInfo allows: a name no AddressInfo
/// defines is looked up among the devices, its IPv4 address and netmask, its Ethernet
/// address, and the gateway of the default route through it.
public struct DeviceAddresses: Sendable {
    public var ipv4Prefix: IPv4Prefix?
    public var ether: EtherAddress?
    public var gateway: IPv4Address?

    /// The device called `name` now, or nil when there is none.
    public static func lookup(_ name: String) -> DeviceAddresses? {
        // Most names asked about are not devices: one access() says so before getifaddrs.
        guard !name.isEmpty, name.utf8.count < Int(IFNAMSIZ), !name.contains("/"), name != "." , name != "..",
            access("/sys/class/net/\(name)", F_OK) == 0
        else { return nil }
        var found = DeviceAddresses()
        var exists = false
        var first: UnsafeMutablePointer<ifaddrs>?
        if getifaddrs(&first) == 0 {
            var p = first
            while let entry = p {
                p = entry.pointee.ifa_next
                guard String(cString: entry.pointee.ifa_name) == name else { continue }
                exists = true
                guard found.ipv4Prefix == nil, let sa = entry.pointee.ifa_addr, Int32(sa.pointee.sa_family) == AF_INET else { continue }
                let address = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
                let mask = entry.pointee.ifa_netmask.map {
                    $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
                } ?? 0xFFFF_FFFF
                found.ipv4Prefix = IPv4Prefix(address: IPv4Address(address), mask: mask)
            }
            freeifaddrs(first)
        }
        guard exists else { return nil }
        // ARPHRD_ETHER (1) devices only, as Click.
        if firstLine("/sys/class/net/\(name)/type") == "1", let text = firstLine("/sys/class/net/\(name)/address") {
            found.ether = EtherAddress.parse(text)
        }
        found.gateway = defaultGateway(through: name)
        return found
    }

    /// The gateway of the default route through `device`, from /proc/net/route.
    static func defaultGateway(through device: String) -> IPv4Address? {
        guard let file = fopen("/proc/net/route", "r") else { return nil }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            // Iface Destination Gateway Flags RefCnt Use Metric Mask ...: hex in host order.
            let fields = String(cString: line).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
            guard fields.count >= 8, fields[0] == device, fields[1] == "00000000", fields[7] == "00000000",
                let gateway = UInt32(fields[2], radix: 16), gateway != 0
            else { continue }
            return IPv4Address(UInt32(bigEndian: gateway))  // printed as the host reads the network-order word
        }
        return nil
    }

    /// The first line of a small file (sysfs), without its newline.
    static func firstLine(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 128)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
        var text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}

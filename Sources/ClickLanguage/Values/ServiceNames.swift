#if canImport(Glibc)
import Glibc
#endif

/// Port names as Click's `NameInfo` finds them once PortInfo has had its say: Click's
/// built-in list (`www`, `dns`, `netbios-ns`, ...), then the system's `/etc/services`
/// (names and aliases, per protocol), read once.
public enum ServiceNames {
    /// Click's own list (`known_ports` in `elements/ip/ipnameinfo.cc`), for every protocol.
    public static let builtIn: [String: Int] = [
        "auth": 113, "bootpc": 68, "bootps": 67, "chargen": 19, "daytime": 13, "discard": 9, "dns": 53,
        "domain": 53, "echo": 7, "finger": 79, "ftp": 21, "ftp-data": 20, "https": 443, "imap3": 220,
        "imaps": 993, "irc": 194, "netbios-dgm": 138, "netbios-ns": 137, "netbios-ssn": 139, "nntp": 119,
        "ntp": 123, "pop3": 110, "pop3s": 995, "pptp": 1723, "rip": 520, "route": 520, "smtp": 25,
        "snmp": 161, "snmp-trap": 162, "ssh": 22, "sunrpc": 111, "telnet": 23, "tftp": 69, "www": 80,
    ]

    /// The port called `name` for `proto` (`tcp`, `udp`; either when nil, TCP first).
    public static func port(_ name: String, protocol proto: String? = nil) -> Int? {
        if let p = builtIn[name] { return p }
        guard let byProtocol = services[name] else { return nil }
        if let proto { return byProtocol[proto.lowercased()] }
        return byProtocol["tcp"] ?? byProtocol["udp"] ?? byProtocol.values.min()
    }

    /// `/etc/services`: name (and each alias) -> protocol -> port.
    static let services: [String: [String: Int]] = read("/etc/services")

    static func read(_ path: String) -> [String: [String: Int]] {
        guard let file = fopen(path, "r") else { return [:] }
        defer { fclose(file) }
        var table: [String: [String: Int]] = [:]
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            var text = String(cString: line)
            if let hash = text.firstIndex(of: "#") { text = String(text[..<hash]) }
            let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
            guard words.count >= 2, let slash = words[1].firstIndex(of: "/"),
                let port = Int(words[1][..<slash]), (0...65535).contains(port) else { continue }
            let proto = words[1][words[1].index(after: slash)...].lowercased()
            for name in [words[0]] + words.dropFirst(2) where table[String(name)]?[proto] == nil {
                table[String(name), default: [:]][proto] = port
            }
        }
        return table
    }
}

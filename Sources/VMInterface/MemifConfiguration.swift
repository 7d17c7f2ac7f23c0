/// How one memif interface is set up: its role, its control socket, the id and secret
/// the two sides agree on, and the rings it asks for.
///
/// Written on command lines as `memif:ROLE:PATH[,KEY=VALUE...]`, for example
/// `memif:server:/run/clickos/a.sock,id=1,secret=s3cret,rings=2,rsize=11`. A PATH starting
/// with `@` is in the abstract socket namespace (DPDK's default). Keys: `id` (u32, default
/// 0), `secret` (at most 24 bytes), `rings` (rings per direction, 1-16, default 1), `rsize`
/// (log2 slots per ring, 1-14, default 10), `bsize` (buffer bytes, 128-9216, default 2048),
/// `mode` (`interrupt`, the default, or `poll`), `name` (announced to the peer).
public struct MemifConfiguration: Equatable, Sendable {
    public enum Role: String, Sendable {
        case server, client
    }

    public var role: Role
    public var socketPath: String
    public var id: UInt32 = 0
    public var secret = ""
    public var ringsPerDirection = 1
    public var log2RingSize = 10
    public var bufferSize = 2048
    /// Polling receivers set MASK_INT and never sleep on the eventfd.
    public var polling = false
    public var name = "clickos"

    public init(role: Role, socketPath: String) {
        self.role = role
        self.socketPath = socketPath
    }

    /// Parses `memif:ROLE:PATH[,KEY=VALUE...]`; the error says what is wrong.
    public static func parse(_ text: String) throws(MemifError) -> MemifConfiguration {
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "memif" else {
            throw MemifError("'\(text)': expected memif:server:PATH or memif:client:PATH")
        }
        guard let role = Role(rawValue: String(parts[1])) else {
            throw MemifError("'\(text)': role must be 'server' or 'client', not '\(parts[1])'")
        }
        let fields = parts[2].split(separator: ",", omittingEmptySubsequences: false)
        let path = String(fields.first ?? "")
        guard !path.isEmpty else { throw MemifError("'\(text)': missing socket path") }
        guard path.utf8.count <= 107 else { throw MemifError("'\(text)': socket path longer than 107 bytes") }
        var c = MemifConfiguration(role: role, socketPath: path)
        func number(_ key: Substring, _ value: Substring, _ range: ClosedRange<Int>) throws(MemifError) -> Int {
            guard let n = Int(value), range.contains(n) else {
                throw MemifError("'\(text)': \(key) must be an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return n
        }
        for field in fields.dropFirst() {
            let kv = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2 else { throw MemifError("'\(text)': expected KEY=VALUE, not '\(field)'") }
            let (key, value) = (kv[0], kv[1])
            switch key {
            case "id":
                guard let n = UInt32(value) else { throw MemifError("'\(text)': id must be an unsigned 32-bit integer") }
                c.id = n
            case "secret":
                guard value.utf8.count <= 24 else { throw MemifError("'\(text)': secret longer than 24 bytes") }
                c.secret = String(value)
            case "rings": c.ringsPerDirection = try number(key, value, 1...16)
            case "rsize": c.log2RingSize = try number(key, value, 1...14)
            case "bsize": c.bufferSize = try number(key, value, 128...9216)
            case "mode":
                switch value {
                case "poll": c.polling = true
                case "interrupt": c.polling = false
                default: throw MemifError("'\(text)': mode must be 'interrupt' or 'poll'")
                }
            case "name":
                guard value.utf8.count <= 32 else { throw MemifError("'\(text)': name longer than 32 bytes") }
                c.name = String(value)
            default:
                throw MemifError("'\(text)': unknown key '\(key)' (id, secret, rings, rsize, bsize, mode, name)")
            }
        }
        return c
    }

    /// The textual form `parse` reads.
    public var description: String {
        var s = "memif:\(role.rawValue):\(socketPath)"
        if id != 0 { s += ",id=\(id)" }
        if !secret.isEmpty { s += ",secret=\(secret)" }
        if ringsPerDirection != 1 { s += ",rings=\(ringsPerDirection)" }
        if log2RingSize != 10 { s += ",rsize=\(log2RingSize)" }
        if bufferSize != 2048 { s += ",bsize=\(bufferSize)" }
        if polling { s += ",mode=poll" }
        if name != "clickos" { s += ",name=\(name)" }
        return s
    }
}

/// A memif setup or protocol failure, with the reason in words.
public struct MemifError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

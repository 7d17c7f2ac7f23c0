import CZeroMQ

#if canImport(Glibc)
import Glibc
#endif

/// Key files: `NAME.key` holds a pair (`public = ...`, `secret = ...`, mode 0600) and
/// `NAME.pub` only the public key (what a planner's authorized directory collects).
public enum CurveKeyFiles {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Writes `directory/NAME.key` and `directory/NAME.pub` for a new pair; refuses to
    /// overwrite an existing key.
    public static func generate(name: String, in directory: String) throws(Failure) -> CurveKeyPair {
        let pair: CurveKeyPair
        do {
            pair = try CurveKeyPair.generate()
        } catch {
            throw Failure(description: "keygen: \(error)")
        }
        let secretPath = directory + "/" + name + ".key"
        guard access(secretPath, F_OK) != 0 else { throw Failure(description: "\(secretPath) exists: not overwriting a key") }
        try write(secretPath, "# ClickOS CURVE key pair: keep secret\npublic = \"\(pair.publicKey)\"\nsecret = \"\(pair.secretKey)\"\n", mode: 0o600)
        try write(directory + "/" + name + ".pub", "# ClickOS CURVE public key\npublic = \"\(pair.publicKey)\"\n", mode: 0o644)
        return pair
    }

    /// Reads a `.key` (pair) file.
    public static func readPair(_ path: String) throws(Failure) -> CurveKeyPair {
        let fields = try parse(path)
        guard let pub = fields["public"], let sec = fields["secret"] else { throw Failure(description: "\(path): needs public and secret keys") }
        return CurveKeyPair(publicKey: pub, secretKey: sec)
    }

    /// Reads the public key of a `.pub` or `.key` file.
    public static func readPublic(_ path: String) throws(Failure) -> String {
        guard let pub = try parse(path)["public"] else { throw Failure(description: "\(path): no public key") }
        return pub
    }

    /// The public keys of every `.pub` file in `directory`.
    public static func authorizedKeys(in directory: String) throws(Failure) -> Set<String> {
        guard let dir = opendir(directory) else { throw Failure(description: "\(directory): \(String(cString: strerror(errno)))") }
        defer { closedir(dir) }
        var keys: Set<String> = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasSuffix(".pub") { keys.insert(try readPublic(directory + "/" + name)) }
        }
        return keys
    }

    static func parse(_ path: String) throws(Failure) -> [String: String] {
        guard let f = fopen(path, "r") else { throw Failure(description: "\(path): \(String(cString: strerror(errno)))") }
        defer { fclose(f) }
        var fields: [String: String] = [:]
        var line = [CChar](repeating: 0, count: 512)
        var number = 0
        while fgets(&line, 512, f) != nil {
            number += 1
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let trimmed = text.filter { $0 != "\n" && $0 != "\r" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let kv = trimmed.split(separator: "=", maxSplits: 1).map { $0.filter { $0 != " " && $0 != "\"" } }
            guard kv.count == 2, kv[1].count == 40 else { throw Failure(description: "\(path):\(number): expected `public = \"<40 Z85 characters>\"`") }
            fields[String(kv[0])] = String(kv[1])
        }
        return fields
    }

    static func write(_ path: String, _ text: String, mode: mode_t) throws(Failure) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Failure(description: "\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw Failure(description: "\(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// The server side of CURVE: configures a server socket with its key pair and answers
/// libzmq's ZAP requests (RFC 27) for the context, admitting only the listed client
/// public keys and logging every refusal. Serve `zapSocket` from the socket's thread
/// (`handleRequest` when it is readable).
public final class CurveAuthority {
    public let serverKeys: CurveKeyPair
    public private(set) var authorized: Set<String>
    public let zapSocket: ZMQSocket
    public var log: (String) -> Void
    public private(set) var refusals = 0

    public init(context: ZMQContext, serverKeys: CurveKeyPair, authorized: Set<String>, log: @escaping (String) -> Void = { _ in }) throws(ZMQError) {
        self.serverKeys = serverKeys
        self.authorized = authorized
        self.log = log
        zapSocket = try ZMQSocket(context, .rep)
        try zapSocket.bind("inproc://zeromq.zap.01")
    }

    /// Makes `socket` a CURVE server with this authority's keys (before bind).
    public func secure(_ socket: ZMQSocket) throws(ZMQError) {
        try socket.setOption(ZMQ_CURVE_SERVER, 1)
        try socket.setOption(ZMQ_CURVE_SECRETKEY, serverKeys.secretKey)
        try socket.setOption(ZMQ_ZAP_DOMAIN, "clickos")
    }

    /// Replaces the admitted keys (the authorized directory changed).
    public func reload(_ keys: Set<String>) { authorized = keys }

    /// Answers one ZAP request if one is waiting; true if it did.
    @discardableResult
    public func handleRequest() throws(ZMQError) -> Bool {
        guard let frames = try zapSocket.receive(wait: false) else { return false }
        // version, request id, domain, address, identity, mechanism, credentials...
        guard frames.count >= 6 else {
            try zapSocket.send([Array("1.0".utf8), frames.first ?? [], Array("400".utf8), Array("malformed ZAP request".utf8), [], []])
            return true
        }
        let requestID = frames[1]
        let address = String(decoding: frames[3], as: UTF8.self)
        let mechanism = String(decoding: frames[5], as: UTF8.self)
        var status = "400", text = "not admitted", user = ""
        if mechanism == "CURVE", frames.count >= 7, frames[6].count == 32 {
            let key = Self.z85(frames[6])
            if authorized.contains(key) {
                status = "200"
                text = "OK"
                user = key
            } else {
                refusals += 1
                log("refused a CURVE client from \(address): public key \(key) is not authorized")
            }
        } else {
            refusals += 1
            log("refused a \(mechanism) client from \(address): CURVE required")
        }
        try zapSocket.send([Array("1.0".utf8), requestID, Array(status.utf8), Array(text.utf8), Array(user.utf8), []])
        return true
    }

    static func z85(_ key: [UInt8]) -> String {
        var out = [CChar](repeating: 0, count: 41)
        _ = key.withUnsafeBufferPointer { zmq_z85_encode(&out, $0.baseAddress, 32) }
        return String(decoding: out.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension ZMQSocket {
    /// Makes this socket a CURVE client of the server with public key `serverKey`.
    public func secureClient(keys: CurveKeyPair, serverKey: String) throws(ZMQError) {
        try setOption(ZMQ_CURVE_SERVERKEY, serverKey)
        try setOption(ZMQ_CURVE_PUBLICKEY, keys.publicKey)
        try setOption(ZMQ_CURVE_SECRETKEY, keys.secretKey)
    }
}

/// Where a server may listen without CURVE: only this host (loopback TCP, ipc, inproc).
public enum EndpointPolicy {
    public static func isLocal(_ endpoint: String) -> Bool {
        if endpoint.hasPrefix("ipc://") || endpoint.hasPrefix("inproc://") { return true }
        guard endpoint.hasPrefix("tcp://") else { return false }
        let rest = endpoint.dropFirst(6)
        let host = rest.hasPrefix("[") ? String(rest.dropFirst().prefix { $0 != "]" }) : String(rest.prefix { $0 != ":" })
        return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Refuses a non-local endpoint for a server without keys, saying why.
    public static func checkPlaintext(_ endpoint: String) throws(CurveKeyFiles.Failure) {
        guard isLocal(endpoint) else {
            throw CurveKeyFiles.Failure(description: "\(endpoint): without CURVE keys a server listens only on loopback, ipc or inproc addresses (give it keys to listen on \(endpoint))")
        }
    }
}

import Foundation
import Testing

/// clickos-vm with `-u SOCKET`, driven over the socket with Click's ControlSocket protocol.
@Suite struct ControlSocketTests {
    static var binary: String? {
        let path = repositoryRoot.appendingPathComponent(".build/debug/clickos-vm").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// A blocking Unix-socket client with a line reader.
    final class Client {
        let fd: Int32
        var buffer: [UInt8] = []

        init?(path: String) {
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, b) in path.utf8.enumerated() where i < raw.count - 1 { raw[i] = b }
            }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let r = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if r != 0 {
                close(fd)
                return nil
            }
        }

        deinit { close(fd) }

        func send(_ text: String) {
            let bytes = Array(text.utf8)
            _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
        }

        func fill() -> Bool {
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return false }
            buffer += chunk[0..<n]
            return true
        }

        func line() -> String? {
            while true {
                if let i = buffer.firstIndex(of: 10) {
                    let l = String(decoding: buffer[..<i], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                    buffer.removeFirst(i + 1)
                    return l
                }
                if !fill() { return nil }
            }
        }

        func bytes(_ n: Int) -> String? {
            while buffer.count < n { if !fill() { return nil } }
            let s = String(decoding: buffer[..<n], as: UTF8.self)
            buffer.removeFirst(n)
            return s
        }

        /// READ: the value, or the error line.
        func read(_ handler: String) -> String? {
            send("READ \(handler)\r\n")
            guard let status = line() else { return nil }
            guard status.hasPrefix("200"), let data = line(), data.hasPrefix("DATA "), let n = Int(data.dropFirst(5)) else { return status }
            return bytes(n)
        }
    }

    @Test func readWriteCheckAndQuitOverAUnixSocket() throws {
        let binary = try #require(Self.binary, "clickos-vm is not built")
        let path = "/tmp/clickos-cs-\(getpid())-\(Int.random(in: 0..<1_000_000)).sock"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["-u", path, "-e", "s :: InfiniteSource(ACTIVE false) -> q :: Queue(20) -> c :: Counter -> Discard(ACTIVE false)"]
        process.standardError = Pipe()
        try process.run()
        defer {
            if process.isRunning { process.terminate() }
            unlink(path)
        }
        var client: Client? = nil
        for _ in 0..<200 {
            client = Client(path: path)
            if client != nil { break }
            usleep(20_000)
        }
        let c = try #require(client, "could not connect to \(path)")
        #expect(c.line() == "Click::ControlSocket/1.3")
        #expect(c.read("q.capacity") == "20")
        #expect(c.read("1.class") == "InfiniteSource")
        c.send("WRITE s.limit 5\r\n")
        #expect(c.line() == "200 Write handler 's.limit' OK")
        c.send("WRITE s.active true\r\n")
        #expect(c.line() == "200 Write handler 's.active' OK")
        var length: String? = nil
        for _ in 0..<100 {
            length = c.read("q.length")
            if length == "5" { break }
            usleep(10_000)
        }
        #expect(length == "5")
        c.send("WRITEDATA q.capacity 2\r\n50")
        #expect(c.line() == "200 Write handler 'q.capacity' OK")
        #expect(c.read("q.capacity") == "50")
        #expect(c.read("nope.count")?.hasPrefix("510") == true)
        #expect(c.read("q.nope")?.hasPrefix("511") == true)
        c.send("WRITE q.length 3\r\n")
        #expect(c.line()?.hasPrefix("530") == true)
        c.send("CHECKWRITE s.limit\r\n")
        #expect(c.line()?.hasPrefix("200") == true)
        c.send("LLRPC s#7\r\n")
        #expect(c.line()?.hasPrefix("501") == true)
        c.send("QUIT\r\n")
        #expect(c.line() == "200 Goodbye!")
        // A second client stops the driver through the `stop` handler.
        let c2 = try #require(Client(path: path))
        _ = c2.line()
        c2.send("WRITE stop\r\n")
        _ = c2.line()
        for _ in 0..<300 where process.isRunning { usleep(10_000) }
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 0)
    }
}

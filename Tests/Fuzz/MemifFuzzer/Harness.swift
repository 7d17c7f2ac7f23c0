#if canImport(Glibc)
import Glibc
#endif
import CShims
import ClickRuntime
import PacketIO
import VMInterface

/// Plays a hostile memif client against a server port, as a peer VM or a DPDK process
/// gone wrong could: the fuzz input is a script of raw and half-valid control messages
/// (with memfds, plain files and eventfds passed along), bytes written anywhere into the
/// shared region it offered (ring headers, descriptors with any offset, length and
/// flags), files shrunk under the server's mapping, and sends and receives on the server
/// side between steps. Any crash or trap is a bug; so is a leaked packet, or a server
/// that does not go back to waiting for a client when this one leaves.
final class MemifFuzzServer {
    let set = MemifPortSet()
    let port: MemifPort
    let pool = PacketPool(capacity: 512)
    let storage = BatchStorage()
    let path: String

    init() {
        path = "@clickos-fuzz-memif-\(getpid())"
        do {
            port = try set.add(MemifConfiguration(role: .server, socketPath: path), number: 0)
        } catch {
            fatalError("cannot listen on \(path): \(error.message)")
        }
    }

    /// A region this client offered: the file and the client's own mapping of it.
    struct Region {
        let fd: Int32
        let base: UnsafeMutableRawPointer
        /// The length of our mapping.
        let mapped: Int
        /// How much of it is still backed by the file (the client can shrink it).
        var size: Int
    }

    func run(_ bytes: UnsafeRawBufferPointer) {
        var input = ScriptReader(bytes)
        let client = clickos_seqpacket_connect(path)
        guard client >= 0 else { fatalError("cannot connect to \(path)") }
        var regions: [Region] = []
        var events: [Int32] = []
        defer {
            close(client)
            for r in regions {
                munmap(r.base, r.mapped)
                close(r.fd)
            }
            for e in events { close(e) }
        }
        serve(client)
        var steps = 0
        while let op = input.byte(), steps < 64 {
            steps += 1
            switch op % 8 {
            case 0:
                // Raw bytes as one message, usually of the right size.
                let length = input.byte().map { $0 & 1 == 0 ? 128 : Int($0) } ?? 128
                let message = input.bytes(length)
                _ = message.withUnsafeBytes { clickos_seqpacket_send(client, $0.baseAddress, UInt32($0.count), -1) }
            case 1:
                let version: UInt16 = input.byte().map { $0 < 240 ? 0x0200 : UInt16($0) << 4 } ?? 0x0200
                let mode = input.byte().map { $0 < 240 ? UInt8(0) : $0 } ?? 0
                // An id of any size, now and then (extreme numbers).
                let id: UInt32 = input.byte().map { $0 < 240 ? 0 : $0 < 250 ? UInt32($0) : input.u32() } ?? 0
                send(client, .initialize(version: version, id: id, mode: mode, secret: "", name: "fuzz"))
            case 2:
                // A region: a sealed memfd or a plain (unsealable) file, sometimes smaller
                // than it claims to be.
                var claimed = UInt64(input.u16()) * 256 + 256
                let selector = input.byte() ?? 0
                let shortBy = selector >= 224 && selector < 250 ? Int(selector) * 64 : 0
                let actual = max(4096, Int(claimed) - shortBy)
                // Now and then a claim of any size, up to 2^64 - 1, over the same small file.
                if selector >= 250 { claimed = UInt64(input.u32()) << 32 | UInt64(input.u32()) }
                let index = UInt16(input.byte().map { $0 < 200 ? regions.count : Int($0 % 4) } ?? regions.count)
                let plainFile = (input.byte() ?? 0) & 1 == 1
                guard let region = makeRegion(size: actual, plainFile: plainFile) else { break }
                regions.append(region)
                send(client, .addRegion(index: index, size: claimed), passing: region.fd)
            case 3:
                let first = input.byte() ?? 0
                let flags = UInt16(first & 1)
                // Offsets, ring sizes and private header sizes of any value now and then.
                let extreme = first >= 240
                let index = UInt16((input.byte() ?? 0) % 3)
                let region = UInt16((input.byte() ?? 0) % 3)
                let offset = extreme ? input.u32() : UInt32(input.u16()) * 8
                let log2 = extreme ? (input.byte() ?? 255) : (input.byte() ?? 4) % 16
                let privateHeader = extreme ? input.u16() : 0
                if (input.byte() ?? 0) < 224 {
                    // Rings need the cookie and sane indices to be accepted; a hostile peer
                    // writes them as easily as anything else.
                    if Int(region) < regions.count, Int(offset) + 4 <= regions[Int(region)].size {
                        let header = regions[Int(region)].base + Int(offset)
                        header.storeBytes(of: MemifMessage.cookie, as: UInt32.self)
                    }
                }
                let event = clickos_eventfd()
                if event >= 0 { events.append(event) }
                send(client, .addRing(flags: flags, index: index, region: region, offset: offset, log2Size: log2, privateHeaderSize: privateHeader), passing: event)
            case 4:
                send(client, .connect(interfaceName: "fuzz"))
            case 5:
                // Bytes anywhere in a region: ring indices, flags, descriptors.
                guard !regions.isEmpty else { break }
                let r = regions[Int(input.byte() ?? 0) % regions.count]
                let offset = Int(input.u32()) % max(r.size, 1)
                let data = input.bytes(Int(input.byte() ?? 0) % 48 + 1)
                let n = min(data.count, r.size - offset)
                if n > 0 { data.withUnsafeBytes { (r.base + offset).copyMemory(from: $0.baseAddress.unsafelyUnwrapped, byteCount: n) } }
            case 6:
                // Shrink a region's file under the server (the seal refuses it for memfds).
                guard !regions.isEmpty else { break }
                let k = Int(input.byte() ?? 0) % regions.count
                let length = Int(input.u16()) * 16
                if length < regions[k].size && ftruncate(regions[k].fd, off_t(length)) == 0 {
                    regions[k].size = length
                }
            default:
                // Signal the server's receive interrupt.
                if let e = events.last {
                    var one: UInt64 = 1
                    _ = write(e, &one, 8)
                }
            }
            serve(client)
            exercise(input.byte() ?? 0)
        }
        // The client leaves: the server must notice and wait for the next one.
        close(client)
        var rounds = 0
        while port.state != .disconnected && rounds < 1000 {
            set.poll(timeout: 1)
            exercise(0)
            rounds += 1
        }
        // Packets a departed peer left are drained, then the port is idle.
        for _ in 0..<8 { exercise(0) }
        guard port.state == .disconnected else { fatalError("the server did not notice its client leave") }
        guard pool.outstanding == 0 else { fatalError("\(pool.outstanding) packets leaked") }
    }

    /// The server's side of the link between steps: control messages, then a receive and
    /// a send, as a VM's scheduler would run them.
    private func exercise(_ how: UInt8) {
        set.poll(timeout: 0)
        var batch = storage.batch()
        _ = port.receive(into: &batch, pool: pool)
        batch.killAll()
        if port.isConnected && how & 1 == 1 {
            var out = storage.batch()
            let length = how & 2 == 0 ? 60 : 1400
            for _ in 0..<Int(how >> 5) + 1 {
                if let p = pool.make() {
                    _ = p.put(length)
                    out.append(p)
                }
            }
            // The port copies what it sends; the packets stay the caller's either way.
            _ = port.transmit(out, from: 0)
            out.killAll()
        }
        _ = port.hasPendingReceive
        port.enableReceiveInterrupts(how & 4 == 0)
    }

    /// Lets the server handle what the client sent, and reads (and drops) its replies.
    private func serve(_ client: Int32) {
        set.poll(timeout: 0)
        var buffer = [UInt8](repeating: 0, count: 256)
        var passed: Int32 = -1, truncated: Int32 = 0
        for _ in 0..<16 {
            let n = buffer.withUnsafeMutableBytes { clickos_seqpacket_receive(client, $0.baseAddress, 256, &passed, &truncated) }
            if passed >= 0 {
                close(passed)
                passed = -1
            }
            if n <= 0 { break }
        }
    }

    private func send(_ client: Int32, _ message: MemifMessage, passing fd: Int32 = -1) {
        _ = message.encoded().withUnsafeBytes { clickos_seqpacket_send(client, $0.baseAddress, UInt32($0.count), fd) }
    }

    private func makeRegion(size: Int, plainFile: Bool) -> Region? {
        let fd: Int32
        if plainFile {
            let name = "/tmp/clickos-fuzz-memif-\(getpid()).region"
            fd = open(name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            unlink(name)
            guard fd >= 0, ftruncate(fd, off_t(size)) == 0 else {
                if fd >= 0 { close(fd) }
                return nil
            }
        } else {
            fd = clickos_memfd("fuzz region", UInt64(size))
            guard fd >= 0 else { return nil }
        }
        guard let base = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), base != MAP_FAILED else {
            close(fd)
            return nil
        }
        return Region(fd: fd, base: base, mapped: size, size: size)
    }
}

/// Reads the fuzz input as a script; past its end every read gives nothing (or zeros).
struct ScriptReader {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func byte() -> UInt8? {
        guard position < bytes.count else { return nil }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func u16() -> UInt16 { UInt16(byte() ?? 0) | UInt16(byte() ?? 0) << 8 }

    mutating func u32() -> UInt32 { UInt32(u16()) | UInt32(u16()) << 16 }

    mutating func bytes(_ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        for _ in 0..<count { out.append(byte() ?? 0) }
        return out
    }
}

enum MemifHarness {
    nonisolated(unsafe) static var server: MemifFuzzServer?

    static func run(_ bytes: UnsafeRawBufferPointer) {
        if server == nil { server = MemifFuzzServer() }
        server?.run(bytes)
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    MemifHarness.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32
) -> Int32

/// SwiftPM renames an executable's entry point to `<target>_main`; libFuzzer owns `main`.
@_cdecl("fuzz_memif_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector) { data, size in fuzzOneInput(data, size) }
}
#endif

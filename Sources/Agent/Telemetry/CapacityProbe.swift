import VMHost

#if canImport(Glibc)
import Glibc
#endif

/// Measures the host's capacity unit, `packets_per_core`: the reference chain function
/// (a firewall) runs in a VM of its own, fed by an InfiniteSource in place of each
/// `FromDevice` and drained into a Counter in place of each `ToDevice` (the function's
/// text is unchanged; element classes defined before it stand in for the devices), for
/// about a second on one core. The figure counts what the function forwarded, both
/// directions, and includes the source's own cost: a conservative budget. The result is
/// cached in the state directory; delete `capacity` there to measure again.
enum CapacityProbe {
    static let vmName = "_capacity"

    /// The cached figure for `function`, if there is one.
    static func cached(stateDirectory: String, function: String) -> Double? {
        guard let text = readSmallFile(stateDirectory + "/capacity") else { return nil }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let kv = line.split(separator: "=", maxSplits: 1)
            if kv.count == 2 { fields[String(kv[0])] = String(kv[1]) }
        }
        guard fields["function"] == function, let v = fields["packets_per_core"].flatMap(Double.init), v > 0 else { return nil }
        return v
    }

    static func measure(backend: ProcessBackend, configuration: String, seconds: Double = 1) throws(VMError) -> Double {
        let frame = referenceFrame().map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        let wrapped = """
            // Capacity probe: the devices are stand-ins.
            elementclass FromDevice { $dev | InfiniteSource(DATA \\<\(frame)>, LIMIT -1, BURST 32, STOP false) -> output }
            elementclass ToDevice { $dev | input -> capacity_count :: Counter -> Discard }

            """ + configuration
        if backend.info(vmName) != nil { try? backend.stop(vmName, timeout: 1) }
        var spec = VMSpec(name: vmName, configuration: wrapped)
        spec.packetBuffers = 4096
        _ = try backend.boot(spec)
        defer { try? backend.stop(vmName, timeout: 2) }
        let counters = try backend.read(vmName, handler: "list").split(separator: "\n").map(String.init).filter { $0.hasSuffix("/capacity_count") }
        guard !counters.isEmpty else { throw VMError("the reference function has no ToDevice: nothing to count") }
        func total() throws(VMError) -> UInt64 {
            var sum: UInt64 = 0
            for c in counters { sum &+= UInt64(try backend.read(vmName, handler: c + ".count").trimmed) ?? 0 }
            return sum
        }
        usleep(200_000)
        let (c0, t0) = (try total(), monotonic())
        usleep(UInt32(seconds * 1_000_000))
        let (c1, t1) = (try total(), monotonic())
        let pps = Double(c1 &- c0) / max(1e-3, t1 - t0)
        guard pps > 0 else { throw VMError("the reference function forwarded nothing") }
        return pps
    }

    static func save(_ pps: Double, stateDirectory: String, function: String) {
        let text = "packets_per_core=\(Int(pps))\nfunction=\(function)\n"
        let fd = open(stateDirectory + "/capacity", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
    }

    /// A 60-byte TCP frame from port 80 to port 80 (the reference firewall passes it both
    /// ways), with a correct IP checksum.
    static func referenceFrame() -> [UInt8] {
        var f: [UInt8] = [0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]
        var ip: [UInt8] = [0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 1, 0, 2, 10, 2, 0, 100]
        var sum: UInt32 = 0
        for i in stride(from: 0, to: 20, by: 2) { sum += UInt32(ip[i]) << 8 | UInt32(ip[i + 1]) }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        let checksum = ~UInt16(sum)
        ip[10] = UInt8(checksum >> 8)
        ip[11] = UInt8(checksum & 0xFF)
        f += ip
        f += [0, 80, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0xFF, 0xFF, 0, 0, 0, 0]
        f += [UInt8](repeating: 0, count: 6)
        return f
    }

    static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\n" || c == "\t" || c == "\r" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\n" || c == "\t" || c == "\r" { s.removeLast() }
        return String(s)
    }
}

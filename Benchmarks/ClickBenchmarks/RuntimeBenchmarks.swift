import ClickElements
import ClickLanguage
import ClickRuntime

/// Packets per second through a configuration that stops itself after `packets` packets:
/// the router is built once per repetition (not timed) and run to its stop event (timed).
func packetRate(_ name: String, config: String, packets: Int, repetitions: Int = 7) -> String {
    let registry = StandardElements.registry
    var rates: [Double] = []
    let clock = ContinuousClock()
    for rep in 0..<(repetitions + 1) {
        let log = DiagnosticLog()
        let flat = ClickConfiguration.flatten(config, knownClasses: registry.classNames, log: log)
        guard let router = Router.build(flat, registry: registry, log: log) else {
            return "\(name): FAILED\n\(log.text)"
        }
        let elapsed = clock.measure { router.run() }
        router.cleanup()
        if rep == 0 { continue }  // warm-up
        rates.append(Double(packets) / Measurement.seconds(elapsed))
    }
    rates.sort()
    let median = rates[rates.count / 2]
    return "\(name): median \(format3(median / 1e6)) Mpps (min \(format3(rates[0] / 1e6)), max \(format3(rates[rates.count - 1] / 1e6)), \(rates.count) runs of \(packets) packets)"
}

extension Measurement {
    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}

/// A 64-byte Ethernet/IPv4/UDP frame from `src` to `dst`, as Click `\<hex>` data.
func frameHex(dstEther: [UInt8], src: [UInt8], dst: [UInt8]) -> String {
    var ip: [UInt8] = [0x45, 0, 0, 50, 0, 1, 0, 0, 64, 17, 0, 0] + src + dst
    var sum: UInt32 = 0
    for i in stride(from: 0, to: 20, by: 2) { sum += UInt32(ip[i]) << 8 | UInt32(ip[i + 1]) }
    while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
    let c = ~UInt16(sum)
    ip[10] = UInt8(c >> 8)
    ip[11] = UInt8(c & 0xFF)
    let udp: [UInt8] = [0x04, 0xd2, 0x00, 0x50, 0, 30, 0, 0] + [UInt8](repeating: 0x61, count: 22)
    let frame = dstEther + [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x08, 0x00] + ip + udp
    return "\\<" + frame.map { String(format2hex($0)) }.joined() + ">"
}

func format2hex(_ b: UInt8) -> String {
    let d = Array("0123456789abcdef")
    return String([d[Int(b >> 4)], d[Int(b & 15)]])
}

/// Forwarded packets per second through the two-interface IP router of
/// chains/lib/iprouter.click, both interfaces loaded with 64-byte frames.
func ipRouterRate(packetsPerInterface: Int, repetitions: Int = 7) -> String {
    let f0 = frameHex(dstEther: [0x00, 0x00, 0xc0, 0xae, 0x67, 0xef], src: [1, 0, 0, 2], dst: [2, 0, 0, 2])
    let f1 = frameHex(dstEther: [0x00, 0x00, 0xc0, 0x4f, 0x71, 0xef], src: [2, 0, 0, 2], dst: [1, 0, 0, 2])
    let config = """
        require(library chains/lib/iprouter.click);
        r :: IPRouter2(1.0.0.1, 1.0.0.0/8, 00:00:c0:ae:67:ef, 00:00:c0:00:00:01, 2.0.0.1, 2.0.0.0/8, 00:00:c0:4f:71:ef, 00:00:c0:00:00:02);
        InfiniteSource(DATA \(f0), LIMIT \(packetsPerInterface), BURST 64, STOP true) -> [0] r;
        InfiniteSource(DATA \(f1), LIMIT \(packetsPerInterface), BURST 64, STOP true) -> [1] r;
        r [0] -> q0 :: Queue(1024) -> c0 :: Counter -> Discard(BURST 64);
        r [1] -> q1 :: Queue(1024) -> c1 :: Counter -> Discard(BURST 64);
        r [2] -> Discard;
        """
    let registry = StandardElements.registry
    var rates: [Double] = []
    let clock = ContinuousClock()
    for rep in 0..<(repetitions + 1) {
        let log = DiagnosticLog()
        let flat = ClickConfiguration.flatten(config, knownClasses: registry.classNames, libraries: FileLibraryResolver(searchPath: []), log: log)
        guard let router = Router.build(flat, registry: registry, log: log) else { return "IP router: FAILED\n\(log.text)" }
        let elapsed = clock.measure { router.run() }
        let forwarded = (Int((try? router.read("c0.count")) ?? "0") ?? 0) + (Int((try? router.read("c1.count")) ?? "0") ?? 0)
        router.cleanup()
        if rep == 0 { continue }
        rates.append(Double(forwarded) / Measurement.seconds(elapsed))
    }
    rates.sort()
    return "IP router (2 interfaces, 64 B, chains/lib/iprouter.click): median \(format3(rates[rates.count / 2] / 1e6)) Mpps forwarded (min \(format3(rates[0] / 1e6)), max \(format3(rates[rates.count - 1] / 1e6)), \(rates.count) runs)"
}

/// Packets per second through IPFilter with 100 rules, where most packets match late:
/// 99 `deny` rules on other hosts and ports, then `allow` for the traffic generated.
func ipFilterRate(packets: Int, repetitions: Int = 7) -> String {
    var rules: [String] = []
    for i in 0..<99 { rules.append("deny src host 10.1.\(i / 250).\(i % 250 + 1) and dst tcp port \(1000 + i)") }
    rules.append("allow udp dst port 80")
    let frame = frameHex(dstEther: [0, 1, 2, 3, 4, 5], src: [1, 0, 0, 2], dst: [2, 0, 0, 2])
    let config = """
        InfiniteSource(DATA \(frame), LIMIT \(packets), BURST 64, STOP true)
            -> Strip(14) -> CheckIPHeader -> f :: IPFilter(\(rules.joined(separator: ", "))) -> c :: Counter -> Discard;
        """
    return packetRate("IPFilter, 100 rules (match on the last), 64 B", config: config, packets: packets, repetitions: repetitions)
}

/// Generates UDP packets over `flows` distinct flows (source port and address vary), in
/// order, again and again, until `limit` packets; then stops the router.
final class FlowSource: Element {
    override var portCount: String { "0/1" }
    override var processing: String { "h/h" }
    var flows = 1
    var limit = 0
    var sent = 0
    /// The packet every packet starts from, in plain memory (no array on the hot path).
    let template = UnsafeMutableRawPointer.allocate(byteCount: 36, alignment: 8)
    var task: Task?
    let storage = BatchStorage()

    deinit {
        template.deallocate()
    }

    override func configure(_ args: inout Arguments) {
        flows = args.mandatory("FLOWS", .unsignedInteger) ?? 1
        limit = args.mandatory("LIMIT", .unsignedInteger) ?? 0
    }

    override func initialize() throws(ElementError) {
        var ip: [UInt8] = [0x45, 0, 0, 36, 0, 1, 0, 0, 64, 17, 0, 0, 10, 1, 0, 0, 93, 184, 216, 34]
        var sum: UInt32 = 0
        for i in stride(from: 0, to: 20, by: 2) { sum += UInt32(ip[i]) << 8 | UInt32(ip[i + 1]) }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        ip[10] = UInt8(~UInt16(sum) >> 8)
        ip[11] = UInt8(~UInt16(sum) & 0xFF)
        let bytes = ip + [0, 0, 0, 53, 0, 16, 0, 0] + [UInt8](repeating: 0x61, count: 8)
        template.copyMemory(from: bytes, byteCount: bytes.count)
        let t = makeTask()
        task = t
        t.schedule()
    }

    override func runTask(_ task: Task) -> Bool {
        if sent >= limit {
            task.unschedule()
            router.requestStop()
            return false
        }
        var batch = storage.batch()
        let pool = self.pool
        while !batch.isFull && sent < limit, let p = pool.make(copying: template, length: 36) {
            let f = sent % flows
            // Source 10.1.x.y and destination 93.x.y.z from the flow number, so that every
            // flow needs its own mapping and the public port space is never exhausted (one
            // public address has only 64,512 ports per destination). The checksums are
            // updated incrementally by the rewriter either way.
            p.data.storeBytes(of: UInt16(truncatingIfNeeded: f & 0xFFFF).bigEndian, toByteOffset: 14, as: UInt16.self)
            p.data.storeBytes(of: UInt32(truncatingIfNeeded: 93 << 24 | f).bigEndian, toByteOffset: 16, as: UInt32.self)
            p.data.storeBytes(of: UInt16(truncatingIfNeeded: 1024 + f % 60000).bigEndian, toByteOffset: 20, as: UInt16.self)
            p.setNetworkHeader(at: 0, headerLength: 20)
            batch.append(p)
            sent += 1
        }
        output(0, &batch)
        return true
    }
}

/// Packets per second through an IPRewriter (NAPT) holding `flows` live flows: the table
/// is filled first (not timed), then `packets` packets cycle over the flows.
func ipRewriterRate(flows: Int, packets: Int, repetitions: Int = 5) -> String {
    var registry = StandardElements.registry
    registry.register(FlowSource.self)
    let config = """
        src :: FlowSource(\(flows), \(flows + packets)) -> rw :: IPRewriter(pattern 10.2.0.1 1024-65535 - - 0 1, drop, MAPPING_CAPACITY \(flows * 2));
        Idle -> [1] rw; rw [0] -> c :: Counter -> Discard; rw [1] -> Discard;
        """
    var rates: [Double] = []
    var tableSize = 0
    for rep in 0..<(repetitions + 1) {
        let log = DiagnosticLog()
        let flat = ClickConfiguration.flatten(config, knownClasses: registry.classNames, log: log)
        guard let router = Router.build(flat, registry: registry, poolCapacity: 4096, log: log),
            let source = router.element(named: "src") as? FlowSource
        else { return "IPRewriter: FAILED\n\(log.text)" }
        // Fill the table: the first `flows` packets create the mappings (untimed).
        source.limit = flows
        router.run()
        router.continueRunning()
        source.limit = flows + packets
        source.task?.schedule()
        let clock = ContinuousClock()
        let elapsed = clock.measure { router.run() }
        tableSize = Int((try? router.read("rw.table_size")) ?? "0") ?? 0
        router.cleanup()
        if rep == 0 { continue }
        rates.append(Double(packets) / Measurement.seconds(elapsed))
    }
    rates.sort()
    return "IPRewriter with \(tableSize) live flows, 64 B UDP: median \(format3(rates[rates.count / 2] / 1e6)) Mpps (min \(format3(rates[0] / 1e6)), max \(format3(rates[rates.count - 1] / 1e6)), \(rates.count) runs of \(packets) packets)"
}

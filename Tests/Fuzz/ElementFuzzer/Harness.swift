import ClickElements
import ClickLanguage
import ClickRuntime

/// Pushes the fuzz input, as one frame, into configurations built around the elements
/// that parse packets (Classifier, CheckIPHeader, IPFilter, IPClassifier, ARPResponder,
/// the whole IP router with its ICMP errors and fragmentation, the rewriters, ARPQuerier,
/// IPReassembler, IPPrint, ARPPrint, ToIPSummaryDump, ICMPRewriter). Any crash, trap or leak
/// is a bug: after each input every packet must be back in its pool.
final class FrameInjector: Element {
    override var portCount: String { "0/1" }
    override var processing: String { "h/h" }

    func inject(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, let p = pool.make(copying: base, length: min(bytes.count, 2000)) else { return }
        p.meta.pointee.packetType = bytes.first.map { $0 & 3 } ?? 0
        // The timestamp annotation is the input's last eight bytes: any value, negative
        // and near the ends of Int64 included, for the elements' time arithmetic.
        if bytes.count >= 8 { p.timestamp = bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: Int64.self) }
        output(0, single: p)
    }
}

enum ElementHarness {
    static let configurations = [
        """
        in :: FrameInjector -> c :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -);
        c [0] -> ARPResponder(10.0.0.1/24 00:01:02:03:04:05) -> Discard;
        c [1] -> Discard; c [3] -> Discard;
        c [2] -> Strip(14) -> CheckIPHeader(INTERFACES 10.0.0.1/24) -> f :: IPFilter(allow tcp dst port 80 or icmp type echo, 1 ip[9:1] > 16 && !frag, deny all);
        f [0] -> IPClassifier(src net 10.0.0.0/8, udp port 53, -) => Discard, Discard, Discard;
        f [1] -> DecIPTTL -> IPFragmenter(100) -> Discard;
        """,
        """
        require(library chains/lib/iprouter.click);
        r :: IPRouter2(1.0.0.1, 1.0.0.0/8, 00:00:c0:ae:67:ef, 00:00:c0:00:00:01, 2.0.0.1, 2.0.0.0/8, 00:00:c0:4f:71:ef, 00:00:c0:00:00:02);
        in :: FrameInjector -> [0] r; Idle -> [1] r;
        r [0] -> Discard; r [1] -> Discard; r [2] -> Discard;
        """,
        """
        in :: FrameInjector -> c :: Classifier(12/0806, 12/0800, -);
        c [0] -> [1] q :: ARPQuerier(10.0.0.1, 00:01:02:03:04:05);
        c [1] -> Strip(14) -> CheckIPHeader -> rw :: IPRewriter(pattern 10.0.0.1 1024-1030 - - 0 1, drop, MAPPING_CAPACITY 16);
        c [2] -> Discard;
        rw [0] -> [0] q; rw [1] -> Discard; Idle -> [1] rw;
        q [0] -> Discard; q [1] -> Discard;
        """,
        """
        in :: FrameInjector -> MarkIPHeader -> r :: IPReassembler(MAX_MEMSIZE 6000) -> IPPrint(CONTENTS hex, MAXLENGTH 64) -> ARPPrint
            -> ToIPSummaryDump(/dev/null, FIELDS timestamp src sport dst dport proto len ip_frag ip_fragoff tcp_flags tcp_seq icmp_type_name icmp_flowid payload payload_len udp_len wire_len)
            -> c :: IPClassifier(icmp, src host 10.0.0.1 or src host 10.0.0.2 or src host 10.0.0.3 or src host 10.0.0.4 or src host 10.0.0.1, -);
        r [1] -> Discard;
        c [0] -> ir :: ICMPRewriter(rw ar) -> Discard; ir [1] -> Discard; c [2] -> Discard;
        c [1] -> ar :: IPAddrRewriter(pattern 10.0.0.1 - 0 1, MAPPING_CAPACITY 8) -> rw :: IPRewriter(pattern 10.0.0.2 1024-1030 - - 0 1, MAPPING_CAPACITY 8) -> SetIPECN(ce) -> Discard;
        ar [1] -> Discard; rw [1] -> Discard;
        """,
        // Extreme numbers on the packet path: the longest times and rates Click accepts,
        // applied to packets stamped with any time (the scheduler then runs a few rounds).
        // (The delay elements, which hold packets no handler releases, are run with extreme
        // numbers by the parser fuzzer's seeds instead.)
        """
        in :: FrameInjector -> AdjustTimestamp(1e300) -> SetTimestampDelta -> AdjustTimestamp(-1e300) -> tf :: TimeFilter(0, 99999999999) -> MarkIPHeader
            -> af :: AggregateIPFlows(TCP_TIMEOUT 4294967295, TCP_DONE_TIMEOUT 4294967295, UDP_TIMEOUT 4294967295)
            -> xr :: IPRewriter(pattern 10.0.0.9 1024-65535 - - 0 1, drop, TIMEOUT 4294967295, TCP_TIMEOUT 4294967295, REAP_INTERVAL 4294967295, MAPPING_CAPACITY 64)
            -> rs :: RatedSplitter(4294967295) -> bs :: BandwidthRatedSplitter(4294967295Bps) -> RandomSample(1)
            -> dq :: Queue(100000000) -> Unqueue(BURST 2147483647) -> Discard;
        tf [1] -> Discard; xr [1] -> Discard; rs [1] -> Discard; bs [1] -> Discard;
        Idle -> [1] xr;
        """,
    ]

    /// Handlers that release packets an element legitimately keeps (ARP's waiting
    /// packets, AggregateIPFlows' held fragments), written before the leak check, in order.
    static let releases = ["q.clear", "r.clear", "af.clear", "dq.reset"]

    nonisolated(unsafe) static let registry: ElementRegistry = {
        var registry = StandardElements.registry
        registry.register(FrameInjector.self)
        return registry
    }()

    static func make(_ text: String) -> (Router, FrameInjector) {
        let log = DiagnosticLog()
        let flat = ClickConfiguration.flatten(text, knownClasses: registry.classNames, libraries: FileLibraryResolver(searchPath: []), log: log)
        guard let router = Router.build(flat, registry: registry, simulatedTime: true, poolCapacity: 1024, log: log),
            let injector = router.element(named: "in") as? FrameInjector
        else { fatalError("fuzz configuration does not build:\n\(log.text)") }
        return (router, injector)
    }

    /// The routers, built once (fuzzing runs single-threaded).
    nonisolated(unsafe) static var routers: [(Router, FrameInjector)] = configurations.map(make)

    static func run(_ bytes: UnsafeRawBufferPointer) {
        for (k, (router, injector)) in routers.enumerated() {
            injector.inject(bytes)
            router.scheduler.maximumRounds = 4
            router.run()
            for h in releases where (try? router.handler(h)) != nil { _ = try? router.write(h, "") }
            precondition(router.pool.outstanding == 0, "configuration \(k): packets leaked: \(router.pool.outstanding)")
        }
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    ElementHarness.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32
) -> Int32

/// SwiftPM renames an executable's entry point to `<target>_main`; libFuzzer owns `main`.
@_cdecl("fuzz_click_elements_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector) { data, size in fuzzOneInput(data, size) }
}
#endif

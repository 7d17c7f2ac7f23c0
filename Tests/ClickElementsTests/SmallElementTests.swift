import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct SmallElementTests {
    @Test func storeIPAddressFixesChecksums() throws {
        let b = build("inj :: Injector -> CheckIPHeader -> StoreIPAddress(9.9.9.9, dst) -> CheckIPHeader -> c :: Collector")
        var udp = Frames.ipv4(src: [1, 0, 0, 1], dst: [1, 0, 0, 2], proto: 17)
        udp[26] = 0
        udp[27] = 0
        try #require(b.element("inj", as: Injector.self), "\(b.log.text)").inject([udp])
        let p = try #require(b.element("c", as: Collector.self)?.packets.first)
        #expect(Array(p[16..<20]) == [9, 9, 9, 9])
        #expect(Frames.isValidIPChecksum(p[...]))
        let raw = build("inj :: Injector -> StoreIPAddress(1.2.3.4, 2) -> c :: Collector")
        try #require(raw.element("inj", as: Injector.self)).inject([[0, 0, 0, 0, 0, 0, 0]])
        #expect(raw.element("c", as: Collector.self)?.packets == [[0, 0, 1, 2, 3, 4, 0]])
    }

    @Test func hubBypassAndSwitches() throws {
        let b = build("""
            a :: Injector -> [0] h :: Hub; bb :: Injector -> [1] h; h [0] -> x :: Collector; h [1] -> y :: Collector;
            i :: Injector -> by :: Bypass; by [0] -> n :: Collector; by [1] -> m :: Collector;
            s0 :: Injector -> [0] sw :: InputSwitch(1); s1 :: Injector -> [1] sw; sw -> z :: Collector;
            """)
        let r = try #require(b.router, "\(b.log.text)")
        try #require(b.element("a", as: Injector.self)).inject([[1]])
        #expect(b.element("x", as: Collector.self)?.packets == [])
        #expect(b.element("y", as: Collector.self)?.packets == [[1]])
        try #require(b.element("i", as: Injector.self)).inject([[2]])
        try r.write("by.active", "true")
        try #require(b.element("i", as: Injector.self)).inject([[3]])
        #expect(b.element("n", as: Collector.self)?.packets == [[2]])
        #expect(b.element("m", as: Collector.self)?.packets == [[3]])
        try #require(b.element("s0", as: Injector.self)).inject([[4]])
        try #require(b.element("s1", as: Injector.self)).inject([[5]])
        #expect(b.element("z", as: Collector.self)?.packets == [[5]])
        #expect(r.pool.outstanding == 0)
    }

    @Test func hostEtherFilter() throws {
        let b = build("inj :: Injector -> f :: HostEtherFilter(00:00:00:00:00:01); f [0] -> mine :: Collector; f [1] -> other :: Collector")
        let inj = try #require(b.element("inj", as: Injector.self), "\(b.log.text)")
        let src: [UInt8] = [0, 0, 0, 0, 0, 9]
        inj.inject([Frames.ether(dst: [0, 0, 0, 0, 0, 1], src: src, type: 0x0800, [1]),
                    Frames.ether(dst: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], src: src, type: 0x0800, [2]),
                    Frames.ether(dst: [0, 0, 0, 0, 0, 2], src: src, type: 0x0800, [3])])
        #expect(b.element("mine", as: Collector.self)?.packets.count == 2)
        #expect(b.element("other", as: Collector.self)?.packets.count == 1)
    }

    @Test func setTimestamp() throws {
        let (b, lines) = buildAndRun("InfiniteSource(DATA \"\", LIMIT 1, STOP true) -> SetTimestamp(5.25) -> Print(t, TIMESTAMP true) -> Discard")
        #expect(b.router != nil)
        #expect(lines == ["t: 5.250000:    0"])
    }
}

@Suite struct VLANTests {
    @Test func encapDecapRoundTrip() throws {
        let b = build("inj :: Injector -> VLANEncap(42, 5) -> t :: Collector; inj2 :: Injector -> VLANEncap(7) -> VLANDecap -> StripEtherVLANHeader -> u :: Collector; inj3 :: Injector -> EtherVLANEncap(0x0800, 00:00:00:00:00:01, 00:00:00:00:00:02, 9) -> v :: Collector")
        let frame = Frames.ether(dst: [0, 0, 0, 0, 0, 2], src: [0, 0, 0, 0, 0, 1], type: 0x0800, [0xAB, 0xCD])
        try #require(b.element("inj", as: Injector.self), "\(b.log.text)").inject([frame])
        let tagged = try #require(b.element("t", as: Collector.self)?.packets.first)
        #expect(Array(tagged[12..<16]) == [0x81, 0x00, 0xA0, 42])
        #expect(Array(tagged[16...]) == [0x08, 0x00, 0xAB, 0xCD])
        try #require(b.element("inj2", as: Injector.self)).inject([frame])
        #expect(b.element("u", as: Collector.self)?.packets == [[0xAB, 0xCD]])
        try #require(b.element("inj3", as: Injector.self)).inject([[1]])
        #expect(b.element("v", as: Collector.self)?.packets.first.map { Array($0[12..<19]) } == [0x81, 0, 0, 9, 0x08, 0x00, 1])
    }
}

@Suite struct MoreElementTests {
    @Test func ratedSplitterCapsOutputZero() throws {
        let b = build("InfiniteSource(LIMIT 100, BURST 100, STOP true) -> s :: RatedSplitter(10) => (-> a :: Counter -> Discard), (-> o :: Counter -> Discard)")
        let r = try #require(b.router, "\(b.log.text)")
        r.run()
        let a = Int(try r.read("a.count")) ?? -1
        #expect(a >= 1 && a <= 2)
        #expect(try r.read("o.count") == String(100 - a))
    }

    @Test func resizeAndTimestamps() throws {
        let b = build("inj :: Injector -> Resize(2, -1) -> c :: Collector; inj2 :: Injector -> MarkIPCE(true) -> CheckIPHeader -> d :: Collector")
        try #require(b.element("inj", as: Injector.self), "\(b.log.text)").inject([[7, 8, 9]])
        #expect(b.element("c", as: Collector.self)?.packets == [[0, 0, 7, 8]])
        let b2 = build("inj2 :: Injector -> CheckIPHeader -> MarkIPCE(true) -> CheckIPHeader -> d :: Collector")
        try #require(b2.element("inj2", as: Injector.self), "\(b2.log.text)").inject([Frames.ipv4(src: [1, 0, 0, 1], dst: [1, 0, 0, 2])])
        #expect(b2.element("d", as: Collector.self)?.packets.first?[1] == 3)
        let (_, lines) = buildAndRun("InfiniteSource(DATA \"\", LIMIT 1, STOP true) -> SetTimestamp(10) -> AdjustTimestamp(-2.5) -> TimeFilter(7, 8) -> Print(t, TIMESTAMP true) -> Discard")
        #expect(lines == ["t: 7.500000:    0"])
    }
}

/// Keywords Click accepts that this implementation does not act on load with a warning.
@Suite struct UnsupportedKeywordTests {
    @Test func theyWarnAndTheConfigurationLoads() throws {
        let b = build("Idle -> rw :: IPRewriter(pattern 1.0.0.1 1024-2000 - - 0 0, TCP_GUARANTEE 5) -> Discard")
        let r = try #require(b.router, "\(b.log.text)")
        _ = r
        #expect(b.chatter.contains { $0.contains("While configuring 'rw :: IPRewriter':\n  warning: TCP_GUARANTEE is not supported and has no effect") }, "\(b.chatter)")
    }
}

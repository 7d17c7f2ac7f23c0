import ClickLanguage
import ClickRuntime
import ClickTestSupport
import Testing

// Keywords that Click accepts either work here or are reported: each test gives one and
// looks at what changes (packets, annotations, handlers, messages).

@Suite struct HandlerCallTests {
    @Test func aMisspeltCallFailsAtInitializationInClicksWords() {
        let missingElement = build("InfiniteSource(LIMIT 5, END_CALL nosuch.x) -> Discard")
        #expect(missingElement.router == nil)
        #expect(missingElement.log.errorMessages.contains("  no element named 'nosuch'"))
        let missingHandler = build("i :: InfiniteSource(LIMIT 5, END_CALL i.bogus) -> Discard")
        #expect(missingHandler.log.errorMessages.contains("  no 'i.bogus' write handler"))
        let readOnly = build("Idle -> c :: Counter(COUNT_CALL 3 c.count) -> Discard")
        #expect(readOnly.log.errorMessages.contains("  no 'c.count' write handler"))
    }

    @Test func namesAreFoundInTheCallersCompoundFirst() throws {
        let (b, _) = buildAndRun("""
            elementclass Pair { input -> c :: Counter(COUNT_CALL 2 d.reset) -> d :: Counter -> output }
            InfiniteSource(LIMIT 3, STOP true) -> p :: Pair -> Discard
            """)
        let r = try #require(b.router, "\(b.log.text)")
        // `d` (found in p's compound) is reset as the second packet reaches c, before it
        // goes on: d counts the second and the third.
        #expect(try r.read("p/d.count") == "2")
    }

    @Test func resetRearmsCountCall() throws {
        let (b, _) = buildAndRun("InfiniteSource(LIMIT 5, STOP true) -> c :: Counter(COUNT_CALL 3 c.reset) -> Discard")
        let r = try #require(b.router, "\(b.log.text)")
        // Click: the reset at 3 re-arms, and 2 more packets follow.
        #expect(try r.read("c.count") == "2")
        #expect(try r.read("c.count_call") == "3")
    }

    @Test func countCallWrittenAtRunTimeIsChecked() throws {
        let b = build("Idle -> c :: Counter -> Discard")
        let r = try #require(b.router)
        #expect(throws: HandlerError.self) { try r.write("c.count_call", "5 nosuch.reset") }
        try r.write("c.count_call", "5 c.reset")
        #expect(try r.read("c.count_call") == "5")
    }
}

@Suite struct TimeFilterTests {
    @Test func passesTheIntervalAndStopsAfterIt() throws {
        // Timestamps 1..10 s; START_AFTER 2 and INTERVAL 3 keep [3, 6) relative to the first.
        let b = build("""
            inj :: Injector -> SetTimestampDelta -> AdjustTimestamp(1) -> t :: TimeFilter(START_AFTER 2, INTERVAL 3, STOP true) -> col :: Collector
            """)
        let r = try #require(b.router, "\(b.log.text)")
        let inj = try #require(b.element("inj", as: Injector.self))
        let col = try #require(b.element("col", as: Collector.self))
        for second in 1...10 {
            inj.injectTimestamped([UInt8(second)], at: Int64(second) * 1_000_000_000)
        }
        #expect(col.packets.map { $0[0] } == [3, 4, 5])
        #expect(r.scheduler.stopRequested)
        #expect(try r.read("t.interval") == "3.000000")
    }

    @Test func endCallCanExtendTheInterval() throws {
        let b = build("""
            inj :: Injector -> t :: TimeFilter(START 1, END 3, END_CALL t.extend_interval 2) -> col :: Collector
            """)
        _ = try #require(b.router, "\(b.log.text)")
        let inj = try #require(b.element("inj", as: Injector.self))
        let col = try #require(b.element("col", as: Collector.self))
        for second in 0...6 { inj.injectTimestamped([UInt8(second)], at: Int64(second) * 1_000_000_000) }
        // The packet at 3 reaches the end and the call moves it to 5; writing the interval
        // re-arms the call (as in Click), so the packet at 5 moves it to 7.
        #expect(col.packets.map { $0[0] } == [1, 2, 3, 4, 5, 6])
        #expect(try b.router?.read("t.end") == "7.000000")
    }

    @Test func exclusiveForms() {
        let b = build("Idle -> TimeFilter(END 5, INTERVAL 2) -> Discard")
        #expect(b.log.errorMessages.contains("  END, END_AFTER, END_AFTER_INIT, and INTERVAL are mutually exclusive"))
    }
}

@Suite struct KeywordBehaviourTests {
    @Test func truncateKeepsTheOriginalLengthForTheDump() throws {
        let b = build("inj :: Injector -> Truncate(10) -> col :: Collector")
        _ = try #require(b.router, "\(b.log.text)")
        let inj = try #require(b.element("inj", as: Injector.self))
        inj.inject([[UInt8](repeating: 1, count: 50)])
        let col = try #require(b.element("col", as: Collector.self))
        #expect(col.packets.first?.count == 10)
        #expect(col.extraLengths == [40])
    }

    @Test func vlanKeywords() throws {
        let frame = [UInt8](repeating: 0xAA, count: 6) + [UInt8](repeating: 0xBB, count: 6) + [0x08, 0x00] + [UInt8](repeating: 0, count: 20)
        let b = build("""
            inj :: Injector -> VLANEncap(5, ETHERTYPE 0x88a8) -> col :: Collector;
            """)
        _ = try #require(b.router, "\(b.log.text)")
        try #require(b.element("inj", as: Injector.self)).inject([frame])
        let tagged = try #require(b.element("col", as: Collector.self)?.packets.first)
        #expect(Array(tagged[12..<16]) == [0x88, 0xA8, 0x00, 0x05])

        // NATIVE_VLAN -1: untagged frames leave on output 1.
        let s = build("inj :: Injector -> v :: StripEtherVLANHeader(-1) -> Discard; v [1] -> col :: Collector")
        _ = try #require(s.router, "\(s.log.text)")
        try #require(s.element("inj", as: Injector.self)).inject([frame])
        #expect(s.element("col", as: Collector.self)?.packets.count == 1)
    }

    @Test func hostEtherFilterDropOtherFalseKeepsOtherHosts() throws {
        let other = [0x02, 0, 0, 0, 0, 9] + [UInt8](repeating: 0xBB, count: 6) + [0x08, 0x00] + [UInt8](repeating: 0, count: 20)
        for (dropOther, kept) in [("true", 0), ("false", 1)] {
            let b = build("inj :: Injector -> HostEtherFilter(02:00:00:00:00:01, DROP_OTHER \(dropOther)) -> col :: Collector")
            _ = try #require(b.router, "\(b.log.text)")
            try #require(b.element("inj", as: Injector.self)).inject([other])
            #expect(b.element("col", as: Collector.self)?.packets.count == kept)
        }
    }

    @Test func checkHeaderReportsTheFirstBadPacketAndDetailsByReason() throws {
        var bad = Frames.ipv4(src: Frames.ip(10, 0, 0, 1), dst: Frames.ip(10, 0, 0, 2))
        bad[27] ^= 0xFF  // UDP checksum no longer matches
        let b = build("inj :: Injector -> MarkIPHeader -> c :: CheckUDPHeader(DETAILS true) -> Discard")
        let r = try #require(b.router, "\(b.log.text)")
        var lines: [String] = []
        r.chatter = { lines.append($0) }
        try #require(b.element("inj", as: Injector.self)).inject([bad, bad])
        #expect(lines == ["UDP header check failed: bad UDP checksum"])
        #expect(try r.read("c.drop_details") == "0\tnot UDP\n0\tbad packet length\n2\tbad UDP checksum\n")
    }

    @Test func randomSeedMakesRandomChoicesRepeat() throws {
        func choices() throws -> [Int] {
            let b = build("RandomSeed(42); inj :: Injector -> s :: RandomSwitch; s[0] -> c0 :: Counter -> Discard; s[1] -> c1 :: Counter -> Discard")
            let r = try #require(b.router, "\(b.log.text)")
            let inj = try #require(b.element("inj", as: Injector.self))
            var seen: [Int] = []
            for _ in 0..<32 {
                let before = Int(try r.read("c1.count")) ?? 0
                inj.inject([[1]])
                seen.append((Int(try r.read("c1.count")) ?? 0) - before)
            }
            return seen
        }
        let first = try choices()
        #expect(first == (try choices()))
        #expect(first.contains(0) && first.contains(1))
    }

    @Test func unsupportedKeywordsWarn() throws {
        let b = build("Idle -> AggregateIPFlows(REAP 10) -> Discard")
        let r = try #require(b.router, "\(b.log.text)")
        _ = r
        #expect(b.chatter.contains { $0.contains("warning: REAP is not supported and has no effect") })
    }
}

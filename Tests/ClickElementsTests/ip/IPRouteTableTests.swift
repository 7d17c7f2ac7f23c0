import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// IPRouteTable against Click 2.1: the same packet through the same configuration prints the
/// same bytes.
@Suite struct IPRouteTableTests {
    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesLookupStaticIPLookup() {
        #expect(clickPrint("45000020 12340000 40110000 0a000001 0a010203 03e80035 000c0000 61626364",
                           through: "MarkIPHeader -> SetIPChecksum -> CheckIPHeader -> r :: StaticIPLookup(10.0.0.0/24 0, 10.1.0.0/16 10.0.0.254 1, 0.0.0.0/0 10.0.0.1 2); r[0] -> Print(o0) -> Discard; r[1] -> StoreIPAddress(12) -> Print(o1) -> Discard; r[2] -> Print(o2) -> Discard; Idle") == ["o1:   32 | 45000020 12340000 40115295 0a0000fe 0a010203 03e80035"])
    }

    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesLookupLinearIPLookup() {
        #expect(clickPrint("45000020 12340000 40110000 0a000001 0a010203 03e80035 000c0000 61626364",
                           through: "MarkIPHeader -> SetIPChecksum -> CheckIPHeader -> r :: LinearIPLookup(10.0.0.0/24 0, 10.1.0.0/16 10.0.0.254 1, 0.0.0.0/0 10.0.0.1 2); r[0] -> Print(o0) -> Discard; r[1] -> StoreIPAddress(12) -> Print(o1) -> Discard; r[2] -> Print(o2) -> Discard; Idle") == ["o1:   32 | 45000020 12340000 40115295 0a0000fe 0a010203 03e80035"])
    }

    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesLookupRadixIPLookup() {
        #expect(clickPrint("45000020 12340000 40110000 0a000001 0a010203 03e80035 000c0000 61626364",
                           through: "MarkIPHeader -> SetIPChecksum -> CheckIPHeader -> r :: RadixIPLookup(10.0.0.0/24 0, 10.1.0.0/16 10.0.0.254 1, 0.0.0.0/0 10.0.0.1 2); r[0] -> Print(o0) -> Discard; r[1] -> StoreIPAddress(12) -> Print(o1) -> Discard; r[2] -> Print(o2) -> Discard; Idle") == ["o1:   32 | 45000020 12340000 40115295 0a0000fe 0a010203 03e80035"])
    }

    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesLookupDirectIPLookup() {
        #expect(clickPrint("45000020 12340000 40110000 0a000001 0a010203 03e80035 000c0000 61626364",
                           through: "MarkIPHeader -> SetIPChecksum -> CheckIPHeader -> r :: DirectIPLookup(10.0.0.0/24 0, 10.1.0.0/16 10.0.0.254 1, 0.0.0.0/0 10.0.0.1 2); r[0] -> Print(o0) -> Discard; r[1] -> StoreIPAddress(12) -> Print(o1) -> Discard; r[2] -> Print(o2) -> Discard; Idle") == ["o1:   32 | 45000020 12340000 40115295 0a0000fe 0a010203 03e80035"])
    }

    /// Click 2.1's userlevel driver prints exactly this for the same configuration.
    @Test func clickAgreesLookupRangeIPLookup() {
        #expect(clickPrint("45000020 12340000 40110000 0a000001 0a010203 03e80035 000c0000 61626364",
                           through: "MarkIPHeader -> SetIPChecksum -> CheckIPHeader -> r :: RangeIPLookup(10.0.0.0/24 0, 10.1.0.0/16 10.0.0.254 1, 0.0.0.0/0 10.0.0.1 2); r[0] -> Print(o0) -> Discard; r[1] -> StoreIPAddress(12) -> Print(o1) -> Discard; r[2] -> Print(o2) -> Discard; Idle") == ["o1:   32 | 45000020 12340000 40115295 0a0000fe 0a010203 03e80035"])
    }

    /// A few thousand nested and overlapping routes through `ctrl` (as Click's iplookups-02
    /// loads a full table) answer every lookup as a plain longest-prefix match over the list.
    @Test func ctrlLoadsManyRoutesAndLookupsMatchLongestPrefix() throws {
        let b = build("Idle -> r :: RadixIPLookup(0.0.0.0/0 8); d :: Discard; " + (0...8).map { "r[\($0)] -> d;" }.joined())
        let r = try #require(b.router, "\(b.log.text)")
        var seed: UInt64 = 0x1234_5678
        func next() -> UInt32 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return UInt32(truncatingIfNeeded: seed >> 33)
        }
        var routes: [(network: UInt32, length: Int, port: Int)] = [(0, 0, 8)]
        var seen: Set<UInt64> = [0]
        var lines = ""
        while routes.count < 3000 {
            // Few top bytes, so that prefixes nest and overlap.
            let length = 8 + Int(next() % 25)
            let address = (next() & 0x0F0F_FFFF) | 0x0A00_0000
            let mask: UInt32 = length == 32 ? .max : ~(UInt32.max >> length)
            let network = address & mask
            guard seen.insert(UInt64(network) << 6 | UInt64(length)).inserted else { continue }
            let port = Int(next() % 8)
            routes.append((network, length, port))
            lines += "add \(IPv4Address(network))/\(length) \(port)\n"
        }
        try r.write("r.ctrl", lines)
        for i in 0..<2000 {
            // Half the probes inside routes, half anywhere.
            let route = routes[Int(next()) % routes.count]
            let address = i % 2 == 0 ? route.network | (next() & ~(route.length == 0 ? 0 : ~(UInt32.max >> route.length))) : next()
            let best = routes.filter { $0.length == 0 || address & ~(UInt32.max >> $0.length) == $0.network }.max { $0.length < $1.length }
            #expect(try r.read("r.lookup", parameter: "\(IPv4Address(address))") == "\(best?.port ?? -1)", "\(IPv4Address(address))")
        }
    }
}

import Testing
@testable import ClickLanguage

@Suite struct ConfigTextTests {
    @Test func argumentsSplitAtUnprotectedCommas() {
        #expect(ConfigText.arguments("a, b (c, d), \"e, f\", 'g,h', \\<2c>, /* , */ i") == ["a", "b (c", "d)", "\"e, f\"", "'g,h'", "\\<2c>", "i"])
    }

    @Test func finalEmptyArgumentIsDropped() {
        #expect(ConfigText.arguments("1, ") == ["1"])
        #expect(ConfigText.arguments("1, /* c */") == ["1"])
        #expect(ConfigText.arguments("") == [])
        #expect(ConfigText.arguments("  ") == [])
        #expect(ConfigText.arguments(", 1") == ["", "1"])
    }

    @Test func commentsBecomeOneSpace() {
        #expect(ConfigText.uncomment("  a /* x */  b  // y\n") == "a b")
        #expect(ConfigText.uncomment("a  b") == "a  b")
        #expect(ConfigText.uncomment("\"/* kept */\" c") == "\"/* kept */\" c")
    }

    @Test func wordsSplitAtUnquotedSpace() {
        #expect(ConfigText.words("a \"b c\" d/*x*/e 'f g'") == ["a", "\"b c\"", "d", "e", "'f g'"])
    }

    @Test func unquoting() {
        #expect(ConfigText.unquote("a\"b\"c") == "abc")
        #expect(ConfigText.unquote("'a\\n$b'") == "a\\n$b")
        #expect(ConfigText.unquoteBytes("\"\\a\\b\\t\\n\\v\\f\\r\\\\\\\"\"") == [7, 8, 9, 10, 11, 12, 13, 92, 34])
        #expect(ConfigText.unquoteBytes("\"\\101\\0\\7777\"") == [65, 0, 0xFF, 55])
        #expect(ConfigText.unquoteBytes("\"\\x41\\x1234\\xz\"") == [0x41, 0x34, 120, 122])
        #expect(ConfigText.unquoteBytes("\"a\\\nb\\q\"") == Array("abq".utf8))
        #expect(ConfigText.unquoteBytes("\\<48 45 /* c */ 4c 4C>x") == Array("HELLx".utf8))
        #expect(ConfigText.unquoteBytes("\"\\<00 ff>\"") == [0, 255])
    }

    @Test func quotingRoundTrips() {
        for text in ["plain", "", "two words", "q\"uote", "back\\slash", "tab\tnl\n", "//x", "/*y*/", "a,b", "$x", "é"] {
            #expect(ConfigText.unquote(ConfigText.quote(text)) == text)
        }
        #expect(ConfigText.quote("10.0.0.1/8") == "10.0.0.1/8")
        #expect(ConfigText.quote("a b") == "\"a b\"")
        let binary: [UInt8] = [0, 1, 200, 255, 34]
        #expect(ConfigText.unquoteBytes(ConfigText.quote(bytes: binary)) == binary)
    }

    @Test func keywordLooking() {
        #expect(ConfigText.keywordLength(Array("LIMIT 5".utf8)) == 5)
        #expect(ConfigText.keywordLength(Array("A:b.c?d! x".utf8)) == 8)
        #expect(ConfigText.keywordLength(Array("LIMIT".utf8)) == nil)
        #expect(ConfigText.keywordLength(Array("5 x".utf8)) == nil)
        #expect(ConfigText.keywordLength(Array("a-b c".utf8)) == nil)
    }

    @Test func expansionRules() {
        let env = VariableEnvironment(parent: nil)
        env.define("a", "1 2 3", override: false)
        env.define("q", "x\"y", override: false)
        #expect(ConfigText.expand("$a|${a}|${a[2]}|${b-def}|$b|'$a'|\"$q\"|$(h $a)|$(h x)", in: env)
                == "1 2 3|1 2 3|3|def|$b|'$a'|\"x\\\"y\"|$(h 1 2 3)|$(h x)")
        #expect(ConfigText.expand("/* $a */ $a", in: env) == "/* $a */ 1 2 3")
        #expect(ConfigText.expand("\\$a", in: env) == "\\1 2 3")
    }
}

@Suite struct ValueTests {
    @Test func integers() {
        #expect(IntegerValue.parse("42") == 42)
        #expect(IntegerValue.parse("-7") == -7)
        #expect(IntegerValue.parse("+7") == 7)
        #expect(IntegerValue.parse("0x1F") == 31)
        #expect(IntegerValue.parse("017") == 15)
        #expect(IntegerValue.parse("0b101") == 5)
        #expect(IntegerValue.parse("1_000") == 1000)
        #expect(IntegerValue.parse("0") == 0)
        #expect(IntegerValue.parse("-1", signed: false) == nil)
        for bad in ["", "x", "1x", "08", "0x", "1__0", "_1", "1_", "99999999999999999999"] {
            #expect(IntegerValue.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func booleansRealsTimesBandwidths() {
        #expect(["1", "true", "yes", "t", "y"].allSatisfy { BoolValue.parse($0) == true })
        #expect(["0", "false", "no", "f", "n"].allSatisfy { BoolValue.parse($0) == false })
        #expect(BoolValue.parse("maybe") == nil)
        #expect(RealValue.parse("1.5e3") == 1500)
        #expect(RealValue.parse(".5") == 0.5)
        #expect(RealValue.parse("1.") == 1)
        #expect(RealValue.parse("e3") == nil)
        #expect(TimeValue.parse("2") == 2)
        #expect(TimeValue.parse("1.5ms") == 0.0015)
        #expect(TimeValue.parse("10us")! == 10e-6)
        #expect(TimeValue.parse("3min") == 180)
        #expect(TimeValue.parse("2h") == 7200)
        #expect(TimeValue.parse("5 parsecs") == nil)
        #expect(BandwidthValue.parse("8kbps") == 1000)
        #expect(BandwidthValue.parse("131072B/s") == 131072)
        #expect(BandwidthValue.parse("1MBps") == 1e6)
        #expect(BandwidthValue.parse("1Gbps") == 125e6)
        #expect(BandwidthValue.parse("100") == 100)
        #expect(BandwidthValue.parse("3 furlongs") == nil)
    }

    @Test func ipv4() {
        #expect(IPv4Address.parse("10.0.0.1")?.address.description == "10.0.0.1")
        #expect(IPv4Address.parse("10.0.1") == nil)
        #expect(IPv4Address.parse("256.0.0.1") == nil)
        #expect(IPv4Address.parse("1.2.3.4.5") == nil)
        #expect(IPv4Prefix.parse("10.1.2.3/8")?.description == "10.1.2.3/8")
        #expect(IPv4Prefix.parse("10.1.2.3/8")?.network.description == "10.0.0.0")
        #expect(IPv4Prefix.parse("18.26.4/24")?.description == "18.26.4.0/24")
        #expect(IPv4Prefix.parse("1.2.3.4/255.255.0.0")?.length == 16)
        #expect(IPv4Prefix.parse("1.2.3.4/255.0.255.0")?.length == nil)
        #expect(IPv4Prefix.parse("1.2.3.4/33") == nil)
        #expect(IPv4Prefix.parse("1.2.3.4") == nil)
        #expect(IPv4Prefix.parse("1.2.3.4", allowBare: true)?.length == 32)
        #expect(IPv4Prefix.parse("10.0.0.0/8")?.broadcast.description == "10.255.255.255")
    }

    @Test func ipv6() {
        #expect(IPv6Address.parse("::")?.description == "::")
        #expect(IPv6Address.parse("::1")?.description == "::1")
        #expect(IPv6Address.parse("2001:DB8:0:0:1:0:0:1")?.description == "2001:db8::1:0:0:1")
        #expect(IPv6Address.parse("fe80::1:2")?.bytes.prefix(2) == [0xfe, 0x80])
        #expect(IPv6Address.parse("::ffff:10.0.0.1")?.bytes.suffix(4) == [10, 0, 0, 1])
        for bad in ["1::2::3", ":::", "1:2:3:4:5:6:7:8:9", "12345::", "g::", "1:2:3:4:5:6:7", ":1::"] {
            #expect(IPv6Address.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func ethernet() {
        #expect(EtherAddress.parse("0-a0-c9-9c-fd-9c")?.description == "00-A0-C9-9C-FD-9C")
        #expect(EtherAddress.parse("0:a0:c9:9c:fd:9c")?.bytes == [0, 0xa0, 0xc9, 0x9c, 0xfd, 0x9c])
        #expect(EtherAddress.parse("0:a0:c9:9c:fd") == nil)
        #expect(EtherAddress.parse("000:a0:c9:9c:fd:9c") == nil)
    }

    @Test func addressInfoNamesAreScopedAndTyped() {
        var names = AddressNames()
        #expect(names.define(configuration: "mauer 10.0.0.1/8 00:50:BA:85:84:A9, v6 fe80::1", elementName: "ai").isEmpty)
        #expect(names.define(configuration: "mazu 10.0.0.10", elementName: "c/ai").isEmpty)
        #expect(names.define(configuration: "bad 1.2.3.4.5", elementName: "x") == ["\"1.2.3.4.5\" is not a recognizable address"])
        #expect(names.ipv4("mauer", context: "x")?.description == "10.0.0.1")
        #expect(names.ipv4Prefix("mauer:ipnet", context: "x")?.description == "10.0.0.1/8")
        #expect(names.ipv4("mauer:bcast", context: "x")?.description == "10.255.255.255")
        #expect(names.ipv4("mauer:gw", context: "x")?.description == "10.0.0.1")
        #expect(names.ether("mauer:eth", context: "x")?.description == "00-50-BA-85-84-A9")
        #expect(names.ipv6("v6:ip6", context: "x")?.description == "fe80::1")
        #expect(names.ipv4("mazu", context: "c/encap")?.description == "10.0.0.10")
        #expect(names.ipv4("mazu", context: "c/d/encap")?.description == "10.0.0.10")
        #expect(names.ipv4("mazu", context: "encap") == nil)
        #expect(names.ether("mazu", context: "c/x") == nil)
    }

    /// A name no AddressInfo defines is looked up among the host's devices, as in Click's
    /// userlevel driver; AddressInfo's own values may name devices too. (`lo` is
    /// 127.0.0.1/8 on every Linux host, with no Ethernet address and no default route.)
    @Test func deviceNamesAreAddresses() {
        var names = AddressNames()
        #expect(names.ipv4("lo", context: "x")?.description == "127.0.0.1")
        #expect(names.ipv4Prefix("lo:net", context: "x")?.description == "127.0.0.1/8")
        #expect(names.ipv4("lo:bcast", context: "x")?.description == "127.255.255.255")
        #expect(names.ether("lo", context: "x") == nil)
        #expect(names.ipv4("nosuchdevice0", context: "x") == nil)
        #expect(names.define(configuration: "a lo:ip4, b lo, c b:net", elementName: "ai").isEmpty)
        #expect(names.ipv4("a", context: "x")?.description == "127.0.0.1")
        #expect(names.ipv4Prefix("a", context: "x")?.description == "127.0.0.1/32")
        #expect(names.ipv4Prefix("b", context: "x")?.description == "127.0.0.1/8")
        #expect(names.ipv4Prefix("c", context: "x")?.description == "127.0.0.1/8")
        #expect(names.define(configuration: "d lo:eth", elementName: "ai") == ["\"lo:eth\" is not a recognizable address"])
        // An AddressInfo name wins over a device of the same name.
        #expect(names.define(configuration: "lo 10.1.2.3", elementName: "ai").isEmpty)
        #expect(names.ipv4("lo", context: "x")?.description == "10.1.2.3")
    }
}

@Suite struct ArgumentTests {
    @Test func positionalAndKeywordBinding() {
        var args = Arguments(configuration: "1000")
        #expect(args.positional("CAPACITY", .unsignedInteger) == 1000)
        #expect(args.finish().isEmpty)
        var kw = Arguments(configuration: "CAPACITY 1000")
        #expect(kw.positional("CAPACITY", .unsignedInteger) == 1000)
        #expect(kw.finish().isEmpty)
    }

    @Test func lastRepeatedKeywordWins() {
        var args = Arguments(configuration: "LIMIT 5, LIMIT 7, STOP true")
        #expect(args.keyword("LIMIT", .integer) == 7)
        #expect(args.keyword("STOP", .bool) == true)
        #expect(args.finish().isEmpty)
    }

    @Test func mandatoryPositionalTakesKeywordLookingText() {
        var args = Arguments(configuration: "drop all")
        #expect(args.mandatory("SPEC", .raw) == "drop all")
        #expect(args.finish().isEmpty)
    }

    @Test func errorsInClickWording() {
        var unknown = Arguments(configuration: "BOGUS 1")
        _ = unknown.keyword("LIMIT", .integer)
        #expect(unknown.finish() == ["BOGUS: unknown argument"])
        var many = Arguments(configuration: "1, 2")
        _ = many.positional("A", .integer)
        #expect(many.finish() == ["too many arguments"])
        var missing = Arguments(configuration: "")
        #expect(missing.mandatory("SRC", .ipv4Address) == nil)
        #expect(missing.finish() == ["SRC: required argument missing"])
        var bad = Arguments(configuration: "x")
        #expect(bad.positional("N", .integer) == nil)
        #expect(bad.finish() == ["N: invalid number"])
    }

    @Test func positionalsStopAtTheFirstUsedKeyword() {
        var args = Arguments(configuration: "KEY 1, 5")
        #expect(args.keyword("KEY", .integer) == 1)
        #expect(args.positional("N", .integer) == nil)
        #expect(args.finish() == ["too many arguments"])
    }

    @Test func repeatedKeywordsAndRemaining() {
        var args = Arguments(configuration: "a, b, ROUTE 1, ROUTE 2")
        #expect(args.allKeywords("ROUTE", .integer) == [1, 2])
        #expect(args.remaining() == ["a", "b"])
        #expect(args.finish().isEmpty)
    }

    @Test func addressNamesResolveInValues() {
        var names = AddressNames()
        names.define(configuration: "gw 10.0.0.254 00:11:22:33:44:55", elementName: "info")
        var args = Arguments(configuration: "gw, gw", context: ValueContext(elementName: "e", addressNames: names))
        #expect(args.mandatory("IP", .ipv4Address)?.description == "10.0.0.254")
        #expect(args.mandatory("ETH", .etherAddress)?.description == "00-11-22-33-44-55")
    }
}

import Testing
@testable import ClickLanguage

@Suite struct FlatConfigurationTests {
    static let samples = [
        "InfiniteSource(LIMIT 5, STOP true) -> c :: Counter -> Discard;",
        "a, b, c, d :: Idle;\na [0,1,2] => ( -> c ), ( -> b ), d;",
        "elementclass P { $n | input -> q :: Queue($n) -> output }\nsrc :: InfiniteSource -> p :: P(10) -> u :: Unqueue -> Discard; src2 :: InfiniteSource -> [0] p;",
        "require(package x); define($D \"a, b\"); m :: Message($D); i :: Idle; i -> Paint(1) -> i; i [1] -> [1] i;",
        "analyzer, x1, x2 :: Idle;\nx1 -> analyzer -> x2;\nc :: Idle =>\n [1] analyzer [1],\n foo :: { -> c2 :: Idle => (->), Paint(1) -> }\n-> post_classification :: Idle;",
        "t :: Tee(3); Idle -> t; t [0] -> Discard; t[1] -> Discard; t[2] -> Print(\"x y\") -> Discard",
    ]

    @Test(arguments: samples) func flatteningIsIdempotent(_ text: String) {
        let (first, log) = flatten(text)
        #expect(!log.hasErrors, "\(log.text)")
        let once = first.unparse()
        let (second, log2) = flatten(once)
        #expect(!log2.hasErrors, "\(log2.text)")
        #expect(second.unparse() == once)
        #expect(second.elements.map(\.name) == first.elements.map(\.name))
        #expect(second.connections == first.connections)
    }

    @Test func declarationsThenChainsInClickFormat() {
        let (flat, _) = flatten("Idle -> q :: Queue(5) -> [1] x :: Idle [2] -> Discard; q [1] -> Discard")
        #expect(flat.unparse() == """
            Idle@1 :: Idle;
            q :: Queue(5);
            x :: Idle;
            Discard@4 :: Discard;
            Discard@5 :: Discard;

            Idle@1 -> q
                -> [1] x;
            x [2] -> Discard@4;
            q [1] -> Discard@5;

            """)
    }

    @Test func connectionsAreSortedByDestinationThenSource() {
        let (flat, _) = flatten("a, b, c :: Idle; b -> [1] a; c -> a; b [1] -> a; a -> c")
        let order = flat.connections.map { "\($0.from)/\($0.fromPort)->\($0.to)/\($0.toPort)" }
        #expect(order == ["1/1->0/0", "2/0->0/0", "1/0->0/1", "0/0->2/0"])
    }

    @Test func archivesCarryTheConfigInTheirConfigMember() {
        func member(_ name: String, _ body: String) -> String {
            func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: n - s.count) }
            return pad(name, 16) + pad("0", 12) + pad("0", 6) + pad("0", 6) + pad("644", 8) + pad("\(body.utf8.count)", 10) + "`\n" + body + (body.utf8.count % 2 == 1 ? "\n" : "")
        }
        let archive = "!<arch>\n" + member("other", "junk") + member("config", "Idle -> Discard;")
        let (flat, log) = flatten(archive)
        #expect(!log.hasErrors)
        #expect(flat.elements.map(\.className) == ["Idle", "Discard"])
    }
}

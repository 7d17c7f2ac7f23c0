import ClickElements
import ClickLanguage
import ClickTestSupport
import Testing
@testable import ClickRuntime

@Suite struct RandomSampleTests {
    @Test func probabilitiesAreClicksFixedPointAndItsHandlersAgree() throws {
        let b = build("Idle -> s :: RandomSample(0.3) -> Discard")
        let r = try #require(b.router, "\(b.log.text)")
        #expect(try r.read("s.sampling_prob") == "0.3")
        #expect(try r.read("s.drop_prob") == "0.7")
        #expect(try r.read("s.config") == "SAMPLE 0.3, ACTIVE true")
        try r.write("s.drop_prob", "0.1")
        #expect(try r.read("s.sampling_prob") == "0.9")
        do {
            try r.write("s.sampling_prob", "1.5")
            Issue.record("1.5 was accepted")
        } catch {
            #expect("\(error)".contains("Must be given a number between 0.0 and 1.0"))
        }
    }

    /// A seeded run samples about P of 4,000 packets, counts the rest as drops and sends them
    /// to output 1; inactive, it passes everything.
    @Test func samplesAboutPAndSendsTheRestToOutputOne() throws {
        let (out, b) = try sort((0..<4000).map { [UInt8($0 & 0xFF)] }, through: "RandomSample(DROP 0.25)", outputs: 2)
        #expect(out[0].count + out[1].count == 4000)
        #expect(out[0].count > 2800 && out[0].count < 3200)
        #expect(try b.router?.read("e.drops") == String(out[1].count))
        try b.router?.write("e.active", "false")
        try #require(b.element("inj", as: Injector.self)).inject([[1]])
        #expect(b.element("o0", as: Collector.self)?.packets.count == out[0].count + 1)
    }

    /// As in Click: no probability, both SAMPLE and DROP, or one above 1 are refused.
    @Test func badProbabilitiesAreRefusedInClicksWords() {
        #expect(build("Idle -> RandomSample -> Discard").log.errorMessages.contains("  sampling probability must be between 0 and 1"))
        #expect(build("Idle -> RandomSample(2) -> Discard").log.errorMessages.contains("  sampling probability must be between 0 and 1"))
        #expect(build("Idle -> RandomSample(SAMPLE 0.2, DROP 0.1) -> Discard").log.errorMessages.contains("  give at most one of SAMPLE and DROP"))
    }
}

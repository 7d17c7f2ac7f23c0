#if canImport(Glibc)
import Glibc
#endif
import Testing

@testable import PacketIO

@Suite("VM port pacing")
struct VMPortPacingTests {
    @Test func anIdleReceiverSleepsOnTheInterruptAfterAFewEmptyPolls() {
        var pacing = ReceivePacing()
        let steps = (0..<ReceivePacing.pollsBeforeSleep).map { _ in pacing.foundNothing(polling: false) }
        #expect(steps == [.pollAgain, .pollAgain, .pollAgain, .sleepOnInterrupt])
    }

    @Test func afterTrafficItNapsOnceWithInterruptsMaskedThenSleeps() {
        var pacing = ReceivePacing()
        pacing.received(8)
        usleep(2_000)  // past the spin window
        var steps = (0..<ReceivePacing.pollsBeforeSleep).map { _ in pacing.foundNothing(polling: false) }
        #expect(steps.last == .nap(nanoseconds: ReceivePacing.napNanoseconds))
        steps = (0..<ReceivePacing.pollsBeforeSleep).map { _ in pacing.foundNothing(polling: false) }
        #expect(steps.last == .sleepOnInterrupt)
    }

    @Test func aWakeUpStartsTheCountAfresh() {
        var pacing = ReceivePacing()
        for _ in 1..<ReceivePacing.pollsBeforeSleep { _ = pacing.foundNothing(polling: false) }
        pacing.woken()
        #expect(pacing.foundNothing(polling: false) == .pollAgain)
    }

    @Test func aPollingPortNeverSleeps() {
        var pacing = ReceivePacing()
        #expect((0..<100).allSatisfy { _ in pacing.foundNothing(polling: true) == .spin })
    }

    @Test func aFullLinkIsPolledBrieflyThenBackedOff() {
        var backoff = TransmitBackoff()
        #expect(backoff.full() == nil)
        usleep(2_000)
        #expect(backoff.full() == TransmitBackoff.retryNanoseconds)
        #expect(backoff.full() == nil)  // the next full spell starts afresh
        backoff.hadRoom()
        #expect(backoff.full() == nil)
    }
}

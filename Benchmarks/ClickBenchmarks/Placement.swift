#if canImport(Glibc)
import Glibc
#endif
import CShims
import Foundation
import Synchronization

/// One cache line that two pinned threads hand back and forth.
private final class PingPongLine: Sendable {
    let value = Atomic<Int>(0)
    let stop = Atomic<Bool>(false)
}

/// The round trip of one cache line between threads pinned to CPUs `a` and `b`, in
/// nanoseconds (median of short windows). On this machine's Firecracker guest it says
/// where the host runs the two vCPUs right now: about 55 ns when they share a core's
/// caches, about 330 ns when they do not — and the host moves them between the two
/// within minutes. Every figure that moves packets between the two CPUs (memif links,
/// chains) depends on it, so those benchmarks print it next to their figures.
func cacheLineRoundTrip(between a: Int = 0, and b: Int = 1, windows: Int = 5) -> Double {
    let line = PingPongLine()
    let responder = Thread {
        _ = clickos_pin_thread(Int32(b))
        var expected = 1
        while !line.stop.load(ordering: .relaxed) {
            if line.value.load(ordering: .acquiring) == expected {
                line.value.store(expected + 1, ordering: .releasing)
                expected += 2
            }
        }
    }
    responder.start()
    _ = clickos_pin_thread(Int32(a))
    var next = 0
    var samples: [Double] = []
    for _ in 0..<windows {
        let rounds = 20_000
        let t0 = nowSeconds()
        for _ in 0..<rounds {
            line.value.store(next + 1, ordering: .releasing)
            var spins = 0
            while line.value.load(ordering: .acquiring) != next + 2 {
                spins += 1
                if spins > 50_000_000 { break }  // the responder never ran: give up on this round
            }
            next += 2
        }
        samples.append((nowSeconds() - t0) / Double(rounds) * 1e9)
    }
    line.stop.store(true, ordering: .relaxed)
    _ = clickos_unpin_thread()
    usleep(1000)
    return median(samples)
}

/// "near" or "far", from a cache-line round trip.
func placement(_ roundTrip: Double) -> String {
    roundTrip < 150 ? "near, \(Int(roundTrip)) ns line round trip" : "far, \(Int(roundTrip)) ns line round trip"
}

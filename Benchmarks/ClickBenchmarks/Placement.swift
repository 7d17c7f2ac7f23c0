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

/// What waking a sleeper on the other vCPU costs here, with nothing of ours in the way: a
/// thread pinned to CPU `b` sleeps in poll on an eventfd; this thread (on CPU `a`)
/// writes it after `gapMicroseconds` of quiet and spins until the sleeper's answer comes
/// back on a second eventfd. Returns the median round trip in microseconds. It is the
/// floor under the interrupt-mode latency of a VM that sleeps between packets.
func idleWakeRoundTrip(between a: Int = 0, and b: Int = 1, gapMicroseconds: UInt32 = 1000, samples count: Int = 1000) -> Double {
    let ping = clickos_eventfd(), pong = clickos_eventfd()
    defer {
        close(ping)
        close(pong)
    }
    guard ping >= 0, pong >= 0 else { return .nan }
    let sleeper = Thread {
        _ = clickos_pin_thread(Int32(b))
        var value: UInt64 = 0
        while true {
            var p = pollfd(fd: ping, events: Int16(POLLIN), revents: 0)
            _ = poll(&p, 1, -1)
            guard read(ping, &value, 8) == 8 else { continue }
            if value > 1 { return }  // the last ping: stop
            value = 1
            _ = write(pong, &value, 8)
        }
    }
    sleeper.start()
    _ = clickos_pin_thread(Int32(a))
    usleep(10_000)
    var samples: [Double] = []
    var value: UInt64 = 1
    for i in 0..<count + 50 {
        value = 1
        let t0 = nowSeconds()
        _ = write(ping, &value, 8)
        while read(pong, &value, 8) != 8 {}
        if i >= 50 { samples.append((nowSeconds() - t0) * 1e6) }
        if gapMicroseconds > 0 { usleep(gapMicroseconds) }
    }
    value = 2
    _ = write(ping, &value, 8)
    _ = clickos_unpin_thread()
    usleep(1000)
    return median(samples)
}

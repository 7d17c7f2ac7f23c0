#if canImport(Glibc)
import Glibc
#endif

/// CLOCK_MONOTONIC in nanoseconds (the vDSO: no system call): for intervals that must
/// not jump with the wall clock (pacing, back-off), never for packet timestamps (those
/// come from the router's clock, which may be simulated).
@inline(__always) public func monotonicNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
}

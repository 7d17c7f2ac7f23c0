import ClickLanguage
import ClickRuntime

/// A number as Click prints a handler's double: an integer without a fraction, otherwise
/// in full.
func formatNumber(_ v: Double) -> String {
    v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
}

/// Click's timestamp text: seconds, a dot, then microseconds when the time is a whole
/// number of them (`1000000000.000001`), nanoseconds otherwise (`1000.500000123`), as
/// Click built with nanosecond timestamps (its default on Linux) prints it. A negative
/// time has a minus sign before its magnitude (`-1.500000`).
public func formatTimestamp(_ nanoseconds: Int64) -> String {
    let magnitude = nanoseconds.magnitude
    let seconds = magnitude / 1_000_000_000
    let fraction = magnitude % 1_000_000_000
    let digits = fraction % 1_000 == 0 ? 6 : 9
    let m = String(digits == 6 ? fraction / 1_000 : fraction)
    return (nanoseconds < 0 ? "-" : "") + "\(seconds)." + String(repeating: "0", count: digits - m.count) + m
}

/// A number rounded to two decimals, as Click's AverageCounter prints rates.
func format2(_ v: Double) -> String {
    let r = (v * 100).rounded() / 100
    return "\(r)"
}

/// A number with three decimals, as Click prints averages.
func format3(_ v: Double) -> String {
    guard v.isFinite, abs(v) < 1e15 else { return String(v) }
    let scaled = Int((v * 1000).rounded())
    let frac = String(abs(scaled) % 1000)
    return (scaled < 0 ? "-" : "") + "\(abs(scaled) / 1000).\(String(repeating: "0", count: 3 - frac.count))\(frac)"
}

/// Click's `drop_details` handler text for the check elements: each reason's count and
/// name, one per line.
func dropDetails(_ counts: [Int], _ reasons: [String]) -> String {
    zip(counts, reasons).map { "\($0)\t\($1)\n" }.joined()
}

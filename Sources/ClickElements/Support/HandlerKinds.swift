import ClickLanguage
import ClickRuntime

/// Handler kinds several elements share.
extension HandlerSet {
    /// A read/write handler for a rate: packets per second (an unsigned 32-bit integer,
    /// as in Click) or, with `bandwidth`, bytes per second in bandwidth syntax.
    mutating func rate(_ name: String, bandwidth: Bool, get: @escaping () -> Double, set: @escaping (Double) -> Void) {
        readWrite(name, read: { formatNumber(get()) }, write: { (t: String) throws(ElementError) in
            set(bandwidth ? try ValueType.bandwidth.written(t) : Double(try ValueType.unsignedInteger.written(t)))
        })
    }

    /// The `rate` handler of a token-bucket element: reads the bucket's own rate as Click
    /// prints it (bandwidths in Click's units), writes a new RATE.
    mutating func bucketRate(bandwidth: Bool, get: @escaping () -> UInt32, set: @escaping (UInt32) -> Void) {
        readWrite("rate", read: { bandwidth ? unparseBandwidth(get()) : "\(get())" }, write: { (t: String) throws(ElementError) in
            set(bandwidth ? UInt32(clamping: UInt64(max(0, min(try ValueType.bandwidth.written(t), 4e9)))) : UInt32(clamping: try ValueType.unsignedInteger.written(t)))
        })
    }

    /// A read/write handler for an Ethernet address.
    mutating func etherAddress(_ name: String, get: @escaping () -> EtherAddress, set: @escaping (EtherAddress) -> Void) {
        readWrite(name, read: { get().description }, write: { (t: String) throws(ElementError) in
            guard let a = EtherAddress.parse(t.trimmingCharacters()) else { throw ElementError("expected Ethernet address") }
            set(a)
        })
    }

    /// A read/write handler for a time interval in seconds, kept in nanoseconds, read as
    /// a Click timestamp.
    mutating func interval(_ name: String, get: @escaping () -> Int64, set: @escaping (Int64) -> Void) {
        readWrite(name, read: { formatNumber(Double(get()) / 1e9) }, write: { (t: String) throws(ElementError) in
            set(try ValueType.timestamp.written(t))
        })
    }

    /// An interval that must not be zero.
    mutating func positiveInterval(_ name: String, get: @escaping () -> Int64, set: @escaping (Int64) -> Void) {
        readWrite(name, read: { formatNumber(Double(get()) / 1e9) }, write: { (t: String) throws(ElementError) in
            let v = try ValueType.timestamp.written(t)
            guard v > 0 else { throw ElementError("must be positive") }
            set(v)
        })
    }
}

/// Click's `BandwidthArg::unparse`: bytes per second in the largest unit that reads well.
func unparseBandwidth(_ bytesPerSecond: UInt32) -> String {
    func real10(_ value: UInt32, _ digits: Int) -> String {
        var one: UInt32 = 1
        for _ in 0..<digits { one *= 10 }
        let whole = value / one, fraction = value % one
        guard fraction != 0 else { return "\(whole)" }
        var f = String(fraction)
        f = String(repeating: "0", count: digits - f.count) + f
        while f.hasSuffix("0") { f.removeLast() }
        return "\(whole).\(f)"
    }
    let x = bytesPerSecond
    if x >= 0x2000_0000 { return real10(x, 6) + "MBps" }
    if x >= 125_000_000 { return real10(x &* 8, 9) + "Gbps" }
    if x >= 125_000 { return real10(x &* 8, 6) + "Mbps" }
    return real10(x &* 8, 3) + "kbps"
}

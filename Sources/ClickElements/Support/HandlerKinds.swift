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

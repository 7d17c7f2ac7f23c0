/// Click's numeric argument types, with Click's ranges and words (`lib/args.cc`): an
/// argument read into a C `int`, `uint32_t`, `Timestamp`, seconds or bandwidth field in
/// Click is read here into the same range, so a configuration Click refuses is refused
/// with Click's message, and a value Click accepts never overflows the arithmetic that
/// uses it.
///
/// - Integers (`IntArg`): "invalid number" for text that is not one, "out of range,
///   bound N" when it does not fit the field (N is the nearest value that does).
/// - Timestamps (`TimestampArg`, `cp_time`): unsigned unless said otherwise; a value
///   beyond Click's largest (2^32 - 1 seconds and 999,999,999 ns) saturates to it, as in
///   Click.
/// - Seconds (`SecondsArg`): a 32-bit count of seconds (or of milli- or microseconds);
///   "out of range" beyond it.
/// - Bandwidths (`BandwidthArg`): a 32-bit count of bytes per second; "out of range".
/// - Reals (`DoubleArg`): "out of range, bound inf" when the number overflows a double.
///
/// Times are returned in nanoseconds (`Int64`), the router clock's unit; every one of
/// them fits with room for the clock itself (2^32 s is 4.3e18 ns; Int64 holds 9.2e18).
public enum ClickRanges {
    /// The largest timestamp Click represents (`Timestamp` with 32-bit seconds).
    public static let maximumTimestampNanoseconds: Int64 = Int64(UInt32.max) * 1_000_000_000 + 999_999_999

    /// `seconds` in nanoseconds, saturating: NaN is 0, and what does not fit an `Int64`
    /// is its bound. For handler values and computed intervals that never went through a
    /// range-checked argument.
    public static func nanoseconds(seconds: Double) -> Int64 {
        let ns = seconds * 1e9
        if ns.isNaN { return 0 }
        if ns >= 9.2e18 { return Int64.max }
        if ns <= -9.2e18 { return Int64.min }
        return Int64(ns.rounded())
    }
}

extension Int64 {
    /// `self + other`, saturating at the bounds instead of trapping (time arithmetic on
    /// values that came from configurations and handlers).
    @inlinable public func saturatingAdd(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    /// `self - other`, saturating at the bounds instead of trapping.
    @inlinable public func saturatingSubtract(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }

    /// `self * other`, saturating at the bounds instead of trapping.
    @inlinable public func saturatingMultiply(_ other: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? ((self < 0) != (other < 0) ? .min : .max) : product
    }
}

extension ValueType where Value == Int {
    /// Click's `IntArg` into a field of `bits` bits (8, 16, 32 or 64), signed or not.
    public static func integer(bits: Int, signed: Bool) -> ValueType<Int> {
        let maximum: UInt64 = signed ? (UInt64(1) << (bits - 1)) - 1 : (bits == 64 ? UInt64.max : (UInt64(1) << bits) - 1)
        let name = signed ? "integer" : "unsigned integer"
        return ValueType(name, invalidMessage: "invalid number") { text, _ in
            guard let scan = IntegerValue.scan(ConfigText.unquote(text), signed: signed) else { return nil }
            if scan.negative {
                let limit = maximum + 1
                if scan.overflowed || scan.magnitude > limit { return .error("out of range, bound -\(limit)") }
                return .value(scan.magnitude == limit ? Int(truncatingIfNeeded: 0 &- Int64(bitPattern: limit)) : -Int(scan.magnitude))
            }
            // Unsigned 64-bit values beyond Int.max do not fit Swift's Int either.
            let fits = min(maximum, UInt64(Int.max))
            if scan.overflowed || scan.magnitude > fits { return .error("out of range, bound \(maximum)") }
            return .value(Int(scan.magnitude))
        }
    }

    /// Click's `int`: a signed 32-bit integer.
    public static let integer = ValueType.integer(bits: 32, signed: true)
    /// Click's `unsigned`/`uint32_t`: an unsigned 32-bit integer.
    public static let unsignedInteger = ValueType.integer(bits: 32, signed: false)
    /// `uint16_t` (ports, Ethernet types, identifiers).
    public static let uint16 = ValueType.integer(bits: 16, signed: false)
    /// `uint8_t` (TTLs, codes, colors).
    public static let uint8 = ValueType.integer(bits: 8, signed: false)
    /// `int64_t`.
    public static let int64 = ValueType.integer(bits: 64, signed: true)

    /// Click's `BoundedIntArg(min, max)`: an integer from `min` to `max`, "out of range,
    /// bound N" outside.
    public static func bounded(_ minimum: Int, _ maximum: Int) -> ValueType<Int> {
        let wide = ValueType.int64
        return ValueType("integer", invalidMessage: "invalid number") { text, context in
            switch wide.read(text, context) {
            case .value(let v) where v < minimum: return .error("out of range, bound \(minimum)")
            case .value(let v) where v > maximum: return .error("out of range, bound \(maximum)")
            case let other: return other
            }
        }
    }
}

extension ValueType where Value == Int64 {
    /// Click's `Timestamp` (`cp_time`): a non-negative time with Click's units, in
    /// nanoseconds; beyond Click's largest timestamp it saturates, as Click's does.
    public static let timestamp = ValueType<Int64>.timestamp(signed: false)

    /// `TimestampArg(true)`: a timestamp that may be negative.
    public static let signedTimestamp = ValueType<Int64>.timestamp(signed: true)

    static func timestamp(signed: Bool) -> ValueType<Int64> {
        ValueType<Int64>("time") { text, _ in
            var t = ConfigText.unquote(text)
            var negative = false
            if signed, t.hasPrefix("-"), t.count > 1 {
                negative = true
                t.removeFirst()
            }
            guard !t.hasPrefix("-"), let seconds = TimeValue.parse(t), seconds >= 0 else { return nil }
            let ns = min(ClickRanges.nanoseconds(seconds: seconds), ClickRanges.maximumTimestampNanoseconds)
            // As Click's cp_time: a minus sign negates the whole seconds only, and the
            // fraction is added back (`-2.25` is -2 s + 0.25 s = -1.75 s).
            return .value(negative ? -(ns / 1_000_000_000) * 1_000_000_000 + ns % 1_000_000_000 : ns)
        }
    }

    /// Click's `SecondsArg(fractionDigits)`: a non-negative time held as a 32-bit count
    /// of 10^-fractionDigits seconds; "out of range" beyond. Returned in nanoseconds.
    public static func seconds(fractionDigits: Int) -> ValueType<Int64> {
        var unit: Int64 = 1_000_000_000
        var scale = 1.0
        for _ in 0..<fractionDigits {
            unit /= 10
            scale *= 10
        }
        let perUnit = unit, unitsPerSecond = scale
        return ValueType<Int64>("time") { text, _ in
            let t = ConfigText.unquote(text)
            guard !t.hasPrefix("-"), let seconds = TimeValue.parse(t), seconds >= 0 else { return nil }
            let units = (seconds * unitsPerSecond).rounded()
            guard units <= Double(UInt32.max) else { return .error("out of range") }
            return .value(Int64(units) * perUnit)
        }
    }

    /// `SecondsArg()`: whole seconds.
    public static let wholeSeconds = ValueType<Int64>.seconds(fractionDigits: 0)
}

extension ValueType where Value == Double {
    /// Click's `DoubleArg`: a real number; one that overflows a double is "out of range,
    /// bound inf", one that underflows to zero "underflow, rounded to 0".
    public static let real = ValueType("real number") { text, _ in
        guard let v = RealValue.parse(ConfigText.unquote(text)) else { return nil }
        if v.isInfinite { return .error("out of range, bound \(v < 0 ? "-" : "")inf") }
        if v == 0, RealValue.hasNonZeroDigit(ConfigText.unquote(text)) { return .error("underflow, rounded to 0") }
        return .value(v)
    }

    /// Click's `FixedPointArg(fractionBits)` into an unsigned 32-bit field: a non-negative
    /// real below 2^(32 - fractionBits); "out of range, bound B" beyond.
    public static func fixedPoint(fractionBits: Int) -> ValueType<Double> {
        let scale = Double(UInt64(1) << fractionBits)
        let bound = Double(UInt32.max) / scale
        return ValueType("real number") { text, _ in
            let t = ConfigText.unquote(text)
            guard !t.hasPrefix("-"), let v = RealValue.parse(t) else { return nil }
            if v > bound { return .error("out of range, bound \(RealValue.unparse(bound, fractionDigits: 5))") }
            return .value((v * scale).rounded() / scale)
        }
    }

    /// Click's `BandwidthArg`: bytes per second in an unsigned 32-bit field; "out of
    /// range" beyond.
    public static let bandwidth = ValueType("bandwidth") { text, _ in
        guard let v = BandwidthValue.parse(ConfigText.unquote(text)), v >= 0 else { return nil }
        return v.rounded() <= Double(UInt32.max) ? .value(v) : .error("out of range")
    }
}

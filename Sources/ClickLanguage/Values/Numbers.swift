/// Click's integer syntax (`IntArg`): optional sign, then decimal, octal (leading `0`),
/// hexadecimal (`0x`) or binary (`0b`), with `_` allowed between digits.
public enum IntegerValue {
    /// Parses the whole of `text`; nil if it is not an integer or does not fit in 64 bits.
    public static func parse(_ text: String, signed: Bool = true) -> Int64? {
        guard let scan = scan(text, signed: signed), !scan.overflowed else { return nil }
        if scan.negative {
            guard scan.magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return scan.magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(scan.magnitude)
        }
        guard scan.magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(scan.magnitude)
    }

    /// An integer's sign and magnitude, and whether the magnitude overflowed 64 bits.
    public struct Scan: Sendable {
        public var negative: Bool
        public var magnitude: UInt64
        public var overflowed: Bool
    }

    /// Reads the whole of `text` as an integer of any size: nil if it is not one.
    public static func scan(_ text: String, signed: Bool = true) -> Scan? {
        let s = Array(text.utf8)
        var i = 0
        var negative = false
        if i < s.count, s[i] == 43 || (signed && s[i] == 45) {
            negative = s[i] == 45
            i += 1
        }
        var base: UInt64 = 10
        if i + 2 < s.count, s[i] == 48, s[i + 1] | 0x20 == 120 {
            base = 16
            i += 2
        } else if i + 2 < s.count, s[i] == 48, s[i + 1] | 0x20 == 98 {
            base = 2
            i += 2
        } else if i + 1 < s.count, s[i] == 48 {
            base = 8
        }
        guard i < s.count else { return nil }
        var value: UInt64 = 0
        var overflowed = false
        var lastWasDigit = false
        while i < s.count {
            let c = s[i]
            if c == 95, lastWasDigit, i + 1 < s.count {
                lastWasDigit = false
                i += 1
                continue
            }
            guard let digit = ConfigText.hexValue(c), UInt64(digit) < base else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: base)
            let (a, o2) = m.addingReportingOverflow(UInt64(digit))
            if o1 || o2 { overflowed = true }
            value = a
            lastWasDigit = true
            i += 1
        }
        guard lastWasDigit else { return nil }
        return Scan(negative: negative, magnitude: value, overflowed: overflowed)
    }
}

/// Click's booleans: `0 false no f n` and `1 true yes t y`.
public enum BoolValue {
    public static func parse(_ text: String) -> Bool? {
        switch text {
        case "1", "true", "yes", "t", "y": return true
        case "0", "false", "no", "f", "n": return false
        default: return nil
        }
    }
}

/// Real numbers: decimal with optional fraction and exponent (`1.5`, `.5`, `2e-3`).
public enum RealValue {
    public static func parse(_ text: String) -> Double? {
        let s = Array(text.utf8)
        var i = 0
        if i < s.count, s[i] == 43 || s[i] == 45 { i += 1 }
        var digits = 0
        while i < s.count, ConfigText.isDigit(s[i]) { i += 1; digits += 1 }
        if i < s.count, s[i] == 46 {
            i += 1
            while i < s.count, ConfigText.isDigit(s[i]) { i += 1; digits += 1 }
        }
        guard digits > 0 else { return nil }
        if i < s.count, s[i] | 0x20 == 101 {
            i += 1
            if i < s.count, s[i] == 43 || s[i] == 45 { i += 1 }
            var expDigits = 0
            while i < s.count, ConfigText.isDigit(s[i]) { i += 1; expDigits += 1 }
            guard expDigits > 0 else { return nil }
        }
        guard i == s.count else { return nil }
        return Double(text)
    }

    /// True if the mantissa of `text` has a digit other than 0 (a number that parses to
    /// zero is then an underflow).
    static func hasNonZeroDigit(_ text: String) -> Bool {
        for c in text.utf8 {
            if c | 0x20 == 101 { return false }
            if c >= 49 && c <= 57 { return true }
        }
        return false
    }

    /// `value` with at most `fractionDigits` decimals, truncated, trailing zeros dropped.
    public static func unparse(_ value: Double, fractionDigits: Int) -> String {
        var scale = 1.0
        for _ in 0..<fractionDigits { scale *= 10 }
        let whole = value.rounded(.towardZero)
        var fraction = String(Int64(((value - whole) * scale).rounded(.towardZero)))
        while fraction.count < fractionDigits { fraction = "0" + fraction }
        while fraction.hasSuffix("0") { fraction.removeLast() }
        let head = String(Int64(whole))
        return fraction.isEmpty ? head : head + "." + fraction
    }

    /// Splits `text` into a leading real number and the unit that follows it.
    static func splitUnit(_ text: String) -> (Double, String)? {
        let s = Array(text.utf8)
        var i = 0
        if i < s.count, s[i] == 43 || s[i] == 45 { i += 1 }
        while i < s.count, ConfigText.isDigit(s[i]) || s[i] == 46 { i += 1 }
        if i < s.count, s[i] | 0x20 == 101, i + 1 < s.count,
            ConfigText.isDigit(s[i + 1]) || ((s[i + 1] == 45 || s[i + 1] == 43) && i + 2 < s.count && ConfigText.isDigit(s[i + 2]))
        {
            i += 2
            while i < s.count, ConfigText.isDigit(s[i]) { i += 1 }
        }
        guard let number = parse(String(decoding: s[0..<i], as: UTF8.self)) else { return nil }
        return (number, String(decoding: s[i...], as: UTF8.self))
    }
}

/// Time intervals with Click's units: `s`/`sec`, `ms`/`msec`, `us`/`usec`, `ns`/`nsec`,
/// `m`/`min`, `h`/`hr`; a bare number means seconds. The result is in seconds.
public enum TimeValue {
    public static func parse(_ text: String) -> Double? {
        guard let (number, unit) = RealValue.splitUnit(text) else { return nil }
        // Sub-second units divide, so that `10us` is exactly the double nearest 1e-5.
        switch unit {
        case "ms", "msec", "msecs": return number / 1e3
        case "us", "usec", "usecs": return number / 1e6
        case "ns", "nsec", "nsecs": return number / 1e9
        default: break
        }
        let scale: Double
        switch unit {
        case "", "s", "sec", "secs", "second", "seconds": scale = 1
        case "m", "min", "mins", "minute", "minutes": scale = 60
        case "h", "hr", "hrs", "hour", "hours": scale = 3600
        case "d", "day", "days": scale = 86400
        default: return nil
        }
        return number * scale
    }
}

/// Bandwidths: `bps`, `kbps`, `Mbps`, `Gbps` (bits) and `Bps`, `kBps`, `KBps`, `MBps`,
/// `GBps`, `B/s` (bytes); a bare number means bytes per second. The result is in bytes
/// per second.
public enum BandwidthValue {
    public static func parse(_ text: String) -> Double? {
        guard let (number, unit) = RealValue.splitUnit(text) else { return nil }
        if unit.isEmpty { return number }
        var u = Substring(unit)
        var multiplier: Double = 1
        if let first = u.first, u.count > 1 {
            switch first {
            case "k", "K": multiplier = 1e3
            case "M": multiplier = 1e6
            case "G": multiplier = 1e9
            default: break
            }
            if multiplier != 1 { u = u.dropFirst() }
        }
        switch u {
        case "bps", "b/s": return number * multiplier / 8
        case "Bps", "B/s", "B": return number * multiplier
        default: return nil
        }
    }
}

/// Click's unsigned fixed-point numbers (`FixedPointArg`, `cp_unparse_real2`): a 32-bit
/// value with `fractionBits` bits after the binary point. Printed as Click prints them:
/// the shortest decimal that reads back to the same value (Knuth's print_scaled).
public enum FixedPoint {
    /// `value` as fixed point, rounded to the nearest step; nil beyond 32 bits.
    public static func raw(_ value: Double, fractionBits: Int) -> UInt32? {
        let scaled = (value * Double(UInt64(1) << fractionBits)).rounded()
        guard scaled >= 0, scaled <= Double(UInt32.max) else { return nil }
        return UInt32(scaled)
    }

    /// The decimal text of the fixed-point `raw`.
    public static func unparse(_ raw: UInt32, fractionBits: Int) -> String {
        precondition(fractionBits >= 1 && fractionBits <= 30, "Click's fixed point keeps at most 30 fraction bits here")
        let one = UInt64(1) << fractionBits
        var text = String(UInt64(raw) >> fractionBits)
        var rest = UInt64(raw) & (one - 1)
        guard rest != 0 else { return text }
        text += "."
        rest = 10 * rest + 5
        var allowed: UInt64 = 10
        var rounder: UInt64 = 5
        while rounder < one >> 1 { rounder *= 10 }
        repeat {
            if allowed > one { rest = rest &+ (one >> 1) &- rounder }
            text.append(Character(Unicode.Scalar(UInt8(48 + (rest >> fractionBits)))))
            rest = 10 * (rest & (one - 1))
            allowed *= 10
        } while rest > allowed
        return text
    }
}

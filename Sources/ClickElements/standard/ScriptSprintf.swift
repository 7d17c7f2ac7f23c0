import ClickLanguage

/// Script's `$(sprintf FORMAT ARGS...)`, as Click's `Script::sprintf_handler` and
/// `ErrorHandler::vxformat` do it: conversions `d i u o x X s %`, flags `0 # - + space`,
/// a field width and a precision, `h`/`l`/`ll`/`L`/`q` size flags. Numbers are 64-bit
/// (`h` narrows to 16 bits); a number's field width is at most 128 and its precision at
/// most 124 (Click formats numbers in a 128-byte buffer); strings are not limited.
/// Anything else, a missing or extra argument, or an argument that is not a number where
/// one is needed, is a "syntax error" (nil), as in Click; so is a string field wider than
/// 1 MiB (Click would try to allocate it). `*` widths are errors too:
/// Click's parser reads the argument but never steps over the `*`.
enum ScriptSprintf {
    static let numberBuffer = 128
    static let maximumStringWidth = 1 << 20

    struct Spec {
        var leftJustify = false
        var zeroPad = false
        var alternate = false
        var plus = false
        var space = false
        var width = -1
        var precision = -1
    }

    static func format(_ format: String, _ arguments: [String]) -> String? {
        let f = Array(format.utf8)
        var args = arguments[...]
        var out: [UInt8] = []
        var i = 0
        while i < f.count {
            guard f[i] == UInt8(ascii: "%") else {
                out.append(f[i])
                i += 1
                continue
            }
            i += 1
            var spec = Spec()
            flags: while i < f.count {
                switch f[i] {
                case UInt8(ascii: "0"): spec.zeroPad = true
                case UInt8(ascii: "#"): spec.alternate = true
                case UInt8(ascii: "-"): spec.leftJustify = true
                case UInt8(ascii: " "): spec.space = true
                case UInt8(ascii: "+"): spec.plus = true
                default: break flags
                }
                i += 1
            }
            if i < f.count, f[i] == UInt8(ascii: "*") { return nil }
            spec.width = digits(f, &i) ?? -1
            if i < f.count, f[i] == UInt8(ascii: ".") {
                i += 1
                if i < f.count, f[i] == UInt8(ascii: "*") { return nil }
                spec.precision = digits(f, &i) ?? 0
            }
            var short = false
            while i < f.count, [UInt8(ascii: "h"), UInt8(ascii: "l"), UInt8(ascii: "L"), UInt8(ascii: "q")].contains(f[i]) {
                short = f[i] == UInt8(ascii: "h")
                i += 1
            }
            guard i < f.count else { return nil }
            let conversion = f[i]
            i += 1
            switch conversion {
            case UInt8(ascii: "d"), UInt8(ascii: "i"):
                guard let word = args.popFirst(), var v = IntegerValue.parse(word) else { return nil }
                if short { v = Int64(Int16(truncatingIfNeeded: v)) }
                out += number(v.magnitude, negative: v < 0, base: 10, uppercase: false, spec)
            case UInt8(ascii: "u"), UInt8(ascii: "o"), UInt8(ascii: "x"), UInt8(ascii: "X"):
                guard let word = args.popFirst(), let scan = IntegerValue.scan(word, signed: false), !scan.overflowed else { return nil }
                let v = short ? UInt64(UInt16(truncatingIfNeeded: scan.magnitude)) : scan.magnitude
                let base: UInt64 = conversion == UInt8(ascii: "u") ? 10 : conversion == UInt8(ascii: "o") ? 8 : 16
                out += number(v, negative: false, base: base, uppercase: conversion == UInt8(ascii: "X"), spec)
            case UInt8(ascii: "s"):
                guard let word = args.popFirst() else { return nil }
                var s = Array(word.utf8)
                if spec.precision >= 0 && s.count > spec.precision { s = Array(s.prefix(spec.precision)) }
                guard spec.width <= maximumStringWidth else { return nil }
                out += pad(s, spec)
            case UInt8(ascii: "%"):
                guard spec.width <= maximumStringWidth else { return nil }
                out += pad([UInt8(ascii: "%")], spec)
            default:
                return nil
            }
        }
        guard args.isEmpty else { return nil }
        return String(decoding: out, as: UTF8.self)
    }

    /// A run of decimal digits at `i`, saturating (a width of 10^30 is just large).
    static func digits(_ f: [UInt8], _ i: inout Int) -> Int? {
        var value: Int?
        while i < f.count, f[i] >= UInt8(ascii: "0"), f[i] <= UInt8(ascii: "9") {
            value = min((value ?? 0) * 10 + Int(f[i] - UInt8(ascii: "0")), 1 << 40)
            i += 1
        }
        return value
    }

    /// Click's `do_number` and `do_number_flags`.
    static func number(_ magnitude: UInt64, negative: Bool, base: UInt64, uppercase: Bool, _ spec: Spec) -> [UInt8] {
        var spec = spec
        spec.width = min(spec.width, numberBuffer)
        spec.precision = min(spec.precision, numberBuffer - 4)
        let digitChars = Array((uppercase ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
        var digits: [UInt8] = []
        var m = magnitude
        repeat {
            digits.append(digitChars[Int(m % base)])
            m /= base
        } while m > 0
        digits.reverse()
        var alternate = spec.alternate
        if alternate && base == 16 && magnitude == 0 { alternate = false }
        if spec.precision >= 0 {
            while digits.count < spec.precision { digits.insert(UInt8(ascii: "0"), at: 0) }
        } else if spec.zeroPad {
            var width = spec.width
            if alternate && base == 16 { width -= 2 }
            if negative || spec.plus || spec.space { width -= 1 }
            while digits.count < width { digits.insert(UInt8(ascii: "0"), at: 0) }
        }
        // Click tests the second character, not the first: "10" gets no prefix, "0" and
        // "1" get one ("00", "01").
        if alternate && base == 8 && !(digits.count > 1 && digits[1] == UInt8(ascii: "0")) {
            digits.insert(UInt8(ascii: "0"), at: 0)
        } else if alternate && base == 16 {
            digits.insert(contentsOf: [UInt8(ascii: "0"), uppercase ? UInt8(ascii: "X") : UInt8(ascii: "x")], at: 0)
        }
        if negative {
            digits.insert(UInt8(ascii: "-"), at: 0)
        } else if spec.plus {
            digits.insert(UInt8(ascii: "+"), at: 0)
        } else if spec.space {
            digits.insert(UInt8(ascii: " "), at: 0)
        }
        return pad(digits, spec)
    }

    /// Pads to the field width: spaces after when left-justified, else zeros (with `0`)
    /// or spaces before.
    static func pad(_ s: [UInt8], _ spec: Spec) -> [UInt8] {
        guard spec.width > s.count else { return s }
        let fill = [UInt8](repeating: spec.leftJustify ? UInt8(ascii: " ") : (spec.zeroPad ? UInt8(ascii: "0") : UInt8(ascii: " ")),
                           count: spec.width - s.count)
        return spec.leftJustify ? s + fill : fill + s
    }
}

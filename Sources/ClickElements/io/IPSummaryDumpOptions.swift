/// The text forms of IP and TCP options in Click's IPSummaryDump format (`ip_opt`,
/// `tcp_opt`, `tcp_ntopt`, `tcp_sack`), written and read as Click's ipsumdump does.
///
/// IP: `rr{1.2.3.4,^5.6.7.8}` (record route; `^` marks the pointer, `+N` free slots),
/// `ssrr{...}`, `lsrr{...}`, `ts{...}`, `ts.ip{A=T,...}`, `ts.preip{...}` (timestamps,
/// `!` the high bit, `++N` the overflow count), `nop`, `eol`, and `N=B:B:...` for any
/// other option. TCP: `mss1460`, `wscale7`, `sackok`, `sackL-R` (`,sack` joins blocks
/// into one option), `tsV:E`, `nop`, `eol`, `N=B:...`. Options are separated by `;`
/// (`,` is read too); `.` means none; `?` is written for options that do not parse.
enum SummaryOptions {
    /// Which options a text form includes (Click's DO_IPOPT_* / DO_TCPOPT_* masks).
    struct Mask: OptionSet, Sendable {
        let rawValue: UInt32
        static let padding = Mask(rawValue: 1)
        static let route = Mask(rawValue: 2)  // IP: rr, lsrr, ssrr
        static let ipTimestamp = Mask(rawValue: 4)
        static let mss = Mask(rawValue: 2)  // TCP
        static let wscale = Mask(rawValue: 4)
        static let sack = Mask(rawValue: 8)
        static let tcpTimestamp = Mask(rawValue: 16)
        static let unknown = Mask(rawValue: 32)
        static let all = Mask(rawValue: 0xFFFF_FFFF)
        static let allButPadding = Mask(rawValue: 0xFFFF_FFFE)
        /// `tcp_ntopt`: neither padding nor timestamps.
        static let noTimestamps = Mask(rawValue: 0xFFFF_FFEE)
    }

    // MARK: Writing

    static func dotted(_ o: UnsafeRawBufferPointer, _ i: Int) -> String {
        "\(o[i]).\(o[i + 1]).\(o[i + 2]).\(o[i + 3])"
    }

    static func be32(_ o: UnsafeRawBufferPointer, _ i: Int) -> UInt32 {
        UInt32(o[i]) << 24 | UInt32(o[i + 1]) << 16 | UInt32(o[i + 2]) << 8 | UInt32(o[i + 3])
    }

    /// `N=B:B:...`, the form of an option without a name.
    static func generic(_ o: UnsafeRawBufferPointer, _ at: Int) -> String {
        var s = String(o[at])
        var sep = "="
        for k in (at + 2)..<(at + Int(o[at + 1])) {
            s += sep + String(o[k])
            sep = ":"
        }
        return s
    }

    /// The text of IP options `o` (the bytes after the 20-byte header).
    static func unparseIP(_ o: UnsafeRawBufferPointer, mask: Mask = .allButPadding) -> String {
        var out = ""
        var sep = ""
        var i = 0
        let end = o.count
        func fits(_ minLength: Int) -> Bool { i + 1 < end && i + Int(o[i + 1]) <= end && Int(o[i + 1]) >= minLength }
        scan: while i < end {
            let kind = o[i]
            switch kind {
            case 0:
                if mask.contains(.padding) { out += sep + "eol" }
                break scan
            case 1:
                if mask.contains(.padding) {
                    out += sep + "nop"
                    sep = ";"
                }
                i += 1
            case 7, 131, 137:  // RR, LSRR, SSRR
                guard fits(3), o[i + 2] >= 4 else { return "?" }
                guard mask.contains(.route) else {
                    i += Int(o[i + 1])
                    continue
                }
                out += sep + (kind == 7 ? "rr" : kind == 131 ? "lsrr" : "ssrr") + "{"
                let ol = i + Int(o[i + 1]), op = i + Int(o[i + 2]) - 1
                var k = i + 3
                var s = ""
                while k + 4 <= ol {
                    if k == op {
                        if kind == 7 { break }
                        s = "^"
                    }
                    out += s + dotted(o, k)
                    s = ","
                    k += 4
                }
                if k == ol && k == op && kind != 7 { out += "^" }
                out += "}"
                if k + 4 <= ol && k == op && kind == 7 { out += "+\((ol - k) / 4)" }
                i = ol
                sep = ";"
            case 68:  // TS
                guard fits(4), o[i + 2] >= 5 else { return "?" }
                let ol = i + Int(o[i + 1]), op = i + Int(o[i + 2]) - 1
                let flag = Int(o[i + 3] & 0xF)
                let size = (1...3).contains(flag) ? 8 : 4
                out += sep + "ts" + (flag == 1 ? ".ip" : flag == 3 ? ".preip" : flag != 0 ? ".\(flag)" : "") + "{"
                var s = ""
                var k = i + 4
                while k + size <= ol {
                    if k == op {
                        if flag != 3 { break }
                        s = "^"
                    }
                    if flag != 0 {
                        out += s + dotted(o, k) + "="
                        k += 4
                    } else {
                        out += s
                    }
                    if flag == 3 && k > op {
                        out.removeLast()
                    } else {
                        let v = be32(o, k)
                        out += (v & 0x8000_0000 != 0 ? "!" : "") + String(v & 0x7FFF_FFFF)
                    }
                    s = ","
                    k += 4
                }
                if k == ol && k == op { out += "^" }
                out += "}"
                if k + size <= ol && k == op { out += "+\((ol - k) / size)" }
                if o[i + 3] & 0xF0 != 0 { out += "++\(o[i + 3] >> 4)" }
                i = ol
                sep = ";"
            default:
                guard fits(2) else { return "?" }
                guard mask.contains(.unknown) else {
                    i += Int(o[i + 1])
                    continue
                }
                out += sep + generic(o, i)
                i += Int(o[i + 1])
                sep = ";"
            }
        }
        return out.isEmpty ? "." : out
    }

    /// The text of TCP options `o` (the bytes after the 20-byte header).
    static func unparseTCP(_ o: UnsafeRawBufferPointer, mask: Mask) -> String {
        var out = ""
        var sep = ""
        var i = 0
        let end = o.count
        func fits(_ exact: Int?) -> Bool {
            guard i + 1 < end, i + Int(o[i + 1]) <= end else { return false }
            return exact.map { Int(o[i + 1]) == $0 } ?? true
        }
        scan: while i < end {
            let kind = o[i]
            let named: (Mask, Int?)? =
                switch kind {
                case 2: (.mss, 4)
                case 3: (.wscale, 3)
                case 4: (.sack, 2)
                case 5: (.sack, nil)
                case 8: (.tcpTimestamp, 10)
                default: nil
                }
            switch kind {
            case 0:
                if mask.contains(.padding) { out += sep + "eol" }
                break scan
            case 1:
                if mask.contains(.padding) {
                    out += sep + "nop"
                    sep = ";"
                }
                i += 1
                continue
            case 5:
                guard fits(nil), o[i + 1] % 8 == 2 else { return "?" }
            default:
                if let named {
                    guard fits(named.1) else { return "?" }
                } else {
                    guard fits(nil), o[i + 1] >= 2 else { return "?" }
                }
            }
            let length = Int(o[i + 1])
            defer { i += length }
            guard mask.contains(named?.0 ?? .unknown) else { continue }
            switch kind {
            case 2: out += sep + "mss\(UInt16(o[i + 2]) << 8 | UInt16(o[i + 3]))"
            case 3: out += sep + "wscale\(o[i + 2])"
            case 4: out += sep + "sackok"
            case 5:
                var k = i + 2
                while k < i + length {
                    out += sep + "sack\(be32(o, k))-\(be32(o, k + 4))"
                    sep = ";"
                    k += 8
                }
            case 8: out += sep + "ts\(be32(o, i + 2)):\(be32(o, i + 6))"
            default: out += sep + generic(o, i)
            }
            if kind != 5 { sep = ";" }
        }
        return out.isEmpty ? "." : out
    }

    // MARK: Reading

    /// A cursor over option text, with Click's `cp_integer` number reading.
    struct Cursor {
        let s: [UInt8]
        var i = 0
        init(_ text: Substring) { s = Array(text.utf8) }
        var atEnd: Bool { i >= s.count }
        func at(_ k: Int) -> UInt8? { i + k < s.count ? s[i + k] : nil }
        func isDigit(_ k: Int = 0) -> Bool { at(k).map { (48...57).contains($0) } ?? false }
        func has(_ word: String, strictlyBefore: Bool) -> Bool {
            let w = Array(word.utf8)
            guard strictlyBefore ? i + w.count < s.count : i + w.count <= s.count else { return false }
            return Array(s[i..<(i + w.count)]) == w
        }
        /// Reads an unsigned number (base 10, or `0x` hex when `anyBase`); nil, and
        /// nothing consumed, without a digit. Large values saturate, as Click's.
        mutating func number(anyBase: Bool = true) -> UInt32? {
            var radix: UInt64 = 10
            var k = i
            if anyBase, k + 2 < s.count, s[k] == 48, s[k + 1] | 0x20 == 0x78, SummaryFormat.hexDigit(s[k + 2]) != nil {
                radix = 16
                k += 2
            }
            var v: UInt64 = 0
            let start = k
            while k < s.count, let d = SummaryFormat.hexDigit(s[k]), UInt64(d) < radix {
                v = min(v * radix + UInt64(d), 0x1_0000_0000)
                k += 1
            }
            guard k > start else { return nil }
            i = k
            return UInt32(min(v, 0xFFFF_FFFF))
        }
        /// Four dotted bytes of an address.
        mutating func address(into out: inout [UInt8]) -> Bool {
            for n in 0..<4 {
                guard let v = number(anyBase: false), v <= 255 else { return false }
                out.append(UInt8(v))
                if n < 3 {
                    guard at(0) == UInt8(ascii: ".") else { return false }
                    i += 1
                }
            }
            return true
        }
    }

    static func appendBE32(_ out: inout [UInt8], _ v: UInt32) {
        out += [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
    }

    /// `N` or `N=B:B:...`: an option by number.
    static func parseGeneric(_ c: inout Cursor, _ out: inout [UInt8]) -> Bool {
        guard let kind = c.number(), kind < 256 else { return false }
        out.append(UInt8(kind))
        guard c.at(0) == UInt8(ascii: "="), c.isDigit(1) else { return true }
        let lengthAt = out.count
        out.append(0)
        repeat {
            c.i += 1
            guard let b = c.number(), b < 256 else { return false }
            out.append(UInt8(b))
        } while c.at(0) == UInt8(ascii: ":") && c.isDigit(1)
        guard out.count <= lengthAt + 254 else { return false }
        out[lengthAt] = UInt8(out.count - lengthAt + 1)
        return true
    }

    /// After each option: the end (drop leading NOPs beyond 40 bytes; nil if still too
    /// long), or a `,`/`;` separator.
    static func finish(_ c: inout Cursor, _ out: inout [UInt8], stopAtSpace: Bool) -> (done: Bool, ok: Bool) {
        if c.atEnd || (stopAtSpace && c.at(0).map { $0 == 32 || (9...13).contains($0) } == true) {
            while out.count > 40 && out.first == 1 { out.removeFirst() }
            return (true, out.count <= 40)
        }
        guard c.at(0) == UInt8(ascii: ",") || c.at(0) == UInt8(ascii: ";") else { return (true, false) }
        c.i += 1
        return (false, true)
    }

    /// The option bytes IP option text stands for; `[]` for `.`, nil if it does not parse.
    static func parseIP(_ text: Substring) -> [UInt8]? {
        if text.isEmpty || text == "." { return [] }
        var c = Cursor(text)
        var out: [UInt8] = []
        while true {
            if c.has("rr{", strictlyBefore: true) || c.has("ssrr{", strictlyBefore: true) || c.has("lsrr{", strictlyBefore: true) {
                let kind: UInt8 = c.s[c.i] == UInt8(ascii: "r") ? 7 : c.s[c.i] == UInt8(ascii: "s") ? 137 : 131
                c.i += kind == 7 ? 3 : 5
                let start = out.count
                out += [kind, 0, 0]
                var pointer = -1
                while true {
                    if c.at(0) == UInt8(ascii: "^") && pointer < 0 {
                        pointer = out.count - start + 1
                        c.i += 1
                    }
                    guard c.isDigit() else { break }
                    guard c.address(into: &out) else { return nil }
                    if c.at(0) == UInt8(ascii: ",") { c.i += 1 }
                }
                guard c.at(0) == UInt8(ascii: "}") else { return nil }
                out[start + 2] = UInt8(truncatingIfNeeded: pointer >= 0 ? pointer : out.count - start + 1)
                if c.at(1) == UInt8(ascii: "+"), c.isDigit(2) {
                    c.i += 2
                    if let n = c.number(anyBase: false), n < 64 { out += repeatElement(0, count: Int(n) * 4) }
                } else {
                    c.i += 1
                }
                guard out.count - start <= 255 else { return nil }
                out[start + 1] = UInt8(out.count - start)
            } else if c.has("ts{", strictlyBefore: true) || c.has("ts.", strictlyBefore: true) {
                guard parseTimestampOption(&c, &out) else { return nil }
            } else if c.isDigit() {
                guard parseGeneric(&c, &out) else { return nil }
            } else if c.has("nop", strictlyBefore: false) {
                out.append(1)
                c.i += 3
            } else if c.has("eol", strictlyBefore: false) && c.at(3) != UInt8(ascii: ",") {
                out.append(0)
                c.i += 3
            } else {
                return nil
            }
            let (done, ok) = finish(&c, &out, stopAtSpace: false)
            if done { return ok ? out : nil }
        }
    }

    /// `ts{...}`, `ts.ip{...}`, `ts.preip{...}`, `ts.N{...}`, as Click reads them.
    static func parseTimestampOption(_ c: inout Cursor, _ out: inout [UInt8]) -> Bool {
        let start = out.count
        out += [68, 0, 0, 0]
        var flag = -1
        if c.at(2) == UInt8(ascii: ".") {
            c.i += 3
            if c.has("ip{", strictlyBefore: true) {
                flag = 1
                c.i += 3
            } else if c.has("preip{", strictlyBefore: true) {
                flag = 3
                c.i += 6
            } else if c.isDigit(), let f = c.number(), f <= 15, c.at(0) == UInt8(ascii: "{") {
                flag = Int(f)
                c.i += 1
            } else {
                return false
            }
        } else {
            c.i += 3
        }
        var pointer = -1
        entries: while true {
            if c.at(0) == UInt8(ascii: "^") && pointer < 0 {
                pointer = out.count - start + 1
                c.i += 1
            }
            guard c.isDigit() || c.at(0) == UInt8(ascii: "!") else { break }
            let entry = c.i
            retry: while true {
                if flag == 1 || flag == 3 || flag == -2 {
                    guard c.address(into: &out) else { return false }
                    if pointer >= 0 && flag == -2 { flag = 3 }
                    if c.at(0) == UInt8(ascii: "="), c.i + 1 < c.s.count {
                        if c.isDigit(1) || c.at(1) == UInt8(ascii: "!") {
                            c.i += 1
                        } else if c.at(1) == UInt8(ascii: "?") && pointer >= 0 {
                            out += [0, 0, 0, 0]
                            c.i += 2
                            break retry
                        } else {
                            return false
                        }
                    } else if pointer >= 0 {
                        out += [0, 0, 0, 0]
                        break retry
                    } else {
                        return false
                    }
                }
                var top: UInt32 = 0
                if c.at(0) == UInt8(ascii: "!") {
                    top = 0x8000_0000
                    c.i += 1
                }
                guard c.isDigit(), let v = c.number() else { return false }
                if c.at(0) == UInt8(ascii: ".") && flag == -1 {
                    flag = -2
                    c.i = entry
                    continue retry
                } else if flag == -1 {
                    flag = 0
                }
                appendBE32(&out, v | top)
                break retry
            }
            if c.at(0) == UInt8(ascii: ",") { c.i += 1 }
            continue entries
        }
        if !c.atEnd {
            guard c.s[c.i] == UInt8(ascii: "}") else { return false }
            c.i += 1
        }
        if flag == -2 { flag = 1 }
        out[start + 2] = UInt8(truncatingIfNeeded: pointer >= 0 ? pointer : out.count - start + 1)
        if c.at(0) == UInt8(ascii: "+"), c.isDigit(1) {
            c.i += 1
            if let n = c.number(), n < 64 { out += repeatElement(0, count: Int(n) * (flag == 1 || flag == 3 ? 8 : 4)) }
        }
        var overflow: UInt8 = 0
        if c.at(0) == UInt8(ascii: "+"), c.at(1) == UInt8(ascii: "+"), c.isDigit(2) {
            c.i += 2
            if let n = c.number(), n < 16 { overflow = UInt8(n) }
        }
        out[start + 3] = overflow << 4 | UInt8(flag & 0xF)
        guard out.count - start <= 255 else { return false }
        out[start + 1] = UInt8(out.count - start)
        return true
    }

    /// The option bytes TCP option text stands for; `[]` for `.`, nil if it does not parse.
    static func parseTCP(_ text: Substring, mask: Mask = .all) -> [UInt8]? {
        if text.isEmpty || text == "." { return [] }
        var c = Cursor(text)
        var out: [UInt8] = []
        while true {
            if c.has("mss", strictlyBefore: true) && mask.contains(.mss) {
                c.i += 3
                guard let v = c.number(), v <= 0xFFFF else { return nil }
                out += [2, 4, UInt8(v >> 8), UInt8(v & 0xFF)]
            } else if c.has("wscale", strictlyBefore: true) && mask.contains(.wscale) {
                c.i += 6
                guard let v = c.number(), v <= 255 else { return nil }
                out += [3, 3, UInt8(v)]
            } else if c.has("sackok", strictlyBefore: false) && mask.contains(.sack) {
                out += [4, 2]
                c.i += 6
            } else if c.has("sack", strictlyBefore: true) && mask.contains(.sack) {
                let start = out.count
                out += [5, 0]
                c.i += 4
                while true {
                    let blockStart = c.i
                    guard let left = c.number(), c.at(0) == UInt8(ascii: ":") || c.at(0) == UInt8(ascii: "-") else { return nil }
                    c.i += 1
                    guard let right = c.number(), c.i >= blockStart + 3 else { return nil }
                    appendBE32(&out, left)
                    appendBE32(&out, right)
                    guard c.has(",sack", strictlyBefore: true) else { break }
                    c.i += 5
                }
                out[start + 1] = UInt8(truncatingIfNeeded: out.count - start)
            } else if c.has("ts", strictlyBefore: true) && mask.contains(.tcpTimestamp) {
                c.i += 2
                guard let value = c.number(), c.at(0) == UInt8(ascii: ":") else { return nil }
                c.i += 1
                guard let echo = c.number() else { return nil }
                if out.isEmpty { out += [1, 1] }
                out += [8, 10]
                appendBE32(&out, value)
                appendBE32(&out, echo)
            } else if c.isDigit() && mask.contains(.unknown) {
                guard parseGeneric(&c, &out) else { return nil }
            } else if c.has("nop", strictlyBefore: false) && mask.contains(.padding) {
                out.append(1)
                c.i += 3
            } else if c.has("eol", strictlyBefore: false) && mask.contains(.padding) && c.at(3) != UInt8(ascii: ",") {
                out.append(0)
                c.i += 3
            } else {
                return nil
            }
            let (done, ok) = finish(&c, &out, stopAtSpace: true)
            if done { return ok ? out : nil }
        }
    }
}

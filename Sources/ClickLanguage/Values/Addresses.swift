/// An IPv4 address, kept in host byte order so that comparisons and masks are plain
/// integer operations.
public struct IPv4Address: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// The address in network byte order, as it sits in a packet.
    public var bytes: [UInt8] {
        [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    public var description: String {
        "\(value >> 24).\((value >> 16) & 255).\((value >> 8) & 255).\(value & 255)"
    }

    public static func < (a: IPv4Address, b: IPv4Address) -> Bool { a.value < b.value }

    /// Parses dotted-quad text `a.b.c.d`; with `allowPartial`, fewer parts (`10.1`) are
    /// accepted and the missing ones are zero (the form prefixes use).
    public static func parse(_ text: String, allowPartial: Bool = false) -> (address: IPv4Address, parts: Int)? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 1, parts.count <= 4, allowPartial || parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.utf8.allSatisfy(ConfigText.isDigit), let n = UInt32(part), n <= 255 else {
                return nil
            }
            value = value << 8 | n
        }
        value <<= UInt32(8 * (4 - parts.count))
        return (IPv4Address(value), parts.count)
    }
}

/// An IPv4 address with a mask: `a.b.c.d/len`, `a.b.c/24`, `a.b.c.d/255.255.255.0`.
public struct IPv4Prefix: Hashable, Sendable, CustomStringConvertible {
    public var address: IPv4Address
    public var mask: UInt32

    public init(address: IPv4Address, mask: UInt32) {
        self.address = address
        self.mask = mask
    }

    public init(address: IPv4Address, length: Int) {
        self.address = address
        self.mask = length <= 0 ? 0 : (length >= 32 ? UInt32.max : ~(UInt32.max >> UInt32(length)))
    }

    /// The prefix length when the mask is contiguous.
    public var length: Int? {
        let ones = mask.nonzeroBitCount
        return mask == (ones == 0 ? 0 : ~(UInt32.max >> UInt32(ones))) ? ones : nil
    }

    public var network: IPv4Address { IPv4Address(address.value & mask) }
    public var broadcast: IPv4Address { IPv4Address(address.value | ~mask) }

    public func contains(_ a: IPv4Address) -> Bool { a.value & mask == address.value & mask }

    public var description: String {
        if let length { return "\(address)/\(length)" }
        return "\(address)/\(IPv4Address(mask))"
    }

    /// Parses a prefix; a bare address counts as /32 when `allowBare` is set.
    public static func parse(_ text: String, allowBare: Bool = false) -> IPv4Prefix? {
        guard let slash = text.firstIndex(of: "/") else {
            guard allowBare, let (a, _) = IPv4Address.parse(text) else { return nil }
            return IPv4Prefix(address: a, length: 32)
        }
        guard let (a, parts) = IPv4Address.parse(String(text[..<slash]), allowPartial: true) else { return nil }
        let rest = String(text[text.index(after: slash)...])
        if let length = Int(rest), rest.utf8.allSatisfy(ConfigText.isDigit), length >= 0, length <= 32 {
            // `10.1/16` style: partial addresses need their parts to cover the length.
            if parts < 4 && length > parts * 8 { return nil }
            return IPv4Prefix(address: a, length: length)
        }
        if let (m, _) = IPv4Address.parse(rest) {
            return IPv4Prefix(address: a, mask: m.value)
        }
        return nil
    }
}

/// An IPv6 address (RFC 4291 text forms, including `::` and an embedded IPv4 tail).
public struct IPv6Address: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> UInt64(56 - 8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: low >> UInt64(56 - 8 * $0)) }
    }

    var groups: [UInt16] {
        (0..<4).map { UInt16(truncatingIfNeeded: high >> UInt64(48 - 16 * $0)) } + (0..<4).map { UInt16(truncatingIfNeeded: low >> UInt64(48 - 16 * $0)) }
    }

    /// RFC 5952 text: lowercase, the longest run of zero groups (two or more) as `::`.
    public var description: String {
        let g = groups
        var bestStart = -1, bestLength = 0, i = 0
        while i < 8 {
            if g[i] == 0 {
                var j = i
                while j < 8 && g[j] == 0 { j += 1 }
                if j - i > bestLength && j - i >= 2 { bestStart = i; bestLength = j - i }
                i = j
            } else {
                i += 1
            }
        }
        func hex(_ range: Range<Int>) -> String { range.map { String(g[$0], radix: 16) }.joined(separator: ":") }
        if bestStart < 0 { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }

    public static func parse(_ text: String) -> IPv6Address? {
        guard !text.isEmpty, text.count <= 45 else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        let bytes = Array(text.utf8)
        var doubleColon: Int? = nil
        for i in 0..<(bytes.count - 1) where bytes[i] == 58 && bytes[i + 1] == 58 {
            if doubleColon != nil { return nil }
            doubleColon = i
        }
        let sawDoubleColon = doubleColon != nil
        if let at = doubleColon {
            let left = Substring(String(decoding: bytes[0..<at], as: UTF8.self))
            let right = Substring(String(decoding: bytes[(at + 2)...], as: UTF8.self))
            if right.hasPrefix(":") || left.hasSuffix(":") { return nil }
            guard let l = groups(left, allowIPv4: false), let r = groups(right, allowIPv4: true) else { return nil }
            head = l
            tail = r
        } else {
            guard let all = groups(Substring(text), allowIPv4: true), all.count == 8 else { return nil }
            head = all
        }
        let total = head.count + tail.count
        if sawDoubleColon ? total > 7 : total != 8 { return nil }
        let all = head + [UInt16](repeating: 0, count: 8 - total) + tail
        var high: UInt64 = 0, low: UInt64 = 0
        for k in 0..<4 { high = high << 16 | UInt64(all[k]) }
        for k in 4..<8 { low = low << 16 | UInt64(all[k]) }
        return IPv6Address(high: high, low: low)
    }

    private static func groups(_ text: Substring, allowIPv4: Bool) -> [UInt16]? {
        if text.isEmpty { return [] }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        var result: [UInt16] = []
        for (i, part) in parts.enumerated() {
            if allowIPv4, i == parts.count - 1, part.contains(".") {
                guard let (a, _) = IPv4Address.parse(String(part)) else { return nil }
                result.append(UInt16(a.value >> 16))
                result.append(UInt16(a.value & 0xFFFF))
                continue
            }
            guard !part.isEmpty, part.count <= 4, let v = UInt16(part, radix: 16) else { return nil }
            result.append(v)
        }
        return result
    }
}

/// An Ethernet address: `00-a0-c9-9c-fd-9c` or `0:a0:c9:9c:fd:9c`.
public struct EtherAddress: Hashable, Sendable, CustomStringConvertible {
    /// The 48 bits, first byte most significant.
    public var value: UInt64

    public init(_ value: UInt64) { self.value = value & 0xFFFF_FFFF_FFFF }

    public init(bytes: [UInt8]) {
        var v: UInt64 = 0
        for b in bytes.prefix(6) { v = v << 8 | UInt64(b) }
        value = v
    }

    public var bytes: [UInt8] { (0..<6).map { UInt8(truncatingIfNeeded: value >> UInt64(40 - 8 * $0)) } }

    public static let broadcast = EtherAddress(0xFFFF_FFFF_FFFF)

    /// Click prints Ethernet addresses in upper-case hex with dashes.
    public var description: String {
        bytes.map { b in
            let s = String(b, radix: 16, uppercase: true)
            return s.count == 1 ? "0" + s : s
        }.joined(separator: "-")
    }

    public static func parse(_ text: String) -> EtherAddress? {
        let separator: Character = text.contains("-") ? "-" : ":"
        let parts = text.split(separator: separator, omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        var v: UInt64 = 0
        for part in parts {
            guard part.count == 1 || part.count == 2, let b = UInt8(part, radix: 16) else { return nil }
            v = v << 8 | UInt64(b)
        }
        return EtherAddress(v)
    }
}

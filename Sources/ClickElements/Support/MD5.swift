#if canImport(Glibc)
import Glibc
#endif

/// MD5 (RFC 1321), for the `payload_md5` fields of IPSummaryDump, with Click's compact
/// text digest. Written here rather than taken from swift-crypto: that package would put
/// BoringSSL into every VM binary for one digest of trace payloads.
enum MD5 {
    static let shifts: [UInt32] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]
    /// floor(abs(sin(i + 1)) * 2^32), RFC 1321 §3.4.
    static let constants: [UInt32] = (0..<64).map { i in UInt32(truncatingIfNeeded: Int64((abs(sin(Double(i + 1))) * 4_294_967_296).rounded(.down))) }

    /// The 16-byte digest of `bytes`.
    static func digest(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var message = Array(bytes)
        let bitLength = UInt64(message.count) &* 8
        message.append(0x80)
        while message.count % 64 != 56 { message.append(0) }
        for k in 0..<8 { message.append(UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(k)))) }
        var state: (UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476)
        var words = [UInt32](repeating: 0, count: 16)
        for block in stride(from: 0, to: message.count, by: 64) {
            for w in 0..<16 {
                let b = block + 4 * w
                words[w] = UInt32(message[b]) | UInt32(message[b + 1]) << 8 | UInt32(message[b + 2]) << 16 | UInt32(message[b + 3]) << 24
            }
            var (a, b, c, d) = state
            for i in 0..<64 {
                let f: UInt32
                let g: Int
                switch i / 16 {
                case 0: (f, g) = ((b & c) | (~b & d), i)
                case 1: (f, g) = ((d & b) | (~d & c), (5 * i + 1) % 16)
                case 2: (f, g) = (b ^ c ^ d, (3 * i + 5) % 16)
                default: (f, g) = (c ^ (b | ~d), (7 * i) % 16)
                }
                let sum = a &+ f &+ constants[i] &+ words[g]
                let s = shifts[(i / 16) * 4 + i % 4]
                (a, d, c) = (d, c, b)
                b = b &+ (sum << s | sum >> (32 - s))
            }
            state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d)
        }
        var out: [UInt8] = []
        for v in [state.0, state.1, state.2, state.3] {
            for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(k)))) }
        }
        return out
    }

    /// The digest as 32 lowercase hex digits.
    static func hexDigest(_ bytes: UnsafeRawBufferPointer) -> String {
        let digits = Array("0123456789abcdef")
        return String(digest(bytes).flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }

    /// Click's 22-character text digest: the digest's bits from the least significant of
    /// each byte on, six at a time, as `[a-zA-Z0-9_@]`.
    static func textDigest(_ bytes: UnsafeRawBufferPointer) -> String {
        let chars = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@")
        let d = digest(bytes)
        var out = ""
        for bit in stride(from: 0, to: 128, by: 6) {
            let first = bit / 8
            var value = Int(d[first]) >> (bit % 8)
            if bit + 8 > (first + 1) * 8 && first < 15 { value += Int(d[first + 1]) << (8 - bit % 8) }
            out.append(chars[value & 0x3F])
        }
        return out
    }
}

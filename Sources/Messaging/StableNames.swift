/// Names and secrets both the planner and the agents derive: stable hashes (Swift's
/// `Hasher` is seeded per process) and memif link secrets.
public enum StableNames {
    /// The 64-bit FNV-1a hash of `text`: the same in every run and process.
    public static func fnv1a(_ text: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return h
    }

    /// `value` as 16 hexadecimal digits.
    public static func hex16(_ value: UInt64) -> String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    /// 20 random letters and digits from the kernel's generator: a memif link's secret.
    public static func randomSecret() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        var g = SystemRandomNumberGenerator()
        return String(decoding: (0..<20).map { _ in alphabet[Int(g.next() % UInt64(alphabet.count))] }, as: UTF8.self)
    }
}

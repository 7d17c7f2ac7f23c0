import CShims

/// One port's counters: eight 64-bit words, written by the port's single owner thread and
/// readable at any time by another process when they live in a stats page. Stores are
/// relaxed atomics: a reader sees each counter whole, never torn.
public struct PortCounters: @unchecked Sendable {
    /// Where the words live (a stats page slot, or private memory).
    public let words: UnsafeMutablePointer<UInt64>

    public static let wordCount = 8

    public enum Field: Int, CaseIterable, Sendable {
        case receivedPackets = 0, receivedBytes, receiveDrops, sentPackets, sentBytes, sendDrops
        /// Link up (1) or down (0).
        case linkUp
        /// How many times the link came up.
        case connects
    }

    public init(words: UnsafeMutablePointer<UInt64>) {
        self.words = words
    }

    /// Counters in private memory (a port without a stats page).
    public static func allocate() -> PortCounters {
        let w = UnsafeMutablePointer<UInt64>.allocate(capacity: wordCount)
        w.initialize(repeating: 0, count: wordCount)
        return PortCounters(words: w)
    }

    @inline(__always) public subscript(_ field: Field) -> UInt64 {
        get { clickos_load_relaxed_u64(words + field.rawValue) }
        nonmutating set { clickos_store_relaxed_u64(words + field.rawValue, newValue) }
    }

    @inline(__always) public func add(_ field: Field, _ amount: Int) {
        self[field] = self[field] &+ UInt64(truncatingIfNeeded: amount)
    }
}

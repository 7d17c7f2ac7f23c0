import CShims

/// One port's counters: eight 64-bit words, written by the port's single owner thread and
/// readable at any time by another process when they live in a stats page. Stores are
/// relaxed atomics: a reader sees each counter whole, never torn. The memory stays valid
/// while any copy of the counters exists: each copy keeps the stats page (or the private
/// allocation) it points into alive, so a port torn down after its VM's stats page was
/// released still writes into mapped memory.
public struct PortCounters: @unchecked Sendable {
    /// Where the words live (a stats page slot, or private memory).
    public let words: UnsafeMutablePointer<UInt64>
    /// What owns `words`: the stats page, or the private allocation.
    private let owner: AnyObject?

    public static let wordCount = 8

    public enum Field: Int, CaseIterable, Sendable {
        case receivedPackets = 0, receivedBytes, receiveDrops, sentPackets, sentBytes, sendDrops
        /// Link up (1) or down (0).
        case linkUp
        /// How many times the link came up.
        case connects
    }

    /// Counters at `words`, valid as long as `owner` lives.
    public init(words: UnsafeMutablePointer<UInt64>, owner: AnyObject?) {
        self.words = words
        self.owner = owner
    }

    /// Counters in private memory (a port without a stats page), freed with the last copy.
    public static func allocate() -> PortCounters {
        let storage = PrivateWords(count: wordCount)
        return PortCounters(words: storage.words, owner: storage)
    }

    private final class PrivateWords {
        let words: UnsafeMutablePointer<UInt64>
        init(count: Int) {
            words = UnsafeMutablePointer<UInt64>.allocate(capacity: count)
            words.initialize(repeating: 0, count: count)
        }
        deinit { words.deallocate() }
    }

    @inline(__always) public subscript(_ field: Field) -> UInt64 {
        get { clickos_load_relaxed_u64(words + field.rawValue) }
        nonmutating set { clickos_store_relaxed_u64(words + field.rawValue, newValue) }
    }

    @inline(__always) public func add(_ field: Field, _ amount: Int) {
        self[field] = self[field] &+ UInt64(truncatingIfNeeded: amount)
    }
}

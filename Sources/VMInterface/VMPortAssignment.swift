/// One `N=memif:ROLE:PATH[,KEY=VALUE...]` from a command line: VM port N (the port a
/// configuration's `FromDevice(N)` and `ToDevice(N)` use) and the memif interface behind it.
/// `clickos-vm --port` and `clickos vm boot --port` read it here, with the same checks.
public struct VMPortAssignment: Equatable, Sendable {
    /// The highest VM port number (a stats page holds 64 ports' counters).
    public static let maxPort = 63

    public var number: Int
    public var memif: MemifConfiguration

    public init(number: Int, memif: MemifConfiguration) {
        self.number = number
        self.memif = memif
    }

    /// True when `text` has the `N=...` shape (Click's `-p PORT` has no `=`).
    public static func looksLikeAssignment(_ text: String) -> Bool { text.contains("=") }

    /// Parses `N=memif:ROLE:PATH[,KEY=VALUE...]`; the error names the option's text and what
    /// is wrong with it.
    public static func parse(_ text: String) throws(MemifError) -> VMPortAssignment {
        guard let eq = text.firstIndex(of: "=") else {
            throw MemifError("'\(text)': expected N=memif:ROLE:PATH")
        }
        guard let n = Int(text[..<eq]), (0...maxPort).contains(n) else {
            throw MemifError("'\(text)': the port number must be 0 to \(maxPort)")
        }
        do {
            return VMPortAssignment(number: n, memif: try MemifConfiguration.parse(String(text[text.index(after: eq)...])))
        } catch {
            throw MemifError("\(n): \(error.message)")
        }
    }

    /// Parses several, refusing a port number given twice.
    public static func parseAll(_ texts: [String]) throws(MemifError) -> [VMPortAssignment] {
        var result: [VMPortAssignment] = []
        for t in texts {
            let a = try parse(t)
            if result.contains(where: { $0.number == a.number }) { throw MemifError("\(a.number) given twice") }
            result.append(a)
        }
        return result
    }

    /// The textual form `parse` reads.
    public var description: String { "\(number)=\(memif.description)" }
}

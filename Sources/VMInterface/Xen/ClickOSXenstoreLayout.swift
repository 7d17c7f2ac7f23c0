/// Where ClickOS keeps a domain's routers in xenstore (`reference/clickos.md`), shared by
/// the host tool (VMHost's xen control) and the guest (`clickos-vm --xenstore`). Paths are
/// relative to the domain's home, `/local/domain/<domid>`.
public enum ClickOSXenstoreLayout {
    /// The root a guest writes at boot, marking a ClickOS domain; routers live below it.
    public static let root = "data/clickos"
    /// The root of older images (MiniOS's ClickOS before `data/`): read, never written.
    public static let legacyRoot = "clickos"
    /// At most this many bytes per configuration chunk: larger values were refused by
    /// xenstore in ClickOS's days and big configurations silently failed.
    public static let chunkSize = 512
    /// Routers one domain may hold, as ClickOS's guest.
    public static let maximumRouters = 64

    /// A router's status node values.
    public enum Status: String, Sendable {
        case running = "Running"
        case halted = "Halted"
        case error = "Error"

        /// Also accepts the `Stopped` that clickos-ctl writes.
        public init?(text: String) {
            if text == "Stopped" { self = .halted } else { self.init(rawValue: text) }
        }
    }

    /// The configuration cut into chunks of at most `chunkSize` bytes, never inside a
    /// UTF-8 sequence (so every chunk is valid text).
    public static func chunks(_ configuration: String) -> [String] {
        let bytes = Array(configuration.utf8)
        var out: [String] = []
        var start = 0
        while start < bytes.count {
            var end = min(start + chunkSize, bytes.count)
            // Back off continuation bytes (10xxxxxx) so the cut falls between characters.
            while end < bytes.count && end > start + 1 && bytes[end] & 0xC0 == 0x80 { end -= 1 }
            out.append(String(decoding: bytes[start..<end], as: UTF8.self))
            start = end
        }
        return out
    }

    /// An `element.handler` name split as the xenstore paths need it (the last `.`
    /// separates: element names may contain `/` and `.`-free handler names follow).
    public static func splitHandler(_ name: String) -> (element: String, handler: String)? {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return nil }
        let handler = String(name[name.index(after: dot)...])
        guard !handler.isEmpty, !handler.contains("/") else { return nil }
        return (String(name[..<dot]), handler)
    }
}

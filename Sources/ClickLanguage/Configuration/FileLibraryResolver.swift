#if canImport(Glibc)
import Glibc
#endif

/// Finds `require(library FILE)` files on disk as Click's userlevel driver does: an
/// absolute path as is; otherwise next to the requesting file, then in `DIR/conf/FILE` and
/// `DIR/FILE` for each directory of the search path (`CLICKPATH`, or `-C PATH`).
public struct FileLibraryResolver: LibraryResolver, Sendable {
    public var searchPath: [String]

    public init(searchPath: [String]) {
        self.searchPath = searchPath
    }

    /// A resolver using the `CLICKPATH` environment variable (colon-separated).
    public static func fromEnvironment() -> FileLibraryResolver {
        var dirs: [String] = []
        if let value = getenv("CLICKPATH") {
            dirs = String(cString: value).split(separator: ":").map(String.init)
        }
        return FileLibraryResolver(searchPath: dirs)
    }

    public func resolve(_ name: String, from requestingFile: String) -> (path: String, text: String)? {
        var candidates: [String] = []
        if name.hasPrefix("/") {
            candidates.append(name)
        } else {
            let base = requestingFile.lastIndex(of: "/").map { String(requestingFile[..<$0]) } ?? "."
            candidates.append(base + "/" + name)
            for dir in searchPath {
                candidates.append(dir + "/conf/" + name)
                candidates.append(dir + "/" + name)
            }
        }
        for path in candidates {
            if let text = Self.readFile(path) { return (path, text) }
        }
        return nil
    }

    /// The contents of a regular file, or nil.
    public static func readFile(_ path: String) -> String? {
        guard let handle = fopen(path, "rb") else { return nil }
        defer { fclose(handle) }
        var info = stat()
        guard fstat(fileno(handle), &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = fread(&buffer, 1, buffer.count, handle)
            if n > 0 { bytes.append(contentsOf: buffer[0..<n]) }
            if n < buffer.count { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

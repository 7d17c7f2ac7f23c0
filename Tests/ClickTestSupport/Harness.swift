import ClickElements
import ClickLanguage
import ClickRuntime
#if canImport(Glibc)
import Glibc
#endif

// The embedded router harness the runtime and element tests share: test elements that
// inject and collect packets, and helpers that build routers from Click text.

/// Records every packet pushed into it (contents, paint, timestamp), then kills it.
public final class Collector: Element {
    public override var portCount: String { "1/0" }
    public override var processing: String { "h/a" }
    public var packets: [[UInt8]] = []
    public var paints: [UInt8] = []
    /// Per packet, its timestamp annotation and the router clock when it arrived.
    public var timestamps: [Int64] = []
    public var arrivals: [Int64] = []
    /// Per packet, its EXTRA_LENGTH annotation.
    public var extraLengths: [UInt32] = []

    public override func push(port: Int, _ batch: inout PacketBatch) {
        for i in 0..<batch.count {
            packets.append(batch[i].contents)
            paints.append(batch[i].paint)
            timestamps.append(batch[i].timestamp)
            arrivals.append(router.clock.now())
            extraLengths.append(batch[i].annotation32(Annotation.extraLength))
        }
        batch.killAll()
    }
}

/// Pushes packets the test gives it.
public final class Injector: Element {
    public override var portCount: String { "0/1" }
    public override var processing: String { "h/h" }
    let storage = BatchStorage()

    /// Pushes `packets`, a full batch at a time.
    public func inject(_ packets: [[UInt8]], paint: UInt8 = 0) {
        var batch = storage.batch()
        for bytes in packets {
            guard let p = pool.make(bytes) else { continue }
            p.paint = paint
            if batch.isFull { output(0, &batch) }
            batch.append(p)
        }
        output(0, &batch)
    }

    /// Pushes one packet with timestamp annotation `nanoseconds`.
    public func injectTimestamped(_ bytes: [UInt8], at nanoseconds: Int64) {
        var batch = storage.batch()
        guard let p = pool.make(bytes) else { return }
        p.timestamp = nanoseconds
        batch.append(p)
        output(0, &batch)
    }
}

/// Writes a little-endian, microsecond pcap file of raw IP packets (link type 101),
/// each given as (timestamp in seconds, bytes).
public func writePcap(_ path: String, _ packets: [(seconds: UInt32, bytes: [UInt8])]) throws {
    var file: [UInt8] = [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 101, 0, 0, 0]
    for (seconds, bytes) in packets {
        for v in [seconds, 0, UInt32(bytes.count), UInt32(bytes.count)] { file += withUnsafeBytes(of: v.littleEndian, Array.init) }
        file += bytes
    }
    guard let f = fopen(path, "wb") else { throw HarnessFileError(errno) }
    defer { fclose(f) }
    guard fwrite(file, 1, file.count, f) == file.count else { throw HarnessFileError(errno) }
}

/// An errno, thrown by the harness's file helpers.
public struct HarnessFileError: Error {
    public let code: Int32
    public init(_ code: Int32) { self.code = code }
}

/// A router built by `build`, with its log.
public struct Built {
    public var router: Router?
    public var log: DiagnosticLog
    public var chatter: [String]
    public func element<T: Element>(_ name: String, as type: T.Type = T.self) -> T? {
        router?.element(named: name) as? T
    }
}

/// Collects lines a router prints.
public final class ChatterBox: @unchecked Sendable {
    public var lines: [String] = []
    public init() {}
}

/// Builds a router from Click text with the standard elements plus the test ones.
public func build(_ text: String, simulatedTime: Bool = true, definitions: [(name: String, value: String)] = []) -> Built {
    var registry = StandardElements.registry
    registry.register(Collector.self)
    registry.register(Injector.self)
    let log = DiagnosticLog()
    let flat = ClickConfiguration.flatten(text, definitions: definitions, knownClasses: registry.classNames,
                                          libraries: FileLibraryResolver(searchPath: []), log: log)
    guard !log.hasErrors else { return Built(router: nil, log: log, chatter: []) }
    let box = ChatterBox()
    let router = Router.build(flat, configurationText: text, registry: registry, simulatedTime: simulatedTime, poolCapacity: 4096, log: log) { box.lines.append($0) }
    router?.chatter = { box.lines.append($0) }
    return Built(router: router, log: log, chatter: box.lines)
}

/// Builds, runs until a stop event, and returns the result with the chatter.
public func buildAndRun(_ text: String) -> (Built, [String]) {
    let box = ChatterBox()
    var built = build(text)
    built.router?.chatter = { box.lines.append($0) }
    built.router?.run()
    built.chatter = box.lines
    return (built, box.lines)
}

/// A built executable of this package (`swift build` puts them in .build/debug), for
/// tests that run one as a process.
public func builtExecutable(_ name: String) -> String? {
    let root = String(#filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/"))
    for configuration in ["debug", "release"] {
        let path = "\(root)/.build/\(configuration)/\(name)"
        if access(path, X_OK) == 0 { return path }
    }
    return nil
}

import ClickElements
import ClickLanguage
import ClickTestSupport
import Foundation
import Testing
@testable import ClickRuntime

/// The repository's root (where Package.swift is), found from this file's path.
let repositoryRoot: URL = {
    var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
        dir = dir.deletingLastPathComponent()
    }
    return dir
}()

/// The debug `clickos-vm` the process tests start.
var clickosVMBinary: String { repositoryRoot.appendingPathComponent(".build/debug/clickos-vm").path }

/// Whether this process may make network namespaces: root, with iproute2.
var canMakeNamespaces: Bool {
    getuid() == 0 && (FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") || FileManager.default.isExecutableFile(atPath: "/sbin/ip"))
}

/// Runs `arguments` (found on PATH), returning its status and everything it printed.
@discardableResult
func runCommand(_ arguments: [String]) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = arguments
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Runs `clickos-vm -q -e CONFIG` to its end; returns its exit status and what it wrote
/// to standard error (a configuration it refuses says why there).
func clickosVMErrors(_ configuration: String) throws -> (status: Int32, text: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: clickosVMBinary)
    p.arguments = ["-q", "-e", configuration]
    let err = Pipe()
    p.standardError = err
    try p.run()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
}

/// Injects `packets` into `middle` between an Injector and a Collector; returns what came out.
func passThrough(_ middle: String, _ packets: [[UInt8]]) throws -> (out: [[UInt8]], bad: [[UInt8]]) {
    let b = build("inj :: Injector -> \(middle) -> ok :: Collector")
    let inj = try #require(b.element("inj", as: Injector.self), "\(b.log.text)")
    inj.inject(packets)
    return (b.element("ok", as: Collector.self)?.packets ?? [], [])
}

/// Bytes as lowercase hex, as Click's Print writes them.
func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

/// Runs IPSummaryDump `lines` (with `!data` header) through `element` and returns the chatter.
func printed(_ data: String, through element: String) throws -> [String] {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("clickos-print-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try data.write(toFile: path, atomically: true, encoding: .utf8)
    let (b, chatter) = buildAndRun("FromIPSummaryDump(\(path), STOP true) -> \(element) -> Discard")
    _ = try #require(b.router, "\(b.log.text)")
    return chatter
}

/// Runs the Unqueue named `name` until it has nothing more to move.
func drain(_ r: Router, _ name: String) throws {
    let u = try #require(r.element(named: name))
    try r.write("\(name).active", "true")
    while u.runTask(Task(element: u)) {}
}

/// Seconds on `r`'s clock since `start`.
func seconds(_ r: Router, from start: Int64) -> Double { Double(r.clock.now() - start) / 1e9 }

/// Builds `inj :: Injector -> e :: ELEMENT` with each of its `outputs` outputs going to a
/// Collector, injects `packets`, and returns what each output got (and the build, for
/// handlers). Fails the test when the configuration does not build.
func sort(_ packets: [[UInt8]], through element: String, outputs: Int = 1) throws -> (out: [[[UInt8]]], built: Built) {
    let wiring = (0..<outputs).map { "e[\($0)] -> o\($0) :: Collector;" }.joined(separator: " ")
    let b = build("inj :: Injector -> e :: \(element); \(wiring)")
    let inj = try #require(b.element("inj", as: Injector.self), "\(b.log.text)")
    inj.inject(packets)
    return ((0..<outputs).map { b.element("o\($0)", as: Collector.self)?.packets ?? [] }, b)
}

/// What `InfiniteSource(DATA \<HEX>, LIMIT 1, STOP true) -> PIPELINE -> Print(out, 96) ->
/// Discard` prints (and any message an element reports on the way): the form in which
/// expected outputs are taken from Click 2.1's own driver.
func clickPrint(_ hex: String, through pipeline: String) -> [String] {
    let (b, lines) = buildAndRun("InfiniteSource(DATA \\<\(hex)>, LIMIT 1, STOP true) -> \(pipeline) -> Print(out, 96) -> Discard")
    guard b.router != nil else { return b.log.text.split(separator: "\n").map(String.init) }
    return lines
}

/// A scratch directory with the given files; removed by `done`.
final class ScratchFiles {
    let dir: String
    init(_ files: [String: String]) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("clickos-ipsum-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: path(name), atomically: true, encoding: .utf8) }
    }
    func path(_ name: String) -> String { "\(dir)/\(name)" }
    /// The data lines of a written dump (header lines starting with `!` dropped).
    func dataLines(_ name: String) throws -> [String] {
        try String(contentsOfFile: path(name), encoding: .utf8).split(separator: "\n").map(String.init).filter { !$0.hasPrefix("!") }
    }
    func text(_ name: String) throws -> String { try String(contentsOfFile: path(name), encoding: .utf8) }
    deinit { try? FileManager.default.removeItem(atPath: dir) }
}

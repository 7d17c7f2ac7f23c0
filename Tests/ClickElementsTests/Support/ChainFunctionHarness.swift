import ClickElements
import ClickLanguage
import Foundation
import ClickTestSupport
import Testing
@testable import ClickRuntime

/// Runs a chain function from chains/functions/ with its VM ports replaced by test
/// elements: `send(port:)` delivers a frame as if it arrived on that port, `take(port:)`
/// returns what the function transmitted there.
struct ChainFunction {
    static let directory = repositoryRoot.appendingPathComponent("chains/functions")

    static let ports = """
        elementclass FromDevice { $port | inj :: Injector -> output }
        elementclass ToDevice { $port | input -> u :: Unqueue(BURST 64) -> col :: Collector }

        """

    let router: Router
    var injectors: [Int: Injector] = [:]
    var unqueues: [Int: Element] = [:]
    var collectors: [Int: Collector] = [:]

    init(_ file: String, definitions: [String: String] = [:]) throws {
        let text = try String(contentsOf: Self.directory.appendingPathComponent(file), encoding: .utf8)
        let defs = definitions.map { (name: $0.key, value: $0.value) }
        let b = build(Self.ports + text, definitions: defs)
        try self.init(router: #require(b.router, "\(b.log.text)"), text: text)
    }

    /// Wraps a router built from `ports + text` (after a hot swap, say).
    init(router: Router, text: String) {
        self.router = router
        // Which port each FromDevice/ToDevice instance was given, from the plain text.
        let plain = ClickConfiguration.flatten(text, log: DiagnosticLog())
        var portOf: [String: Int] = [:]
        for e in plain.elements where e.className == "FromDevice" || e.className == "ToDevice" {
            portOf[e.name] = Int(e.configuration)
        }
        for e in router.elements {
            let instance = String(e.name.prefix { $0 != "/" })
            guard let port = portOf[instance] else { continue }
            if let i = e as? Injector { injectors[port] = i }
            if let c = e as? Collector { collectors[port] = c }
            if e is Unqueue { unqueues[port] = e }
        }
    }

    func send(_ frames: [[UInt8]], port: Int) {
        injectors[port]?.inject(frames)
    }

    /// Everything transmitted on `port` since the last call.
    mutating func take(port: Int) -> [[UInt8]] {
        guard let u = unqueues[port], let c = collectors[port] else { return [] }
        while u.runTask(Task(element: u)) {}
        let got = c.packets
        c.packets = []
        return got
    }
}

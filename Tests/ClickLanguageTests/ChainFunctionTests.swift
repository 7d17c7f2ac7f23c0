import Foundation
import Testing
@testable import ClickLanguage

/// The Click configurations under chains/functions/ are the ones chains run: they must load.
@Suite struct ChainFunctionTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("chains/functions")

    static var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".click") }.sorted()
    }

    @Test func thereAreFunctions() {
        #expect(Self.files.contains("firewall.click"))
    }

    @Test(arguments: files) func functionFlattensWithoutErrors(_ name: String) throws {
        let text = try String(contentsOf: Self.directory.appendingPathComponent(name), encoding: .utf8)
        let (flat, log) = flatten(text, file: name)
        #expect(!log.hasErrors, "\(log.text)")
        #expect(!flat.elements.isEmpty)
        // Chain functions talk through VM ports 0 and 1 only.
        let ports = Set(flat.elements.filter { $0.className == "FromDevice" || $0.className == "ToDevice" }.map(\.configuration))
        #expect(ports == ["0", "1"])
    }

    @Test func firewallRulesComeFromDefinitions() throws {
        let text = try String(contentsOf: Self.directory.appendingPathComponent("firewall.click"), encoding: .utf8)
        let (flat, _) = flatten(text, file: "firewall.click", definitions: [("ALLOW", "udp dst port 53")])
        #expect(flat.elements.first { $0.name == "forward/filter" }?.configuration == "allow udp dst port 53, deny all")
        #expect(flat.elements.first { $0.name == "reverse/filter" }?.configuration == "allow tcp src port 80 or icmp, deny all")
    }
}

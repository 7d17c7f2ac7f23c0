import Testing

@testable import Agent

/// The agent's YAML configuration: the shipped sample reads, and a bad file is refused
/// with its line, column and setting.
@Suite("Agent configuration")
struct ConfigurationTests {
    @Test func theSampleConfigurationReads() throws {
        let c = try AgentConfiguration.parse(yaml: readText(repositoryRoot + "/deploy/agent.yaml"), file: "agent.yaml")
        #expect(c.planner == "tcp://10.0.0.1:7700" && c.name == "server1" && c.stateDirectory == "/var/lib/clickos/agent")
        #expect(c.dataAddress == "10.0.0.11" && c.interfaces == ["eth1", "eth2"] && c.metrics == "127.0.0.1:9464")
        #expect(c.heartbeatInterval == 1 && c.labels == ["rack": "r1", "zone": "a"] && c.isolation)
        // The Xen settings are there, commented out; uncommented they read.
        let xen = try AgentConfiguration.parse(yaml: readText(repositoryRoot + "/deploy/agent.yaml").replacing("# xen_", with: "xen_"), file: "agent.yaml")
        #expect(xen.xenKernel == "/var/lib/clickos/xen/vmlinuz" && xen.xenRamdisk == "/var/lib/clickos/xen/initramfs.cpio.xz" && xen.xenMemory == 64)
        try c.validate()
    }

    @Test func badFilesAreRefusedWithWhereAndWhat() {
        let cases: [(String, String)] = [
            ("planner: tcp://x:1\nnmae: h\n", "agent.yaml:2:1: unknown setting 'nmae'"),
            ("heartbeat_interval: fast\n", "agent.yaml:1:21: heartbeat_interval: expected seconds"),
            ("interfaces: eth0\n", "agent.yaml:1:13: interfaces: expected a list"),
            ("- a\n- b\n", "expected a mapping of settings"),
            ("planner: [unclosed\n", "agent.yaml"),
            ("isolation: maybe\n", "isolation: expected true or false"),
            ("xen_memory: 4\n", "agent.yaml:1:13: xen_memory: expected MiB from 8 to 65536"),
        ]
        for (text, words) in cases {
            do {
                _ = try AgentConfiguration.parse(yaml: text, file: "agent.yaml")
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.description.contains(words), "\(error.description) does not say \(words)")
            }
        }
    }

    @Test func validationNamesTheFlag() {
        var c = AgentConfiguration()
        c.planner = "tcp://127.0.0.1:7700"
        c.name = "h"
        c.stateDirectory = "/tmp/x"
        let cases: [((inout AgentConfiguration) -> Void, String)] = [
            ({ $0.planner = "" }, "--planner"),
            ({ $0.planner = "http://x" }, "expected tcp://HOST:PORT"),
            ({ $0.name = "a b" }, "--name 'a b'"),
            ({ $0.dataAddress = "10.0.0" }, "--data-address '10.0.0'"),
            ({ $0.keys = "/k" }, "--keys and --planner-key go together"),
            ({ $0.metrics = "localhost" }, "--metrics 'localhost'"),
            ({ $0.interfaces = ["a/b"] }, "--interface 'a/b'"),
            ({ $0.xenRamdisk = "/initrd" }, "--xen-ramdisk needs --xen-kernel"),
        ]
        for (change, words) in cases {
            var bad = c
            change(&bad)
            #expect(throws: AgentConfiguration.Failure.self) { try bad.validate() }
            do { try bad.validate() } catch { #expect(error.description.contains(words), "\(error.description)") }
        }
    }
}

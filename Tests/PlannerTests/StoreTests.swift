#if canImport(Glibc)
import Glibc
#endif
import Messaging
import Planner
import Testing

/// The planner's SQLite store (GRDB): what it keeps survives closing and reopening the
/// file; each call is one transaction; desired-state generations only move forward.
@Suite("Planner store")
struct StoreTests {
    static func path(_ name: String) -> String {
        let p = "/tmp/clickos-store-\(getpid())-\(name).sqlite"
        for suffix in ["", "-wal", "-shm"] { unlink(p + suffix) }
        return p
    }

    static func desired(_ host: String, _ g: UInt64) -> Clickos_V1_HostDesiredState {
        var d = Clickos_V1_HostDesiredState()
        d.hostName = host
        d.generation = g
        var vm = Clickos_V1_VMSpec()
        vm.name = "web-fw-0"
        vm.configuration = "FromDevice(0) -> ToDevice(1);"
        d.vms = [vm]
        return d
    }

    @Test func everythingSurvivesAReopen() throws {
        let file = Self.path("reopen")
        defer { for suffix in ["", "-wal", "-shm"] { unlink(file + suffix) } }
        do {
            let store = try SQLiteStore(path: file)
            let web = try ChainFile.load(path: "\(repositoryRoot)/chains/web.yaml")
            try store.putChain(web)
            var dns = try ChainFile.load(path: "\(repositoryRoot)/chains/dns.yaml")
            try store.putChain(dns)
            dns.declaredPps = 42
            try store.putChain(dns)   // replaced, not added
            var r = Clickos_V1_Register()
            r.hostName = "h1"
            r.cores = 8
            r.packetsPerCore = 2.5e6
            r.labels = ["zone": "a"]
            try store.putHost(StoredHost(registration: r, health: .ready, lastHeartbeatUnixMs: 1_700_000_000_000))
            try store.putDesired([Self.desired("h1", 3), Self.desired("h2", 1)])
        }
        let store = try SQLiteStore(path: file)   // migrations run again: nothing to do
        #expect(try store.chains().map(\.name) == ["dns", "web"])
        #expect(try store.chains().first?.declaredPps == 42)
        #expect(try store.chains().last?.functions.map(\.name) == ["firewall", "nat", "lb"])
        let hosts = try store.hosts()
        #expect(hosts.count == 1 && hosts[0].registration.labels == ["zone": "a"] && hosts[0].health == .ready && hosts[0].lastHeartbeatUnixMs == 1_700_000_000_000)
        #expect(try store.desired().map { "\($0.hostName)@\($0.generation)" } == ["h1@3", "h2@1"])
        #expect(try store.deleteChain("dns") && !(try store.deleteChain("dns")))
        #expect(try store.chains().map(\.name) == ["web"])
    }

    @Test func aBatchWithAStaleGenerationChangesNothing() throws {
        let file = Self.path("stale")
        defer { for suffix in ["", "-wal", "-shm"] { unlink(file + suffix) } }
        let store = try SQLiteStore(path: file)
        try store.putDesired([Self.desired("h1", 5)])
        #expect(throws: (any Error).self) { try store.putDesired([Self.desired("h2", 1), Self.desired("h1", 5)]) }
        #expect(try store.desired().map { "\($0.hostName)@\($0.generation)" } == ["h1@5"], "h2 must not have been written")
        try store.putDesired([Self.desired("h2", 1), Self.desired("h1", 6)])
        #expect(try store.desired().map { "\($0.hostName)@\($0.generation)" } == ["h1@6", "h2@1"])
    }

    @Test func aFileThatIsNotADatabaseIsRefused() throws {
        let file = Self.path("garbage")
        defer { unlink(file) }
        if let f = fopen(file, "w") {
            fputs(String(repeating: "not sqlite ", count: 100), f)
            fclose(f)
        }
        #expect(throws: (any Error).self) { _ = try SQLiteStore(path: file) }
    }
}

import Testing

#if Xen
import Foundation
import VMHost
import VMInterface
import XenstoreTestDaemon

/// The host tool's half of ClickOS's xenstore protocol, through the real libxenstore, against
/// the tests' xenstore daemon: what lands where, in which transactions, with whose rights.
@Suite struct XenstoreControlTests {
    static let guest: UInt32 = 7

    /// A daemon with one guest domain that has marked itself ClickOS (as a guest does at
    /// boot, through its own connection and rights).
    static func markedDomain(root: String = ClickOSXenstoreLayout.root) throws -> (TestXenstored, ClickOSXenstoreControl) {
        let daemon = try TestXenstored(guests: [guest])
        if root == ClickOSXenstoreLayout.root {
            let asGuest = try XenstoreConnection(socketPath: daemon.socketPath(domain: guest))
            try asGuest.write(root, "")
        } else {
            // Old images' root sits beside data/, which only dom0 can create.
            let dom0 = try XenstoreConnection(socketPath: daemon.socketPath)
            try dom0.write("/local/domain/\(guest)/\(root)", "")
            try dom0.setPermissions("/local/domain/\(guest)/\(root)", [XenstorePermission(domain: guest, .none)])
        }
        return (daemon, ClickOSXenstoreControl(store: try XenstoreConnection(socketPath: daemon.socketPath)))
    }

    @Test func installWritesTheRouterInChunksAndTheGuestCanReadIt() throws {
        let (daemon, control) = try Self.markedDomain()
        defer { daemon.stop() }
        let config = (0..<40).map { "c\($0) :: Counter -> Discard; // \(String(repeating: "é", count: 20))" }.joined(separator: "\n")
        let id = try control.install(domain: Self.guest, configuration: config, name: "counters.click")
        #expect(id == 0)
        #expect(try control.install(domain: Self.guest, configuration: "Idle -> Discard", name: "idle") == 1)

        let asGuest = try XenstoreConnection(socketPath: daemon.socketPath(domain: Self.guest))
        let chunks = try #require(try asGuest.directory("data/clickos/0/config")).compactMap(Int.init).sorted()
        #expect(chunks == Array(0..<chunks.count))
        #expect(chunks.count >= (config.utf8.count + 511) / 512 && chunks.count > 1)
        var joined = ""
        for i in chunks {
            let chunk = try #require(try asGuest.read("data/clickos/0/config/\(i)"))
            #expect(chunk.utf8.count <= 512)
            joined += chunk
        }
        #expect(joined == config)
        #expect(try asGuest.read("data/clickos/0/status") == "Halted")
        #expect(try asGuest.read("data/clickos/0/config_name") == "counters.click")
        #expect(try asGuest.directory("data/clickos/0/control") == [])
        #expect(try asGuest.directory("data/clickos/0/elements") == [])
        // Nodes dom0 created under the guest's root are the guest's: it may write them.
        try asGuest.write("data/clickos/0/elements/c0/count", "5")
        #expect(try control.configuration(domain: Self.guest, router: 0) == config)

        let routers = try control.routers(domain: Self.guest)
        #expect(routers.map(\.id) == [0, 1])
        #expect(routers.map(\.name) == ["counters.click", "idle"])
        #expect(routers.map(\.status) == ["Halted", "Halted"])
    }

    @Test func startStopAndRemove() throws {
        let (daemon, control) = try Self.markedDomain()
        defer { daemon.stop() }
        let id = try control.install(domain: Self.guest, configuration: "Idle -> Discard", name: "idle")
        try control.start(domain: Self.guest, router: id)
        #expect(try control.routers(domain: Self.guest).first?.status == "Running")
        #expect(throws: VMError.self) { try control.remove(domain: Self.guest, router: id) }
        do {
            try control.remove(domain: Self.guest, router: id)
        } catch {
            #expect(error.message == "router 0 of domain 7 is running (stop it first, or force)")
        }
        try control.stop(domain: Self.guest, router: id)
        try control.remove(domain: Self.guest, router: id)
        #expect(try control.routers(domain: Self.guest).isEmpty)
        // The freed id is the lowest free one again.
        #expect(try control.install(domain: Self.guest, configuration: "Idle -> Discard", name: "again") == 0)
        do {
            try control.start(domain: Self.guest, router: 9)
            Issue.record("a missing router started")
        } catch {
            #expect(error.message == "domain 7 has no router 9")
        }
    }

    @Test func aDomainThatIsNotClickOSIsRefusedAndNothingIsWritten() throws {
        let daemon = try TestXenstored(guests: [Self.guest])
        defer { daemon.stop() }
        let dom0 = try XenstoreConnection(socketPath: daemon.socketPath)
        let control = ClickOSXenstoreControl(store: dom0)
        do {
            _ = try control.install(domain: Self.guest, configuration: "Idle -> Discard", name: "x")
            Issue.record("installed into a domain that is not ClickOS")
        } catch {
            #expect(error.message == "domain 7 is not a ClickOS domain (no data/clickos or clickos under /local/domain/7)")
        }
        #expect(try dom0.directory("/local/domain/7/data") == [])
    }

    @Test func theOlderRootIsUsedWhereAnImageHasIt() throws {
        let (daemon, control) = try Self.markedDomain(root: ClickOSXenstoreLayout.legacyRoot)
        defer { daemon.stop() }
        #expect(try control.root(domain: Self.guest) == "/local/domain/7/clickos")
        let id = try control.install(domain: Self.guest, configuration: "Idle -> Discard", name: "old")
        let dom0 = try XenstoreConnection(socketPath: daemon.socketPath)
        #expect(try dom0.read("/local/domain/7/clickos/\(id)/config/0") == "Idle -> Discard")
    }

    /// `prefix` followed by `Idle -> ruleN :: Counter -> Discard;` lines up to `bytes`; the
    /// last rule's number.
    static func longConfiguration(_ prefix: String = "", bytes: Int = 100_000) -> (text: String, lastRule: Int) {
        var text = prefix
        var i = 0
        while text.utf8.count < bytes {
            text += "Idle -> rule\(i) :: Counter -> Discard;  // a line of a long configuration\n"
            i += 1
        }
        return (text, i - 1)
    }

    @Test func aConfigurationOf100kBArrivesWhole() throws {
        let (daemon, control) = try Self.markedDomain()
        defer { daemon.stop() }
        let config = Self.longConfiguration().text
        let id = try control.install(domain: Self.guest, configuration: config, name: "big")
        #expect(try control.configuration(domain: Self.guest, router: id) == config)
        #expect(daemon.largestPayload <= 4096)
    }

    @Test func concurrentInstallsAllLandWithDistinctIds() async throws {
        // 100 installs from 10 connections at once, into two guests (a domain holds 64
        // routers): transactions conflict on the roots' directories and retry; none may be
        // lost and no id may be given twice.
        let daemon = try TestXenstored(guests: [Self.guest, Self.guest + 1])
        defer { daemon.stop() }
        for d in [Self.guest, Self.guest + 1] {
            try XenstoreConnection(socketPath: daemon.socketPath(domain: d)).write(ClickOSXenstoreLayout.root, "")
        }
        let path = daemon.socketPath
        let ids = try await withThrowingTaskGroup(of: [(UInt32, Int)].self) { group in
            for worker in 0..<10 {
                group.addTask {
                    let control = ClickOSXenstoreControl(store: try XenstoreConnection(socketPath: path))
                    var mine: [(UInt32, Int)] = []
                    for n in 0..<10 {
                        let domain = Self.guest + UInt32((worker * 10 + n) % 2)
                        mine.append((domain, try control.install(domain: domain, configuration: "c :: Counter; // \(worker).\(n)", name: "w\(worker)n\(n)")))
                    }
                    return mine
                }
            }
            var all: [(UInt32, Int)] = []
            for try await part in group { all += part }
            return all
        }
        #expect(ids.count == 100)
        let control = ClickOSXenstoreControl(store: try XenstoreConnection(socketPath: path))
        for d in [Self.guest, Self.guest + 1] {
            let routers = try control.routers(domain: d)
            #expect(routers.count == 50)
            #expect(routers.map(\.id) == Array(0..<50))
            #expect(Set(ids.filter { $0.0 == d }.map(\.1)) == Set(0..<50))
        }
    }

    @Test func aTransactionThatLosesAConflictRunsAgainAndNothingOfTheLoserLeaks() throws {
        let (daemon, control) = try Self.markedDomain()
        defer { daemon.stop() }
        let other = ClickOSXenstoreControl(store: try XenstoreConnection(socketPath: daemon.socketPath))
        let store = control.store
        let root = try control.root(domain: Self.guest)
        var attempts = 0
        var installedMeanwhile: Int?
        let taken = try store.transaction { t throws(XenstoreError) in
            attempts += 1
            let ids = try store.directory(root, t) ?? []
            // Another connection installs between our read and our commit: we lose.
            if attempts == 1 { installedMeanwhile = try? other.install(domain: Self.guest, configuration: "Idle -> Discard", name: "theirs") }
            try store.write("\(root)/\(ids.count)/config_name", "mine-\(attempts)", t)
            return ids.count
        }
        #expect(attempts == 2)
        #expect(installedMeanwhile == 0)
        #expect(taken == 1)
        #expect(daemon.conflicts == 1)
        #expect(store.conflicts == 1)
        #expect(try store.read("\(root)/0/config_name") == "theirs")
        #expect(try store.read("\(root)/1/config_name") == "mine-2")
    }

    @Test func theDaemonKeepsAGuestOutOfWhatIsNotItsOwn() throws {
        let daemon = try TestXenstored(guests: [Self.guest, Self.guest + 1])
        defer { daemon.stop() }
        let guest = try XenstoreConnection(socketPath: daemon.socketPath(domain: Self.guest))
        // Its home is readable, not writable; another guest's data is neither.
        #expect(try guest.read("domid") == "7")
        #expect(throws: XenstoreError.self) { try guest.write("name", "mine") }
        #expect(throws: XenstoreError.self) { try guest.read("/local/domain/8/data") }
        #expect(throws: XenstoreError.self) { try guest.write("/local/domain/8/data/x", "1") }
        do {
            try guest.write("/local/domain/8/data/x", "1")
        } catch {
            #expect(error.code == EACCES)
        }
        try guest.write("data/clickos", "")
        #expect(try guest.permissions("data/clickos").first == XenstorePermission(domain: Self.guest, .none))
    }
}
#else
/// Without the Xen trait there is no libxenstore to test through.
@Suite struct XenstoreControlTests {
    @Test(.disabled("built without the Xen trait: `make xen-test` builds with --traits Xen and runs these"))
    func xenstoreProtocol() {}
}
#endif

#if canImport(Glibc)
import Glibc
#endif
import Testing
import VMInterface

@Suite("stats pages")
struct StatsPageTests {
    /// A file of each test's own: the tests run in parallel, and one's cleanup must not
    /// remove the other's page.
    func scratch(_ name: String) -> String { "/tmp/clickos-statspage-test-\(getpid())-\(name).stats" }

    @Test func theHostReadsWhatTheVMWrites() throws {
        let path = scratch("shared")
        defer { unlink(path) }
        let vm = try StatsPage.create(path: path, ports: 2)
        let host = try StatsPage.open(path: path)
        #expect(host.portCount == 2 && host.state == .booting && host[.pid] == UInt64(getpid()))
        vm.counters(port: 1).add(.receivedPackets, 5)
        vm.counters(port: 1).add(.receivedBytes, 300)
        vm.markReady()
        #expect(host.counters(port: 1)[.receivedPackets] == 5 && host.counters(port: 1)[.receivedBytes] == 300)
        #expect(host.counters(port: 0)[.receivedPackets] == 0)
        #expect(host.state == .ready && host[.readyAt] >= host[.bootedAt])
        #expect(!host.isWritable)
    }

    @Test func aFileThatIsNotAStatsPageIsRefused() throws {
        let path = scratch("foreign")
        defer { unlink(path) }
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
        #expect(fd >= 0)
        _ = ftruncate(fd, 4096)
        close(fd)
        #expect(throws: MemifError("\(path): not a stats page")) { try StatsPage.open(path: path) }
        #expect(throws: MemifError.self) { try StatsPage.create(path: path, ports: StatsPage.maxPorts + 1) }
    }
}

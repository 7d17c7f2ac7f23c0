#if canImport(Glibc)
import Glibc
#endif
import Testing
import VMInterface

@Suite("memif configurations")
struct MemifConfigurationTests {
    @Test func configurationsParseAndSayWhatIsWrong() throws {
        let c = try MemifConfiguration.parse("memif:server:/run/x.sock,id=3,secret=abc,rings=2,rsize=11,bsize=4096,mode=poll")
        #expect(c.role == .server && c.socketPath == "/run/x.sock" && c.id == 3 && c.secret == "abc")
        #expect(c.ringsPerDirection == 2 && c.log2RingSize == 11 && c.bufferSize == 4096 && c.polling)
        #expect(try MemifConfiguration.parse(c.description) == c)
        #expect(try MemifConfiguration.parse("memif:client:@abstract").socketPath == "@abstract")
        for (bad, words) in [("memif:master:/x", "role must be"), ("memif:server:", "missing socket path"),
                             ("memif:server:/x,rsize=15", "rsize must be"), ("memif:server:/x,colour=red", "unknown key 'colour'"),
                             ("tap:server:/x", "expected memif:"), ("memif:server:/x,secret=0123456789012345678901234", "secret longer")] {
            #expect(throws: MemifError.self) { try MemifConfiguration.parse(bad) }
            do {
                _ = try MemifConfiguration.parse(bad)
            } catch {
                #expect(error.message.contains(words), "\(bad): \(error.message)")
            }
        }
    }
}

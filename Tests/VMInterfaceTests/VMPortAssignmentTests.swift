import Testing
import VMInterface

@Suite("N=memif:... port assignments")
struct VMPortAssignmentTests {
    @Test func anAssignmentNamesAPortAndItsLink() throws {
        let a = try VMPortAssignment.parse("3=memif:client:/run/l.sock,id=7")
        #expect(a.number == 3 && a.memif.role == .client && a.memif.socketPath == "/run/l.sock" && a.memif.id == 7)
        #expect(try VMPortAssignment.parse(a.description) == a)
        #expect(VMPortAssignment.looksLikeAssignment("0=memif:server:/x"))
        #expect(!VMPortAssignment.looksLikeAssignment("7777"))
    }

    @Test func badAssignmentsSayWhatIsWrong() {
        for (bad, message) in [
            ("64=memif:server:/x", "'64=memif:server:/x': the port number must be 0 to 63"),
            ("-1=memif:server:/x", "'-1=memif:server:/x': the port number must be 0 to 63"),
            ("a=memif:server:/x", "'a=memif:server:/x': the port number must be 0 to 63"),
            ("memif:server:/x", "'memif:server:/x': expected N=memif:ROLE:PATH"),
            ("2=memif:master:/x", "2: 'memif:master:/x': role must be 'server' or 'client', not 'master'"),
        ] {
            do {
                _ = try VMPortAssignment.parse(bad)
                Issue.record("\(bad) was accepted")
            } catch {
                #expect(error.message == message)
            }
        }
    }

    @Test func aPortGivenTwiceIsRefused() throws {
        #expect(try VMPortAssignment.parseAll(["0=memif:server:/a", "1=memif:client:/b"]).map(\.number) == [0, 1])
        do {
            _ = try VMPortAssignment.parseAll(["0=memif:server:/a", "0=memif:client:/b"])
            Issue.record("a port given twice was accepted")
        } catch {
            #expect(error.message == "0 given twice")
        }
    }
}

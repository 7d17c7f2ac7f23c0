import Testing

#if Xen
import Foundation
import VMHost
import VMInterface
import XenstoreTestDaemon

/// The libxl side as far as a machine without a hypervisor allows: detection says why not
/// in one line, and opening libxl fails with a clear error instead of a crash. (Creating,
/// listing and destroying domains needs Xen itself: not run here.)
@Suite struct XenBackendTests {
    static var hasHypervisor: Bool { (try? String(contentsOfFile: "/sys/hypervisor/type", encoding: .utf8))?.hasPrefix("xen") == true }

    @Test func detectionSaysWhyNotInOneLine() throws {
        try #require(!Self.hasHypervisor, "this machine runs Xen: the refusal cannot be checked")
        let reason = try #require(XenBackend.unavailableReason)
        #expect(reason.hasPrefix("xen backend unavailable: no Xen hypervisor here (/sys/hypervisor/type is "))
        #expect(!reason.contains("\n"))
    }

    @Test func openingLibxlWithoutAHypervisorFailsClearly() throws {
        try #require(!Self.hasHypervisor, "this machine runs Xen: the refusal cannot be checked")
        do {
            _ = try LibxlDomains(image: .init(kernel: "/nonexistent/vmlinuz"))
            Issue.record("libxl opened a context without a hypervisor")
        } catch {
            #expect(error.message.hasPrefix("xen: libxl could not open a context (error "))
            #expect(error.message.contains("no Xen hypervisor here"))
        }
    }
}
#else
/// Without the Xen trait there is no libxl to test.
@Suite struct XenBackendTests {
    @Test(.disabled("built without the Xen trait: `make xen-test` builds with --traits Xen and runs these"))
    func libxl() {}
}
#endif

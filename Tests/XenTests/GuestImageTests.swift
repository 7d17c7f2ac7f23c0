import Testing

#if Xen
import Foundation

/// The guest image (`deploy/xen/make-image`: Debian's kernel, an initramfs with the static
/// clickos-vm as init) boots under QEMU with two virtio-net ports on UDP socket backends,
/// runs the configuration given on the kernel command line, and forwards frames both ways
/// (`Benchmarks/guest-boot.py`, which also gives the boot-to-first-packet figure). KVM where
/// the CPU offers it, else emulation.
@Suite struct GuestImageTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test(.timeLimit(.minutes(5))) func theImageBootsAndForwardsBetweenItsPorts() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-system-x86_64"), "qemu-system-x86 is missing (scripts/install-deps.sh installs it)")
        let vm = (XenstoreGuestTests.vmExecutable as NSString).standardizingPath
        let out = NSTemporaryDirectory() + "clickos-image-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let made = try Self.run([Self.repository + "/deploy/xen/make-image", "--vm", vm, "--out", out, "--fast"])
        try #require(made.status == 0, "\(made.output)")
        #expect(made.output.contains("initramfs.cpio.xz: "))
        #expect(FileManager.default.fileExists(atPath: out + "/clickos.xl.cfg"))

        let booted = try Self.run([Self.repository + "/Benchmarks/guest-boot.py", "--image", out, "--json", "--timeout", "120"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(booted.output.utf8)) as? [String: Any], "\(booted.output)")
        let run = try #require((json["runs"] as? [[String: Any]])?.first)
        let console = run["console"] as? String ?? ""
        #expect(run["forwarded_0_to_1"] as? Bool == true, "console:\n\(console)\nqemu: \(run["qemu_errors"] ?? "")")
        #expect(run["forwarded_1_to_0"] as? Bool == true, "console:\n\(console)")
        #expect(console.contains("clickos-vm: VM ports: eth0, eth1"), "console:\n\(console)")
        #expect(!console.contains("Kernel panic"))
        print("guest image: first forwarded frame \(run["first_forward_ms"] ?? "never") ms after QEMU start (\(json["kvm"] as? Bool == true ? "KVM" : "emulated"))")
    }
}
#else
@Suite struct GuestImageTests {
    @Test(.disabled("built without the Xen trait: `make xen-test` builds with --traits Xen and runs these"))
    func image() {}
}
#endif

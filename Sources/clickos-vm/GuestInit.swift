import CShims
import ClickLanguage
#if canImport(Glibc)
import Glibc
#endif

/// `clickos-vm` as PID 1 of a VM image (`deploy/xen/make-image`): mounts /dev, /proc and
/// /sys, loads the network drivers the image carries (`/modules`: one path per line, in
/// load order), waits for the interfaces the kernel command line announces
/// (`clickos.ports=N`, default 1), brings them up, and runs what the command line asks:
/// `clickos.mode=xenstore` serves ClickOS's xenstore protocol as a Xen guest;
/// `clickos.config=BASE64` runs that configuration with VM port N on the Nth interface.
/// When the router stops, the machine powers off (PID 1 must never exit).
enum GuestInit {
    /// True when the kernel started us as init.
    static var isInit: Bool { getpid() == 1 && CommandLine.arguments.first == "/init" }

    static func run() -> Never {
        if clickos_guest_mounts() != 0 { say("mounting /dev, /proc, /sys: \(String(cString: strerror(errno)))") }
        say("init at \((FileLibraryResolver.readFile("/proc/uptime") ?? "?").split(separator: " ").first ?? "?") s of kernel uptime")
        let command = parameters(FileLibraryResolver.readFile("/proc/cmdline") ?? "")
        for module in (FileLibraryResolver.readFile("/modules") ?? "").split(separator: "\n") where !module.isEmpty {
            // ENODEV: a driver for the other hypervisor's devices (xen-netfront under QEMU).
            if clickos_load_module(String(module)) != 0 && errno != EEXIST && errno != ENODEV {
                say("loading \(module): \(String(cString: strerror(errno)))")
            }
        }
        let wanted = Int(command["clickos.ports"] ?? "") ?? 1
        var interfaces = GuestInterfaces.list()
        for _ in 0..<500 where interfaces.count < wanted {
            usleep(10_000)
            interfaces = GuestInterfaces.list()
        }
        _ = clickos_interface_up("lo")
        for name in interfaces where clickos_interface_up(name) != 0 {
            say("bringing \(name) up: \(String(cString: strerror(errno)))")
        }
        say("VM ports: \(interfaces.isEmpty ? "none" : interfaces.joined(separator: ", "))")
        var arguments: [String] = []
        if !interfaces.isEmpty { arguments += ["--interfaces", interfaces.joined(separator: ",")] }
        if command["clickos.mode"] == "xenstore" {
            arguments.append("--xenstore")
        } else if let encoded = command["clickos.config"] {
            guard let text = base64Decode(encoded) else {
                say("clickos.config is not base64")
                powerOff()
            }
            arguments += ["-e", text]
        } else {
            say("nothing to run: give clickos.config=BASE64 or clickos.mode=xenstore on the kernel command line")
            powerOff()
        }
        let status = Driver.run(arguments)
        say("router ended (status \(status)); powering off")
        powerOff()
    }

    static func powerOff() -> Never {
        clickos_power_off()
        // Only if the power-off failed: PID 1 must not return.
        while true { pause() }
    }

    static func say(_ text: String) { Driver.printError("clickos-vm: \(text)") }

    /// `key=value` words of the kernel command line.
    static func parameters(_ line: String) -> [String: String] {
        var out: [String: String] = [:]
        for word in line.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            guard let eq = word.firstIndex(of: "=") else { continue }
            out[String(word[..<eq])] = String(word[word.index(after: eq)...])
        }
        return out
    }

    /// Standard base64 (padding optional); nil on any other character.
    static func base64Decode(_ text: String) -> String? {
        var value: UInt32 = 0
        var bits = 0
        var out: [UInt8] = []
        for c in text.utf8 where c != UInt8(ascii: "=") {
            let v: UInt8
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = c - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = c - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"), UInt8(ascii: "-"): v = 62
            case UInt8(ascii: "/"), UInt8(ascii: "_"): v = 63
            default: return nil
            }
            value = value << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: value >> UInt32(bits)))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

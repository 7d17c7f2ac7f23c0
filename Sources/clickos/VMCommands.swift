import ArgumentParser
import VMInterface
import VMHost

#if canImport(Glibc)
import Glibc
#endif

/// Options every command that touches local VMs shares.
struct HostOptions: ParsableArguments {
    @Option(name: .customLong("run-dir"), help: "Where VMs keep their sockets, stats pages and logs.")
    var runDirectory: String = HostOptions.defaultRunDirectory

    @Option(name: .customLong("vm-binary"), help: "The clickos-vm executable (default: next to this one).")
    var vmBinary: String?

    @Flag(name: .shortAndLong, help: "Say what isolation is in force.")
    var verbose = false

    static var defaultRunDirectory: String {
        if geteuid() == 0 { return "/run/clickos" }
        if let xdg = getenv("XDG_RUNTIME_DIR") { return String(cString: xdg) + "/clickos" }
        return "/tmp/clickos-\(getuid())"
    }

    func backend() -> ProcessBackend {
        let verbose = self.verbose
        let b = ProcessBackend(root: runDirectory, executable: vmBinary ?? siblingExecutable("clickos-vm"),
                               log: { if verbose { printError($0) } })
        _ = b.adopt()
        return b
    }
}

/// An executable in the same directory as this one.
func siblingExecutable(_ name: String) -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    let me = n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
    return String(me[..<(me.lastIndex(of: "/") ?? me.endIndex)]) + "/" + name
}

func printError(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

func readFile(_ path: String) throws -> String {
    guard let f = fopen(path, "rb") else { throw ValidationError("\(path): \(String(cString: strerror(errno)))") }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = fread(&chunk, 1, chunk.count, f)
        if n <= 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// `clickos vm ...`: VMs on this host, by hand.
struct VMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vm",
        abstract: "Boot, inspect and stop VMs on this host (the process backend).",
        subcommands: [Boot.self, Stop.self, List.self, Read.self, Write.self, Reconfigure.self])

    struct Boot: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Boot a VM running a Click configuration; it keeps running after this command exits.")

        @Argument(help: "The VM's name.") var name: String
        @Argument(help: "The Click configuration file.") var configuration: String
        @Option(name: .customLong("port"), help: "Port N as N=memif:ROLE:PATH[,KEY=VALUE...] (repeatable).")
        var ports: [String] = []
        @Option(name: .customLong("define"), help: "NAME=value for the configuration (repeatable).")
        var definitions: [String] = []
        @Option(help: "Memory limit in MiB (cgroups).") var memory: Int?
        @Option(help: "CPU limit in cores (cgroups).") var cpu: Double?
        @OptionGroup var host: HostOptions

        func run() throws {
            var spec = VMSpec(name: name, configuration: try readFile(configuration))
            do {
                for a in try VMPortAssignment.parseAll(ports) { spec.ports[a.number] = a.memif }
            } catch {
                throw ValidationError("--port \(error.message)")
            }
            for d in definitions {
                guard let eq = d.firstIndex(of: "=") else { throw ValidationError("--define '\(d)': expected NAME=value") }
                spec.definitions.append(VMDefinition(String(d[..<eq]), String(d[d.index(after: eq)...])))
            }
            spec.memoryLimit = memory.map { $0 << 20 }
            spec.cpuLimit = cpu
            let b = host.backend()
            do {
                let vm = try b.boot(spec)
                print("\(vm.name) running, pid \(vm.pid), \(vm.runDirectory)")
            } catch {
                printError(error.message)
                throw ExitCode(1)
            }
        }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop VMs and remove what they left.")
        @Argument(help: "VM names.") var names: [String]
        @OptionGroup var host: HostOptions

        func run() throws {
            let b = host.backend()
            var failed = false
            for name in names {
                do {
                    try b.stop(name, timeout: 5)
                } catch {
                    printError(error.message)
                    failed = true
                }
            }
            if failed { throw ExitCode(1) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the VMs on this host with their port counters.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var host: HostOptions

        func run() throws {
            let b = host.backend()
            if json {
                let items = b.vms.map { vm -> String in
                    let ports = b.counters(vm.name).map {
                        "{\"port\":\($0.port),\"link\":\($0.linkUp),\"rx_packets\":\($0.receivedPackets),\"rx_bytes\":\($0.receivedBytes),\"rx_drops\":\($0.receiveDrops),\"tx_packets\":\($0.sentPackets),\"tx_bytes\":\($0.sentBytes),\"tx_drops\":\($0.sendDrops)}"
                    }
                    let state: String
                    if case .exited(let e) = vm.state { state = "exited: \(e)" } else { state = "running" }
                    var isolation = ""
                    if let r = b.isolationReport(vm.name) {
                        let ids = "\"uid\":\(r.uid.map(String.init) ?? "null"),\"gid\":\(r.gid.map(String.init) ?? "null"),\"groups\":[\(r.groups.map(String.init).joined(separator: ","))]"
                        let flags = "\"own_root\":\(r.ownRoot),\"namespaces\":\(r.namespaces),\"seccomp\":\(r.seccompFiltered),\"no_new_privs\":\(r.noNewPrivileges),\"no_capabilities\":\(r.capabilitiesNone),\"cgroup\":\(r.cgroups)"
                        let lists = "\"limits\":[\(r.limits.map(jsonString).joined(separator: ","))],\"missing\":[\(r.missing.map(jsonString).joined(separator: ","))]"
                        isolation = ",\"isolation\":{\(ids),\(flags),\(lists)}"
                    }
                    return "{\"name\":\(jsonString(vm.name)),\"pid\":\(vm.pid),\"state\":\(jsonString(state)),\"ports\":[\(ports.joined(separator: ","))]\(isolation)}"
                }
                print("[\(items.joined(separator: ","))]")
                return
            }
            print("NAME".padding(16) + "PID".padding(9) + "STATE".padding(10) + "PORT  LINK  RX PACKETS     TX PACKETS     DROPS")
            for vm in b.vms {
                let state: String
                if case .exited = vm.state { state = "exited" } else { state = "running" }
                let ports = b.counters(vm.name)
                let head = vm.name.padding(16) + String(vm.pid).padding(9) + state.padding(10)
                if ports.isEmpty { print(head) }
                for (i, p) in ports.enumerated() {
                    print((i == 0 ? head : "".padding(35)) + String(p.port).padding(6) + (p.linkUp ? "up" : "down").padding(6)
                        + String(p.receivedPackets).padding(14) + String(p.sentPackets).padding(15) + String(p.receiveDrops + p.sendDrops))
                }
                // -v: what the VM can reach, as its process shows it.
                if host.verbose, let r = b.isolationReport(vm.name) { print("".padding(16) + "isolation: \(r)") }
            }
        }
    }

    struct Read: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Read a handler (ELEMENT.HANDLER) of a VM.")
        @Argument var name: String
        @Argument var handler: String
        @OptionGroup var host: HostOptions

        func run() throws {
            do {
                let value = try host.backend().read(name, handler: handler)
                print(value, terminator: value.hasSuffix("\n") ? "" : "\n")
            } catch {
                printError(error.message)
                throw ExitCode(1)
            }
        }
    }

    struct Write: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a handler (ELEMENT.HANDLER) of a VM.")
        @Argument var name: String
        @Argument var handler: String
        @Argument var value: String = ""
        @OptionGroup var host: HostOptions

        func run() throws {
            do {
                try host.backend().write(name, handler: handler, value: value)
            } catch {
                printError(error.message)
                throw ExitCode(1)
            }
        }
    }

    struct Reconfigure: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a VM's configuration in place (hotconfig): unchanged elements keep their state.")
        @Argument var name: String
        @Argument(help: "The new Click configuration file.") var configuration: String
        @OptionGroup var host: HostOptions

        func run() throws {
            let text = try readFile(configuration)
            do {
                try host.backend().reconfigure(name, configuration: text)
            } catch {
                printError(error.message)
                throw ExitCode(1)
            }
        }
    }
}

func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        default:
            if u.value < 0x20 { out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16) } else { out.unicodeScalars.append(u) }
        }
    }
    return out + "\""
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}

#if canImport(Glibc)
import Glibc
#endif
import CJailProbe
import CSeccomp

// The jail tests' attacker: booted by the process backend exactly as a VM is (same spawn,
// same jail, same seccomp filter as `clickos-vm --seccomp`), it reads its "configuration"
// as a list of things an attacker inside a VM would try, writes what happened to each on
// standard error (`probe: WHAT ARG: RESULT`), says it is ready, and finally makes the one
// forbidden system call the last line names, which the filter must stop.

func say(_ line: String) {
    let bytes = Array(("probe: " + line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

func text(_ chars: [CChar]) -> String { String(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }

func failure(_ result: Int) -> String { result >= 0 ? "ok" : "error " + String(cString: strerror(errno)) }

var configuration = ""
var readyFD: Int32 = -1
var seccomp = false
var seccompProgram: String?
var arguments = CommandLine.arguments.dropFirst()
while let a = arguments.popFirst() {
    switch a {
    case "-f": configuration = arguments.popFirst() ?? ""
    case "--ready-fd": readyFD = Int32(arguments.popFirst() ?? "") ?? -1
    case "--seccomp": seccomp = true
    case let a where a.hasPrefix("--seccomp="):
        seccomp = true
        seccompProgram = String(a.dropFirst("--seccomp=".count))
    default: break
    }
}
var configurationText = ""
if let f = fopen(configuration, "r") {
    var buffer = [CChar](repeating: 0, count: 4096)
    while fgets(&buffer, Int32(buffer.count), f) != nil { configurationText += text(buffer) }
    fclose(f)
} else {
    say("config \(configuration): " + String(cString: strerror(errno)))
}
if seccomp {
    var error = [CChar](repeating: 0, count: 256)
    let failed = seccompProgram.map { clickos_seccomp_load($0, &error, error.count) } ?? clickos_seccomp_install(&error, error.count)
    if failed != 0 { say("seccomp: " + text(error)) }
}
say("uid \(getuid()) gid \(getgid())")
var forbidden: [String] = []
for line in configurationText.split(separator: "\n") {
    let words = line.split(separator: " ", maxSplits: 1).map(String.init)
    guard let what = words.first else { continue }
    let argument = words.count > 1 ? words[1] : ""
    switch what {
    case "list":
        if let d = opendir(argument) {
            var names: [String] = []
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { names.append(name) }
            }
            closedir(d)
            say("list \(argument): " + names.sorted().joined(separator: " "))
        } else {
            say("list \(argument): error " + String(cString: strerror(errno)))
        }
    case "read":
        let fd = open(argument, O_RDONLY)
        if fd >= 0 {
            var buffer = [UInt8](repeating: 0, count: 64)
            let n = read(fd, &buffer, 64)
            close(fd)
            say("read \(argument): " + (n >= 0 ? "ok \(n) bytes" : "error " + String(cString: strerror(errno))))
        } else {
            say("read \(argument): error " + String(cString: strerror(errno)))
        }
    case "write":
        let fd = open(argument, O_WRONLY | O_CREAT, 0o644)
        say("write \(argument): " + failure(Int(fd)))
        if fd >= 0 { close(fd) }
    case "connect":
        let s = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in argument.utf8.prefix(raw.count - 1).enumerated() { raw[i] = b }
        }
        let r = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        say("connect \(argument): " + failure(Int(r)))
        close(s)
    case "forbidden":
        forbidden.append(argument)
    default:
        say("unknown probe '\(what)'")
    }
}
if readyFD >= 0 {
    let ready = Array("ready\n".utf8)
    _ = ready.withUnsafeBytes { write(readyFD, $0.baseAddress, $0.count) }
    close(readyFD)
}
// Give the test time to see us ready before the last, fatal, try.
usleep(200_000)
for call in forbidden {
    say("trying \(call)")
    switch call {
    case "socket-inet": say("socket-inet: " + failure(Int(socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0))))
    case "socket-packet": say("socket-packet: " + failure(Int(socket(AF_PACKET, Int32(SOCK_RAW.rawValue), 0))))
    case "execve":
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/clickos-vm"), nil]
        say("execve: " + failure(Int(execv("/clickos-vm", argv))))
    case "ptrace": say("ptrace: " + failure(probe_ptrace_traceme()))
    case "mount": say("mount: " + failure(Int(mount("none", "/proc", "tmpfs", 0, nil))))
    case "setuid": say("setuid: " + failure(Int(setuid(0))))
    case "fork": say("fork: " + failure(Int(probe_syscall0(57))))
    case "unshare": say("unshare: " + failure(probe_syscall0(272)))
    default: say("unknown call '\(call)'")
    }
}
// Still here: nothing stopped us. Sleep until stopped.
while true { pause() }

import VMInterface

/// The `click` driver's command line (`doc/click.1`), as far as `clickos-vm` implements it.
/// Parsed by hand, getopt-style, because scripts written for `click` use its exact forms:
/// clustered short flags (`-qo-`), attached or separate option values, long options with
/// `=` or a separate value, and `NAME=value` definitions among the arguments.
struct DriverOptions {
    var file: String?
    var expression: String?
    var quit = false
    var output: String?
    var definitions: [(name: String, value: String)] = []
    var clickPath: [String] = []
    var handlers: [String] = []
    var exitHandler: String?
    var printTime = false
    var noWarnings = false
    var simulatedTime = false
    var flattenOnly = false
    /// `--doc CLASS`: print the element class's documentation and exit.
    var documentClass: String? = nil
    /// `-p PORT` and `-u FILE`: ControlSocket elements to add.
    var controlSockets: [(type: String, address: String)] = []
    var showHelp = false
    var showVersion = false
    // VM mode (DESIGN.md §3): ports, stats page, a control socket that survives
    // `hotconfig`, and a readiness descriptor for whoever booted us.
    var ports: [VMPortAssignment] = []
    var statsPath: String?
    var controlPath: String?
    var readyDescriptor: Int32?
    var poolCapacity: Int?
    /// Install the VM's system call allow-list once it is ready (`--seccomp`), or the
    /// compiled one in a file (`--seccomp=FILE`, as the process backend gives it).
    var seccomp = false
    var seccompProgram: String?
    /// `--xenstore`: serve ClickOS's xenstore control protocol as a Xen guest.
    var xenstore = false
    /// `--interfaces A,B`: VM port N is the Nth Linux interface listed.
    var interfaces: [String]?

    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    static let usage = """
        'clickos-vm' runs one ClickOS-style VM, or a Click configuration like 'click'.

        Usage: clickos-vm [OPTION]... [NAME=VALUE]... [ROUTERFILE]

        Options:
          -f, --file FILE               Read router configuration from FILE.
          -e, --expression EXPR         Use EXPR as router configuration.
          -q, --quit                    Parse and initialize the router, then quit.
          -o, --output FILE             Write flat configuration to FILE ('-' for stdout).
          -h, --handler ELEMENT.H       Call read handler ELEMENT.H after running and print
                                        the result.
          -x, --exit-handler ELEMENT.H  Use handler ELEMENT.H's value as the exit status.
          -t, --time                    Print the time taken by the run.
          -p, --port PORT               Listen for ControlSocket connections on TCP port
                                        PORT (127.0.0.1).
          -u, --unix-socket FILE        Listen for ControlSocket connections on a Unix
                                        socket.
          -p, --port N=memif:ROLE:PATH[,KEY=VALUE...]
                                        Give the VM port N (FromDevice(N), ToDevice(N)) as
                                        a memif interface; ROLE is server or client; keys
                                        id, secret, rings, rsize, bsize, mode, name.
              --stats FILE              Keep per-port counters in the stats page FILE.
              --control FILE            Serve the ControlSocket protocol on the Unix
                                        socket FILE across hot reconfigurations.
              --ready-fd N              Write "ready" to descriptor N once the router is
                                        initialized and the ports are open.
              --pool N                  Preallocate N packet buffers (default 16384).
              --seccomp[=FILE]          Once initialized, allow only the system calls a
                                        running VM makes; any other stops the VM with
                                        "seccomp: forbidden system call NAME" (status 159).
                                        FILE: the same filter, compiled ahead of time.
              --interfaces IF0,IF1,...  VM port N (FromDevice(N), ToDevice(N)) is the Nth
                                        Linux interface listed.
              --xenstore                Run as a ClickOS Xen guest: routers are installed,
                                        started, stopped, read and written through xenstore
                                        (data/clickos), as ClickOS's tools do; VM port N is
                                        the guest's Nth network interface (or --interfaces').
                                        Needs a build with the Xen trait.
              --simtime                 Run in simulated time.
              --doc CLASS               Print element class CLASS's documentation (as
                                        click-elem2man's pages) and exit.
              --flatten                 Only parse and flatten, as click-flatten does:
                                        element classes are not checked.
          -C, --clickpath PATH          Use PATH for CLICKPATH.
          -w, --no-warnings             Do not print warnings.
          -R, --allow-reconfigure       Accepted for Click's sake: the writable 'hotconfig'
                                        handler is always there.
              --help                    Print this message and exit.
          -v, --version                 Print version number and exit.

        NAME=VALUE defines the configuration variable $NAME, overriding the file's own
        top-level definition.
        """

    /// Options that take a value, by short and long name.
    private static let withValue: [Character: String] = [
        "f": "file", "e": "expression", "o": "output", "C": "clickpath", "h": "handler",
        "x": "exit-handler", "p": "port", "u": "unix-socket", "j": "threads",
    ]

    static func parse(_ arguments: [String]) throws(UsageError) -> DriverOptions {
        var options = DriverOptions()
        var i = 0
        func value(for name: String, attached: String?) throws(UsageError) -> String {
            if let attached, !attached.isEmpty { return attached }
            i += 1
            guard i < arguments.count else { throw UsageError(description: "option '\(name)' requires an argument") }
            return arguments[i]
        }
        while i < arguments.count {
            let arg = arguments[i]
            if arg == "--" {
                i += 1
                while i < arguments.count {
                    try options.addOperand(arguments[i])
                    i += 1
                }
                break
            }
            if arg.hasPrefix("--") {
                let body = arg.dropFirst(2)
                let name = String(body.split(separator: "=", maxSplits: 1).first ?? "")
                let attached = body.contains("=") ? String(body.split(separator: "=", maxSplits: 1)[1]) : nil
                switch name {
                case "file": try options.setFile(try value(for: "--file", attached: attached))
                case "expression": try options.setExpression(try value(for: "--expression", attached: attached))
                case "output": options.output = try value(for: "--output", attached: attached)
                case "clickpath": options.clickPath += try value(for: "--clickpath", attached: attached).split(separator: ":").map(String.init)
                case "handler": options.handlers.append(try value(for: "--handler", attached: attached))
                case "port": try options.addPort(try value(for: "--port", attached: attached))
                case "stats": options.statsPath = try value(for: "--stats", attached: attached)
                case "control": options.controlPath = try value(for: "--control", attached: attached)
                case "ready-fd":
                    let v = try value(for: "--ready-fd", attached: attached)
                    guard let fd = Int32(v), fd >= 0 else { throw UsageError(description: "--ready-fd: '\(v)' is not a descriptor") }
                    options.readyDescriptor = fd
                case "pool":
                    let v = try value(for: "--pool", attached: attached)
                    guard let n = Int(v), n >= 64, n <= 1 << 22 else { throw UsageError(description: "--pool: '\(v)' must be 64 to 4194304") }
                    options.poolCapacity = n
                case "unix-socket": options.controlSockets.append(("UNIX", try value(for: "--unix-socket", attached: attached)))
                case "exit-handler": options.exitHandler = try value(for: "--exit-handler", attached: attached)
                case "quit": options.quit = true
                case "time": options.printTime = true
                case "no-warnings": options.noWarnings = true
                case "allow-reconfigure": break   // the 'hotconfig' handler is always there
                case "simtime": options.simulatedTime = true
                case "seccomp":
                    options.seccomp = true
                    options.seccompProgram = attached
                case "flatten": options.flattenOnly = true
                case "xenstore": options.xenstore = true
                case "interfaces":
                    let v = try value(for: "--interfaces", attached: attached)
                    let names = v.split(separator: ",").map(String.init)
                    guard !names.isEmpty, names.allSatisfy({ !$0.isEmpty && $0.utf8.count < 16 && !$0.contains("/") }) else {
                        throw UsageError(description: "--interfaces: '\(v)' is not a list of interface names")
                    }
                    options.interfaces = names
                case "doc": options.documentClass = try value(for: "--doc", attached: attached)
                case "help": options.showHelp = true
                case "version": options.showVersion = true
                default: throw UsageError(description: "unrecognized option '\(arg)'")
                }
                i += 1
                continue
            }
            if arg.hasPrefix("-") && arg.count > 1 {
                var flags = Substring(arg.dropFirst())
                while let flag = flags.first {
                    flags = flags.dropFirst()
                    if let long = withValue[flag] {
                        let v = try value(for: "-\(flag)", attached: flags.isEmpty ? nil : String(flags))
                        flags = ""
                        switch long {
                        case "file": try options.setFile(v)
                        case "expression": try options.setExpression(v)
                        case "output": options.output = v
                        case "clickpath": options.clickPath += v.split(separator: ":").map(String.init)
                        case "handler": options.handlers.append(v)
                        case "exit-handler": options.exitHandler = v
                        case "port": try options.addPort(v)
                        case "unix-socket": options.controlSockets.append(("UNIX", v))
                        default: throw UsageError(description: "option '-\(flag)' is not available yet")
                        }
                        continue
                    }
                    switch flag {
                    case "q": options.quit = true
                    case "t": options.printTime = true
                    case "w": options.noWarnings = true
                    case "R": break   // --allow-reconfigure
                    case "v": options.showVersion = true
                    default: throw UsageError(description: "unrecognized option '-\(flag)'")
                    }
                }
                i += 1
                continue
            }
            try options.addOperand(arg)
            i += 1
        }
        return options
    }

    /// `-p PORT` is Click's ControlSocket TCP port; `-p N=memif:...` is a VM port.
    private mutating func addPort(_ value: String) throws(UsageError) {
        guard VMPortAssignment.looksLikeAssignment(value) else {
            controlSockets.append(("TCP", value))
            return
        }
        do {
            ports = try VMPortAssignment.parseAll(ports.map(\.description) + [value])
        } catch {
            throw UsageError(description: "--port \(error.message)")
        }
    }

    private mutating func setFile(_ path: String) throws(UsageError) {
        if file != nil || expression != nil { throw UsageError(description: "router configuration specified twice") }
        file = path
    }

    private mutating func setExpression(_ text: String) throws(UsageError) {
        if file != nil || expression != nil { throw UsageError(description: "router configuration specified twice") }
        expression = text
    }

    /// `NAME=value` defines a variable; anything else is the configuration file.
    private mutating func addOperand(_ arg: String) throws(UsageError) {
        if let eq = arg.firstIndex(of: "="), eq != arg.startIndex {
            let name = arg[..<eq]
            if name.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) || $0 == 95 }) {
                definitions.append((String(name), String(arg[arg.index(after: eq)...])))
                return
            }
        }
        try setFile(arg)
    }
}

import ClickElements
import ClickLanguage
import ClickRuntime
import Messaging
import Foundation
import Yams

#if canImport(Glibc)
import Glibc
#endif

/// A chain file (DESIGN §7), read into the `ChainSpec` the planner keeps: YAML with the
/// chain's name, its ingress and egress edges, a declared rate, whether it wants low
/// latency, and its functions in order, each with a Click configuration (a file relative
/// to the chain file, `config:`, or inline text, `click:`), `define` values, a scale, a
/// backend, a memory limit, an optional host pin and labels.
///
/// Every function's configuration is checked as its VM would check it — parsed and
/// flattened with its `define`s, every element class known, every connection and port
/// count, push and pull, every element's configuration — short of opening anything; and
/// its devices must be the VM's ports 0 (ingress side) and 1 (egress side). Every problem
/// is reported, each as `FILE:LINE:COLUMN: FIELD: what`; a file with any problem gives no
/// chain.
public enum ChainFile {
    /// The problems of a chain file, in file order.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let problems: [String]
        public var description: String { problems.joined(separator: "\n") }
    }

    /// Reads the chain file at `path`.
    public static func load(path: String) throws(Failure) -> Clickos_V1_ChainSpec {
        guard let text = FileLibraryResolver.readFile(path) else {
            throw Failure(problems: ["\(path): cannot read it: \(String(cString: strerror(errno)))"])
        }
        return try parse(yaml: text, file: path)
    }

    static let chainKeys = ["name", "ingress", "egress", "rate", "latency", "functions"]
    static let edgeKeys = ["interface", "address", "host", "gateway"]
    static let functionKeys = ["name", "config", "click", "define", "scale", "backend", "memory", "host", "labels"]

    /// Reads chain-file text; `file` names it in errors and locates `config:` files.
    public static func parse(yaml text: String, file: String) throws(Failure) -> Clickos_V1_ChainSpec {
        var reader = Reader(file: file)
        let chain = reader.chain(text)
        if !reader.problems.isEmpty { throw Failure(problems: reader.problems) }
        return chain
    }

    /// What it reads, and what it found wrong.
    struct Reader {
        let file: String
        var problems: [String] = []

        mutating func problem(_ node: Node?, _ field: String, _ what: String) {
            let at = node?.mark.map { "\(file):\($0.line):\($0.column)" } ?? file
            problems.append("\(at): \(field.isEmpty ? "" : field + ": ")\(what)")
        }

        mutating func mapping(_ node: Node, _ field: String, keys: [String]) -> [String: Node]? {
            guard case .mapping(let m) = node else {
                problem(node, field, "expected a mapping (\(keys.joined(separator: ", ")))")
                return nil
            }
            var out: [String: Node] = [:]
            for (k, v) in m {
                guard let key = k.string, case .scalar = k else {
                    problem(k, field, "expected a key")
                    continue
                }
                guard keys.contains(key) else {
                    problem(k, field.isEmpty ? key : "\(field).\(key)", "unknown key (known: \(keys.joined(separator: ", ")))")
                    continue
                }
                out[key] = v
            }
            return out
        }

        mutating func string(_ node: Node?, _ field: String, required: Bool = false, parent: Node? = nil) -> String? {
            guard let node else {
                if required { problem(parent, field, "missing") }
                return nil
            }
            guard case .scalar(let s) = node, !s.string.isEmpty else {
                problem(node, field, "expected a non-empty string")
                return nil
            }
            return s.string
        }

        mutating func chain(_ text: String) -> Clickos_V1_ChainSpec {
            var spec = Clickos_V1_ChainSpec()
            spec.source = file
            let root: Node?
            do {
                root = try Yams.compose(yaml: text)
            } catch {
                problem(nil, "", "not YAML: \(error)")
                return spec
            }
            guard let root, let top = mapping(root, "", keys: ChainFile.chainKeys) else {
                if root == nil { problem(nil, "", "empty file: a chain needs a name and functions") }
                return spec
            }
            if let name = string(top["name"], "name", required: true, parent: root) {
                if Self.validName(name) { spec.name = name } else { problem(top["name"], "name", "'\(name)': use 1 to 40 lowercase letters, digits and '-', starting with a letter") }
            }
            for side in ["ingress", "egress"] {
                guard let node = top[side] else {
                    problem(root, side, "missing (interface and address)")
                    continue
                }
                guard let m = mapping(node, side, keys: ChainFile.edgeKeys) else { continue }
                var edge = Clickos_V1_EdgeSpec()
                edge.interface = string(m["interface"], "\(side).interface", required: true, parent: node) ?? ""
                if let a = string(m["address"], "\(side).address", required: true, parent: node) {
                    if Self.validPrefix(a) { edge.address = a } else { problem(m["address"], "\(side).address", "'\(a)': expected an IPv4 address with a prefix length, 10.1.0.1/24") }
                }
                if let h = string(m["host"], "\(side).host") { edge.host = h }
                if let g = string(m["gateway"], "\(side).gateway") {
                    if Self.validAddress(g) { edge.gateway = g } else { problem(m["gateway"], "\(side).gateway", "'\(g)': expected an IPv4 address") }
                }
                if side == "ingress" { spec.ingress = edge } else { spec.egress = edge }
            }
            if let r = top["rate"] {
                if let text = r.string, let pps = ChainFile.rate(text) { spec.declaredPps = pps } else { problem(r, "rate", "'\(r.string ?? "")': expected packets per second: 200kpps, 1.5Mpps, 50000") }
            } else {
                problem(root, "rate", "missing: the declared rate (200kpps), used until one is measured")
            }
            if let l = top["latency"] {
                switch l.string {
                case "low": spec.lowLatency = true
                case "normal": spec.lowLatency = false
                default: problem(l, "latency", "'\(l.string ?? "")': expected low or normal")
                }
            }
            guard let fnode = top["functions"] else {
                problem(root, "functions", "missing: a chain needs at least one function")
                return spec
            }
            guard case .sequence(let items) = fnode, !items.isEmpty else {
                problem(fnode, "functions", "expected a non-empty list of functions")
                return spec
            }
            var names: Set<String> = []
            for (i, item) in items.enumerated() {
                let field = "functions[\(i)]"
                guard let m = mapping(item, field, keys: ChainFile.functionKeys) else { continue }
                var f = Clickos_V1_FunctionSpec()
                if let name = string(m["name"], "\(field).name", required: true, parent: item) {
                    if !Self.validName(name) {
                        problem(m["name"], "\(field).name", "'\(name)': use 1 to 40 lowercase letters, digits and '-', starting with a letter")
                    } else if !names.insert(name).inserted {
                        problem(m["name"], "\(field).name", "'\(name)' is used twice")
                    }
                    f.name = name
                }
                if let d = m["define"] {
                    if case .mapping(let pairs) = d {
                        for (k, v) in pairs {
                            guard let key = k.string, Self.validVariable(key) else {
                                problem(k, "\(field).define", "'\(k.string ?? "")' is not a Click variable name")
                                continue
                            }
                            guard case .scalar(let s) = v, !s.string.contains("\n") else {
                                problem(v, "\(field).define.\(key)", "expected a one-line value")
                                continue
                            }
                            f.defines[key] = s.string
                        }
                    } else {
                        problem(d, "\(field).define", "expected a mapping of variable names to values")
                    }
                }
                var minimum: UInt32 = 1, maximum: UInt32 = 1
                if let s = m["scale"], let sm = mapping(s, "\(field).scale", keys: ["min", "max"]) {
                    if let n = sm["min"] {
                        if let v = n.int, v >= 1, v <= 1024 { minimum = UInt32(v) } else { problem(n, "\(field).scale.min", "expected an integer from 1 to 1024") }
                    }
                    maximum = max(minimum, 1)
                    if let n = sm["max"] {
                        if let v = n.int, v >= Int(minimum), v <= 1024 { maximum = UInt32(v) } else { problem(n, "\(field).scale.max", "expected an integer from \(minimum) (min) to 1024") }
                    }
                }
                f.minInstances = minimum
                f.maxInstances = maximum
                if let b = string(m["backend"], "\(field).backend") {
                    if b == "process" || b == "xen" { f.backend = b } else { problem(m["backend"], "\(field).backend", "'\(b)': expected process or xen") }
                }
                if let mem = string(m["memory"], "\(field).memory") {
                    if let bytes = ChainFile.bytes(mem), bytes >= 4 << 20 { f.memoryLimitBytes = bytes } else { problem(m["memory"], "\(field).memory", "'\(mem)': expected a size of at least 4MB (64MB, 1GiB)") }
                }
                if let h = string(m["host"], "\(field).host") { f.host = h }
                if let l = m["labels"] {
                    if case .mapping(let pairs) = l {
                        for (k, v) in pairs {
                            if let key = k.string, let value = v.string, case .scalar = v { f.labels[key] = value } else { problem(k, "\(field).labels", "expected label: value") }
                        }
                    } else {
                        problem(l, "\(field).labels", "expected a mapping of labels to values")
                    }
                }
                // The configuration: a file or inline text, checked as the VM would.
                switch (m["config"], m["click"]) {
                case (nil, nil): problem(item, field, "needs config: FILE or click: TEXT")
                case (.some, .some): problem(m["click"], field, "config: and click: both given; use one")
                case (let c?, nil):
                    guard let name = string(c, "\(field).config") else { break }
                    let path = name.hasPrefix("/") ? name : directory + "/" + name
                    guard let text = FileLibraryResolver.readFile(path) else {
                        problem(c, "\(field).config", "\(name): cannot read it: \(String(cString: strerror(errno)))")
                        break
                    }
                    f.configuration = text
                    check(text, displayName: name, path: path, defines: f.defines, node: c, field: "\(field).config")
                case (nil, let c?):
                    guard let text = string(c, "\(field).click") else { break }
                    f.configuration = text
                    // A line directive makes Click's landmarks lines of the chain file: a
                    // block scalar's text starts on the line after its mark.
                    var block = false
                    if case .scalar(let scalar) = c { block = scalar.style == .literal || scalar.style == .folded }
                    let line = (c.mark?.line ?? 1) + (block ? 1 : 0)
                    let quotedFile = file.replacingQuotes
                    check("# \(line) \"\(quotedFile)\"\n" + text, displayName: file, path: file, defines: f.defines, node: c, field: "\(field).click")
                }
                spec.functions.append(f)
            }
            return spec
        }

        var directory: String {
            guard let slash = file.lastIndex(of: "/") else { return "." }
            return slash == file.startIndex ? "/" : String(file[..<slash])
        }

        /// Click's own checks, short of initialization, and the VM's port rule.
        mutating func check(_ text: String, displayName: String, path: String, defines: [String: String], node: Node, field: String) {
            for l in ChainFile.clickProblems(text, displayName: displayName, directory: directory, defines: defines) { problem(node, field, l) }
        }

        static func validName(_ s: String) -> Bool {
            guard let first = s.utf8.first, first >= 97 && first <= 122, s.utf8.count <= 40 else { return false }
            return s.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
        }

        static func validVariable(_ s: String) -> Bool {
            guard let first = s.utf8.first, !(first >= 48 && first <= 57), s.utf8.count <= 64 else { return false }
            return s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) || $0 == 95 }
        }

        static func validAddress(_ s: String) -> Bool {
            let parts = s.split(separator: ".", omittingEmptySubsequences: false)
            return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && UInt8($0) != nil }
        }

        static func validPrefix(_ s: String) -> Bool {
            let parts = s.split(separator: "/", omittingEmptySubsequences: false)
            return parts.count == 2 && validAddress(String(parts[0])) && Int(parts[1]).map { (0...32).contains($0) } == true
        }
    }

    /// The problems Click finds in a function's configuration, short of initialization, and
    /// the VM's port rule (FromDevice/ToDevice 0 or 1), one line each.
    static func clickProblems(_ text: String, displayName: String, directory: String, defines: [String: String]) -> [String] {
        let log = DiagnosticLog()
        let registry = StandardElements.registry
        var resolver = FileLibraryResolver.fromEnvironment()
        resolver.searchPath.insert(directory, at: 0)
        let flat = ClickConfiguration.flatten(text, file: displayName, definitions: defines.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                                              knownClasses: registry.classNames, libraries: resolver, log: log)
        if !log.hasErrors {
            for e in flat.elements where e.className == "FromDevice" || e.className == "ToDevice" {
                let device = e.configuration.split(separator: ",", maxSplits: 1).first.map { String($0).trimmedSpaces } ?? ""
                if device != "0" && device != "1" {
                    log.error("\(e.className)(\(device)): a chain function reaches the network only through its ports: 0 toward ingress, 1 toward egress", at: e.landmark)
                }
            }
        }
        if !log.hasErrors { _ = Router.check(flat, registry: registry, log: log) }
        // Click's continuation lines (`While configuring 'x':` then the reasons,
        // indented, without a landmark) join the line they continue.
        var lines: [String] = []
        for d in log.diagnostics where d.severity == .error {
            if d.landmark == nil, d.message.hasPrefix(" "), !lines.isEmpty {
                lines[lines.count - 1] += " " + d.message.trimmedSpaces
            } else {
                lines.append(d.description.replacingNewlines)
            }
        }
        return lines
    }

    /// Checks a chain that came over the wire (an `ApplyChain` from any client) as a chain
    /// file is checked: names, rate, edges, scale, and each function's Click configuration.
    /// The problems say `SOURCE: FIELD: what`; none means the planner may take it.
    public static func validate(_ spec: Clickos_V1_ChainSpec) -> [String] {
        let source = spec.source.isEmpty ? "chain '\(spec.name)'" : spec.source
        var problems: [String] = []
        func problem(_ field: String, _ what: String) { problems.append("\(source): \(field): \(what)") }
        if !Reader.validName(spec.name) { problem("name", "'\(spec.name)': use 1 to 40 lowercase letters, digits and '-', starting with a letter") }
        if !(spec.declaredPps >= 0 && spec.declaredPps <= 1e12) { problem("rate", "\(spec.declaredPps): out of range") }
        for (side, edge) in [("ingress", spec.ingress), ("egress", spec.egress)] {
            if edge.interface.isEmpty || edge.interface.utf8.count > 15 { problem("\(side).interface", "'\(edge.interface)': expected an interface name") }
            if !Reader.validPrefix(edge.address) { problem("\(side).address", "'\(edge.address)': expected an IPv4 address with a prefix length") }
            if !edge.gateway.isEmpty && !Reader.validAddress(edge.gateway) { problem("\(side).gateway", "'\(edge.gateway)': expected an IPv4 address") }
        }
        if spec.functions.isEmpty { problem("functions", "a chain needs at least one function") }
        var names: Set<String> = []
        for (i, f) in spec.functions.enumerated() {
            let field = "functions[\(i)]"
            if !Reader.validName(f.name) { problem("\(field).name", "'\(f.name)': use 1 to 40 lowercase letters, digits and '-', starting with a letter") }
            else if !names.insert(f.name).inserted { problem("\(field).name", "'\(f.name)' is used twice") }
            if f.maxInstances > 1024 || f.minInstances > max(f.maxInstances, 1) { problem("\(field).scale", "min \(f.minInstances), max \(f.maxInstances): expected 1 <= min <= max <= 1024") }
            if !["", "process", "xen"].contains(f.backend) { problem("\(field).backend", "'\(f.backend)': expected process or xen") }
            for (k, v) in f.defines where !Reader.validVariable(k) || v.contains("\n") || v.contains("\0") {
                problem("\(field).define", "'\(k)': not a Click variable name, or a value that is not one line")
            }
            if f.configuration.isEmpty { problem("\(field).config", "no Click configuration") }
            for l in clickProblems(f.configuration, displayName: f.name + ".click", directory: ".", defines: f.defines) { problem("\(field).config", l) }
        }
        return problems
    }

    /// `200kpps`, `1.5Mpps`, `50000`, `2M`: packets per second.
    public static func rate(_ text: String) -> Double? {
        var t = Substring(text.lowercased().filter { $0 != " " && $0 != "_" })
        if t.hasSuffix("pps") { t = t.dropLast(3) }
        var scale = 1.0
        switch t.last {
        case "k": scale = 1e3
        case "m": scale = 1e6
        case "g": scale = 1e9
        default: break
        }
        if scale != 1 { t = t.dropLast() }
        guard let v = Double(t), v.isFinite, v > 0, v * scale <= 1e12 else { return nil }
        return v * scale
    }

    /// `64MB`, `1GiB`, `512KB`, `1048576`: bytes.
    public static func bytes(_ text: String) -> UInt64? {
        var t = Substring(text.lowercased().filter { $0 != " " })
        var scale: Double = 1
        for (suffix, s) in [("kib", 1024.0), ("mib", 1_048_576), ("gib", 1_073_741_824), ("kb", 1e3), ("mb", 1e6), ("gb", 1e9), ("k", 1024), ("m", 1_048_576), ("g", 1_073_741_824), ("b", 1)]
        where t.hasSuffix(suffix) {
            t = t.dropLast(suffix.count)
            scale = s
            break
        }
        guard let v = Double(t), v.isFinite, v > 0, v * scale < 1e15 else { return nil }
        return UInt64(v * scale)
    }
}

extension String {
    var trimmedSpaces: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\n" || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\n" || c == "\t" { s.removeLast() }
        return String(s)
    }

    var replacingQuotes: String { replacingOccurrences(of: "\"", with: "\\\"") }

    var replacingNewlines: String {
        split(separator: "\n").map { String($0).trimmedSpaces }.joined(separator: " ")
    }
}

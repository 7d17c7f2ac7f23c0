/// Expands a parsed file into one flat graph (`Lexer::create_router`): substitutes
/// variables into configuration strings, picks each compound's overload, instantiates
/// compounds with `outer/inner` names, and removes the `input`/`output` tunnels by joining
/// the connections that pass through them.
struct Expander {
    /// Largest number of elements an expansion may create (compounds can nest
    /// exponentially; this keeps hostile input from exhausting memory).
    let maximumElements: Int
    /// Bytes the variable expansions of the whole configuration may scan and write
    /// (nested `define`s can stand for gigabytes; see `ConfigText.expand`).
    let maximumExpansionBytes: Int
    private var expansionBudget: Int
    private var expansionReported = false

    /// How a tunnel element relates to its compound (or group) instance.
    private enum Role {
        case real
        /// The compound instance itself, seen from outside.
        case outer(input: Int, output: Int)
        /// `X/input`: its outputs continue X's inputs.
        case inputSide(outer: Int)
        /// `X/output`: its inputs continue to X's outputs.
        case outputSide(outer: Int)
    }

    private let log: DiagnosticLog
    private let types: [String: ElementType]
    private let file: String
    private var names: [String]
    private var elementTypes: [ElementType]
    private var configurations: [String]
    private var landmarks: [Landmark]
    private var inputsUsed: [Int]
    private var outputsUsed: [Int]
    private var elementMap: [String: Int]
    private var connections: [PortConnection]
    private var roles: [Role]
    private var overflowReported = false

    init(top: CompoundClass, types: [String: ElementType], file: String, maximumElements: Int, maximumExpansionBytes: Int, log: DiagnosticLog) {
        self.log = log
        self.maximumElements = maximumElements
        self.maximumExpansionBytes = maximumExpansionBytes
        expansionBudget = maximumExpansionBytes
        self.types = types
        self.file = file
        names = top.names
        elementTypes = top.types
        configurations = top.configurations
        landmarks = top.landmarks
        inputsUsed = top.inputsUsed
        outputsUsed = top.outputsUsed
        elementMap = top.elementMap
        connections = top.connections
        roles = Array(repeating: .real, count: top.names.count)
        // Groups in the file are tunnel triples: outer, outer/input, outer/output.
        var i = 0
        while i < elementTypes.count {
            if elementTypes[i].isTunnel, i + 2 < elementTypes.count, names[i + 1] == names[i] + "/input" {
                roles[i] = .outer(input: i + 1, output: i + 2)
                roles[i + 1] = .inputSide(outer: i)
                roles[i + 2] = .outputSide(outer: i)
                i += 3
            } else {
                i += 1
            }
        }
    }

    mutating func run(top: CompoundClass) -> (elements: [FlatConfiguration.Element], connections: [FlatConfiguration.Connection]) {
        let initial = names.count
        for i in 0..<initial {
            expandAll(from: i, in: top.scope)
        }
        return flatten()
    }

    /// Elements waiting to be expanded, with the scope each is expanded in and how many
    /// compounds deep it sits.
    private var pending: [(index: Int, scope: VariableEnvironment, depth: Int)] = []

    /// How many compounds deep an element may sit. Each level lengthens every name below
    /// it (`a/b/c/...`), so a deep chain costs memory quadratic in its depth: 10,000
    /// levels take Click 900 MB. Far beyond any real configuration, and reported.
    static let maximumNesting = 1_000
    private var nestingReported = false

    /// Expands element `which` and, depth first, every element its compound brings in, in
    /// the order a recursive expansion would (so names and indexes are Click's), but from
    /// a work list: a chain of 10,000 compounds each using the previous one needs no stack.
    private mutating func expandAll(from which: Int, in environment: VariableEnvironment) {
        pending.append((which, environment, 0))
        while let (index, scope, depth) = pending.popLast() {
            expand(index, in: scope, depth: depth)
        }
    }

    // MARK: Elements

    private mutating func addElement(_ name: String, _ type: ElementType, _ configuration: String, _ landmark: Landmark) -> Int? {
        if let existing = elementMap[name] { return existing }
        if names.count >= maximumElements {
            if !overflowReported {
                log.error("configuration too large: more than \(maximumElements) elements after expansion", at: landmark)
                overflowReported = true
            }
            return nil
        }
        let index = names.count
        elementMap[name] = index
        names.append(name)
        elementTypes.append(type)
        configurations.append(configuration)
        landmarks.append(landmark)
        inputsUsed.append(0)
        outputsUsed.append(0)
        roles.append(.real)
        return index
    }

    private mutating func connect(_ c: PortConnection) {
        connections.append(c)
        if inputsUsed[c.to] <= c.toPort { inputsUsed[c.to] = c.toPort + 1 }
        if outputsUsed[c.from] <= c.fromPort { outputsUsed[c.from] = c.fromPort + 1 }
    }

    /// Adds (or finds) the tunnel triple of instance `name`.
    private mutating func addTunnels(_ name: String, at landmark: Landmark) -> (Int, Int, Int)? {
        var indexes: [Int] = []
        for n in [name, name + "/input", name + "/output"] {
            guard let index = addElement(n, .tunnel, "", landmark) else { return nil }
            if !elementTypes[index].isTunnel {
                log.error("redeclaration of element '\(n)'", at: landmark)
                log.error("'\(n)' previously declared here", at: landmarks[index])
                return nil
            }
            indexes.append(index)
        }
        roles[indexes[0]] = .outer(input: indexes[1], output: indexes[2])
        roles[indexes[1]] = .inputSide(outer: indexes[0])
        roles[indexes[2]] = .outputSide(outer: indexes[0])
        return (indexes[0], indexes[1], indexes[2])
    }

    /// Names an anonymous element, substitutes variables into its configuration and, if it
    /// is a compound, instantiates it.
    private mutating func expand(_ which: Int, in environment: VariableEnvironment, depth: Int) {
        if names[which].hasPrefix(";") {
            names[which] = Parser.deanonymize(names[which], index: which, map: &elementMap)
        }
        guard !elementTypes[which].isTunnel else { return }
        guard let configuration = expandVariables(configurations[which], in: environment, at: landmarks[which]) else {
            elementTypes[which] = .error(elementTypes[which].className)
            return
        }
        configurations[which] = configuration
        guard case .compound(let compound) = elementTypes[which] else { return }

        var arguments = ConfigText.arguments(configurations[which])
        guard let found = resolve(compound, inputs: inputsUsed[which], outputs: outputsUsed[which], arguments: &arguments, at: landmarks[which]) else {
            elementTypes[which] = .error(compound.name)
            return
        }
        guard case .compound(let chosen) = found else {
            elementTypes[which] = found
            return
        }
        let scope = VariableEnvironment(parent: environment.ancestor(below: chosen.depth))
        for i in 0..<chosen.formalCount {
            scope.define(chosen.scope.names[i], i < arguments.count ? arguments[i] : "", override: true)
        }
        for i in chosen.formalCount..<chosen.scope.names.count {
            guard let value = expandVariables(chosen.scope.values[i], in: scope, at: landmarks[which]) else {
                elementTypes[which] = .error(compound.name)
                return
            }
            scope.define(chosen.scope.names[i], value, override: true)
        }
        if depth >= Self.maximumNesting {
            if !nestingReported {
                log.error("compound elements nested more than \(Self.maximumNesting) deep", at: landmarks[which])
                nestingReported = true
            }
            elementTypes[which] = .error(compound.name)
            return
        }
        instantiate(chosen, at: which, in: scope, depth: depth)
    }

    /// Substitutes variables into `text`, charged to the configuration's expansion budget;
    /// nil (reported once) when the budget runs out.
    private mutating func expandVariables(_ text: String, in environment: VariableEnvironment, at landmark: Landmark) -> String? {
        if let expanded = ConfigText.expand(text, in: environment, budget: &expansionBudget) { return expanded }
        if !expansionReported {
            log.error("configuration too large: variable expansion exceeds \(maximumExpansionBytes) bytes", at: landmark)
            expansionReported = true
        }
        expansionBudget = 0
        return nil
    }

    /// Chooses the overload of `compound` that fits the ports used and the arguments
    /// (`Compound::resolve`); reports "no match" with the candidates when none does.
    private func resolve(_ compound: CompoundClass, inputs: Int, outputs: Int, arguments: inout [String], at landmark: Landmark) -> ElementType? {
        var candidate: CompoundClass? = compound
        var closest: CompoundClass? = nil
        var tried = 0
        while let c = candidate {
            tried += 1
            if c.inputCount == inputs, c.outputCount == outputs, let values = c.assign(arguments) {
                arguments = values
                return .compound(c)
            }
            if closest == nil, c.assign(arguments) != nil { closest = c }
            switch c.overload {
            case .compound(let next)?:
                candidate = next
            case let other?:
                return other
            case nil:
                candidate = nil
            }
        }
        if tried != 1 || closest == nil {
            let signature = CompoundClass.signature(name: compound.name, formals: nil, argumentCount: arguments.count, inputs: inputs, outputs: outputs)
            // Click's ContextErrorHandler layout: the error, the context line, then each
            // candidate indented at its own landmark.
            log.error("no match for '\(signature)'", at: landmark)
            log.message("candidates are:", at: landmark)
            var c: CompoundClass? = compound
            while let current = c {
                log.message("  \(current.signature)", at: current.landmark)
                if case .compound(let next)? = current.overload { c = next } else { c = nil }
            }
        }
        guard let closest, let values = closest.assign(arguments) else { return nil }
        arguments = values
        return .compound(closest)
    }

    /// Copies a compound's elements and connections into the graph under `name/`.
    private mutating func instantiate(_ compound: CompoundClass, at which: Int, in scope: VariableEnvironment, depth: Int) {
        let name = names[which]
        elementTypes[which] = .tunnel
        guard let tunnels = addTunnelsFor(existing: which, name: name) else { return }
        var map = [tunnels.1, tunnels.2]
        var i = 2
        while i < compound.names.count {
            let childName = name + "/" + compound.names[i]
            if let existing = elementMap[childName] {
                log.error("redeclaration of element '\(childName)'", at: landmarks[which])
                log.error("'\(childName)' previously declared here", at: landmarks[existing])
                map.append(-1)
                i += 1
                continue
            }
            if types[childName] != nil {
                log.error("'\(childName)' is an element class", at: landmarks[which])
            }
            if compound.types[i].isTunnel, i + 2 < compound.names.count {
                if let group = addTunnels(childName, at: compound.landmarks[i]) {
                    map.append(contentsOf: [group.0, group.1, group.2])
                } else {
                    map.append(contentsOf: [-1, -1, -1])
                }
                i += 3
                continue
            }
            map.append(addElement(childName, compound.types[i], compound.configurations[i], compound.landmarks[i]) ?? -1)
            i += 1
        }
        for c in compound.connections where map[c.from] >= 0 && map[c.to] >= 0 {
            connect(PortConnection(from: map[c.from], fromPort: c.fromPort, to: map[c.to], toPort: c.toPort))
        }
        // Children are expanded next, first child first (the work list is a stack).
        for index in map.dropFirst(2).reversed() where index >= 0 {
            pending.append((index, scope, depth + 1))
        }
    }

    private mutating func addTunnelsFor(existing which: Int, name: String) -> (Int, Int, Int)? {
        addTunnels(name, at: landmarks[which])
    }

    // MARK: Tunnels

    private struct PortKey: Hashable {
        var element: Int
        var port: Int
    }

    /// Joins connections through tunnels, reports unused or missing compound ports, and
    /// renumbers the real elements.
    private mutating func flatten() -> ([FlatConfiguration.Element], [FlatConfiguration.Connection]) {
        var outgoing: [PortKey: [PortKey]] = [:]
        var incoming: [PortKey: [PortKey]] = [:]
        for c in connections {
            outgoing[PortKey(element: c.from, port: c.fromPort), default: []].append(PortKey(element: c.to, port: c.toPort))
            incoming[PortKey(element: c.to, port: c.toPort), default: []].append(PortKey(element: c.from, port: c.fromPort))
        }

        // Unused or missing ports of compound instances and groups.
        for (index, role) in roles.enumerated() {
            guard case .outer(let input, let output) = role else { continue }
            let name = names[index]
            for p in 0..<max(inputsUsed[index], outputsUsed[input]) {
                let outside = incoming[PortKey(element: index, port: p)] != nil
                let inside = outgoing[PortKey(element: input, port: p)] != nil
                if outside && !inside {
                    log.error("'\(name)' has no input \(p)", at: landmarks[index])
                } else if inside && !outside {
                    log.error("'\(name)' input \(p) unused", at: landmarks[index])
                }
            }
            for p in 0..<max(outputsUsed[index], inputsUsed[output]) {
                let outside = outgoing[PortKey(element: index, port: p)] != nil
                let inside = incoming[PortKey(element: output, port: p)] != nil
                if outside && !inside {
                    log.error("'\(name)' has no output \(p)", at: landmarks[index])
                } else if inside && !outside {
                    log.error("'\(name)' output \(p) unused", at: landmarks[index])
                }
            }
        }

        // Where a connection into a tunnel port really ends: follow it through (iteratively,
        // so that long chains of pass-through compounds cannot exhaust the stack).
        func destinations(_ start: PortKey) -> [PortKey] {
            var result: [PortKey] = []
            var stack = [start]
            var seen: Set<PortKey> = []
            while let key = stack.popLast() {
                let continuation: PortKey
                switch roles[key.element] {
                case .real:
                    result.append(key)
                    continue
                case .outer(let input, _):
                    continuation = PortKey(element: input, port: key.port)
                case .outputSide(let outer):
                    continuation = PortKey(element: outer, port: key.port)
                case .inputSide:
                    continue
                }
                guard seen.insert(key).inserted else { continue }
                stack.append(contentsOf: outgoing[continuation, default: []])
            }
            return result
        }

        var renumber = [Int](repeating: -1, count: names.count)
        var elements: [FlatConfiguration.Element] = []
        for i in names.indices where !elementTypes[i].isTunnel {
            renumber[i] = elements.count
            elements.append(FlatConfiguration.Element(name: names[i], className: elementTypes[i].className, configuration: configurations[i], landmark: landmarks[i]))
        }
        var seen: Set<FlatConfiguration.Connection> = []
        for c in connections where renumber[c.from] >= 0 {
            for d in destinations(PortKey(element: c.to, port: c.toPort)) where renumber[d.element] >= 0 {
                seen.insert(FlatConfiguration.Connection(from: renumber[c.from], fromPort: c.fromPort, to: renumber[d.element], toPort: d.port))
            }
        }
        return (elements, seen.sorted())
    }
}

/// What an element's class is, as the parser resolves it at the point of use (element
/// classes are lexically scoped, so the same name can mean different classes in different
/// places).
enum ElementType {
    /// A class implemented by the runtime, by name.
    case primitive(String)
    /// An `elementclass` or inline `{ ... }` compound (with its overloads).
    case compound(CompoundClass)
    /// The hidden pass-through pseudo-elements that compounds and groups expand into.
    case tunnel
    /// A class that could not be resolved; an error has been reported.
    case error(String)

    var className: String {
        switch self {
        case .primitive(let name), .error(let name): return name
        case .compound(let compound): return compound.name
        case .tunnel: return "<tunnel>"
        }
    }

    var isTunnel: Bool {
        if case .tunnel = self { return true }
        return false
    }
}

/// A connection between two element ports, by element index within one scope.
struct PortConnection: Hashable {
    var from: Int
    var fromPort: Int
    var to: Int
    var toPort: Int
}

/// One compound element class (`Lexer::Compound`): its formals and definitions, its
/// elements and connections before expansion, and the next overload to try. The file
/// itself is parsed into a compound with an empty name at depth 0.
final class CompoundClass {
    let name: String
    let landmark: Landmark
    /// Formals first (their value is the keyword, "" for positional, "__REST__"), then
    /// `define`d variables with their values.
    let scope: VariableEnvironment
    var formalCount = 0
    var formalOrderError = false
    var inputCount = 0
    var outputCount = 0
    /// The alternative tried when this one does not fit (another compound, or the
    /// primitive class that `|| ...` extends).
    var overload: ElementType?

    var names: [String] = []
    var types: [ElementType] = []
    var configurations: [String] = []
    var landmarks: [Landmark] = []
    var inputsUsed: [Int] = []
    var outputsUsed: [Int] = []
    var elementMap: [String: Int] = [:]
    var connections: [PortConnection] = []
    /// Anonymous elements are numbered from the first element after this offset.
    var anonymousOffset = 0

    init(name: String, landmark: Landmark, parentScope: VariableEnvironment?) {
        self.name = name
        self.landmark = landmark
        self.scope = VariableEnvironment(parent: parentScope)
    }

    var depth: Int { scope.depth }
    var printableName: String { name.isEmpty ? "<anonymous>" : name }

    var formals: ArraySlice<String> { scope.values[0..<formalCount] }

    func connect(_ from: Int, _ fromPort: Int, _ to: Int, _ toPort: Int) {
        let fp = max(fromPort, 0)
        let tp = max(toPort, 0)
        connections.append(PortConnection(from: from, fromPort: fp, to: to, toPort: tp))
        if inputsUsed[to] <= tp { inputsUsed[to] = tp + 1 }
        if outputsUsed[from] <= fp { outputsUsed[from] = fp + 1 }
    }

    /// Click's signature text for "no match" messages, e.g. `A($x)[1 input, 1 output]`.
    static func signature(name: String, formals: ArraySlice<String>?, argumentCount: Int, inputs: Int, outputs: Int) -> String {
        var text = name.isEmpty ? "<anonymous>" : name
        if let formals, !formals.isEmpty {
            text += "(" + formals.map { $0.isEmpty ? "<arg>" : ($0 == "__REST__" ? "..." : $0) }.joined(separator: ", ") + ")"
        }
        text += "["
        if formals == nil, argumentCount > 0 {
            text += "\(argumentCount) argument\(argumentCount == 1 ? "" : "s"), "
        }
        text += "\(inputs) input\(inputs == 1 ? "" : "s"), \(outputs) output\(outputs == 1 ? "" : "s")]"
        return text
    }

    var signature: String {
        Self.signature(name: name, formals: formals, argumentCount: -1, inputs: inputCount, outputs: outputCount)
    }

    /// Binds `arguments` to the formals (`cp_assign_arguments`): positional formals take the
    /// plain arguments in order, keyword formals take `KEYWORD value` arguments, `__REST__`
    /// takes what is left (joined with ", "). Returns nil when they do not fit.
    func assign(_ arguments: [String]) -> [String]? {
        let formals = Array(self.formals)
        let hasRest = formals.last == "__REST__"
        let fixed = hasRest ? Array(formals.dropLast()) : formals
        let positionalCount = fixed.prefix(while: { $0.isEmpty }).count
        if positionalCount == fixed.count && !hasRest {
            return arguments.count == formals.count ? arguments : nil
        }
        var values = [String?](repeating: nil, count: fixed.count)
        var rest: [String] = []
        var nextPositional = 0
        for argument in arguments {
            let bytes = Array(argument.utf8)
            if let length = ConfigText.keywordLength(bytes) {
                let keyword = String(decoding: bytes[0..<length], as: UTF8.self)
                if let slot = fixed.indices.first(where: { $0 >= positionalCount && fixed[$0] == keyword }) {
                    var i = length
                    while i < bytes.count, ConfigText.isSpace(bytes[i]) { i += 1 }
                    values[slot] = String(decoding: bytes[i...], as: UTF8.self)
                    continue
                }
            }
            if nextPositional < positionalCount {
                values[nextPositional] = argument
                nextPositional += 1
            } else if hasRest {
                rest.append(argument)
            } else {
                return nil
            }
        }
        var result: [String] = []
        for value in values {
            guard let value else { return nil }
            result.append(value)
        }
        if hasRest { result.append(rest.joined(separator: ", ")) }
        return result
    }
}

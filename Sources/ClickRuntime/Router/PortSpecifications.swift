/// Click's port-count specifier (`Element::port_count`): `"1/1"`, `"1-2/0"`, `"1/-6"`,
/// `"2-/-"`, `"3"` (same on both sides), `"1-/="` (as many outputs as inputs), `"1-/=+"`
/// (one more output than inputs).
struct PortCountSpecification {
    var inputLow = 0, inputHigh = 0
    var outputLow = 0, outputHigh = 0
    /// `=` or `=+`: outputs follow the input count (plus this).
    var outputsFollowInputs: Int? = nil

    init?(_ spec: String) {
        let sides = spec.split(separator: "/", omittingEmptySubsequences: false)
        guard sides.count <= 2, let input = Self.range(sides[0]) else { return nil }
        (inputLow, inputHigh) = input
        let out = sides.count == 2 ? sides[1] : sides[0]
        if out == "=" {
            outputsFollowInputs = 0
        } else if out == "=+" {
            outputsFollowInputs = 1
        } else {
            guard let output = Self.range(out) else { return nil }
            (outputLow, outputHigh) = output
        }
    }

    /// `N`, `N-M`, `N-` (unbounded), `-M` (0 to M), `-` (any).
    private static func range(_ text: Substring) -> (Int, Int)? {
        if text == "-" { return (0, Int.max) }
        if let dash = text.firstIndex(of: "-") {
            let low = text[..<dash].isEmpty ? 0 : Int(text[..<dash])
            let high = text[text.index(after: dash)...].isEmpty ? Int.max : Int(text[text.index(after: dash)...])
            guard let low, let high, low <= high else { return nil }
            return (low, high)
        }
        guard let n = Int(text) else { return nil }
        return (n, n)
    }

    /// The port counts an element gets given the ports used: as many as used, at least the
    /// minimum, at most the maximum (Click's `notify_nports`).
    func resolve(inputsUsed: Int, outputsUsed: Int) -> (inputs: Int, outputs: Int) {
        let inputs = min(max(inputsUsed, inputLow), inputHigh)
        if let extra = outputsFollowInputs { return (inputs, inputs + extra) }
        let outputs = min(max(outputsUsed, outputLow), outputHigh)
        return (inputs, outputs)
    }
}

/// Declared processing of one port before agnostic resolution.
enum DeclaredProcessing: Equatable {
    case push, pull, agnostic
}

/// Click's processing specifier: one letter per port (`h`, `l`, `a`), inputs `/` outputs;
/// the last letter of a side repeats; with no `/`, the same string serves both sides.
func declaredProcessing(_ spec: String, inputs: Int, outputs: Int) -> (inputs: [DeclaredProcessing], outputs: [DeclaredProcessing]) {
    let sides = spec.split(separator: "/", omittingEmptySubsequences: false)
    let inSpec = Array(sides[0])
    let outSpec = Array(sides.count > 1 ? sides[1] : sides[0])
    func letter(_ c: Character) -> DeclaredProcessing {
        switch c {
        case "h": return .push
        case "l": return .pull
        default: return .agnostic
        }
    }
    func expand(_ letters: [Character], _ n: Int) -> [DeclaredProcessing] {
        (0..<n).map { i in letters.isEmpty ? .agnostic : letter(letters[min(i, letters.count - 1)]) }
    }
    return (expand(inSpec, inputs), expand(outSpec, outputs))
}

/// Click's flow code: for each input, the outputs it can reach. `"x/x"` means all to all;
/// letters pair inputs with outputs (`"xy/x"`: input 0 reaches output 0, input 1 none).
func flowReaches(_ flowCode: String, input: Int, output: Int) -> Bool {
    let sides = flowCode.split(separator: "/", omittingEmptySubsequences: false)
    guard sides.count == 2 else { return true }
    func code(_ side: Substring, _ i: Int) -> Character? {
        let letters = Array(side)
        guard !letters.isEmpty else { return nil }
        return letters[min(i, letters.count - 1)]
    }
    guard let a = code(sides[0], input), let b = code(sides[1], output) else { return true }
    if a == "#" || b == "#" { return input == output }
    return a == b
}

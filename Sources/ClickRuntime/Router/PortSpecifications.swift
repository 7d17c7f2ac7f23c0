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

/// Click's flow code: for each input, the outputs it can reach. Each side gives one code
/// per port, the last repeating: a letter, or a bracketed set of letters (`[xy]`, or
/// `[^x]` for all but x). An input reaches an output when their codes share a letter;
/// `#` pairs each input with the output of the same number. `"x/x"` means all to all,
/// `"xy/x"` input 0 to output 0 and input 1 nowhere, `"xy/[xy]x"` input 1 to output 0.
func flowReaches(_ flowCode: String, input: Int, output: Int) -> Bool {
    let sides = flowCode.split(separator: "/", omittingEmptySubsequences: false)
    guard sides.count == 2 else { return true }
    /// The code of port `i` on `side`: its letters, and whether the set is negated.
    func code(_ side: Substring, _ i: Int) -> (letters: Set<Character>, negated: Bool)? {
        var codes: [(Set<Character>, Bool)] = []
        var chars = side.makeIterator()
        while let c = chars.next() {
            if c == "[" {
                var set = Set<Character>(), negated = false, first = true
                while let d = chars.next(), d != "]" {
                    if first && d == "^" { negated = true } else { set.insert(d) }
                    first = false
                }
                codes.append((set, negated))
            } else {
                codes.append(([c], false))
            }
        }
        guard !codes.isEmpty else { return nil }
        return codes[min(i, codes.count - 1)]
    }
    guard let a = code(sides[0], input), let b = code(sides[1], output) else { return true }
    if a.letters.contains("#") || b.letters.contains("#") {
        if input != output { return false }
    }
    func contains(_ code: (letters: Set<Character>, negated: Bool), _ c: Character) -> Bool {
        code.letters.contains(c) != code.negated
    }
    // Letters of the alphabet the codes use, plus one no code names (for two negations).
    let alphabet = a.letters.union(b.letters).union(["\u{1}"])
    return alphabet.contains { $0 != "#" && contains(a, $0) && contains(b, $0) } || (a.letters.contains("#") && b.letters.contains("#"))
}

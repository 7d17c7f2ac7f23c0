import ClickLanguage
import ClickRuntime

extension Element {
    /// The mandatory RATE of the rated elements: packets per second as an unsigned 32-bit
    /// integer, or bytes per second in bandwidth syntax.
    func readRate(_ args: inout Arguments, bandwidth: Bool) -> Double {
        bandwidth ? args.mandatory("RATE", .bandwidth) ?? 0 : Double(args.mandatory("RATE", .unsignedInteger) ?? 0)
    }
}

/// Reads Click's `ANNO` argument: an annotation name (`PAINT`) or a byte offset.
func annotationOffset(_ text: String?, default d: Int, size: Int = 1) -> Int? {
    guard let text else { return d }
    if let named = Annotation.names[text], named.size >= size { return named.offset }
    if let n = IntegerValue.parse(text), n >= 0, Int(n) + size <= Annotation.size { return Int(n) }
    return nil
}

extension Element {
    /// Reads keyword arguments that Click accepts but this implementation does not act
    /// on. Each one given is reported as a configuration warning (`While configuring
    /// 'x :: C': warning: KEY is not supported and has no effect`), so that nobody relies
    /// on it silently; the configuration still loads.
    func unsupportedKeywords(_ args: inout Arguments, _ keywords: [String], because reason: String? = nil) {
        for k in keywords where args.keyword(k, .raw) != nil {
            configurationWarning("\(k) is not supported and has no effect" + (reason.map { " (\($0))" } ?? ""))
        }
    }

    /// Reports a warning about the configuration, as Click words one.
    func configurationWarning(_ message: String) {
        router.chatter("\(landmark): While configuring '\(declaration)':\n  warning: \(message)")
    }
}

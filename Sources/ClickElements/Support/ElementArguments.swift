import ClickLanguage
import ClickRuntime

extension Element {
    /// The mandatory RATE of the rated elements: packets per second as an unsigned 32-bit
    /// integer, or bytes per second in bandwidth syntax.
    func readRate(_ args: inout Arguments, bandwidth: Bool) -> Double {
        bandwidth ? args.mandatory("RATE", .bandwidth) ?? 0 : Double(args.mandatory("RATE", .unsignedInteger) ?? 0)
    }

    /// The burst of the rated elements, as Click's RatedUnqueue reads it: BURST_DURATION
    /// (default 20 ms) or BURST_SIZE (BURST_BYTES for bandwidth rates), not both.
    func readBurst(_ args: inout Arguments, bandwidth: Bool) -> RatedBurst {
        let duration = args.keyword("BURST_DURATION", .seconds(fractionDigits: 3))
        let size = args.keyword(bandwidth ? "BURST_BYTES" : "BURST_SIZE", .unsignedInteger)
        if duration != nil && size != nil {
            args.error("cannot specify both BURST_DURATION and \(bandwidth ? "BURST_BYTES" : "BURST_SIZE")")
        }
        return RatedBurst(milliseconds: UInt64((duration ?? 20_000_000) / 1_000_000), size: size.map { UInt32(clamping: $0) }, bandwidth: bandwidth)
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

    /// Reports a warning about the configuration, as Click words one; during a write
    /// handler (a live reconfiguration) it goes to the handler's caller instead.
    func configurationWarning(_ message: String) {
        if router.writeWarnings != nil {
            router.writeWarnings?.append("warning: \(message)")
        } else {
            router.chatter("\(landmark): While configuring '\(declaration)':\n  warning: \(message)")
        }
    }
}

/// The 802.1Q tag arguments VLANEncap and EtherVLANEncap share, read as Click 2.1 reads
/// them: VLAN_TCI (0-0xFFFF, or `ANNO` for each packet's VLAN_TCI annotation) and VLAN_PCP
/// (0-7) positionally, VLAN_ID (0-0xFFF, used without VLAN_TCI) and NATIVE_VLAN (-1-0xFFF,
/// default 0: that VLAN is sent untagged) as keywords.
struct VLANTagArguments {
    var tci: UInt16 = 0
    var fromAnnotation = false
    var nativeVLAN = 0

    init() {}

    init(_ args: inout Arguments) {
        let word = args.positional("VLAN_TCI", .word)
        let pcp = args.positional("VLAN_PCP", .bounded(0, 7)) ?? 0
        let id = args.keyword("VLAN_ID", .bounded(0, 0xFFF)) ?? 0
        nativeVLAN = args.keyword("NATIVE_VLAN", .bounded(-1, 0xFFF)) ?? 0
        var value = id
        if let word, word.hasPrefix("ANNO") {
            fromAnnotation = true
        } else if let word {
            guard let v = IntegerValue.parse(word), (0...0xFFFF).contains(v) else {
                args.error(IntegerValue.parse(word) == nil ? "expected integer" : "out of range, bound 65535", keyword: "VLAN_TCI")
                return
            }
            value = Int(v)
        }
        tci = UInt16(truncatingIfNeeded: value | pcp << 13)
    }

    /// The tag for `p`, and whether it goes untagged (its VLAN is the native one).
    @inline(__always) func tag(for p: Packet) -> (tci: UInt16, untagged: Bool) {
        let t = fromAnnotation ? UInt16(bigEndian: p.annotation16(Annotation.vlanTCI)) : tci
        return (t, Int(t & 0xFFF) == nativeVLAN)
    }
}

/// How a rated element sizes its token bucket (Click's RatedUnqueue::configure_helper).
struct RatedBurst {
    var milliseconds: UInt64 = 20
    var size: UInt32?
    var bandwidth = false

    /// Click's slack for bandwidth buckets: a packet may go while this many bytes remain.
    static let bandwidthThreshold: UInt32 = 131_072

    /// The bucket capacity in tokens for `rate`: BURST_SIZE, or BURST_DURATION of the
    /// rate; bandwidth buckets hold the threshold more; never 0.
    func capacity(rate: UInt32) -> UInt32 {
        var tokens = size ?? UInt32(clamping: UInt64(rate) * milliseconds / 1000)
        if bandwidth { tokens = tokens.addingReportingOverflow(Self.bandwidthThreshold).overflow ? .max : tokens + Self.bandwidthThreshold }
        return tokens == 0 ? 1 : tokens
    }
}

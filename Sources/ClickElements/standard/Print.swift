import ClickLanguage
import ClickRuntime

/// Print([LABEL, MAXLENGTH, *keywords* CONTENTS, TIMESTAMP, PRINTANNO, HEADROOM, ACTIVE])
///
/// Prints one line per packet to the router's chatter (stderr), as Click's: `LABEL: `
/// (when there is a label), `TIMESTAMP: ` (with TIMESTAMP true), the length as `%4d`,
/// ` (hH tT)` with the headroom and tailroom (HEADROOM true), ` | ` and the annotation
/// bytes in hex (PRINTANNO true), then ` | ` and up to MAXLENGTH bytes (default 24;
/// negative: all) of data: in hex, four bytes to a group, or with CONTENTS ASCII as
/// characters (dots for the unprintable), eight to a group. CONTENTS may be HEX
/// (default), ASCII or NONE (false). Packets pass through unchanged.
///
/// Ports: 1 input, 1 output, agnostic. Handlers: `active` (read/write).
public final class Print: Element, PacketAction {
    var label = ""
    var maxLength = 24
    var contents = 1  // 0 none, 1 hex, 2 ascii
    var timestamp = false
    var printAnno = false
    var headroom = false
    var active = true

    public override func configure(_ args: inout Arguments) {
        label = args.positional("LABEL", .string) ?? ""
        maxLength = args.positional("MAXLENGTH", .integer) ?? 24
        if let c = args.keyword("CONTENTS", .word) {
            switch c.uppercased() {
            case "NONE", "FALSE", "NO", "0": contents = 0
            case "HEX", "TRUE", "YES", "1": contents = 1
            case "ASCII": contents = 2
            default: args.error("bad contents value '\(c)'; should be 'NONE', 'HEX', or 'ASCII'", keyword: "CONTENTS")
            }
        }
        timestamp = args.keyword("TIMESTAMP", .bool) ?? false
        printAnno = args.keyword("PRINTANNO", .bool) ?? false
        active = args.keyword("ACTIVE", .bool) ?? true
        headroom = args.keyword("HEADROOM", .bool) ?? false
    }

    static let hexDigits = Array("0123456789abcdef")

    public func line(for p: Packet) -> String {
        var s = label
        var separator = label.isEmpty ? "" : ": "
        if timestamp {
            s += separator + formatTimestamp(p.timestamp)
            separator = ": "
        }
        let length = String(p.length)
        s += separator + String(repeating: " ", count: max(0, 4 - length.count)) + length
        if headroom { s += " (h\(p.headroom) t\(p.tailroom))" }
        if printAnno {
            s += " | "
            for i in 0..<Annotation.size {
                let b = p.annotation8(i)
                s.append(Self.hexDigits[Int(b >> 4)])
                s.append(Self.hexDigits[Int(b & 15)])
            }
        }
        // A negative MAXLENGTH prints the whole packet, as in Click.
        let n = contents == 0 ? 0 : (maxLength < 0 ? p.length : min(p.length, maxLength))
        if n > 0 {
            s += " | "
            for i in 0..<n {
                let b = p[i]
                if contents == 1 {
                    if i > 0 && i % 4 == 0 { s.append(" ") }
                    s.append(Self.hexDigits[Int(b >> 4)])
                    s.append(Self.hexDigits[Int(b & 15)])
                } else {
                    if i % 8 == 0 { s.append(" ") }
                    s.append(b >= 32 && b < 127 ? Character(Unicode.Scalar(b)) : ".")
                }
            }
        }
        return s
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ packet: Packet) -> Int {
        if active { router.chatter(line(for: packet)) }
        return 0
    }


    public override func addHandlers(_ h: inout HandlerSet) {
        h.boolean("active", get: { [unowned self] in self.active }, set: { [unowned self] v in self.active = v })
    }
}

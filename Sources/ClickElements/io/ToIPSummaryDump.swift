import ClickLanguage
import ClickRuntime
#if canImport(Glibc)
import Glibc
#endif

/// ToIPSummaryDump(FILENAME [, *keywords* FIELDS, CONTENTS, DATA, HEADER, VERBOSE, BANNER,
/// BINARY, EXTRA_LENGTH, CAREFUL_TRUNC, MULTIPACKET, BAD_PACKETS])
///
/// Writes one IPSummaryDump text line per packet to FILENAME (`-`: standard output): the
/// FIELDS (default `ip_src ip_dst`) separated by spaces, `-` where a field does not
/// apply. Starts with `!IPSummaryDump 1.3`, an optional `!creator` (BANNER) and the
/// `!data` line, unless HEADER is false. Packets pass through to output 0 if it exists.
///
/// Ports: 1 input, 0 or 1 output, agnostic. A pulled input is drained by a task.
///
/// Handlers: `count`, `filename` (read); `flush` (write).
public final class ToIPSummaryDump: Element, PacketAction {
    public override var portCount: String { "1/0-1" }
    public override var processing: String { "a/h" }
    var filename = ""
    var fields: [SummaryField] = [.ipSrc, .ipDst]
    var header = true
    var verbose = false
    var banner: String?
    var file: UnsafeMutablePointer<FILE>?
    public private(set) var count = 0
    var task: Task?
    var signal: UpstreamSignal?

    public override func configure(_ args: inout Arguments) {
        filename = args.mandatory("FILENAME", .string) ?? ""
        if let listed = args.keyword("FIELDS", .string) ?? args.keyword("CONTENTS", .string) ?? args.keyword("DATA", .string) {
            var chosen: [SummaryField] = []
            for word in listed.split(whereSeparator: \.isWhitespace) {
                if let f = SummaryField.named(String(word)) { chosen.append(f) } else { args.error("unknown content type '\(word)'", keyword: "FIELDS") }
            }
            if chosen.isEmpty && args.succeeded { args.error("no fields", keyword: "FIELDS") }
            fields = chosen
        }
        header = args.keyword("HEADER", .bool) ?? true
        verbose = args.keyword("VERBOSE", .bool) ?? false
        banner = args.keyword("BANNER", .string)
        if args.keyword("BINARY", .bool) == true { args.error("binary IPSummaryDump files are not supported", keyword: "BINARY") }
        if args.keyword("EXTRA_LENGTH", .bool) == false {
            configurationWarning("EXTRA_LENGTH false is not supported and has no effect (lengths include the EXTRA_LENGTH annotation)")
        }
        unsupportedKeywords(&args, ["CAREFUL_TRUNC", "MULTIPACKET", "BAD_PACKETS"])
    }

    public override func initialize() throws(ElementError) {
        file = filename == "-" ? fdopen(dup(1), "w") : fopen(filename, "w")
        guard let file else { throw ElementError("\(filename): \(String(cString: strerror(errno)))") }
        if header {
            var text = "!IPSummaryDump 1.3\n"
            if let banner { text += "!creator \(ConfigText.quote(banner))\n" }
            if verbose {
                var host = [CChar](repeating: 0, count: 256)
                gethostname(&host, host.count)
                text += "!host \(String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))\n"
                text += "!runtime \(formatTimestamp(routerNow()))\n"
            }
            text += "!data " + fields.map(\.rawValue).joined(separator: " ") + "\n"
            fputs(text, file)
        }
        if inputIsPull(0) {
            (task, signal) = startPulling()
        }
    }

    public override func cleanup() {
        task?.unschedule()
        if let file { fclose(file) }
        file = nil
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        if let file {
            let view = SummaryPacketView(p)
            var line = ""
            for (i, f) in fields.enumerated() {
                if i > 0 { line += " " }
                line += SummaryFormat.unparse(f, view)
            }
            line += "\n"
            fputs(line, file)
        }
        count &+= 1
        return noutputs > 0 ? 0 : -1
    }


    public override func runTask(_ task: Task) -> Bool {
        var moved = 0
        withScratchBatch { batch in
            input(0, into: &batch, max: batch.capacity)
            moved = batch.count
            pushThrough(&batch)
        }
        if moved == 0, let signal, !signal.isActive { task.unschedule() }
        return moved > 0
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("count", get: { [unowned self] in self.count })
        h.read("filename") { [unowned self] in self.filename }
        h.write("flush") { [unowned self] _ in if let f = self.file { fflush(f) } }
    }
}

import ClickLanguage
import ClickRuntime
#if canImport(Glibc)
import Glibc
#endif

/// AggregateCounter([*keywords* BYTES, IP_BYTES, MULTIPACKET, EXTRA_LENGTH,
/// AGGREGATE_STOP, AGGREGATE_FREEZE, AGGREGATE_CALL, COUNT_STOP, COUNT_FREEZE, COUNT_CALL,
/// BANNER])
///
/// Counts packets (or, with BYTES true, bytes) per AGGREGATE annotation, as Click's. With
/// MULTIPACKET (default true) a packet counts as 1 plus its EXTRA_PACKETS annotation;
/// bytes include the EXTRA_LENGTH annotation unless EXTRA_LENGTH is false, and leave out
/// what comes before the IP header with IP_BYTES true. Frozen (the `freeze` handler,
/// AGGREGATE_FREEZE N or COUNT_FREEZE N), it counts only aggregates it already has.
/// AGGREGATE_STOP N stops the driver when an (N+1)th aggregate appears, COUNT_STOP N once the
/// total reaches N; the CALL forms (`N HANDLER [VALUE]`) call a write handler instead.
/// Counts are 32-bit, as Click's.
///
/// Ports: 1 or 2 inputs (input 1 always frozen), 1 or 2 outputs, agnostic. Pushed with
/// two outputs, packets not counted leave on output 1.
///
/// Handlers: `write_text_file`, `write_ascii_file`, `write_ip_file` (aggregates as IP
/// addresses), `write_pdf_file` (counts as fractions), `write_file` (packed binary) —
/// each written with a file name or `-` for standard output: `!IPAggregate 1.0`, the
/// BANNER, `!num_nonzero N`, then `AGGREGATE COUNT` lines in increasing order; `freeze`,
/// `active` (read/write); `stop`, `clear`, `counts_pdf` and `reaggregate_counts` (the
/// counts become the aggregates, counted by how often each appears) (write); `banner`,
/// `aggregate_call`, `count_call` (read/write); `count`, `nagg` (read).
public final class AggregateCounter: Element {
    public override var portCount: String { "1-2/1-2" }
    public override var processing: String { "a/ah" }
    public override var flowCode: String { "#/#" }

    var bytes = false
    var ipBytes = false
    var multipacket = true
    var extraLength = true
    var banner = ""
    var frozen = false
    var active = true
    /// Aggregates and their counts: open addressing on power-of-two arrays (no dictionary
    /// per packet). `used` marks live slots.
    var keys: [UInt32] = []
    var counts: [UInt32] = []
    var used: [Bool] = []
    var nonzero = 0
    var total: UInt64 = 0
    /// AGGREGATE_* and COUNT_*: the threshold and the call (a stop or freeze is a call of
    /// this element's own handler).
    var aggregateCall: (at: UInt64, call: HandlerCall)?
    var countCall: (at: UInt64, call: HandlerCall)?

    public override func configure(_ args: inout Arguments) {
        bytes = args.keyword("BYTES", .bool) ?? false
        ipBytes = args.keyword("IP_BYTES", .bool) ?? false
        multipacket = args.keyword("MULTIPACKET", .bool) ?? true
        extraLength = args.keyword("EXTRA_LENGTH", .bool) ?? true
        aggregateCall = thresholdCall(&args, "AGGREGATE", counting: "number of aggregates")
        countCall = thresholdCall(&args, "COUNT", counting: "count")
        banner = args.keyword("BANNER", .string) ?? ""
    }

    /// PREFIX_FREEZE N, PREFIX_STOP N or PREFIX_CALL `N HANDLER [VALUE]` (at most one), as
    /// the call they stand for: freezing and stopping call this element's own handlers.
    func thresholdCall(_ args: inout Arguments, _ prefix: String, counting: String) -> (at: UInt64, call: HandlerCall)? {
        let freeze = args.keyword(prefix + "_FREEZE", .unsignedInteger)
        let stop = args.keyword(prefix + "_STOP", .unsignedInteger)
        let callText = args.keyword(prefix + "_CALL", .raw)
        if [freeze != nil, stop != nil, callText != nil].filter({ $0 }).count > 1 {
            args.error("'\(prefix)_FREEZE', '\(prefix)_STOP', and '\(prefix)_CALL' are mutually exclusive")
            return nil
        }
        if let n = freeze { return HandlerCall(name + ".freeze true").map { (UInt64(n), $0) } }
        if let n = stop { return HandlerCall(name + ".stop").map { (UInt64(n), $0) } }
        guard let text = callText else { return nil }
        guard let parsed = Self.parseCall(text) else {
            args.error("\(prefix)_CALL first word should be unsigned (\(counting))")
            return nil
        }
        return parsed
    }

    /// `N HANDLER [VALUE]`.
    static func parseCall(_ text: String) -> (at: UInt64, call: HandlerCall)? {
        let (n, rest) = ConfigText.firstWord(text)
        guard let at = UInt64(n), let call = HandlerCall(rest) else { return nil }
        return (at, call)
    }

    public override func initialize() throws(ElementError) {
        try aggregateCall?.call.initialize(in: router, context: self, write: true)
        try countCall?.call.initialize(in: router, context: self, write: true)
        clear()
        frozen = false
        active = true
    }

    func clear() {
        keys = Array(repeating: 0, count: 256)
        counts = Array(repeating: 0, count: 256)
        used = Array(repeating: false, count: 256)
        nonzero = 0
        total = 0
    }

    /// The slot of `aggregate`: its own, or the empty one where it would go.
    @inline(__always) func slot(_ aggregate: UInt32) -> Int {
        let mask = keys.count - 1
        var i = Int(truncatingIfNeeded: (aggregate &* 0x9E37_79B1) >> 7) & mask
        while used[i] && keys[i] != aggregate { i = (i + 1) & mask }
        return i
    }

    func grow() {
        let (oldKeys, oldCounts, oldUsed) = (keys, counts, used)
        keys = Array(repeating: 0, count: oldKeys.count * 2)
        counts = Array(repeating: 0, count: oldKeys.count * 2)
        used = Array(repeating: false, count: oldKeys.count * 2)
        for i in oldKeys.indices where oldUsed[i] {
            let j = slot(oldKeys[i])
            (keys[j], counts[j], used[j]) = (oldKeys[i], oldCounts[i], true)
        }
    }

    /// Counts `p`; false when it was not counted (inactive, or frozen and new).
    func update(_ p: Packet, frozen isFrozen: Bool) -> Bool {
        guard active else { return false }
        let aggregate = p.annotation32(Annotation.aggregate)
        var i = slot(aggregate)
        if !used[i] || counts[i] == 0 {
            // A new aggregate (Click keeps a zero-count node found while frozen out).
            if isFrozen { return false }
        }
        let amount: UInt32
        if !bytes {
            amount = 1 &+ (multipacket ? p.annotation32(Annotation.extraPackets) : 0)
        } else {
            var n = UInt32(truncatingIfNeeded: p.length) &+ (extraLength ? p.annotation32(Annotation.extraLength) : 0)
            if ipBytes, let header = p.networkHeader { n &-= UInt32(truncatingIfNeeded: header - p.data) }
            amount = n
        }
        if amount != 0 && (!used[i] || counts[i] == 0) {
            if let c = aggregateCall, UInt64(nonzero) >= c.at {
                aggregateCall = nil
                if let error = c.call.callWrite(in: router) { router.chatter("\(declaration): AGGREGATE_CALL: \(error.message)") }
                // The call may have frozen or stopped this counter: look again.
                return update(p, frozen: isFrozen || frozen)
            }
            nonzero += 1
        }
        if !used[i] {
            if (nonzero + 1) * 2 > keys.count {
                grow()
                i = slot(aggregate)
            }
            (keys[i], used[i]) = (aggregate, true)
        }
        counts[i] &+= amount
        total &+= UInt64(amount)
        if let c = countCall, total >= c.at {
            countCall = nil
            if let error = c.call.callWrite(in: router) { router.chatter("\(declaration): COUNT_CALL: \(error.message)") }
        }
        return true
    }

    public override func push(port: Int, _ batch: inout PacketBatch) {
        guard noutputs > 1 else {
            for i in 0..<batch.count { _ = update(batch[i], frozen: frozen || port == 1) }
            return output(0, &batch)
        }
        withScratchBatch { other in
            var kept = 0
            for i in 0..<batch.count {
                let p = batch[i]
                if update(p, frozen: frozen || port == 1) {
                    batch[kept] = p
                    kept += 1
                } else {
                    other.append(p)
                }
            }
            batch.count = kept
            if kept > 0 { output(0, &batch) }
            if other.count > 0 { output(1, &other) }
        }
    }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        let start = batch.count
        input(ninputs == 1 ? 0 : port, into: &batch, max: max)
        for i in start..<batch.count { _ = update(batch[i], frozen: frozen || port == 1) }
    }

    /// The live aggregates and counts, in increasing order of aggregate.
    func sortedCounts() -> [(aggregate: UInt32, count: UInt32)] {
        keys.indices.filter { used[$0] && counts[$0] > 0 }.map { (keys[$0], counts[$0]) }.sorted { $0.aggregate < $1.aggregate }
    }

    enum Format { case text, ip, pdf, binary }

    func write(to path: String, _ format: Format) throws(ElementError) {
        // Standard output through a duplicate, after what is already buffered there.
        if path == "-" { fflush(nil) }
        guard let f = path == "-" ? fdopen(dup(1), "w") : fopen(path, format == .binary ? "wb" : "w") else {
            throw ElementError("\(path): \(String(cString: strerror(errno)))")
        }
        var text = "!IPAggregate 1.0\n" + banner
        if !banner.isEmpty && !banner.hasSuffix("\n") { text += "\n" }
        text += "!num_nonzero \(nonzero)\n"
        if format == .binary { text += "!packed_le\n" } else if format == .ip { text += "!ip\n" }
        var bytes = Array(text.utf8)
        for (aggregate, count) in sortedCounts() {
            switch format {
            case .binary:
                withUnsafeBytes(of: aggregate.littleEndian) { bytes += $0 }
                withUnsafeBytes(of: count.littleEndian) { bytes += $0 }
            case .ip:
                bytes += Array("\(IPv4Address(aggregate)) \(count)\n".utf8)
            case .pdf:
                bytes += Array("\(aggregate) \(formatG12(Double(count) / Double(total)))\n".utf8)
            case .text:
                bytes += Array("\(aggregate) \(count)\n".utf8)
            }
        }
        let written = fwrite(bytes, 1, bytes.count, f)
        fclose(f)
        if written != bytes.count { throw ElementError("\(path): file error") }
    }

    /// `%.12g`.
    func formatG12(_ v: Double) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        _ = withVaList([v]) { vsnprintf(&buffer, buffer.count, "%.12g", $0) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Click's `reaggregate_counts`: each count becomes an aggregate, counted by how many
    /// aggregates had it.
    func reaggregate() {
        let old = sortedCounts()
        clear()
        for (_, count) in old {
            var i = slot(count)
            if !used[i] {
                if (nonzero + 1) * 2 > keys.count {
                    grow()
                    i = slot(count)
                }
                (keys[i], used[i]) = (count, true)
            }
            if counts[i] == 0 { nonzero += 1 }
            counts[i] &+= 1
            total &+= 1
        }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        for (name, format) in [("write_text_file", Format.text), ("write_ascii_file", .text), ("write_file", .binary),
                               ("write_ip_file", .ip), ("write_pdf_file", .pdf)] {
            h.write(name) { [unowned self] (text: String) throws(ElementError) in
                let path = ConfigText.unquote(text.trimmingCharacters())
                guard !path.isEmpty else { throw ElementError("argument should be filename") }
                try self.write(to: path, format)
            }
        }
        for (name, isFreeze) in [("freeze", true), ("active", false)] {
            h.readWrite(name, read: { [unowned self] in String(isFreeze ? self.frozen : self.active) },
                        write: { [unowned self] (text: String) throws(ElementError) in
                guard let v = BoolValue.parse(text.trimmingCharacters()) else { throw ElementError("type mismatch") }
                if isFreeze { self.frozen = v } else { self.active = v }
            })
        }
        h.write("stop") { [unowned self] _ in
            self.active = false
            self.router.requestStop()
        }
        h.write("reaggregate_counts") { [unowned self] _ in self.reaggregate() }
        h.write("counts_pdf") { [unowned self] _ in self.reaggregate() }
        h.write("clear") { [unowned self] _ in self.clear() }
        h.readWrite("banner", read: { [unowned self] in self.banner }, write: { [unowned self] (text: String) throws(ElementError) in
            self.banner = text.hasSuffix("\n") && text.count == 1 ? "" : (text.isEmpty || text.hasSuffix("\n") ? text : text + "\n")
        })
        for (name, isAggregate) in [("aggregate_call", true), ("count_call", false)] {
            h.readWrite(name, read: { [unowned self] in
                (isAggregate ? self.aggregateCall : self.countCall).map { "\($0.at) \($0.call)" } ?? ""
            }, write: { [unowned self] (text: String) throws(ElementError) in
                var parsed: (at: UInt64, call: HandlerCall)?
                if !text.trimmingCharacters().isEmpty {
                    guard var call = Self.parseCall(text.trimmingCharacters()) else {
                        throw ElementError("argument to '\(name)' should be 'N HANDLER [VALUE]'")
                    }
                    try call.call.initialize(in: self.router, context: self, write: true)
                    parsed = call
                }
                if isAggregate { self.aggregateCall = parsed } else { self.countCall = parsed }
            })
        }
        h.read("count") { [unowned self] in String(self.total) }
        h.integer("nagg", get: { [unowned self] in self.nonzero })
    }
}

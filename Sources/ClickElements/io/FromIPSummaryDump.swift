import ClickLanguage
import ClickRuntime
#if canImport(Glibc)
import Glibc
#endif

/// FromIPSummaryDump([FILENAME, *keywords* STOP, TIMING, ACTIVE, ZERO, CHECKSUM, PROTO,
/// FIELDS, CONTENTS, DATA, FLOWID, ALLOW_NONEXISTENT, BINARY, MULTIPACKET, SAMPLE])
///
/// Reads IPSummaryDump text (one packet per line, fields named by a `!data` line or
/// FIELDS; `-` is standard input; DATA gives the dump text itself instead) and emits IPv4 packets built from it: a 20-byte header
/// (TTL 100, protocol from `!proto`, PROTO, default TCP), a transport header for the
/// first fragment (TCP 20, UDP 8, ICMP 8 bytes), then the `payload` if given. `ip_len` or
/// `payload_len` longer than that sets the EXTRA_LENGTH annotation. `timestamp`, `link`
/// (PAINT), `aggregate`, `count` and `first_timestamp` set annotations. With CHECKSUM
/// true the IP and transport checksums are set (otherwise they are zero). `!flowid SRC
/// SPORT DST DPORT [PROTO]` fills what the lines leave out (reversed for packets with
/// paint 1). TIMING true replays at the trace's pace; STOP true stops the driver at the
/// end. A line nothing can be read from is reported once, as `FILE:LINE: bad format`.
///
/// Ports: no inputs, 1 output, agnostic. Pulled, it is an empty notifier.
///
/// Handlers: `active` (read/write), `stop` (write), `count`, `encap`, `filesize`,
/// `filepos`, `sampling_prob` (read).
public final class FromIPSummaryDump: Element, EmptyNotifier {
    public override var portCount: String { "0/1" }
    public override var processing: String { "a/a" }
    public let emptySignal = NotifierSignal(active: true)

    var filename = ""
    /// DATA: the dump itself, instead of a file.
    var data: String?
    /// DATA's bytes while the stream reads them.
    var dataBuffer: UnsafeMutableBufferPointer<UInt8>?
    var stop = false
    var timing = false
    var active = true
    var zero = true
    var checksum = false
    var defaultProto: UInt8 = 6
    var fields: [SummaryField?] = []
    var allowNonexistent = false
    var flowID: (src: UInt32, sport: UInt16, dst: UInt32, dport: UInt16)?
    var file: UnsafeMutablePointer<FILE>?
    var lineNumber = 0
    var complained = false
    var atEnd = false
    /// A packet read before its time (TIMING).
    var pending: Packet?
    var firstTrace: Int64 = -1
    var firstLocal: Int64 = 0
    public private(set) var count = 0
    var task: Task?
    var timer: Timer?

    public override func configure(_ args: inout Arguments) {
        filename = args.positional("FILENAME", .string) ?? ""
        data = args.keyword("DATA", .string).map(ConfigText.unquote)
        if filename.isEmpty && data == nil { args.error("required argument missing", keyword: "FILENAME") }
        stop = args.keyword("STOP", .bool) ?? false
        timing = args.keyword("TIMING", .bool) ?? false
        active = args.keyword("ACTIVE", .bool) ?? true
        zero = args.keyword("ZERO", .bool) ?? true
        checksum = args.keyword("CHECKSUM", .bool) ?? false
        allowNonexistent = args.keyword("ALLOW_NONEXISTENT", .bool) ?? false
        if let p = args.keyword("PROTO", .word) {
            if let v = Self.parseProto(p) { defaultProto = v } else { args.error("bad protocol", keyword: "PROTO") }
        }
        let listed = args.keyword("FIELDS", .string) ?? args.keyword("CONTENTS", .string)
        if let listed {
            fields = listed.split(whereSeparator: \.isWhitespace).map { SummaryField.named(String($0)) }
            if let bad = zip(listed.split(whereSeparator: \.isWhitespace), fields).first(where: { $0.1 == nil }) {
                args.error("unknown field '\(bad.0)'", keyword: "FIELDS")
            }
        }
        if let f = args.keyword("FLOWID", .string) {
            if let id = Self.parseFlowID(f.split(whereSeparator: \.isWhitespace)) { flowID = id } else { args.error("bad flow ID", keyword: "FLOWID") }
        }
        if args.keyword("BINARY", .bool) == true { args.error("binary IPSummaryDump files are not supported", keyword: "BINARY") }
        unsupportedKeywords(&args, ["MULTIPACKET", "SAMPLE"])
    }

    static func parseProto(_ s: String) -> UInt8? {
        switch s {
        case "T", "tcp", "TCP": return 6
        case "U", "udp", "UDP": return 17
        case "I", "icmp", "ICMP": return 1
        default: return UInt8(s)
        }
    }

    static func parseFlowID(_ w: [Substring]) -> (src: UInt32, sport: UInt16, dst: UInt32, dport: UInt16)? {
        guard w.count >= 4, let s = IPv4Address.parse(String(w[0]))?.address, let sp = UInt16(w[1]),
              let d = IPv4Address.parse(String(w[2]))?.address, let dp = UInt16(w[3]) else { return nil }
        return (s.value, sp, d.value, dp)
    }

    public override func initialize() throws(ElementError) {
        if let data {
            let bytes = Array(data.utf8)
            let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
            _ = buffer.initialize(from: bytes)
            dataBuffer = buffer
            file = bytes.isEmpty ? nil : fmemopen(buffer.baseAddress, bytes.count, "r")
            if filename.isEmpty { filename = "DATA" }
            atEnd = bytes.isEmpty
        } else if filename == "-" {
            file = fdopen(dup(0), "r")
        } else {
            file = fopen(filename, "r")
        }
        if file == nil && data == nil {
            if !allowNonexistent { throw ElementError("\(filename): \(String(cString: strerror(errno)))") }
            atEnd = true
        }
        emptySignal.set(active && !atEnd)
        if outputIsPush(0) {
            let t = makeTask()
            task = t
            timer = makeTimer()
            if active { t.schedule() }
        }
    }

    public override func cleanup() {
        task?.unschedule()
        timer?.unschedule()
        pending?.kill()
        pending = nil
        if let file { fclose(file) }
        file = nil
        dataBuffer?.deallocate()
        dataBuffer = nil
    }

    /// The longest line read: a file without newlines (`/dev/zero`) must not grow the
    /// reader without bound.
    static let maximumLineLength = 65_536

    /// The next line of the file, without its newline; nil at the end, or after a line
    /// too long to be a summary line (reported; the trace ends there).
    func readLine() -> String? {
        guard let file else { return nil }
        var bytes: [UInt8] = []
        while true {
            let c = getc(file)
            if c == EOF {
                if bytes.isEmpty { return nil }
                break
            }
            if c == 10 { break }
            if bytes.count >= Self.maximumLineLength {
                router.chatter("\(filename):\(lineNumber + 1): line longer than \(Self.maximumLineLength) bytes; giving up")
                return nil
            }
            bytes.append(UInt8(truncatingIfNeeded: c))
        }
        lineNumber += 1
        while let last = bytes.last, last == 13 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The next packet from the file, or nil at its end.
    func readPacket() -> Packet? {
        while !atEnd {
            guard let line = readLine() else {
                atEnd = true
                break
            }
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if trimmed.hasPrefix("!") {
                header(trimmed)
                continue
            }
            if let p = packet(from: trimmed) { return p }
            if !complained {
                complained = true
                router.chatter("\(filename):\(lineNumber): bad format")
            }
        }
        return nil
    }

    /// `!data`, `!contents`, `!proto`, `!flowid`; others are ignored.
    func header(_ line: Substring) {
        let words = line.split(whereSeparator: \.isWhitespace)
        guard let first = words.first else { return }
        switch first {
        case "!data", "!contents":
            fields = words.dropFirst().map { SummaryField.named(String($0)) }
            for (w, f) in zip(words.dropFirst(), fields) where f == nil {
                router.chatter("\(filename):\(lineNumber): unknown field '\(w)' ignored")
            }
        case "!proto":
            if words.count > 1, let p = Self.parseProto(String(words[1])) { defaultProto = p }
        case "!flowid":
            if let id = Self.parseFlowID(Array(words.dropFirst())) { flowID = id }
        default: break
        }
    }

    /// Fields already reported as bad.
    var badFields: Set<SummaryField> = []

    func badValue(_ field: SummaryField, _ token: Substring) {
        guard badFields.insert(field).inserted else { return }
        router.chatter("\(filename):\(lineNumber): bad \(field.rawValue) '\(token)' left out (further bad \(field.rawValue) values are not reported)")
    }

    /// Builds a packet from one data line; nil if no field could be read.
    func packet(from line: Substring) -> Packet? {
        guard let p = pool.make(repeatElement(UInt8(0), count: 40)) else { return nil }
        let d = p.data
        d.setByte(0, 0x45)
        d.setByte(8, 100)
        d.setByte(9, defaultProto)
        let t = d + 20
        var ok = 0
        var ipFields = 0
        var timestamp: Int64 = 0
        var byteCount: Int?
        var payload: [UInt8]?
        var payloadLength: Int?
        var headerLength: Int?, tcpOffset: Int?
        var ipOptions: [UInt8] = [], tcpOptions: [UInt8] = []
        var sawSport = false, sawDport = false, sawSrc = false, sawDst = false
        let tokens = SummaryFormat.tokens(line)
        var bad: [(SummaryField, Substring)] = []
        for (i, token) in tokens.enumerated() where i < fields.count {
            guard let field = fields[i], token != "-" else { continue }
            // A value that cannot be read is left out of the packet, as in Click, and said
            // once per field (Click says nothing: a port of 99999 silently became 0).
            let before = ok + ipFields
            defer { if ok + ipFields == before && !SummaryField.ignoredOnInput.contains(field) { bad.append((field, token)) } }
            func num(_ max: UInt64) -> UInt64? { SummaryFormat.number(token, max: max) }
            switch field {
            case .timestamp:
                if let v = SummaryFormat.parseTimestamp(token) { timestamp = v; ok += 1 }
            case .tsSec:
                if let v = num(UInt64(UInt32.max)) { timestamp = Int64(v) * 1_000_000_000 + timestamp % 1_000_000_000; ok += 1 }
            case .tsUsec:
                if let v = num(999_999) { timestamp = timestamp / 1_000_000_000 * 1_000_000_000 + Int64(v) * 1000; ok += 1 }
            case .ipSrc, .ipDst:
                if let a = IPv4Address.parse(String(token))?.address {
                    d.setBE32(field == .ipSrc ? 12 : 16, a.value)
                    if field == .ipSrc { sawSrc = true } else { sawDst = true }
                    ipFields += 1
                }
            case .ipProto:
                if let v = Self.parseProto(String(token)) { d.setByte(9, v); ipFields += 1 }
            case .ipLen:
                if let v = num(0xFFFF) { byteCount = Int(v); ok += 1 }
            case .ipID:
                if let v = num(0xFFFF) { d.setBE16(4, UInt16(v)); ipFields += 1 }
            case .ipTOS:
                if let v = num(0xFF) { d.setByte(1, UInt8(v)); ipFields += 1 }
            case .ipDSCP:
                if let v = num(63) { d.setByte(1, UInt8(v) << 2 | (d.byte(1) & 3)); ipFields += 1 }
            case .ipECN:
                let names: [Substring: UInt8] = ["no": 0, "ect1": 1, "ect2": 2, "ce": 3]
                if let v = names[token] ?? num(3).map({ UInt8($0) }) { d.setByte(1, (d.byte(1) & 0xFC) | v); ipFields += 1 }
            case .ipTTL:
                if let v = num(0xFF) { d.setByte(8, UInt8(v)); ipFields += 1 }
            case .ipFrag:
                switch token {
                case "F": d.setBE16(6, 0x2000)
                case "f": d.setBE16(6, 100)
                case "!": d.setBE16(6, 0x4000)
                case ".": d.setBE16(6, 0)
                default: continue
                }
                ipFields += 1
            case .ipFragOff:
                var text = token
                var flags: UInt16 = 0
                while let last = text.last, last == "+" || last == "!" {
                    flags |= last == "+" ? 0x2000 : 0x4000
                    text = text.dropLast()
                }
                if let v = SummaryFormat.number(text, max: 0xFFF8), v % 8 == 0 { d.setBE16(6, UInt16(v / 8) | flags); ipFields += 1 }
            case .sport, .dport:
                if let v = num(0xFFFF) {
                    t.setBE16(field == .sport ? 0 : 2, UInt16(v))
                    if field == .sport { sawSport = true } else { sawDport = true }
                    ipFields += 1
                }
            case .udpLen:
                if let v = num(0xFFFF) { t.setBE16(4, UInt16(v)); ipFields += 1 }
            case .tcpSeq, .tcpAck:
                if let v = num(UInt64(UInt32.max)) { t.setBE32(field == .tcpSeq ? 4 : 8, UInt32(v)); ipFields += 1 }
            case .tcpFlags:
                var flags: UInt16 = 0
                if let v = num(0x1FF) {
                    flags = UInt16(v)
                } else if token != "." {
                    var good = true
                    for c in token {
                        if let bit = SummaryField.tcpFlagLetters.first(where: { $0.0 == c })?.1 { flags |= bit } else { good = false }
                    }
                    if !good { continue }
                }
                t.setByte(13, UInt8(flags & 0xFF))
                t.setByte(12, (t.byte(12) & 0xFE) | UInt8(flags >> 8))
                ipFields += 1
            case .tcpWindow, .tcpUrp:
                if let v = num(0xFFFF) { t.setBE16(field == .tcpWindow ? 14 : 18, UInt16(v)); ipFields += 1 }
            case .icmpType, .icmpTypeName:
                if let v = num(0xFF).map({ UInt8($0) }) ?? SummaryField.icmpTypeNames.first(where: { $0.value == token })?.key {
                    t.setByte(0, v)
                    ipFields += 1
                }
            case .icmpCode:
                if let v = num(0xFF) { t.setByte(1, UInt8(v)); ipFields += 1 }
            case .icmpFlowID, .icmpSeq:
                if let v = num(0xFFFF) { t.setBE16(field == .icmpFlowID ? 4 : 6, UInt16(v)); ipFields += 1 }
            case .payload:
                // Click's cp_string: a double-quoted string, or the word itself.
                if let bytes = SummaryFormat.unquote(token) { payload = bytes; ok += 1 } else if token.first != "\"" { payload = Array(token.utf8); ok += 1 }
            case .payloadLen:
                if let v = num(0xFFFF) { payloadLength = Int(v); ok += 1 }
            case .count:
                if let v = num(UInt64(UInt32.max)), v > 0 { p.setAnnotation32(Annotation.extraPackets, UInt32(v - 1)); ok += 1 }
            case .link, .direction:
                switch token {
                case ">", "L": p.paint = 0
                case "<", "X", "R": p.paint = 1
                default:
                    guard let v = num(0xFF) else { continue }
                    p.paint = UInt8(v)
                }
                ok += 1
            case .aggregate:
                if let v = num(UInt64(UInt32.max)) { p.setAnnotation32(Annotation.aggregate, UInt32(v)); ok += 1 }
            case .firstTimestamp:
                if let v = SummaryFormat.parseTimestamp(token) {
                    p.setAnnotation32(Annotation.firstTimestamp, UInt32(truncatingIfNeeded: v / 1_000_000_000))
                    p.setAnnotation32(Annotation.firstTimestamp + 4, UInt32(truncatingIfNeeded: (v % 1_000_000_000) / 1000))
                    ok += 1
                }
            case .ipHL:
                if let v = num(60) { headerLength = Int(v); ok += 1 }
            case .tcpOff:
                if let v = num(60) { tcpOffset = Int(v); ok += 1 }
            case .ipOpt:
                if let o = SummaryOptions.parseIP(token) { ipOptions = o; ipFields += 1 }
            case .tcpOpt, .tcpNtopt, .tcpSack:
                let mask: SummaryOptions.Mask = field == .tcpOpt ? .all : field == .tcpNtopt ? .noTimestamps : .sack
                if let o = SummaryOptions.parseTCP(token, mask: mask) { tcpOptions = o; ipFields += 1 }
            case .ipSum, .ipCaptureLen, .ethSrc, .ethDst, .wireLen, .payloadMD5, .payloadMD5Hex:
                continue
            }
        }
        // A line of which nothing could be read is a bad line (reported by the caller).
        if ok + ipFields > 0 { for (field, token) in bad { badValue(field, token) } }
        guard ok + ipFields > 0 else {
            p.kill()
            return nil
        }
        // The flow ID fills in what the line did not say (reversed for paint 1).
        if let f = flowID {
            let reversed = p.paint != 0
            if !sawSrc { d.setBE32(12, reversed ? f.dst : f.src) }
            if !sawDst { d.setBE32(16, reversed ? f.src : f.dst) }
            if !sawSport { t.setBE16(0, reversed ? f.dport : f.sport) }
            if !sawDport { t.setBE16(2, reversed ? f.sport : f.dport) }
            ipFields += 1
        }
        // Options make room for themselves in their header (padded with EOL), as Click's.
        if !ipOptions.isEmpty { headerLength = max(headerLength ?? 20, 20 + ipOptions.count) }
        if !tcpOptions.isEmpty { tcpOffset = max(tcpOffset ?? 20, 20 + tcpOptions.count) }
        // Keep the transport header the protocol has (first fragments only).
        let proto = d.byte(9)
        let firstFragment = d.be16(6) & 0x1FFF == 0
        var transportLength = 0
        if firstFragment {
            switch proto {
            case 6:
                transportLength = 20
                t.setByte(12, (t.byte(12) & 0x0F) | 0x50)
            case 17, 1: transportLength = 8
            default: break
            }
            // An ip_len too short for the whole transport header keeps only what fits
            // (at least 4 bytes, the ports, once any), as Click's.
            let hl = max(20, headerLength.map { ($0 + 3) & ~3 } ?? 20)
            if let byteCount, byteCount > 0, payload == nil, byteCount < hl + transportLength {
                transportLength = max(0, byteCount - hl)
                if transportLength > 0 && transportLength < 4 { transportLength = 4 }
            }
        }
        p.take(20 - transportLength)
        // A longer TCP header (tcp_off) and IP options (ip_hl), zero-filled, as Click's.
        if proto == 6, firstFragment, transportLength == 20, let off = tcpOffset.map({ ($0 + 3) & ~3 }), off > 20 {
            guard p.put(off - 20) else {
                p.kill()
                return nil
            }
            for k in 40..<(20 + off) { d.setByte(k, 0) }
            t.setByte(12, (t.byte(12) & 0x0F) | UInt8(off << 2))
            for (k, b) in tcpOptions.enumerated() { t.setByte(20 + k, b) }
            transportLength = off
        }
        var ipHeaderLength = 20
        if let hl = headerLength.map({ ($0 + 3) & ~3 }), hl > 20 {
            guard p.put(hl - 20) else {
                p.kill()
                return nil
            }
            (d + hl).copyMemory(from: d + 20, byteCount: transportLength)
            for k in 20..<hl { d.setByte(k, 0) }
            for (k, b) in ipOptions.enumerated() { d.setByte(20 + k, b) }
            d.setByte(0, 0x40 | UInt8(hl >> 2))
            ipHeaderLength = hl
        }
        if let payload {
            // An ICMP header is payload to Click's ipsumdump: the payload replaces it.
            if proto == 1, firstFragment, !payload.isEmpty {
                p.take(transportLength)
                transportLength = min(transportLength, payload.count)
            }
            let old = p.length
            guard p.put(payload.count) else {
                p.kill()
                return nil
            }
            for (k, b) in payload.enumerated() { p.data.setByte(old + k, b) }
            // ip_len, when given, stays the packet's length, as in Click: the bytes beyond
            // the payload are the EXTRA_LENGTH annotation.
            d.setBE16(2, UInt16(truncatingIfNeeded: byteCount ?? p.length))
            if let byteCount { p.setAnnotation32(Annotation.extraLength, UInt32(max(0, byteCount - p.length))) }
        } else if let byteCount {
            d.setBE16(2, UInt16(byteCount))
            p.setAnnotation32(Annotation.extraLength, UInt32(max(0, byteCount - p.length)))
        } else if let payloadLength {
            d.setBE16(2, UInt16(truncatingIfNeeded: p.length + payloadLength))
            p.setAnnotation32(Annotation.extraLength, UInt32(payloadLength))
        } else {
            d.setBE16(2, UInt16(p.length))
        }
        let th = d + ipHeaderLength
        if proto == 17 && firstFragment && th.be16(4) == 0 { th.setBE16(4, UInt16(truncatingIfNeeded: Int(d.be16(2)) - ipHeaderLength)) }
        if checksum { setChecksums(p, headerLength: ipHeaderLength, transportLength: transportLength) }
        p.timestamp = timestamp
        if ipFields > 0 {
            p.setNetworkHeader(at: 0, headerLength: ipHeaderLength)
            // As Click's, the destination annotation is the packet's destination.
            p.destinationIPAnnotation = d.be32(16)
        }
        return p
    }

    /// IP header checksum, and the transport checksum when the whole packet is present.
    func setChecksums(_ p: Packet, headerLength: Int, transportLength: Int) {
        let d = p.data
        d.setBE16(10, 0)
        d.setBE16(10, internetChecksum(d, headerLength))
        guard transportLength > 0, p.annotation32(Annotation.extraLength) == 0 else { return }
        let t = d + headerLength
        let length = p.length - headerLength
        switch d.byte(9) {
        case 6 where transportLength < 18, 17 where transportLength < 8, 1 where transportLength < 4:
            return  // a header cut short by ip_len has no room for its checksum
        case 6:
            t.setBE16(16, 0)
            t.setBE16(16, transportChecksum(d, proto: 6, transport: t, length: length))
        case 17:
            t.setBE16(6, 0)
            t.setBE16(6, transportChecksum(d, proto: 17, transport: t, length: length))
        case 1:
            t.setBE16(2, 0)
            t.setBE16(2, internetChecksum(t, length))
        default: break
        }
    }

    func finished() {
        emptySignal.set(false)
        if stop {
            stop = false
            router.requestStop()
        }
    }

    /// The next packet that is due (TIMING); nil when none is, after arranging a wake-up.
    func nextDuePacket() -> Packet? {
        guard let p = pending ?? readPacket() else { return nil }
        pending = nil
        if timing {
            let now = routerNow()
            if firstTrace < 0 {
                firstTrace = p.timestamp
                firstLocal = now
            }
            let due = firstLocal + (p.timestamp - firstTrace)
            if due > now {
                pending = p
                timer?.schedule(at: due)
                return nil
            }
        }
        count &+= 1
        return p
    }

    public override func runTask(_ task: Task) -> Bool {
        guard active else {
            task.unschedule()
            return false
        }
        var sent = 0
        withScratchBatch { batch in
            // One packet per task run, as Click's: each packet goes all the way through
            // the configuration before the next is read (what prints, prints in order).
            while sent < 1, let p = nextDuePacket() {
                batch.append(p)
                sent += 1
            }
            output(0, &batch)
        }
        if pending != nil {
            task.unschedule()
        } else if sent == 0 || atEnd {
            if atEnd && pending == nil {
                task.unschedule()
                finished()
            }
        }
        return sent > 0
    }

    public override func runTimer(_ timer: Timer) { task?.schedule() }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        guard active else { return }
        var n = 0
        while n < max, !batch.isFull, let p = nextDuePacket() {
            batch.append(p)
            n += 1
        }
        if n == 0 && atEnd && pending == nil { finished() }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.boolean("active", get: { [unowned self] in self.active }, set: { [unowned self] v in
            self.active = v
            if v { self.task?.schedule() }
            self.emptySignal.set(v && !self.atEnd)
        })
        h.write("stop") { [unowned self] _ in
            self.active = false
            self.router.requestStop()
        }
        h.integer("count", get: { [unowned self] in self.count })
        h.read("encap") { "IP" }
        h.read("sampling_prob") { "1" }
        h.read("filesize") { [unowned self] in
            guard let f = self.file else { return "-" }
            var st = stat()
            return fstat(fileno(f), &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG ? String(st.st_size) : "-"
        }
        h.read("filepos") { [unowned self] in self.file.map { String(ftell($0)) } ?? "0" }
    }
}

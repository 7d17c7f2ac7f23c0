#if canImport(Glibc)
import Glibc
#endif
import ClickLanguage
import ClickRuntime

/// pcap link types for ENCAP arguments.
enum PcapEncap {
    static let names: [String: UInt32] = [
        "ETHER": 1, "IP": 101, "FDDI": 10, "ATM": 11, "802_11": 105, "SLL": 113, "AIRONET": 120, "HDLC": 104,
        "PPP_HDLC": 50, "PPP": 9, "SUNATM": 123, "PRISM": 119, "NULL": 0,
    ]
    static func name(_ linktype: UInt32) -> String { names.first { $0.value == linktype }?.key ?? String(linktype) }
}

/// ToDump(FILENAME [, SNAPLEN, ENCAP, *keywords* USE_ENCAP_FROM, EXTRA_LENGTH, UNBUFFERED, NANO])
///
/// Writes packets to FILENAME (`-` for standard output) as a pcap file tcpdump reads:
/// link type ENCAP (ETHER by default, IP, ...), at most SNAPLEN bytes per packet (default
/// 2000), timestamps from the timestamp annotation (microseconds, or nanoseconds with
/// NANO). Packets pass through to output 0 if it exists.
///
/// Ports: 1 input, 0 or 1 output, agnostic. Handlers: `count` (read), `filename` (read).
public final class ToDump: Element, PacketAction {
    public override var className: String { "ToDump" }
    public override var portCount: String { "1/0-1" }
    var filename = ""
    var snaplen = 2000
    var linktype: UInt32 = 1
    var nano = false
    var unbuffered = false
    var file: UnsafeMutablePointer<FILE>? = nil
    var ownsFile = false
    public private(set) var count = 0

    public override func configure(_ args: inout Arguments) {
        filename = args.mandatory("FILENAME", .string) ?? ""
        snaplen = args.positional("SNAPLEN", .unsignedInteger) ?? 2000
        if let e = args.positional("ENCAP", .word) {
            if let t = PcapEncap.names[e.uppercased()] { linktype = t } else { args.error("bad encapsulation type '\(e)'", keyword: "ENCAP") }
        }
        _ = args.keyword("USE_ENCAP_FROM", .string)
        _ = args.keyword("EXTRA_LENGTH", .bool)
        unbuffered = args.keyword("UNBUFFERED", .bool) ?? false
        nano = args.keyword("NANO", .bool) ?? false
        if snaplen == 0 { snaplen = 65535 }
    }

    public override func initialize() throws(ElementError) {
        if filename == "-" {
            file = fdopen(dup(1), "wb")
        } else {
            file = fopen(filename, "wb")
        }
        guard let file else { throw ElementError("\(filename): \(String(cString: strerror(errno)))") }
        ownsFile = true
        var header = [UInt8]()
        func le32(_ v: UInt32) { header += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
        le32(nano ? 0xA1B2_3C4D : 0xA1B2_C3D4)
        header += [2, 0, 4, 0]
        le32(0)
        le32(0)
        le32(UInt32(snaplen))
        le32(linktype)
        _ = header.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fflush(file)
    }

    public override func cleanup() {
        if let file, ownsFile { fclose(file) }
        file = nil
    }

    public func action(_ p: Packet) -> Int {
        guard let file else { return 0 }
        let ts = p.timestamp
        let seconds = UInt32(truncatingIfNeeded: ts / 1_000_000_000)
        let fraction = UInt32(truncatingIfNeeded: nano ? ts % 1_000_000_000 : (ts % 1_000_000_000) / 1000)
        let captured = min(p.length, snaplen)
        var record = (seconds.littleEndian, fraction.littleEndian, UInt32(captured).littleEndian, UInt32(p.length).littleEndian)
        _ = withUnsafeBytes(of: &record) { fwrite($0.baseAddress, 1, 16, file) }
        fwrite(p.data, 1, captured, file)
        if unbuffered { fflush(file) }
        count &+= 1
        return noutputs > 0 ? 0 : -1
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }
    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) { pullThrough(into: &batch, max: max) }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("count", get: { [unowned self] in self.count })
        h.read("filename") { [unowned self] in self.filename }
        h.write("flush") { [unowned self] _ in if let f = self.file { fflush(f) } }
    }
}

/// FromDump(FILENAME [, TIMING, *keywords* STOP, ACTIVE, FORCE_IP, SAMPLE, START, START_AFTER, END, END_AFTER, INTERVAL, END_CALL])
///
/// Reads packets from the pcap file FILENAME (written by tcpdump or ToDump: microsecond or
/// nanosecond timestamps, either byte order) and pushes them out, with their timestamps
/// as annotations. With TIMING true, packets go out at their trace times (relative to
/// the first); otherwise as fast as downstream takes them. Only packets stamped from START
/// (absolute) or START_AFTER (after the first packet's time) up to END, END_AFTER or
/// INTERVAL (after the start) are emitted, each with probability SAMPLE (default 1). At
/// the end, END_CALL (`element.handler value`) is called or, with STOP true, the driver
/// stops. FORCE_IP marks the IP header (after an Ethernet header for
/// ETHER traces) and drops non-IP packets to output 1 (or drops them).
///
/// Ports: no inputs, 1 or 2 outputs, agnostic (output 1 push). Pulled, it is an empty
/// notifier: active until the end of the file (or while ACTIVE is false).
///
/// Handlers: `count`, `encap`, `filename`, `filesize`, `filepos` (read); `active`
/// (read/write).
public final class FromDump: Element, EmptyNotifier {
    public override var className: String { "FromDump" }
    public override var portCount: String { "0/1-2" }
    public override var processing: String { "a/ah" }
    var filename = ""
    var timing = false
    var stop = false
    var active = true
    var forceIP = false
    var bytes: [UInt8] = []
    var position = 24
    var swapped = false
    var nano = false
    var linktype: UInt32 = 1
    public private(set) var count = 0
    var task: Task?
    var timer: Timer?
    var firstTrace: Int64 = -1
    var firstLocal: Int64 = 0
    public let emptySignal = NotifierSignal(active: true)
    var sample = 1.0
    var start: Int64?, startAfter: Int64?, end: Int64?, endAfter: Int64?, interval: Int64?
    var endCall: String?
    var firstSeen = false
    var generator = SystemRandomNumberGenerator()

    public override func configure(_ args: inout Arguments) {
        filename = args.mandatory("FILENAME", .string) ?? ""
        timing = args.positional("TIMING", .bool) ?? false
        stop = args.keyword("STOP", .bool) ?? false
        active = args.keyword("ACTIVE", .bool) ?? true
        forceIP = args.keyword("FORCE_IP", .bool) ?? false
        sample = args.keyword("SAMPLE", .fixedPoint(fractionBits: 28)) ?? 1
        if sample < 0 || sample > 1 { args.error("must be between 0 and 1", keyword: "SAMPLE") }
        start = args.keyword("START", .timestamp)
        startAfter = args.keyword("START_AFTER", .timestamp)
        end = args.keyword("END", .timestamp)
        endAfter = args.keyword("END_AFTER", .timestamp)
        interval = args.keyword("INTERVAL", .timestamp)
        if start != nil && startAfter != nil { args.error("START and START_AFTER are mutually exclusive") }
        if [end, endAfter, interval].compactMap({ $0 }).count > 1 { args.error("END, END_AFTER and INTERVAL are mutually exclusive") }
        endCall = args.keyword("END_CALL", .string)
        _ = args.keyword("MMAP", .bool)
    }

    func u32(_ at: Int) -> UInt32 {
        let v = UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        return swapped ? v.byteSwapped : v
    }

    public override func initialize() throws(ElementError) {
        guard let handle = fopen(filename, "rb") else { throw ElementError("\(filename): \(String(cString: strerror(errno)))") }
        defer { fclose(handle) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&chunk, 1, chunk.count, handle)
            if n > 0 { bytes.append(contentsOf: chunk[0..<n]) }
            if n < chunk.count { break }
        }
        guard bytes.count >= 24 else { throw ElementError("\(filename): not a tcpdump file (too short)") }
        let magic = UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
        switch magic {
        case 0xA1B2_C3D4, 0xA1B2_CD34: break
        case 0xA1B2_3C4D: nano = true
        case 0xD4C3_B2A1, 0x34CD_B2A1: swapped = true
        case 0x4D3C_B2A1:
            swapped = true
            nano = true
        default:
            throw ElementError("\(filename): not a tcpdump file (bad magic number)")
        }
        linktype = u32(20)
        emptySignal.set(active && bytes.count > 24)
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
    }

    /// The next packet of the trace that the time window and SAMPLE let through, or nil at
    /// the end (the file's, a truncated record's, or the window's).
    func next() -> Packet? {
        while let p = nextRecord() {
            if !firstSeen {
                // Relative bounds count from the first packet in the file.
                firstSeen = true
                if let d = startAfter { start = p.timestamp.saturatingAdd(d) }
                if let d = endAfter { end = p.timestamp.saturatingAdd(d) }
                if let d = interval { end = (start ?? p.timestamp).saturatingAdd(d) }
            }
            if let start, p.timestamp < start {
                p.kill()
                count -= 1
                continue
            }
            if let end, p.timestamp > end {
                p.kill()
                count -= 1
                position = bytes.count
                return nil
            }
            if sample < 1 && Double(generator.next() >> 11) * 0x1p-53 >= sample {
                p.kill()
                count -= 1
                continue
            }
            return p
        }
        return nil
    }

    /// The next record of the file as a packet, or nil at the end.
    func nextRecord() -> Packet? {
        guard position + 16 <= bytes.count else { return nil }
        let seconds = Int64(u32(position)), fraction = Int64(u32(position + 4))
        let captured = Int(u32(position + 8))
        guard captured <= 65535, position + 16 + captured <= bytes.count else {
            position = bytes.count
            return nil
        }
        let length = min(captured, PacketPool.defaultBufferSize - PacketPool.defaultHeadroom)
        let p: Packet? = bytes.withUnsafeBytes { b in
            b.baseAddress.flatMap { pool.make(copying: $0 + position + 16, length: length) }
        }
        guard let p else { return nil }
        position += 16 + captured
        p.timestamp = seconds * 1_000_000_000 + (nano ? fraction : fraction * 1000)
        markIP(p)
        count &+= 1
        return p
    }

    /// Marks the IP header when the link type says where it is.
    func markIP(_ p: Packet) {
        var offset = -1
        if linktype == 101 || linktype == 12 || linktype == 14 {
            offset = 0
        } else if linktype == 1, p.length >= 34, p.load16(12) == 0x0800 {
            offset = 14
            p.setMACHeader(at: 0)
        }
        if offset >= 0, p.length >= offset + 20 {
            p.setNetworkHeader(at: offset, headerLength: Int(p[offset] & 0x0F) << 2)
        }
    }

    public override func runTask(_ task: Task) -> Bool {
        guard active else {
            task.unschedule()
            return false
        }
        var sent = 0
        var finished = false
        withScratchBatch { batch in
            while !batch.isFull {
                let saved = position
                guard let p = next() else {
                    finished = true
                    break
                }
                if timing {
                    let now = router.clock.now()
                    if firstTrace < 0 {
                        firstTrace = p.timestamp
                        firstLocal = now
                    }
                    let due = firstLocal + (p.timestamp - firstTrace)
                    if due > now {
                        // Not yet: put it back and sleep until it is due.
                        p.kill()
                        count -= 1
                        position = saved
                        timer?.schedule(at: due)
                        task.unschedule()
                        break
                    }
                }
                if forceIP && p.networkHeaderOffset == nil {
                    if noutputs > 1 { output(1, single: p) } else { p.kill() }
                    continue
                }
                batch.append(p)
                sent += 1
            }
            output(0, &batch)
        }
        if finished {
            task.unschedule()
            atEnd()
        }
        return sent > 0
    }

    public override func runTimer(_ timer: Timer) { task?.schedule() }

    /// The end of the trace: END_CALL's handler is called, or with STOP the driver stops
    /// (once).
    func atEnd() {
        if let call = endCall {
            endCall = nil
            let (handler, value) = ConfigText.firstWord(call)
            do { try router.write(handler, value) } catch { router.chatter("\(declaration): END_CALL: \(error.message)") }
        } else if stop {
            stop = false
            router.requestStop()
        }
    }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        var n = 0
        while n < max, !batch.isFull, active, let p = next() {
            batch.append(p)
            n += 1
        }
        if position >= bytes.count || !active { emptySignal.set(false) }
        if n == 0 && position >= bytes.count { atEnd() }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("count", get: { [unowned self] in self.count })
        h.read("encap") { [unowned self] in PcapEncap.name(self.linktype) }
        h.read("filename") { [unowned self] in self.filename }
        h.integer("filesize", get: { [unowned self] in self.bytes.count })
        h.integer("filepos", get: { [unowned self] in self.position })
        h.boolean("active", get: { [unowned self] in self.active }, set: { [unowned self] v in
            self.active = v
            if v { self.task?.schedule() }
            self.emptySignal.set(v && self.position < self.bytes.count)
        })
    }
}

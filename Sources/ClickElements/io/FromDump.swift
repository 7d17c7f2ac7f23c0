#if canImport(Glibc)
import Glibc
#endif
import ClickLanguage
import ClickRuntime

/// FromDump(FILENAME [, TIMING, *keywords* STOP, ACTIVE, FORCE_IP, SAMPLE, START, START_AFTER, END, END_AFTER, INTERVAL, END_CALL, MMAP, BURST])
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
/// Each task run pushes one packet, as Click's FromDump does, so every packet goes through
/// the whole graph before the next is read: output and state changes of different elements
/// interleave exactly as in Click. BURST (an extension, default 1) pushes up to that many
/// per run (at most a batch): faster, but two elements downstream then see a burst one
/// after the other (two Prints print in a different order than Click's).
///
/// The file is read as a stream, one record at a time, straight into a packet buffer: a
/// trace of any size costs one buffer, and a file that is not pcap (`/dev/zero`) is refused
/// at initialization. A record longer than 65,535 bytes ends the trace ("bad packet
/// header; giving up", as Click says); bytes beyond a packet buffer are skipped.
///
/// Ports: no inputs, 1 or 2 outputs, agnostic (output 1 push). Pulled, it is an empty
/// notifier: active until the end of the file (or while ACTIVE is false).
///
/// Handlers: `count`, `encap`, `filename`, `filesize`, `filepos` (read); `active`
/// (read/write).
public final class FromDump: Element, EmptyNotifier {
    public override var portCount: String { "0/1-2" }
    public override var processing: String { "a/ah" }
    var filename = ""
    var timing = false
    var stop = false
    var active = true
    var forceIP = false
    /// Packets pushed per task run (BURST).
    var burst = 1
    var file: UnsafeMutablePointer<FILE>?
    var ownsFile = false
    /// Bytes of the file read so far, and its size (-1 when not a regular file).
    var position = 0
    var fileSize = -1
    /// True once the trace has ended (the file's end, a bad record, or the time window).
    var exhausted = false
    /// A packet read but not yet due (TIMING).
    var lookahead: Packet?
    var swapped = false
    var nano = false
    /// Modified pcap (tcpdump's patched format): 8 more bytes per record header.
    var extraHeaderBytes = 0
    var minorVersion = 4
    var linktype: UInt32 = 1
    public private(set) var count = 0
    var task: Task?
    var timer: Timer?
    var firstTrace: Int64 = -1
    var firstLocal: Int64 = 0
    public let emptySignal = NotifierSignal(active: true)
    var sample = 1.0
    var start: Int64?, startAfter: Int64?, end: Int64?, endAfter: Int64?, interval: Int64?
    var endCall: HandlerCall?
    var firstSeen = false

    public override func configure(_ args: inout Arguments) {
        filename = args.mandatory("FILENAME", .string) ?? ""
        timing = args.positional("TIMING", .bool) ?? false
        stop = args.keyword("STOP", .bool) ?? false
        active = args.keyword("ACTIVE", .bool) ?? true
        forceIP = args.keyword("FORCE_IP", .bool) ?? false
        burst = max(1, args.keyword("BURST", .unsignedInteger) ?? 1)
        sample = args.keyword("SAMPLE", .fixedPoint(fractionBits: 28)) ?? 1
        if sample < 0 || sample > 1 { args.error("must be between 0 and 1", keyword: "SAMPLE") }
        start = args.keyword("START", .timestamp)
        startAfter = args.keyword("START_AFTER", .timestamp)
        end = args.keyword("END", .timestamp)
        endAfter = args.keyword("END_AFTER", .timestamp)
        interval = args.keyword("INTERVAL", .timestamp)
        if start != nil && startAfter != nil { args.error("START and START_AFTER are mutually exclusive") }
        if [end, endAfter, interval].compactMap({ $0 }).count > 1 { args.error("END, END_AFTER and INTERVAL are mutually exclusive") }
        if let text = args.keyword("END_CALL", .string) {
            endCall = HandlerCall(text)
            if endCall == nil { args.error("syntax error", keyword: "END_CALL") }
        }
        unsupportedKeywords(&args, ["MMAP"], because: "traces are read with buffered reads")
    }

    /// A little-endian (or, in a swapped file, big-endian) 32-bit field of `b`.
    func u32(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        let v = b.loadUnaligned(fromByteOffset: at, as: UInt32.self)
        return swapped ? v.byteSwapped : v
    }

    /// Reads exactly `count` bytes into `to`; false at the end of the file.
    func readExactly(_ to: UnsafeMutableRawPointer, _ count: Int) -> Bool {
        guard let file, count > 0 else { return count == 0 }
        let n = fread(to, 1, count, file)
        position += n
        return n == count
    }

    /// Skips `count` bytes of the file.
    func skip(_ count: Int) -> Bool {
        var scratch = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        var left = count
        return withUnsafeMutableBytes(of: &scratch) { buffer in
            while left > 0 {
                let step = min(left, buffer.count)
                guard let base = buffer.baseAddress, readExactly(base, step) else { return false }
                left -= step
            }
            return true
        }
    }

    public override func initialize() throws(ElementError) {
        try endCall?.initialize(in: router, context: self, write: true)
        try open()
        emptySignal.set(active && !exhausted)
        if outputIsPush(0) {
            let t = makeTask()
            task = t
            timer = makeTimer()
            if active { t.schedule() }
        }
    }

    /// Opens the file and checks its header, as Click's FromDump does.
    func open() throws(ElementError) {
        if filename == "-" {
            file = fdopen(dup(0), "rb")
        } else {
            file = fopen(filename, "rb")
        }
        guard let file else { throw ElementError("\(filename): \(String(cString: strerror(errno)))") }
        ownsFile = true
        var st = stat()
        if fstat(fileno(file), &st) == 0, st.st_mode & S_IFMT == S_IFREG { fileSize = Int(st.st_size) }
        var header = (UInt64(0), UInt64(0), UInt64(0))
        let complete = withUnsafeMutableBytes(of: &header) { b in b.baseAddress.map { readExactly($0, 24) } ?? false }
        guard complete else { throw ElementError("\(filename): not a tcpdump file (too short)") }
        try withUnsafeBytes(of: &header) { (b: UnsafeRawBufferPointer) throws(ElementError) in
            switch b.loadUnaligned(as: UInt32.self) {
            case 0xA1B2_C3D4: break
            case 0xA1B2_CD34: extraHeaderBytes = 8
            case 0xA1B2_3C4D: nano = true
            case 0xD4C3_B2A1: swapped = true
            case 0x34CD_B2A1:
                swapped = true
                extraHeaderBytes = 8
            case 0x4D3C_B2A1:
                swapped = true
                nano = true
            default:
                throw ElementError("\(filename): not a tcpdump file (bad magic number)")
            }
            let version = b.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
            let major = swapped ? UInt16(truncatingIfNeeded: version).byteSwapped : UInt16(truncatingIfNeeded: version)
            let minor = swapped ? UInt16(truncatingIfNeeded: version >> 16).byteSwapped : UInt16(truncatingIfNeeded: version >> 16)
            guard major == 2 else { throw ElementError("\(filename): unknown major version \(major)") }
            minorVersion = Int(minor)
            linktype = u32(b, 20)
        }
    }

    /// A hot swap continues the same trace where the old element was, on the same file.
    public override func takeState(from old: Element) {
        guard let old = old as? FromDump, old.filename == filename, old.file != nil else { return }
        if let file, ownsFile { fclose(file) }
        file = old.file
        ownsFile = old.ownsFile
        old.file = nil
        (position, fileSize, exhausted, swapped, nano, extraHeaderBytes, minorVersion, linktype, count)
            = (old.position, old.fileSize, old.exhausted, old.swapped, old.nano, old.extraHeaderBytes, old.minorVersion, old.linktype, old.count)
        lookahead = old.lookahead
        old.lookahead = nil
        emptySignal.set(active && !exhausted)
    }

    public override func cleanup() {
        task?.unschedule()
        timer?.unschedule()
        lookahead?.kill()
        lookahead = nil
        if let file, ownsFile { fclose(file) }
        file = nil
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
                exhausted = true
                return nil
            }
            if sample < 1 && router.random.unitInterval() >= sample {
                p.kill()
                count -= 1
                continue
            }
            return p
        }
        return nil
    }

    /// The next record of the file as a packet, or nil at the end (the file's, or a bad or
    /// truncated record's, or the pool's when no buffer is free).
    func nextRecord() -> Packet? {
        guard !exhausted else { return nil }
        var header = (UInt64(0), UInt64(0))
        let complete = withUnsafeMutableBytes(of: &header) { b in b.baseAddress.map { readExactly($0, 16) } ?? false }
        guard complete, skip(extraHeaderBytes) else {
            exhausted = true
            return nil
        }
        let (seconds, fraction, first, second) = withUnsafeBytes(of: &header) { b in
            (Int64(u32(b, 0)), Int64(u32(b, 4)), Int(u32(b, 8)), Int(u32(b, 12)))
        }
        // Before pcap 2.3 the two length fields were the other way round.
        var captured = first, wire = second
        if minorVersion < 3 || (minorVersion == 3 && first > second) { (captured, wire) = (second, first) }
        guard captured <= 65535 else {
            router.chatter("\(filename): bad packet header; giving up")
            exhausted = true
            return nil
        }
        let skipped = max(0, captured - wire)
        captured -= skipped
        let length = min(captured, PacketPool.defaultBufferSize - PacketPool.defaultHeadroom)
        guard let p = pool.make(), p.put(length) else {
            exhausted = true
            return nil
        }
        guard readExactly(p.data, length), skip(captured - length + skipped) else {
            p.kill()
            exhausted = true
            return nil
        }
        p.timestamp = seconds * 1_000_000_000 + (nano ? fraction : fraction.saturatingMultiply(1000))
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
            while !batch.isFull, sent < burst {
                guard let p = lookahead.take() ?? next() else {
                    finished = true
                    break
                }
                if timing {
                    let now = routerNow()
                    if firstTrace < 0 {
                        firstTrace = p.timestamp
                        firstLocal = now
                    }
                    let due = firstLocal.saturatingAdd(p.timestamp.saturatingSubtract(firstTrace))
                    if due > now {
                        // Not yet: keep it and sleep until it is due.
                        lookahead = p
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
            if let error = call.callWrite(in: router) { router.chatter("\(declaration): END_CALL: \(error.message)") }
        } else if stop {
            stop = false
            router.requestStop()
        }
    }

    public override func pull(port: Int, into batch: inout PacketBatch, max: Int) {
        var n = 0
        while n < max, !batch.isFull, active, let p = lookahead.take() ?? next() {
            batch.append(p)
            n += 1
        }
        if exhausted || !active { emptySignal.set(false) }
        if n == 0 && exhausted { atEnd() }
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.integer("count", get: { [unowned self] in self.count })
        h.read("encap") { [unowned self] in PcapEncap.name(self.linktype) }
        h.read("filename") { [unowned self] in self.filename }
        h.integer("filesize", get: { [unowned self] in self.fileSize })
        h.integer("filepos", get: { [unowned self] in self.position })
        h.boolean("active", get: { [unowned self] in self.active }, set: { [unowned self] v in
            self.active = v
            if v { self.task?.schedule() }
            self.emptySignal.set(v && !self.exhausted)
        })
    }
}

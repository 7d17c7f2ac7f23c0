import ClickLanguage
import ClickRuntime

/// TimeFilter([START, END, *keywords* START_DELAY, END_DELAY, START_AFTER, END_AFTER,
/// INTERVAL, STOP, END_CALL])
///
/// Passes packets whose timestamps lie in [start, end) on output 0; earlier and later ones
/// go to output 1, or are dropped. The start is START (absolute), START_AFTER (relative to
/// the first packet's timestamp) or START_DELAY (relative to when the router starts); the
/// end likewise with END, END_AFTER, END_DELAY, or INTERVAL (relative to the start). The
/// first packet at or past the end calls END_CALL's handler (`HANDLER [VALUE]`, with `$t`
/// the packet's timestamp) once, or with STOP stops the driver; a handler that moves the
/// end (`extend_interval`) lets packets through again.
///
/// Ports: 1 input, 1 or 2 outputs, agnostic (output 1 push). Handlers: `start`, `end`
/// (read/write), `interval` (read/write: the end relative to the start),
/// `extend_interval` (write: move the end later).
public final class TimeFilter: Element, PacketAction {
    public override var portCount: String { "1/1-2" }
    public override var processing: String { "a/ah" }
    enum Relative { case absolute, firstPacket, initialization, start }
    var start: Int64 = 0
    var end: Int64 = Int64.max
    var startRelative = Relative.absolute
    var endRelative = Relative.absolute
    var ready = false
    var endCall: HandlerCall? = nil
    var endCallReady = true

    public override func configure(_ args: inout Arguments) {
        let first = args.positional("START", .signedTimestamp)
        let last = args.positional("END", .signedTimestamp)
        let firstInit = args.keyword("START_DELAY", .signedTimestamp)
        let lastInit = args.keyword("END_DELAY", .signedTimestamp)
        let firstDelta = args.keyword("START_AFTER", .signedTimestamp)
        let lastDelta = args.keyword("END_AFTER", .signedTimestamp)
        let interval = args.keyword("INTERVAL", .signedTimestamp)
        let stop = args.keyword("STOP", .bool) ?? false
        let call = args.keyword("END_CALL", .string)
        // Click tells a given time from none by its being non-zero.
        func given(_ t: Int64?) -> Bool { (t ?? 0) != 0 }
        if [first, firstDelta, firstInit].filter(given).count > 1 {
            args.error("START, START_AFTER, and START_AFTER_INIT are mutually exclusive")
        } else if given(first) {
            start = first ?? 0
        } else if given(firstInit) {
            (start, startRelative) = (firstInit ?? 0, .initialization)
        } else {
            (start, startRelative) = (firstDelta ?? 0, .firstPacket)
        }
        if [last, lastDelta, lastInit, interval].filter(given).count > 1 {
            args.error("END, END_AFTER, END_AFTER_INIT, and INTERVAL are mutually exclusive")
        } else if given(last) {
            end = last ?? 0
        } else if given(lastDelta) {
            (end, endRelative) = (lastDelta ?? 0, .firstPacket)
        } else if given(lastInit) {
            (end, endRelative) = (lastInit ?? 0, .initialization)
        } else if given(interval) {
            (end, endRelative) = (interval ?? 0, .start)
        }
        if call != nil && stop {
            args.error("END_CALL and STOP are mutually exclusive")
        } else if let call {
            endCall = HandlerCall(call)
            if endCall == nil { args.error("syntax error", keyword: "END_CALL") }
        } else if stop {
            endCall = HandlerCall("stop true")
        }
    }

    public override func initialize() throws(ElementError) {
        try endCall?.initialize(in: router, context: self, write: true)
        let now = routerNow()
        if startRelative == .initialization { start = start.saturatingAdd(now) }
        if endRelative == .initialization { end = end.saturatingAdd(now) }
        ready = false
        endCallReady = true
    }

    private func firstPacket(_ t: Int64) {
        if startRelative == .firstPacket { start = start.saturatingAdd(t) }
        if endRelative == .firstPacket {
            end = end.saturatingAdd(t)
        } else if endRelative == .start {
            end = end.saturatingAdd(start)
        }
        ready = true
    }

    public override func push(port: Int, _ batch: inout PacketBatch) { pushThrough(&batch) }

    @inline(__always) public func action(_ p: Packet) -> Int {
        let t = p.timestamp
        if !ready { firstPacket(t) }
        if t < start { return 1 }
        if t >= end && endCall != nil && endCallReady { reachEnd(t) }
        return t < end ? 0 : 1
    }

    /// Calls END_CALL (or stops) at the first packet past the end; a handler that moved the
    /// end is called again if this packet is past the new end too.
    private func reachEnd(_ t: Int64) {
        guard let endCall else { return }
        var previous: Int64
        repeat {
            previous = end
            endCallReady = false
            let time = formatTimestamp(t)
            let value = endCall.value.replacing("${t}", with: time).replacing("$t", with: time)
            if let error = endCall.callWrite(in: router, value: value) {
                router.chatter("\(declaration): END_CALL: \(error.message)")
            }
        } while t >= end && endCallReady && end > previous
    }

    public override func addHandlers(_ h: inout HandlerSet) {
        h.read("start") { [unowned self] in formatTimestamp(self.start) }
        h.read("end") { [unowned self] in formatTimestamp(self.end) }
        h.read("interval") { [unowned self] in formatTimestamp(self.end.saturatingSubtract(self.start)) }
        h.write("start") { [unowned self] (text: String) throws(ElementError) in
            let t = try self.parseTime(text)
            if !self.ready { self.firstPacket(t) }
            self.start = t
        }
        h.write("end") { [unowned self] (text: String) throws(ElementError) in
            self.end = try self.parseTime(text)
            self.endRelative = .absolute
            self.endCallReady = true
        }
        h.write("interval") { [unowned self] (text: String) throws(ElementError) in
            self.end = self.start.saturatingAdd(try self.parseTime(text))
            self.endCallReady = true
        }
        h.write("extend_interval") { [unowned self] (text: String) throws(ElementError) in
            self.end = self.end.saturatingAdd(try self.parseTime(text))
            self.endCallReady = true
        }
    }

    private func parseTime(_ text: String) throws(ElementError) -> Int64 {
        guard let t = ValueType<Int64>.signedTimestamp.parse(text, ValueContext(elementName: name, addressNames: router.addressNames)) else {
            throw ElementError("expected time")
        }
        return t
    }
}
